"""Bulk background data, written straight to the tables in the shapes the app itself writes.

Going through the handlers would cost minutes for thousands of chats; the items are built from
Charla's own PynamoDB models (`serialize()`), so they carry exactly the attributes, and therefore
the sparse-index keys, that the real code paths leave behind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from functions.core import clock
from functions.models import AGENT, OFFER, OPEN, QUEUE, Agent, Chat, Connection, Message, Visitor
from functions.realtime.connections import CONNECTION_TTL
from tests.bench.moto_env import batch_put

CHATS_PER_AGENT = 20


@dataclass
class Background:
    """What `open_chats` wrote: the visitor connection ids are what the scan sample fans out to."""

    visitor_connections: list[str] = field(default_factory=list)


def open_chats(prefix: str, count: int, into: Background) -> None:
    """`count` active chats, each with a visitor online and an agent (not taking new chats)."""
    now = clock.now()
    stamp = clock.iso(now)
    chats, connections, visitors, agents = [], [], [], []
    for start in range(0, count, CHATS_PER_AGENT):
        agent_id = f"{prefix}-agent-{start // CHATS_PER_AGENT}"
        ids = [f"{prefix}-chat-{i}" for i in range(start, min(start + CHATS_PER_AGENT, count))]
        agent_conn = f"{agent_id}-conn="
        agents.append(
            Agent(
                agent_id,
                email=f"{agent_id}@example.com",
                name=agent_id,
                accepting=False,
                online_conns=1,
                active_count=len(ids),
                chat_ids=set(ids),
                last_assigned_at=stamp,
            )
        )
        connections.append(_connection(agent_conn, "agent", agent_id, stamp, now))
        for chat_id in ids:
            visitor_id = f"{chat_id}-visitor"
            visitor_conn = f"{chat_id}-conn="
            into.visitor_connections.append(visitor_conn)
            visitors.append(Visitor(visitor_id, secret_hash="x" * 64, created_at=stamp, open_chat_id=chat_id))
            connections.append(_connection(visitor_conn, "visitor", visitor_id, stamp, now))
            chats.append(
                Chat(
                    chat_id,
                    status="active",
                    visitor_id=visitor_id,
                    agent_ids={agent_id},
                    agent_names={agent_id: agent_id},
                    assignee_id=agent_id,
                    visitor_conns={visitor_conn},
                    agent_conns={agent_conn},
                    last_seq=4,
                    created_at=stamp,
                    last_activity_at=stamp,
                    open_pk=OPEN,
                    assigned_at=stamp,
                )
            )
    for model, rows in ((Agent, agents), (Connection, connections), (Visitor, visitors), (Chat, chats)):
        batch_put(model.Meta.table_name, [row.serialize() for row in rows])


def _connection(connection_id: str, kind: str, subject_id: str, stamp: str, at: datetime) -> Connection:
    prefix = "a:" if kind == "agent" else "v:"
    return Connection(
        connection_id,
        principal_id=prefix + subject_id,
        kind=kind,
        subject_id=subject_id,
        connected_at=stamp,
        last_seen=stamp,
        agent_pk=AGENT if kind == "agent" else None,
        expires_at=at + CONNECTION_TTL,
    )


def stale_connections(prefix: str, count: int, silent_for: timedelta) -> None:
    """Visitor connections whose $disconnect never arrived: due for the stale-connection sweep."""
    then = clock.now() - silent_for
    stamp = clock.iso(then)
    rows = [_connection(f"{prefix}-{i}=", "visitor", f"{prefix}-visitor-{i}", stamp, then) for i in range(count)]
    batch_put(Connection.Meta.table_name, [row.serialize() for row in rows])


def queued_chats(prefix: str, count: int, waited: timedelta) -> None:
    """Chats waiting in the queue since `waited` ago, their visitors still connected."""
    now = clock.now()
    since = clock.iso(now - waited)
    chats, connections, visitors = [], [], []
    for i in range(count):
        chat_id, visitor_id, conn = f"{prefix}-chat-{i}", f"{prefix}-visitor-{i}", f"{prefix}-conn-{i}="
        chats.append(
            Chat(
                chat_id,
                status="queued",
                visitor_id=visitor_id,
                visitor_conns={conn},
                agent_names={},
                created_at=since,
                last_activity_at=since,
                queue_pk=QUEUE,
                queued_at=since,
                offer_pk=OFFER,
                open_pk=OPEN,
            )
        )
        visitors.append(Visitor(visitor_id, secret_hash="x" * 64, created_at=since, open_chat_id=chat_id))
        connections.append(_connection(conn, "visitor", visitor_id, clock.iso(now), now))
    for model, rows in ((Connection, connections), (Visitor, visitors), (Chat, chats)):
        batch_put(model.Meta.table_name, [row.serialize() for row in rows])


def history(count: int) -> None:
    """`count` closed chats from last year, as `chats.close` leaves them, with one message each."""
    closed = clock.iso(clock.now() - timedelta(days=365))
    chat = Chat(
        "old-chat",
        status="closed",
        visitor_id="old-visitor",
        agent_ids={"old-agent"},
        agent_names={"old-agent": "Old"},
        assignee_id="old-agent",
        last_seq=1,
        created_at=closed,
        last_activity_at=closed,
        closed_at=closed,
        closed_by="v:old",
        assigned_at=closed,
        first_response_at=closed,
    ).serialize()
    message = Message(
        "old-chat",
        1,
        client_msg_id="m1",
        sender="visitor",
        sender_id="old-visitor",
        text="Hello, do you ship to Norway?",
        ts=closed,
    ).serialize()
    # One serialized prototype per table with its keys swapped: PynamoDB's serialize() per item
    # would add seconds to a part of the run that is already the slowest.
    chats = [{**chat, "chat_id": {"S": f"old-chat-{i}"}, "visitor_id": {"S": f"old-visitor-{i}"}} for i in range(count)]
    messages = [{**message, "chat_id": {"S": f"old-chat-{i}"}} for i in range(count)]
    batch_put(Chat.Meta.table_name, chats)
    batch_put(Message.Meta.table_name, messages)
