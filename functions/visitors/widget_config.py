"""What the widget may know before the visitor says anything: the public settings, whether anyone is
accepting chats, and the automatic greeting rules. Every other setting stays server-side."""

from __future__ import annotations

from typing import Any

from functions.chat.routing import routable_agents
from functions.core import mail, settings
from functions.visitors import greetings

PUBLIC_SETTINGS = ("prechat", "sneak_peek", "welcome", "color", "position", "language", "tracking", "visitor_uploads")


def widget_settings() -> dict[str, Any]:
    values = settings.get_settings()
    public = {key: values[key] for key in PUBLIC_SETTINGS}
    return {
        "online": bool(routable_agents()),
        **public,
        # In the SES sandbox a transcript reaches only verified addresses, which a visitor's is not.
        "transcript_email": not mail.sandboxed(),
        "greetings": greetings.rules(),
        # The welcome text in each other language the admin wrote it in; `welcome` is the English.
        "welcome_by_lang": {
            lang: parts["welcome"] for lang, parts in (values.get("translations") or {}).items() if parts.get("welcome")
        },
    }
