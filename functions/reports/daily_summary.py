"""The daily summary mail: yesterday's figures for each agent, and the team's (and each group's) for admins.

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
from functions.reports.stats import TEAM, agent_key, group_key, local
from functions.team import agents as team_agents
from functions.team import groups

log = logging.getLogger(__name__)
SENT_MARKER = "summary-sent"


# The mail in each language an agent's console speaks (Agent.language; else the organisation's `language`).
WORDS: dict[str, dict[str, str]] = {
    "en": {
        "subject": "Your Charla summary for {day}",
        "hello": "Hello {name},",
        "here": "Here is {day}:",
        "chats": "Chats handled",
        "missed": "Missed chats",
        "offline": "Offline messages",
        "first": "Median first response",
        "duration": "Average chat duration",
        "ratings": "Ratings",
        "good_bad": "{good} good, {bad} bad",
        "suggestions": "Suggestions:",
        "team": "The team:",
        "groups": "By group:",
        "group_line": "{name}: {chats} chats, {missed} missed, {offline} offline messages",
        "tip_slow": "Your median first response was {median} s, above the team's {target} s target.",
        "tip_missed": (
            "{missed} chat(s) got no answer: accept chats only while you can reply, "
            "or ask an admin to lower your concurrent chat limit."
        ),
        "tip_bad": "More bad ratings than good: read those transcripts again.",
        "tip_offline": "{offline} offline message(s) are waiting as tickets.",
        "tip_none": "Nothing to improve: well done.",
    },
    "es": {
        "subject": "Tu resumen de Charla del {day}",
        "hello": "Hola, {name}:",
        "here": "Así fue el {day}:",
        "chats": "Chats atendidos",
        "missed": "Chats perdidos",
        "offline": "Mensajes fuera de línea",
        "first": "Mediana de primera respuesta",
        "duration": "Duración media del chat",
        "ratings": "Valoraciones",
        "good_bad": "{good} buenas, {bad} malas",
        "suggestions": "Sugerencias:",
        "team": "El equipo:",
        "groups": "Por grupo:",
        "group_line": "{name}: {chats} chats, {missed} perdidos, {offline} mensajes fuera de línea",
        "tip_slow": (
            "Tu mediana de primera respuesta fue de {median} s, por encima del objetivo de {target} s del equipo."
        ),
        "tip_missed": (
            "{missed} chat(s) no recibieron respuesta: acepta chats solo cuando puedas responder, "
            "o pide a un administrador que baje tu límite de chats simultáneos."
        ),
        "tip_bad": "Más valoraciones malas que buenas: vuelve a leer esas transcripciones.",
        "tip_offline": "{offline} mensaje(s) fuera de línea esperan como tickets.",
        "tip_none": "Nada que mejorar: ¡buen trabajo!",
    },
}


def _say(lang: str, key: str, **values: object) -> str:
    return WORDS.get(lang, WORDS["en"])[key].format(**values)


def suggestions(mine: dict[str, Any], team: dict[str, Any], target_s: int, lang: str = "en") -> list[str]:
    tips = []
    median = mine["median_first_response_s"]
    if median is not None and median > target_s:
        tips.append(_say(lang, "tip_slow", median=median, target=target_s))
    if mine["missed"]:
        tips.append(_say(lang, "tip_missed", missed=mine["missed"]))
    if mine["bad"] > mine["good"] and mine["bad"]:
        tips.append(_say(lang, "tip_bad"))
    if team["offline_messages"]:
        tips.append(_say(lang, "tip_offline", offline=team["offline_messages"]))
    return tips or [_say(lang, "tip_none")]


def render(name: str, day: str, numbers: dict[str, Any], tips: list[str], lang: str = "en") -> str:
    def show(value: Any, unit: str = "") -> str:
        return "–" if value is None else f"{value}{unit}"

    rows = [
        ("chats", numbers["chats"]),
        ("missed", numbers["missed"]),
        ("offline", numbers["offline_messages"]),
        ("first", show(numbers["median_first_response_s"], " s")),
        ("duration", show(numbers["avg_duration_s"], " s")),
        ("ratings", _say(lang, "good_bad", good=numbers["good"], bad=numbers["bad"])),
    ]
    width = max(len(_say(lang, key)) for key, _ in rows) + 3
    return "\n".join(
        [
            _say(lang, "hello", name=name),
            "",
            _say(lang, "here", day=day),
            *[f"  {(_say(lang, key) + ':').ljust(width)}{value}" for key, value in rows],
            "",
            _say(lang, "suggestions"),
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


def _group_lines(day: str) -> list[tuple[str, dict[str, Any]]]:
    """Each group's figures, by name: one GetItem of the groups and one per group."""
    return [(g.name, _figures(day, group_key(g.group_id))) for g in groups.all_groups()]


def render_groups(by_group: list[tuple[str, dict[str, Any]]], lang: str = "en") -> str:
    lines = [_say(lang, "groups")]
    for name, numbers in by_group:
        line = _say(
            lang,
            "group_line",
            name=name,
            chats=numbers["chats"],
            missed=numbers["missed"],
            offline=numbers["offline_messages"],
        )
        lines.append(f"  {line}")
    return "\n".join(lines) + "\n"


def send_for(day: str) -> int:
    values = settings.get_settings()
    target, default_lang = int(values["wait_threshold_s"]), str(values.get("language") or "en")
    team = _figures(day, TEAM)
    by_group = _group_lines(day)
    sent = 0
    for agent in team_agents.members():
        if agent.disabled or not agent.email:
            continue
        mine = _figures(day, agent_key(agent.agent_id))
        lang = agent.language if agent.language in WORDS else default_lang
        body = render(agent.name, day, mine, suggestions(mine, team, target, lang), lang)
        if agent.role == "admin":
            team_part = render("", day, team, suggestions(team, team, target, lang), lang).split("\n", 2)[2]
            body += "\n" + _say(lang, "team") + "\n" + team_part
            if by_group:
                body += "\n" + render_groups(by_group, lang)
        try:
            mail.send(agent.email, _say(lang, "subject", day=day), body)
            sent += 1
        except Exception:  # one bad address must not stop everyone else's summary
            log.exception("daily summary to %s failed", agent.agent_id)
    return sent
