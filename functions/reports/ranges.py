"""Reports over a range of days, for the team or one agent, read from the daily counters."""

from __future__ import annotations

import csv
import io
import statistics
from datetime import date, timedelta
from typing import Any, cast

from functions.core import clock
from functions.core.errors import CharlaError, bad_request
from functions.core.principals import Principal
from functions.models import DailyStat
from functions.reports import stats
from functions.reports.stats import TEAM, agent_key
from functions.tags import catalog
from functions.team import groups

MAX_DAYS = 92  # a quarter: one BatchGetItem page per row key
DEFAULT_DAYS = 7  # without `from`: this many days up to `to`


def _day(value: object, name: str) -> date:
    return clock.day_param(value, name)


def _subject(principal: Principal, agent: object) -> str:
    if agent in (None, "", "team"):
        return TEAM
    if agent == "me":
        return agent_key(principal.id)
    if not isinstance(agent, str) or len(agent) > 128:
        raise bad_request("`agent` must be `team`, `me` or an agent id.")
    if agent != principal.id and not principal.is_admin:
        raise CharlaError("forbidden", "Only admins see other agents' reports.")
    return agent_key(agent)


def days_between(start: date, end: date) -> list[str]:
    if end < start:
        raise bad_request("`to` must not be before `from`.")
    if (end - start).days + 1 > MAX_DAYS:
        raise bad_request(f"A report covers at most {MAX_DAYS} days.")
    return [(start + timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]


def figures(row: DailyStat | None, day: str) -> dict[str, Any]:
    responses = cast(list[float], list(row.first_responses or [])) if row else []
    good, bad = (int(row.good), int(row.bad)) if row else (0, 0)
    hours = row.by_hour.as_dict() if row and row.by_hour else {}
    return {
        "day": day,
        "chats": int(row.chats) if row else 0,
        "missed": int(row.missed) if row else 0,
        "offline_messages": int(row.offline_messages) if row else 0,
        "median_first_response_s": round(statistics.median(responses)) if responses else None,
        "avg_duration_s": _average(row),
        "good": good,
        "bad": bad,
        "csat": round(100 * good / (good + bad)) if good + bad else None,
        "by_hour": [int(hours.get(f"{h:02d}", 0)) for h in range(24)],
        "_responses": responses,
        "_durations": (int(row.duration_sum), int(row.duration_count)) if row else (0, 0),
    }


def _average(row: DailyStat | None) -> int | None:
    if row is None or not row.duration_count:
        return None
    return round(int(row.duration_sum) / int(row.duration_count))


def report(
    principal: Principal,
    start: object = None,
    end: object = None,
    agent: object = None,
    tag: object = None,
    group: object = None,
) -> dict[str, Any]:
    """Days are the organisation's (the counters were kept in its time zone), so a range left out ends
    today there, which need not be today where the reader is. With a `tag`: the team's chats that carry it;
    `group`: one group's chats instead (any agent sees them, as they see the team's). Each is a row of
    its own, so they are asked one at a time, never with `agent` or with each other."""
    tag_id = catalog.check_filter(tag)
    chosen = groups.find(group) if group not in (None, "") else None
    if chosen is not None and agent not in (None, "", "team"):
        raise bad_request("`group` and `agent` can't be asked together.", field="group")
    if tag_id and chosen is not None:
        raise bad_request("`tag` and `group` can't be asked together.", field="tag")
    key = stats.group_key(chosen.group_id) if chosen else _subject(principal, agent)
    if tag_id and key != TEAM:
        raise bad_request("`tag` is a filter of the team's report; leave `agent` out.", field="tag")
    if tag_id:
        key = stats.tag_key(tag_id)
    last = _day(end, "to") if end not in (None, "") else stats.local(clock.now()).date()
    week = max(clock.FIRST_DAY, last - timedelta(days=DEFAULT_DAYS - 1))
    first = _day(start, "from") if start not in (None, "") else week
    days = days_between(first, last)
    rows = {row.day: row for row in DailyStat.batch_get([(d, key) for d in days])}
    per_day = [figures(rows.get(d), d) for d in days]
    responses = [r for f in per_day for r in f["_responses"]]
    duration_sum = sum(f["_durations"][0] for f in per_day)
    duration_count = sum(f["_durations"][1] for f in per_day)
    good, bad = sum(f["good"] for f in per_day), sum(f["bad"] for f in per_day)
    for f in per_day:
        del f["_responses"], f["_durations"]
    return {
        "subject": "team" if key == TEAM or tag_id else key.split("#", 1)[1],
        "tag": tag_id,
        "group": {"id": chosen.group_id, "name": chosen.name} if chosen else None,
        "time_zone": stats.zone_name(),
        "from": days[0],
        "to": days[-1],
        "days": per_day,
        "totals": {
            "chats": sum(f["chats"] for f in per_day),
            "missed": sum(f["missed"] for f in per_day),
            "offline_messages": sum(f["offline_messages"] for f in per_day),
            "median_first_response_s": round(statistics.median(responses)) if responses else None,
            "avg_duration_s": round(duration_sum / duration_count) if duration_count else None,
            "good": good,
            "bad": bad,
            "csat": round(100 * good / (good + bad)) if good + bad else None,
            "by_hour": [sum(f["by_hour"][h] for f in per_day) for h in range(24)],
        },
    }


CSV_COLUMNS = (
    "day",
    "chats",
    "missed",
    "offline_messages",
    "median_first_response_s",
    "avg_duration_s",
    "good",
    "bad",
    "csat",
)


def to_csv(data: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for day in data["days"]:
        writer.writerow(["" if day[c] is None else day[c] for c in CSV_COLUMNS])
    return out.getvalue()
