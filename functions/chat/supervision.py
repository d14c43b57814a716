"""Supervision: an admin watches an active chat silently, whispers in it, and may join it.

A supervising admin's connection sits in the chat's `supervisor_conns`, next to `agent_conns` on the
item every message's fan-out already reads, so a watched chat costs a visitor's message no extra call.
The visitor is never told: supervisors are in no chat view, frame or page a visitor gets. Watching is
per connection (one chat per tab, the connection row remembers which), and ends with `unsupervise`,
with `join`, or when the connection goes (`$disconnect`, Gone, a demotion closing the admin's sockets).

A whisper is a message of kind `whisper` with audience `agents`: stored with a seq like any message,
idempotent by `client_msg_id`, fanned out to the chat's agents and supervisors only, and reduced to its
seq (kind `hidden`) wherever the visitor reads the transcript.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from pynamodb.exceptions import DoesNotExist

from functions.chat import access, chats, messages, routing
from functions.core import data, lines, shards
from functions.core.errors import CharlaError, bad_request, not_found
from functions.core.principals import Principal, with_profile
from functions.models import OPEN, Agent, Chat, Connection
from functions.realtime import broadcast, connections

WHISPER = "whisper"
ACTIVE_LIMIT = 100  # chats in the admin's list of chats to supervise


def _admin(principal: Principal) -> Principal:
    """The caller as their profile says now: only admins supervise, and a demotion ends it at once."""
    if not principal.is_agent:
        raise CharlaError("forbidden", "Only admins supervise chats.")
    try:
        profile = Agent.get(principal.id, consistent_read=True)
    except DoesNotExist:
        raise CharlaError("forbidden", "Only admins supervise chats.") from None
    admin = with_profile(principal, profile)
    if profile.disabled or not admin.is_admin:
        raise CharlaError("forbidden", "Only admins supervise chats.")
    return admin


def _chat_id(chat_id: object) -> str:
    if not isinstance(chat_id, str):
        raise bad_request("`chat_id` must be a string.")
    return chat_id


def active_chats() -> list[dict[str, object]]:
    """What an admin may supervise: the open chats with the newest activity that are active, at most
    ACTIVE_LIMIT (queued ones are read and left out). One keys-only Query per shard of `open_index`,
    then one BatchGetItem per 100 chats, whatever the size of the history."""
    keys = shards.merged(
        lambda key, page: Chat.open_index.query(key, scan_index_forward=False, limit=ACTIVE_LIMIT, page_size=page),
        OPEN,
        lambda row: row.last_activity_at,
        limit=ACTIVE_LIMIT,
        newest_first=True,
    )
    ids = [row.chat_id for row in keys]
    found = [chat for chat in Chat.batch_get(ids) if chat.status == "active"] if ids else []
    found.sort(key=lambda chat: chat.last_activity_at, reverse=True)
    return [chats.view(chat) for chat in found]


def supervise(principal: Principal, chat_id: object, connection: Connection) -> Chat:
    """Starts watching an active chat on `connection` (the row the frame was read with), leaving any other
    chat it watched."""
    admin = _admin(principal)
    chat = access.chat_for_read(admin, _chat_id(chat_id))
    if chat.status != "active":
        raise CharlaError("conflict", "Only an active chat can be supervised.")
    if access.is_participant(admin, chat):
        raise CharlaError("conflict", "You are already in this chat.")
    connection_id = connection.connection_id
    if connection.supervising and connection.supervising != chat.chat_id:
        leave(connection.supervising, connection_id)
    watching = data.conditional(
        lambda: chat.update(actions=[Chat.supervisor_conns.add({connection_id})], condition=Chat.status == "active"),
        busy_message="Could not open the chat; try again.",
    )
    if not watching:
        raise CharlaError("conflict", "Only an active chat can be supervised.")
    data.write(partial(Connection(connection_id).update, actions=[Connection.supervising.set(chat.chat_id)]))
    return chat


def unsupervise(principal: Principal, chat_id: object, connection_id: str) -> str:
    """Stops watching; asking again (or for a chat not watched) changes nothing."""
    if not principal.is_agent:
        raise CharlaError("forbidden", "Only admins supervise chats.")
    chat_id = _chat_id(chat_id)
    leave(chat_id, connection_id)
    data.conditional(
        lambda: Connection(connection_id).update(
            actions=[Connection.supervising.remove()], condition=Connection.supervising == chat_id
        )
    )
    return chat_id


def leave(chat_id: str, connection_id: str) -> None:
    """Takes a connection off a chat's supervisors (at `unsupervise`, `join` and `$disconnect`)."""
    if not chat_id or len(chat_id) > 64:
        return
    data.conditional(
        lambda: Chat(chat_id).update(
            actions=[Chat.supervisor_conns.delete({connection_id})], condition=Chat.chat_id.exists()
        )
    )


