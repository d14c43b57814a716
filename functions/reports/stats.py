"""Per-day counters, kept incrementally when a chat ends or is rated, in the organisation's timezone.

Reports and daily summaries read these few items instead of walking the chats.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from pynamodb.expressions.update import Action

from functions.core import clock, data, settings
from functions.models import Chat, DailyStat

TEAM = "team"


def agent_key(agent_id: str) -> str:
    return f"agent#{agent_id}"


def group_key(group_id: str) -> str:
    """A group's row: its chats (functions/team/groups.py), counted like the team's."""
    return f"group#{group_id}"


def _whole(key: str) -> bool:
    """The team's row and each group's: the rows with chats by hour and offline messages."""
    return key == TEAM or key.startswith("group#")


def _keys(chat: Chat) -> list[str]:
    group = [group_key(chat.group_id)] if chat.group_id else []
    return [TEAM, *group] + [agent_key(a) for a in sorted(chat.agent_ids or ())]


def zone_name() -> str:
    """The organisation's time zone: the one its days and hours are counted in (setting `summary_timezone`)."""
    return str(settings.get_settings()["summary_timezone"])


def local(moment: datetime) -> datetime:
    return moment.astimezone(ZoneInfo(zone_name()))


def _row(day: str, key: str) -> DailyStat:
    """Creates the day's row once, so later updates can add into its hour map."""
    hours = {f"{h:02d}": 0 for h in range(24)} if _whole(key) else None
    row = DailyStat(day, key, by_hour=hours, first_responses=[])
    data.conditional(lambda: row.save(condition=DailyStat.key.does_not_exist()))  # False: made already
    return DailyStat(day, key)


def chat_ended(chat: Chat) -> None:
    started = clock.parse(chat.created_at)
    ended = clock.parse(chat.closed_at) if chat.closed_at else clock.now()
    day = local(ended).strftime("%Y-%m-%d")
    hour = local(started).strftime("%H")
    handled = bool(chat.agent_ids)
    missed = chat.first_response_at is None
    first_response = (clock.parse(chat.first_response_at) - started).total_seconds() if not missed else None
    duration = (ended - started).total_seconds()
    for key in _keys(chat):
        actions: list[Action] = [
            DailyStat.chats.add(1 if handled else 0),
            DailyStat.missed.add(1 if missed else 0),
        ]
        if first_response is not None:
            actions.append(DailyStat.first_responses.set(DailyStat.first_responses.append([round(first_response)])))
        if handled:
            actions += [DailyStat.duration_sum.add(round(duration)), DailyStat.duration_count.add(1)]
        if _whole(key):
            actions.append(DailyStat.by_hour[hour].set(DailyStat.by_hour[hour] + 1))
        _row(day, key).update(actions=actions)


def chat_rated(chat: Chat, rating: str, previous: str | None) -> None:
    """Counts a rating on the day the chat ended; a changed mind moves the count, not doubles it."""
    if rating == previous:
        return
    ended = clock.parse(chat.closed_at) if chat.closed_at else clock.now()
    day = local(ended).strftime("%Y-%m-%d")
    for key in _keys(chat):
        actions: list[Action] = [getattr(DailyStat, rating).add(1)]
        if previous in ("good", "bad"):
            actions.append(getattr(DailyStat, previous).add(-1))
        _row(day, key).update(actions=actions)


def offline_message(group_id: str | None = None) -> None:
    day = local(clock.now()).strftime("%Y-%m-%d")
    for key in [TEAM, *([group_key(group_id)] if group_id else [])]:
        _row(day, key).update(actions=[DailyStat.offline_messages.add(1)])
