"""Whether a chat's visitor is still there: gone when their last socket closes, back when one opens.

The chat item says it in `visitor_left_at` (set when the visitor's last socket closed). Agents hear of
every change as a `chat` frame; the console shows "left" only once that is LEFT_GRACE_S old, so a
visitor moving between pages of the site (a socket closed and another opened) never looks gone.
A chat whose visitor stayed away, with nothing said, for the admin's `visitor_left_timeout_min` closes
(the minute's sweep), which frees its agents' slots and drains the queue.
"""

from __future__ import annotations

from functools import partial

from functions.chat import chats
from functions.core import clock, data, lines, settings, shards
from functions.models import OPEN, Chat
from functions.realtime import broadcast

LEFT_GRACE_S = 20  # the console's, documented in docs/protocol.md; kept here as the one home of the number


def visitor_socket_closed(chat_id: str) -> None:
    """After a visitor's socket left the chat's fan-out list: with none left, the visitor has gone."""
    chat = Chat(chat_id)
    # DynamoDB stores no empty set: DELETE of the last element removes the attribute
    # (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html#HowItWorks.DataTypes.SetTypes).
    gone = data.conditional(
        partial(
            chat.update,
            actions=[Chat.visitor_left_at.set(clock.now_iso())],
            condition=(
                Chat.visitor_conns.does_not_exist()
                & Chat.visitor_left_at.does_not_exist()
                & Chat.status.is_in("queued", "active")
            ),
        )
    )
    if gone:
        _tell_agents(chat)


def visitor_socket_opened(chat_id: str) -> None:
    """A visitor's socket joined the chat: if they had gone, they are back and find the chat as it was."""
    chat = Chat(chat_id)
    back = data.conditional(
        partial(
            chat.update,
            actions=[Chat.visitor_left_at.remove()],
            condition=Chat.visitor_left_at.exists() & (Chat.status != "closed"),
        )
    )
    if back:
        _tell_agents(chat)


def _tell_agents(chat: Chat) -> None:
    # Only the agents: the visitor knows whether they are there, and a socket still inside
    # $connect can't be posted to anyway.
    broadcast.to_chat(chat, {"type": "chat", "chat": chats.view(chat)}, visitor=False)


def abandoned_chats() -> int:
    """Closes chats whose visitor left, with nothing said since, longer ago than the admin's timeout."""
    minutes = int(settings.get_settings()["visitor_left_timeout_min"])
    cutoff = clock.iso_ago(minutes * 60)
    closed = 0
    # The open index (keys only, by last activity) lists the quiet open chats; a batch read of them
    # finds those whose visitor left. Quiet open chats are few: the idle sweep closes them all in time.
    quiet = [
        row.chat_id
        for row in shards.merged(
            lambda key, page: Chat.open_index.query(key, Chat.last_activity_at < cutoff, page_size=page),
            OPEN,
            lambda row: row.last_activity_at,
        )
    ]
    for listed in Chat.batch_get(quiet) if quiet else ():
        if not listed.visitor_left_at or listed.visitor_left_at >= cutoff:
            continue  # the visitor is there
        chat = Chat.get(listed.chat_id, consistent_read=True)  # the visitor may be back since the batch read
        if chat.status == "closed" or not chat.visitor_left_at or chat.visitor_left_at >= cutoff:
            continue
        chats.end(chat, closed_by="system", note=lines.line("visitor_left_closed", minutes=minutes))
        closed += 1
    return closed
