"""Time, in the two forms the data model uses: sortable ISO strings and epoch seconds."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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
