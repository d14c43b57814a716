"""The every-minute sweep. Each part queries a sparse index for what is due, never the history.

Due items carry their deadline as the index's range key, so a sweep reads the due items and
nothing else, however many chats have ever closed. While nobody chats, the sweep reads one item and
stops (functions/core/sweep_gate.py): its queries, one per index shard, would otherwise be the
installation's only DynamoDB cost.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial

from functions.admin import ban_enforcement
from functions.chat import chats, handoffs, messages, presence, routing
from functions.core import clock, data, lines, settings, shards, sweep_gate
from functions.core.errors import CharlaError
from functions.models import LIVE, OFFER, OPEN, UNANSWERED, Agent, Chat, Connection
from functions.realtime import broadcast, sockets

log = logging.getLogger(__name__)

# Clients ping every 4 minutes; two missed pings and API Gateway's 10-minute idle cut-off
# mean the connection is dead even if its $disconnect never arrived.
STALE_AFTER_S = 11 * 60
PAGE = 100


def unanswered_chats() -> int:
    """Chats whose agent hasn't answered in time: the agent is switched to not accepting (told why in
    their console), and the chat moves on to another available agent (of the chat's group, if it has
    one). Every line about it is agents-only.
    """
    timeout = int(settings.get_settings()["unanswered_timeout_s"])
    cutoff = clock.iso_ago(timeout)
    moved = 0
    for due in shards.merged(
        lambda key, page: Chat.unanswered_index.query(key, Chat.assigned_at < cutoff, limit=PAGE, page_size=page),
        UNANSWERED,
        lambda row: row.assigned_at,
        limit=PAGE,
    ):
        chat = Chat.get(due.chat_id, consistent_read=True)
        if chat.status != "active" or chat.unanswered_pk is None or not chat.assignee_id:
            continue
        if chat.visitor_left_at:
            continue  # nobody to answer: the chat waits for its visitor, or closes (presence.abandoned_chats)
        missed = chat.assignee_id
        previous = (chat.agent_names.as_dict() if chat.agent_names else {}).get(missed, "The agent")
        switched = _stop_agent_who_missed(missed, chat.chat_id)
        target = routing.pick_agent(routing.routable_agents(chat.group_id), frozenset(chat.agent_ids or ()))
        if target is None:
            # Nobody free: the chat stays with its agent and is looked at next minute.
            if switched:
                chats.post_system(chat, lines.line("missed", previous=previous, seconds=timeout), agents_only=True)
            continue
        note = lines.line("missed_took_over", previous=previous, seconds=timeout, name=target.name)
        try:
            handoffs.move(chat, missed, target, note)
            moved += 1
        except CharlaError as error:
            log.info("unanswered chat %s not moved: %s", chat.chat_id, error.message)
    return moved


def _stop_agent_who_missed(agent_id: str, chat_id: str) -> bool:
    """True when the agent was accepting and now isn't."""
    try:
        agent = Agent.get(agent_id, consistent_read=True)
    except Agent.DoesNotExist:
        return False
    if not agent.accepting:
        return False
    chats.stop_accepting_after_miss(agent_id, chat_id)
    return True


def long_waits() -> int:
    """Visitors queued for too long are offered the offline form, once (a message left from it carries
    the chat's group)."""
    minutes = int(settings.get_settings()["queue_timeout_min"])
    cutoff = clock.iso_ago(minutes * 60)
    offered = 0
    # offer_index loses a chat once it has been offered, so offered chats are never read again.
    for due in shards.merged(
        lambda key, page: Chat.offer_index.query(key, Chat.queued_at < cutoff, limit=PAGE, page_size=page),
        OFFER,
        lambda row: row.queued_at,
        limit=PAGE,
    ):
        chat = Chat(due.chat_id)
        offered_now = data.conditional(
            partial(
                chat.update,
                actions=[Chat.offline_offered_at.set(clock.now_iso()), Chat.offer_pk.remove()],
                condition=Chat.status == "queued",
            )
        )
        if not offered_now:
            continue  # assigned or closed meanwhile
        frame = {"type": "offer_offline", "chat_id": chat.chat_id, "waited_min": minutes}
        broadcast.to_chat(chat, frame, agent=False)
        offered += 1
    return offered


def idle_chats() -> int:
    """Open chats with no message for K minutes close, with a note to both sides."""
    minutes = int(settings.get_settings()["idle_timeout_min"])
    # A chat's recorded activity may lag its last message by up to the step: never close one early.
    cutoff = clock.iso_ago(minutes * 60 + messages.ACTIVITY_STEP_S)
    closed = 0
    for due in shards.merged(
        lambda key, page: Chat.open_index.query(key, Chat.last_activity_at < cutoff, limit=PAGE, page_size=page),
        OPEN,
        lambda row: row.last_activity_at,
        limit=PAGE,
    ):
        chat = Chat.get(due.chat_id, consistent_read=True)
        if chat.status == "closed":
            continue
        chats.end(chat, closed_by="system", note=lines.line("idle_closed", minutes=minutes))
        closed += 1
    return closed


def stale_connections() -> int:
    """Forgets connections silent for longer than API Gateway would keep them open."""
    cutoff = clock.iso_ago(STALE_AFTER_S)
    rows = shards.merged(
        lambda key, page: Connection.live_index.query(key, Connection.last_seen < cutoff, limit=PAGE, page_size=page),
        LIVE,
        lambda row: row.last_seen,
        limit=PAGE,
    )
    # Each is the `$disconnect` API Gateway never sent: the same clean-up, so a visitor whose socket
    # died silently is shown as gone, and their chat can become abandoned, like one who closed the tab.
    for row in rows:
        sockets.disconnect(row.connection_id)
    return len(rows)


def waiting_chats() -> int:
    """A backstop: assigns queued chats if an agent has a free slot that no event announced, then
    tells every chat still queued its position (events tell only the queue's head)."""
    assigned = chats.drain_queue()
    chats.send_queue_positions()
    return len(assigned)


def _parts() -> dict[str, Callable[[], int]]:
    """The sweep's parts by the name of what each counts, in the order they run."""
    return {
        "queue_assigned": waiting_chats,
        "address_bans": ban_enforcement.sweep_address_bans,
        "abandoned_chats": presence.abandoned_chats,
        "unanswered_chats": unanswered_chats,
        "long_waits": long_waits,
        "idle_chats": idle_chats,
        "stale_connections": stale_connections,
    }


def anything_open() -> bool:
    """Is there a live connection or an open chat (a queued, offered or unanswered chat is open)? At
    most one small Query per shard, stopping at the first found."""
    for key in shards.keys(LIVE):
        if next(iter(Connection.live_index.query(key, limit=1)), None) is not None:
            return True
    return any(next(iter(Chat.open_index.query(key, limit=1)), None) is not None for key in shards.keys(OPEN))


def run() -> dict[str, int]:
    parts = _parts()
    gate = sweep_gate.read()
    if gate.idle:
        return dict.fromkeys(parts, 0)
    done = {name: part() for name, part in parts.items()}
    if gate.quiet and not anything_open():
        sweep_gate.record_idle(gate)
    return done
