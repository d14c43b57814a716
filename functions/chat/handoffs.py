"""Moving a chat between agents: transfer to another agent, or invite one to join.

The chat item's conditional update decides every race; the agents' counters follow it.
"""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.update import Action

from functions.chat import access, chats, routing
from functions.core import clock, data, lines, shards
from functions.core.errors import CharlaError, bad_request
from functions.core.principals import Principal
from functions.models import OFFER, QUEUE, UNANSWERED, Agent, Chat
from functions.realtime import broadcast, connections
from functions.team import groups


def _target(agent_id: object, principal: Principal) -> Agent:
    if not isinstance(agent_id, str) or not agent_id or len(agent_id) > 128:
        raise bad_request("`to_agent_id` / `agent_id` must name an agent.")
    if agent_id == principal.id:
        raise bad_request("Choose another agent.")
    try:
        agent = Agent.get(agent_id, consistent_read=True)
    except DoesNotExist:
        raise CharlaError("not_found", "No such agent.") from None
    if agent.disabled or agent.online_conns <= 0:
        # Presence is exact: a chat handed to someone who isn't there would just sit unanswered.
        raise CharlaError("conflict", f"{agent.name} is not online.")
    return agent


def _active_chat(principal: Principal, chat_id: object) -> Chat:
    if not principal.is_agent:
        raise CharlaError("forbidden", "Only agents move chats.")
    chat = access.chat_for_write(principal, str(chat_id) if isinstance(chat_id, str) else "")
    if chat.status != "active":
        raise CharlaError("conflict", "Only an active chat can be transferred or shared.")
    return chat


def transfer(principal: Principal, chat_id: object, to_agent_id: object) -> Chat:
    chat = _active_chat(principal, chat_id)
    target = _target(to_agent_id, principal)
    if target.agent_id in (chat.agent_ids or set()):
        raise CharlaError("conflict", f"{target.name} is already in this chat.")
    note = lines.line("transferred", by=principal.name or "Agent", to=target.name)
    return move(chat, principal.id, target, note)


def transfer_to_group(principal: Principal, chat_id: object, group_id: object) -> Chat:
    """Hands an active chat to a group: its least busy free member (not already in the chat) takes it,
    or, with none free, it waits in the queue for the group, at the queue's end. The chat belongs to
    the group from then on (its routing, its queue and its reports)."""
    chat = _active_chat(principal, chat_id)
    group = groups.find(group_id, field="to_group_id")
    if group is None:
        raise bad_request("`to_group_id` must name a group.", field="to_group_id")
    # The group is written with the move or the requeue, on the same condition: a transfer that loses
    # its race leaves the chat in the group it was in.
    joins: list[Action] = [Chat.group_id.set(group.group_id), Chat.group_name.set(group.name)]
    note = lines.line("transferred", by=principal.name or "Agent", to=group.name)
    target = routing.pick_agent(routing.routable_agents(group.group_id), frozenset(chat.agent_ids or ()))
    if target is not None:
        return move(chat, principal.id, target, note, also=joins)
    return _requeue(chat, principal.id, note, also=joins)


def _requeue(chat: Chat, from_agent_id: str, note: lines.Line, also: list[Action] | None = None) -> Chat:
    """Puts an active chat back in the queue (for its group): the agent leaves it and frees the slot."""
    leaving = set(connections.connection_ids(Principal("agent", from_agent_id))) & set(chat.agent_conns or ())
    staying = set(chat.agent_ids or ()) - {from_agent_id}
    now = clock.now_iso()
    actions: list[Action] = [
        Chat.status.set("queued"),
        Chat.assignee_id.remove(),
        Chat.agent_ids.set(staying) if staying else Chat.agent_ids.remove(),
        Chat.queue_pk.set(shards.key(QUEUE, chat.chat_id)),
        Chat.queued_at.set(now),
        Chat.offer_pk.set(shards.key(OFFER, chat.chat_id)),
        Chat.unanswered_pk.remove(),
        Chat.assigned_at.remove(),
        *(also or []),
    ]
    if leaving:
        actions.append(Chat.agent_conns.delete(leaving))
    queued = data.conditional(
        lambda: chat.update(
            actions=actions,
            condition=(Chat.status == "active") & (Chat.agent_ids == set(chat.agent_ids or ())),
        )
    )
    if not queued:
        raise CharlaError("conflict", "The chat changed meanwhile; reload it.")
    routing.release(from_agent_id, chat.chat_id)
    chat = chats.post_system(chat, note, agents_only=True)
    chats.announce(chat)  # every agent's queue gains it; the visitor hears their place
    broadcast.to_connections(sorted(leaving), {"type": "chat", "chat": chats.view(chat)})
    return chat


