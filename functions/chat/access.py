"""Object-level authorisation for chats, shared by REST routes and WebSocket actions alike.

A chat that exists but isn't the caller's raises the same `not_found` as one that doesn't exist.
"""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from functions.core.errors import not_found
from functions.core.principals import Principal
from functions.models import Chat


def is_participant(principal: Principal, chat: Chat) -> bool:
    if principal.kind == "visitor":
        return chat.visitor_id == principal.id
    return principal.id in (chat.agent_ids or set())


def can_read(principal: Principal, chat: Chat) -> bool:
    # Agents share the archive and the queue, as in LiveChat; they write only where they take part.
    return principal.is_agent or is_participant(principal, chat)


def chat_for_read(principal: Principal, chat_id: str) -> Chat:
    chat = _load(chat_id)
    if not can_read(principal, chat):
        raise not_found()
    return chat


def chat_for_write(principal: Principal, chat_id: str) -> Chat:
    chat = _load(chat_id)
    if not is_participant(principal, chat):
        raise not_found()
    return chat


def _load(chat_id: str) -> Chat:
    if not isinstance(chat_id, str) or not chat_id or len(chat_id) > 64:
        raise not_found()
    try:
        return Chat.get(chat_id, consistent_read=True)
    except DoesNotExist:
        raise not_found() from None
