"""What a socket is told when it says `hello`: who it is, its open chats and invitations, and for a visitor
the greeting it missed and its place in the queue.
"""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import DoesNotExist

from functions.chat import chats, reads, routing
from functions.core import settings
from functions.core.principals import Principal
from functions.models import Chat, Visitor
from functions.team import agents
from functions.visitors import greetings

# The settings an agent's console needs to behave as the admin set it.
AGENT_SETTINGS = ("wait_threshold_s", "sneak_peek", "max_chats_per_agent")


def frames(principal: Principal) -> list[dict[str, Any]]:
    """The frames answering a `hello`, in order, for the caller only."""
    if principal.is_agent:
        return [_agent_welcome(principal)]
    try:
        visitor: Visitor | None = Visitor.get(principal.id)
    except DoesNotExist:
        visitor = None  # erased meanwhile
    chat = chats.open_chat_of(visitor) if visitor else None
    open_chats = [chat] if chat else []
    welcome: dict[str, Any] = {
        "type": "welcome",
        "me": {"kind": "visitor", "id": principal.id, "name": principal.name},
        "chats": [chats.view(c) for c in open_chats],
        "invitations": [],
        # A greeting posted while this socket was still inside $connect was refused (Gone); this
        # is where the page gets it instead of only on the next one.
        "greeting": greetings.pending(visitor) if visitor else None,
    }
    # The queue position goes to the caller only: nobody else's position changed.
    return [welcome] + [chats.queue_frame(c) for c in open_chats if c.status == "queued"]


def _agent_welcome(principal: Principal) -> dict[str, Any]:
    agent = agents.get(principal.id)
    if agent.accepting:
        chats.drain_queue()  # a returning agent with free slots takes the oldest waiting chats
        agent = agents.get(principal.id)
    mine = chats.chats_of_agent(agent)
    open_chats: list[Chat] = mine + routing.queued()
    values = settings.get_settings()
    # How far this agent has read each of their chats, for the unread counts (functions/chat/reads.py).
    read = reads.positions(agent.agent_id, [c.chat_id for c in mine])
    views = [chats.view(c) for c in open_chats]
    for view in views:
        if view["chat_id"] in read:
            view["read_seq"] = read[view["chat_id"]]
    return {
        "type": "welcome",
        "me": {"kind": "agent", **agents.view(agent), "settings": {k: values[k] for k in AGENT_SETTINGS}},
        "chats": views,
        "invitations": [chats.view(c) for c in chats.invitations_of_agent(agent)],
    }