def join(principal: Principal, chat_id: object, connection_id: str) -> Chat:
    """The supervising admin takes part: the chat's agents and the visitor see them join."""
    admin = _admin(principal)
    chat = access.chat_for_read(admin, _chat_id(chat_id))
    if connection_id not in (chat.supervisor_conns or set()):
        raise CharlaError("conflict", "Supervise the chat before joining it.")
    if access.is_participant(admin, chat):
        raise CharlaError("conflict", "You are already in this chat.")
    conns = set(connections.connection_ids(admin)) | {connection_id}
    actions = [
        Chat.agent_ids.add({admin.id}),
        Chat.agent_names[admin.id].set(admin.name or "Agent"),
        Chat.agent_conns.add(conns),
        Chat.supervisor_conns.delete({connection_id}),
    ]
    joined = data.conditional(
        lambda: chat.update(
            actions=actions,
            condition=(Chat.status == "active") & ~Chat.agent_ids.contains(admin.id),
        ),
        busy_message="Could not join the chat; try again.",
    )
    if not joined:
        raise CharlaError("conflict", "This chat is no longer active.")
    data.conditional(
        lambda: Connection(connection_id).update(
            actions=[Connection.supervising.remove()], condition=Connection.connection_id.exists()
        )
    )
    routing.claim(admin.id, chat.chat_id)
    chat = chats.post_system(chat, lines.line("joined", name=admin.name or "Agent"))
    chats.announce(chat)
    return chat


def whisper(
    principal: Principal,
    chat_id: object,
    client_msg_id: object,
    text: object,
    connection_id: str,
    *,
    acknowledge: Callable[[messages.Stored], None],
) -> messages.Stored:
    """A note only the chat's agents and supervisors see: from an agent in the chat, or an admin watching
    it on this connection. Never fanned out to the visitor, never a webhook."""
    if not principal.is_agent:
        raise CharlaError("forbidden", "Only agents whisper.")
    if not isinstance(client_msg_id, str) or not messages.CLIENT_MSG_ID.match(client_msg_id):
        raise bad_request("`client_msg_id` must be 1-64 characters of letters, digits, _ or -.")
    body = messages.validate_text(text)
    chat = access.chat_for_read(principal, _chat_id(chat_id))
    if not access.is_participant(principal, chat):
        if connection_id not in (chat.supervisor_conns or set()):
            raise not_found()
        _admin(principal)  # a watcher whispers while their profile says admin
    if chat.status != "active":
        raise CharlaError("conflict", "Whispers go only into an active chat.")
    stored = messages.store(
        chat, principal=principal, text=body, client_msg_id=client_msg_id, audience=messages.AGENTS, kind=WHISPER
    )
    acknowledge(stored)
    if not stored.duplicate:
        message = stored.message
        frame = {"type": "message", "chat_id": message.chat_id, "message": messages.view(message)}
        broadcast.to_chat(stored.chat, frame, visitor=False, exclude=[connection_id])
    return stored


def disconnected(row: Connection) -> None:
    """`$disconnect`: the connection stops watching whatever it watched."""
    if row.supervising:
        leave(row.supervising, row.connection_id)
