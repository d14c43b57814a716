"""Time, in the two forms the data model uses: sortable ISO strings and epoch seconds."""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from functions.core.errors import bad_request

# An IANA time zone name as browsers report it: `Europe/Madrid`, `America/Argentina/Buenos_Aires`, `UTC`.
ZONE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9][A-Za-z0-9_+-]*){0,2}")  # whole string: use fullmatch


def now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (f"{moment.microsecond // 1000:03d}Z")


def now_iso() -> str:
    return iso(now())


def iso_ago(seconds: float) -> str:
    return iso(now() - timedelta(seconds=seconds))


def epoch() -> int:
    return int(time.time())


def parse(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def zone(name: object) -> ZoneInfo | None:
    """The IANA time zone of that name, or None for anything else (a name may come from a browser)."""
    if not isinstance(name, str) or len(name) > 64 or not ZONE_NAME.fullmatch(name):
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


# Days a caller may name (a report's or the archive's range): anything outside is a mistake, and the
# edges of Python's calendar would overflow the arithmetic on them.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2999, 12, 31)


def day_param(value: object, name: str) -> date:
    """A day from a request, `YYYY-MM-DD` between FIRST_DAY and LAST_DAY; else a 400 naming `name`."""
    try:
        if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d\d-\d\d", value):
            raise ValueError
        day = date.fromisoformat(value)
    except ValueError:
        raise bad_request(f"`{name}` must be a date as YYYY-MM-DD, like 2026-11-22.", field=name) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise bad_request(f"`{name}` must be a day from {FIRST_DAY} to {LAST_DAY}.", field=name)
    return day
