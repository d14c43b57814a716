"""The daily summary mail: yesterday's figures for each agent, and the team's for admins.

The schedule runs hourly; the mail goes out in the hour the admin chose, in their timezone, and a
conditional write makes sure it goes out once per day even if the schedule fires twice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from functions.core import clock, data, mail, settings
from functions.models import DailyStat
from functions.reports.ranges import figures
from functions.reports.stats import TEAM, agent_key, local
from functions.team import agents as team_agents

log = logging.getLogger(__name__)
SENT_MARKER = "summary-sent"


def suggestions(mine: dict[str, Any], team: dict[str, Any], target_s: int) -> list[str]:
    tips = []
    median = mine["median_first_response_s"]
    if median is not None and median > target_s:
        tips.append(f"Your median first response was {median} s, above the team's {target_s} s target.")
    if mine["missed"]:
        tips.append(
            f"{mine['missed']} chat(s) got no answer: accept chats only while you can reply, "
            "or ask an admin to lower your concurrent chat limit."
        )
    if mine["bad"] > mine["good"] and mine["bad"]:
        tips.append("More bad ratings than good: read those transcripts again.")
    if team["offline_messages"]:
        tips.append(f"{team['offline_messages']} offline message(s) are waiting as tickets.")
    return tips or ["Nothing to improve: well done."]


def render(name: str, day: str, numbers: dict[str, Any], tips: list[str]) -> str:
    def show(value: Any, unit: str = "") -> str:
        return "–" if value is None else f"{value}{unit}"

    return "\n".join(
        [
            f"Hello {name},",
            "",
            f"Here is {day}:",
            f"  Chats handled:          {numbers['chats']}",
            f"  Missed chats:           {numbers['missed']}",
            f"  Offline messages:       {numbers['offline_messages']}",
            f"  Median first response:  {show(numbers['median_first_response_s'], ' s')}",
            f"  Average chat duration:  {show(numbers['avg_duration_s'], ' s')}",
            f"  Ratings:                {numbers['good']} good, {numbers['bad']} bad",
            "",
            "Suggestions:",
            *[f"  - {tip}" for tip in tips],
            "",
        ]
    )


def _claim(day: str) -> bool:
    return data.conditional(lambda: DailyStat(day, SENT_MARKER).save(condition=DailyStat.key.does_not_exist()))


def _figures(day: str, key: str) -> dict[str, Any]:
    try:
        row: DailyStat | None = DailyStat.get(day, key)
    except DailyStat.DoesNotExist:
        row = None
    return figures(row, day)


def send_if_due(now: datetime | None = None) -> int:
    """Sends yesterday's summaries if this is the chosen hour; returns how many mails went out."""
    values = settings.get_settings()
    here = local(now or clock.now())
    if here.hour != int(values["summary_hour"]):
        return 0
    day = (here.date() - timedelta(days=1)).isoformat()
    if not _claim(day):
        return 0
    return send_for(day)


def send_for(day: str) -> int:
    target = int(settings.get_settings()["wait_threshold_s"])
    team = _figures(day, TEAM)
    sent = 0
    for agent in team_agents.members():
        if agent.disabled or not agent.email:
            continue
        mine = _figures(day, agent_key(agent.agent_id))
        body = render(agent.name, day, mine, suggestions(mine, team, target))
        if agent.role == "admin":
            body += "\nThe team:\n" + render("team", day, team, suggestions(team, team, target)).split("\n", 2)[2]
        try:
            mail.send(agent.email, f"Your Charla summary for {day}", body)
            sent += 1
        except Exception:  # one bad address must not stop everyone else's summary
            log.exception("daily summary to %s failed", agent.agent_id)
    return sent
