"""Each agent's last-read position per chat (the `read` action; `read_seq` in an agent's `welcome`).

The console counts a chat's unread messages from it, so a reload or a second device shows the same
unread state. A position only moves forward: the write is conditional on the stored one being lower,
so two tabs reporting out of order never move it back.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from functions.chat import access
from functions.core import clock, data
from functions.core.errors import CharlaError, bad_request
from functions.core.principals import Principal
from functions.models import Chat, ReadMark
from functions.realtime import broadcast, connections

TTL = timedelta(days=30)
MAX_SEQ = 2**53 - 1  # what a JavaScript number holds exactly


def mark(principal: Principal, chat_id: object, seq: object, *, exclude: str | None = None) -> int | None:
    """Moves the agent's read position in the chat up to `seq`; returns the position stored, or None when
    the stored one was already there (nothing changed). The agent's other tabs hear it as a `read` frame."""
    if not principal.is_agent:
        raise CharlaError("forbidden", "Only agents keep read positions.")
    if not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq <= MAX_SEQ:
        raise bad_request("`seq` must be a whole number from 0.")
    if not isinstance(chat_id, str):
        raise bad_request("`chat_id` must be a string.")
    chat: Chat = access.chat_for_read(principal, chat_id)
    seq = min(seq, int(chat.last_seq or 0))  # nothing past the last message can have been read
    applied = data.conditional(
        lambda: ReadMark(principal.id, chat.chat_id).update(
            actions=[ReadMark.seq.set(seq), ReadMark.expires_at.set(clock.now() + TTL)],
            condition=ReadMark.seq.does_not_exist() | (ReadMark.seq < seq),
        )
    )
    if not applied:
        return None
    others = [c for c in connections.connection_ids(principal) if c != exclude]
    broadcast.to_connections(others, {"type": "read", "chat_id": chat.chat_id, "seq": seq})
    return seq


def positions(agent_id: str, chat_ids: Iterable[str]) -> dict[str, int]:
    """The agent's read positions in these chats (one BatchGetItem per 100); a chat never read is absent."""
    keys = [(agent_id, chat_id) for chat_id in dict.fromkeys(chat_ids)]
    now = clock.now()
    found: dict[str, int] = {}
    for row in ReadMark.batch_get(keys) if keys else []:
        # DynamoDB deletes expired items only eventually; an expired position counts as none.
        if row.expires_at > now:
            found[row.chat_id] = int(row.seq)
    return found
