"""Whether the minute sweep can have anything to do: while nobody chats, one small read a minute.

Everything the sweep looks at is an open chat or a live connection: queued chats, offers and
unanswered chats are open chats (their index keys are set with or after `open_pk`, and removed with
it when the chat closes), and address bans are enforced on live connections. Each is created in one
place (`chats._create`, `connections.register`), and each calls `work_coming()` first: it counts
one more announcement on the settings item GATE and stamps its time, at most once per REFRESH_S per
instance, so the item's writes grow with instances, not with traffic.

The sweep reads the item first (`read`, eventually consistent: half the price of a consistent read,
which is what keeps the month's idle reads under half a cent) and skips everything when the count
is the one it recorded (`record_idle`) after finding no open chat and no live connection. It
records only when the last announcement is QUIET_S old, and only if the count is still what it read
(a conditional write). That is what makes a skip safe:

- work announced after the sweep's read changes the count, so the record fails;
- work whose instance skipped announcing it was written within REFRESH_S + REQUEST_S of that
  instance's last announcement, so at least INDEX_LAG_S before the read: long enough for the indexes
  (eventually consistent, typically within a second) to show it to the sweep's queries, which then
  find it and record nothing;
- an eventually consistent read taken within a moment of an announcement may not see it: the sweep
  then skips once, and the next, a minute later, sees it. Work can be a minute late, never lost.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from functions.core import aws, clock, data, instance_cache
from functions.models import Settings

GATE = "sweep-gate"  # the settings item
REFRESH_S = 60  # an instance announces work at most this often
REQUEST_S = 30  # the longest a request runs (the functions' timeout) between announcing and writing
INDEX_LAG_S = 210  # room for a write to reach the indexes (typically well under a second) and for clocks
# How old the last announcement must be before the sweep may record the installation idle: 5 minutes.
QUIET_S = REFRESH_S + REQUEST_S + INDEX_LAG_S

_lock = threading.Lock()
_announced: dict[object, datetime] = {}  # per instance: when it last announced work


@aws.on_reset
def forget() -> None:
    with _lock:
        _announced.clear()


def work_coming() -> None:
    """Called before writing a new open chat or live connection. Raises if the announcement fails, so
    that no work is written that the sweep could skip."""
    now = clock.now()
    instance = instance_cache.serving()
    with _lock:
        last = _announced.get(instance)
    if last is not None and timedelta(0) <= now - last < timedelta(seconds=REFRESH_S):
        return
    Settings(GATE).update(actions=[Settings.work_count.add(1), Settings.updated_at.set(clock.iso(now))])
    with _lock:
        _announced[instance] = now


@dataclass(frozen=True)
class Gate:
    count: int
    idle_at_count: int | None
    announced_at: str | None
    read_at: datetime

    @property
    def idle(self) -> bool:
        """Nothing announced since the sweep last found nothing: it may skip."""
        return self.idle_at_count == self.count

    @property
    def quiet(self) -> bool:
        """Long enough since the last announcement that whatever it announced is visible to queries."""
        if self.announced_at is None:
            return True
        return self.announced_at <= clock.iso(self.read_at - timedelta(seconds=QUIET_S))


def read() -> Gate:
    read_at = clock.now()
    try:
        item = Settings.get(GATE)
    except Settings.DoesNotExist:
        return Gate(0, None, None, read_at)
    count = int(item.work_count or 0)
    idle_at = None if item.idle_at_count is None else int(item.idle_at_count)
    return Gate(count, idle_at, item.updated_at, read_at)


def record_idle(gate: Gate) -> bool:
    """After a sweep that found no open chat and no live connection: later sweeps skip until work is
    announced. False when work was announced since `gate` was read (or too recently)."""
    if not gate.quiet:
        return False
    unchanged = Settings.work_count == gate.count if gate.count else Settings.work_count.does_not_exist()
    return data.conditional(
        lambda: Settings(GATE).update(actions=[Settings.idle_at_count.set(gate.count)], condition=unchanged)
    )
