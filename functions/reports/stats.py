"""Per-day counters, kept incrementally when a chat ends or is rated, in the organisation's timezone.

Reports and daily summaries read these few items instead of walking the chats.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast
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


def tag_key(tag_id: str) -> str:
    return f"tag#{tag_id}"


def _keys(chat: Chat) -> list[str]:
    """The rows a chat counts in: the team's, its group's, each of its agents', and each of its tags'."""
    group = [group_key(chat.group_id)] if chat.group_id else []
    agents = [agent_key(a) for a in sorted(chat.agent_ids or ())]
    return [TEAM, *group, *agents] + [tag_key(t) for t in sorted(chat.tags or ())]


def _ended_day(chat: Chat) -> str:
    ended = clock.parse(chat.closed_at) if chat.closed_at else clock.now()
    return local(ended).strftime("%Y-%m-%d")


def _first_response(chat: Chat) -> float | None:
    if chat.first_response_at is None:
        return None
    return (clock.parse(chat.first_response_at) - clock.parse(chat.created_at)).total_seconds()


def _ended_actions(chat: Chat, key: str, sign: int = 1) -> list[Action]:
    """What one ended chat adds to one row (`sign` -1: takes away, for a tag removed after the end).
    The first-response time is the one figure that is a list: `_take_first_response` removes it."""
    started = clock.parse(chat.created_at)
    ended = clock.parse(chat.closed_at) if chat.closed_at else clock.now()
    handled = bool(chat.agent_ids)
    first_response = _first_response(chat)
    actions: list[Action] = [
        DailyStat.chats.add(sign if handled else 0),
        DailyStat.missed.add(sign if first_response is None else 0),
    ]
    if first_response is not None and sign > 0:
        actions.append(DailyStat.first_responses.set(DailyStat.first_responses.append([round(first_response)])))
    if handled:
        actions.append(DailyStat.duration_sum.add(sign * round((ended - started).total_seconds())))
        actions.append(DailyStat.duration_count.add(sign))
    if _whole(key):
        hour = local(started).strftime("%H")
        actions.append(DailyStat.by_hour[hour].set(DailyStat.by_hour[hour] + sign))
    return actions


def chat_ended(chat: Chat) -> None:
    day = _ended_day(chat)
    for key in _keys(chat):
        _row(day, key).update(actions=_ended_actions(chat, key))


def chat_retagged(chat: Chat, *, added: set[str], removed: set[str]) -> None:
    """A chat's tags changed: what was counted for the chat so far (its rating; once it ended, its figures)
    moves into the added tags' rows and out of the removed ones'."""
    day = _ended_day(chat)
    rating = chat.rating if chat.rating in ("good", "bad") else None
    for tag_id, sign in [(t, 1) for t in sorted(added)] + [(t, -1) for t in sorted(removed)]:
        key = tag_key(tag_id)
        actions = _ended_actions(chat, key, sign) if chat.status == "closed" else []
        if rating:
            actions.append(getattr(DailyStat, rating).add(sign))
        if actions:
            _row(day, key).update(actions=actions)
        first_response = _first_response(chat)
        if sign < 0 and chat.status == "closed" and first_response is not None:
            _take_first_response(day, key, round(first_response))


def _take_first_response(day: str, key: str, seconds: int) -> None:
    """Removes one occurrence of `seconds` from a row's list, conditionally on it still being at that index."""
    for _attempt in data.attempts():
        row = DailyStat.get(day, key, consistent_read=True)
        values = [round(float(v)) for v in cast(list[float], list(row.first_responses or []))]
        if seconds not in values:
            return
        at = values.index(seconds)
        taken = data.conditional(
            lambda: row.update(  # noqa: B023 (called at once)
                actions=[DailyStat.first_responses[at].remove()],  # noqa: B023
                condition=DailyStat.first_responses[at] == seconds,  # noqa: B023
            )
        )
        if taken:
            return


def chat_rated(chat: Chat, rating: str, previous: str | None) -> None:
    """Counts a rating on the day the chat ended; a changed mind moves the count, not doubles it."""
    if rating == previous:
        return
    day = _ended_day(chat)
    for key in _keys(chat):
        actions: list[Action] = [getattr(DailyStat, rating).add(1)]
        if previous in ("good", "bad"):
            actions.append(getattr(DailyStat, previous).add(-1))
        _row(day, key).update(actions=actions)


def offline_message(group_id: str | None = None) -> None:
    day = local(clock.now()).strftime("%Y-%m-%d")
    for key in [TEAM, *([group_key(group_id)] if group_id else [])]:
        _row(day, key).update(actions=[DailyStat.offline_messages.add(1)])
