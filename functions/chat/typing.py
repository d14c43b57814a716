"""Typing indicators and sneak peek: who is told that someone is typing, and who sees the draft.

A visitor's indicator goes to the chat's agents (and supervising admins) only, with the draft text when the
admin's `sneak_peek` setting is on; an agent's goes to the visitor (and supervising admins), never with a draft.
"""

from __future__ import annotations

from typing import Any

from functions.chat import messages
from functions.chat.access import chat_for_write
from functions.core import settings
from functions.core.errors import CharlaError, bad_request
from functions.core.principals import Principal
from functions.realtime import broadcast


def notify(principal: Principal, chat_id: str, typing: bool, draft: object) -> None:
    """Tells the other side of the chat that `principal` is (or stopped) typing."""
    chat = chat_for_write(principal, chat_id)
    frame: dict[str, Any] = {
        "type": "typing",
        "chat_id": chat.chat_id,
        "from": principal.kind,
        "name": principal.name,
        "typing": typing,
    }
    if principal.kind != "visitor":
        broadcast.to_chat(chat, frame, agent=False, supervisors=True)
        return
    if draft is not None and not isinstance(draft, str):
        raise bad_request("`draft` must be a string.")
    if draft is not None and len(draft) > messages.MAX_TEXT:
        raise CharlaError("too_long", f"`draft` is limited to {messages.MAX_TEXT} characters.")
    if draft is not None and settings.get_settings()["sneak_peek"]:
        frame["draft"] = draft
    broadcast.to_chat(chat, frame, visitor=False)
