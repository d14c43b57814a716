"""Time, in the two forms the data model uses: sortable ISO strings and epoch seconds."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta


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
