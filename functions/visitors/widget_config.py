"""What the widget may know before the visitor says anything: the public settings, whether anyone is
accepting chats, and the automatic greeting rules. Every other setting stays server-side."""

from __future__ import annotations

from typing import Any

from functions.chat.routing import routable_agents
from functions.core import mail, settings, shards
from functions.models import ROUTABLE, Agent
from functions.team import groups
from functions.visitors import greetings

PUBLIC_SETTINGS = (
    "prechat",
    "sneak_peek",
    "welcome",
    "color",
    "position",
    "language",
    "tracking",
    "visitor_uploads",
    "group_choice",
)


def widget_settings() -> dict[str, Any]:
    values = settings.get_settings()
    public = {key: values[key] for key in PUBLIC_SETTINGS}
    return {
        "online": bool(routable_agents()),
        **public,
        "on_accent": on_accent(str(values["color"])),
        # Listed only when the pre-chat step offers the choice; a page that picks a group names it itself.
        "groups": _groups() if values["group_choice"] else [],
        # In the SES sandbox a transcript reaches only verified addresses, which a visitor's is not.
        "transcript_email": not mail.sandboxed(),
        "greetings": greetings.rules(),
        # The welcome text in each other language the admin wrote it in; `welcome` is the English.
        "welcome_by_lang": {
            lang: parts["welcome"] for lang, parts in (values.get("translations") or {}).items() if parts.get("welcome")
        },
    }


def _groups() -> list[dict[str, Any]]:
    """Each group's id, name and whether a member is accepting chats (else the widget offers the
    offline form for it): one read of the groups and one BatchGetItem of their members."""
    found = groups.all_groups()
    everyone = sorted({m for g in found for m in g.members})
    routable = (
        {a.agent_id for a in Agent.batch_get(everyone) if shards.is_key(ROUTABLE, a.routable_pk)} if everyone else set()
    )
    return [{"id": g.group_id, "name": g.name, "online": bool(g.members & routable)} for g in found]


def on_accent(colour: str) -> str:
    """Black or white text, whichever reads better on the admin's colour (WCAG relative luminance), so
    the widget needn't work it out: `#111` or `#fff`."""
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    try:
        channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)] if len(digits) == 6 else []
    except ValueError:
        channels = []
    if not channels:
        return "#fff"
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return "#111" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.179 else "#fff"