def move(chat: Chat, from_agent_id: str, target: Agent, note: lines.Line, also: list[Action] | None = None) -> Chat:
    """Hands an active chat from one agent to another; the transcript stays with the chat. `also`: more
    changes to the chat, written with the move on its condition."""
    leaving = set(connections.connection_ids(Principal("agent", from_agent_id))) & set(chat.agent_conns or ())
    joining = set(connections.connection_ids(Principal("agent", target.agent_id)))
    # One update can't both ADD and DELETE on agent_ids, so the new set is written whole,
    # on the condition that nobody changed it since we read it.
    agent_ids = (set(chat.agent_ids or ()) - {from_agent_id}) | {target.agent_id}
    actions = [
        Chat.assignee_id.set(target.agent_id),
        Chat.agent_ids.set(agent_ids),
        Chat.agent_names[target.agent_id].set(target.name),
        Chat.unanswered_pk.set(shards.key(UNANSWERED, chat.chat_id)),
        Chat.assigned_at.set(clock.now_iso()),
        *(also or []),
    ]
    if leaving:
        actions.append(Chat.agent_conns.delete(leaving))
    moved = data.conditional(
        lambda: chat.update(
            actions=actions,
            condition=(Chat.status == "active") & (Chat.agent_ids == set(chat.agent_ids or ())),
        )
    )
    if not moved:
        raise CharlaError("conflict", "The chat changed meanwhile; reload it.")
    if joining:
        data.write(lambda: chat.update(actions=[Chat.agent_conns.add(joining)]))
    routing.release(from_agent_id, chat.chat_id)
    routing.claim(target.agent_id, chat.chat_id)
    # Who handed the chat to whom is the team's business: the visitor sees only who they now talk to.
    chat = chats.post_system(chat, note, agents_only=True)
    chats.announce(chat)
    # The previous agent's tabs left the fan-out list, so they are told directly.
    broadcast.to_connections(sorted(leaving), {"type": "chat", "chat": chats.view(chat)})
    return chat


def invite(principal: Principal, chat_id: object, agent_id: object) -> Chat:
    chat = _active_chat(principal, chat_id)
    target = _target(agent_id, principal)
    if target.agent_id in (chat.agent_ids or set()):
        raise CharlaError("conflict", f"{target.name} is already in this chat.")
    chat.update(actions=[Chat.invited_ids.add({target.agent_id})], condition=Chat.status == "active")
    Agent(target.agent_id).update(actions=[Agent.invite_ids.add({chat.chat_id})])
    frame = {
        "type": "invitation",
        "chat_id": chat.chat_id,
        "from": {"id": principal.id, "name": principal.name},
        "chat": chats.view(chat),
    }
    broadcast.to_connections(connections.connection_ids(Principal("agent", target.agent_id)), frame)
    return chat


def reply_to_invitation(principal: Principal, chat_id: object, accept: object) -> Chat | None:
    if not principal.is_agent:
        raise CharlaError("forbidden", "Only agents answer invitations.")
    if not isinstance(chat_id, str) or not isinstance(accept, bool):
        raise bad_request("`chat_id` and `accept` (true or false) are required.")
    if not 0 < len(chat_id) <= 64:
        raise CharlaError("not_found", "No such invitation.")
    Agent(principal.id).update(actions=[Agent.invite_ids.delete({chat_id})])
    conns = set(connections.connection_ids(principal))
    try:
        chat = Chat.get(chat_id, consistent_read=True)
    except DoesNotExist:
        raise CharlaError("not_found", "No such invitation.") from None
    invited = Chat.invited_ids.contains(principal.id)
    closed = CharlaError("conflict", "This invitation is no longer open.")
    if not accept:
        declined = data.conditional(
            lambda: chat.update(actions=[Chat.invited_ids.delete({principal.id})], condition=invited)
        )
        if not declined:
            raise closed
        return None
    actions = [
        Chat.invited_ids.delete({principal.id}),
        Chat.agent_ids.add({principal.id}),
        Chat.agent_names[principal.id].set(principal.name or "Agent"),
    ]
    if conns:
        actions.append(Chat.agent_conns.add(conns))
    if not data.conditional(lambda: chat.update(actions=actions, condition=invited & (Chat.status == "active"))):
        raise closed
    routing.claim(principal.id, chat.chat_id)
    chat = chats.post_system(chat, lines.line("joined", name=principal.name or "Agent"))
    chats.announce(chat)
    return chat
