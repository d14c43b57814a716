"""Sends frames to the people in a chat, or to all agents, and forgets connections that are gone."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any

from pynamodb.expressions.update import Action

from functions.core import data
from functions.models import Chat
from functions.realtime import connections, push, visitor_frames
from functions.team import agents


def chat_connections(
    chat: Chat, *, visitor: bool = True, agent: bool = True, supervisors: bool | None = None
) -> list[str]:
    """The chat's fan-out list. Supervising admins (functions/chat/supervision.py) hear what its agents
    hear unless `supervisors` says otherwise."""
    ids: list[str] = []
    if visitor:
        ids += sorted(chat.visitor_conns or ())
    if agent:
        ids += sorted(chat.agent_conns or ())
    watchers = agent if supervisors is None else supervisors
    if watchers:
        ids += sorted(set(chat.supervisor_conns or ()) - set(chat.agent_conns or ()))
    return ids


def to_chat(
    chat: Chat,
    frame: dict[str, Any],
    *,
    visitor: bool = True,
    agent: bool = True,
    supervisors: bool | None = None,
    exclude: Iterable[str] = (),
) -> None:
    skip = set(exclude)
    visitor_ids = [c for c in chat_connections(chat, visitor=visitor, agent=False, supervisors=False) if c not in skip]
    agent_ids = [
        c for c in chat_connections(chat, visitor=False, agent=agent, supervisors=supervisors) if c not in skip
    ]
    # Agents' ids stay internal: the visitor's copy names agents by display name and alias only.
    gone = push.send_many(visitor_ids, visitor_frames.frame(frame)) if visitor_ids else []
    forget(gone + push.send_many(agent_ids, frame), chats=[chat])


def to_connections(connection_ids: Iterable[str], frame: dict[str, Any]) -> None:
    forget(push.send_many(connection_ids, frame))


def forget(connection_ids: list[str], chats: Iterable[Chat] = ()) -> None:
    """A connection API Gateway calls Gone is dead: drop its row, presence, and fan-out entries."""
    if not connection_ids:
        return
    gone = set(connection_ids)
    for connection_id in list(gone):
        # A socket still inside $connect answers Gone too; it keeps its row and its fan-out
        # entries, and recovers what it missed with `resume` once open.
        row = connections.remove(connection_id, unless_opening=True)
        if row is None and connections.is_opening(connection_id):
            gone.discard(connection_id)
        elif row is not None and row.kind == "agent":
            agents.disconnected(row.subject_id)
    for chat in chats:
        actions: list[Action] = []
        if gone & set(chat.visitor_conns or ()):
            actions.append(Chat.visitor_conns.delete(gone & set(chat.visitor_conns or ())))
        if gone & set(chat.agent_conns or ()):
            actions.append(Chat.agent_conns.delete(gone & set(chat.agent_conns or ())))
        if gone & set(chat.supervisor_conns or ()):
            actions.append(Chat.supervisor_conns.delete(gone & set(chat.supervisor_conns or ())))
        if actions:
            data.write(partial(Chat(chat.chat_id).update, actions=actions))
