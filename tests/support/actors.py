"""Visitors and agents that talk to the real Chalice handlers with API Gateway-shaped events."""

from __future__ import annotations

import itertools
import json
import os
from typing import Any

import app as charla
from functions.core import aws
from functions.core.principals import Principal
from functions.realtime import connect_tickets
from functions.team import agents
from functions.visitors import identity
from infra.local.queues import sqs_event
from tests.conftest import clear_frames, sent_frames, ws_event

_ids = itertools.count(1)


class Socket:
    """One WebSocket connection, as API Gateway would drive it."""

    def __init__(
        self, principal: Principal, origin: str | None = "http://127.0.0.1:8000", ip: str = "203.0.113.9"
    ) -> None:
        self.principal = principal
        self.ip = ip  # the address API Gateway reports for every event of this connection
        self.connection_id = f"conn{next(_ids)}="
        ticket = str(connect_tickets.mint(principal)["ticket"])
        response = charla.ws_connect(
            ws_event("$connect", self.connection_id, ticket=ticket, origin=origin, source_ip=ip), None
        )
        self.status = response["statusCode"]

    def send(self, frame: dict[str, Any] | str) -> list[dict[str, Any]]:
        """Sends one frame and returns the frames this connection received meanwhile."""
        clear_frames(self.connection_id)
        body = frame if isinstance(frame, str) else json.dumps(frame)
        charla.ws_message(ws_event("$default", self.connection_id, body=body, source_ip=self.ip), None)
        return self.frames()

    def frames(self) -> list[dict[str, Any]]:
        return sent_frames(self.connection_id)

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [f for f in self.frames() if f.get("type") == kind]

    def notified(self, kind: str) -> list[dict[str, Any]]:
        """Frames of type `kind` that came inside the coalesced `notices` frames (drain_notices)."""
        return [n for f in self.of_type("notices") for n in f["frames"] if n.get("type") == kind]

    def clear(self) -> None:
        clear_frames(self.connection_id)

    def close(self) -> None:
        charla.ws_disconnect(ws_event("$disconnect", self.connection_id), None)


def new_visitor(name: str | None = None) -> Principal:
    minted = identity.create_identity()
    return Principal("visitor", minted["visitor_id"], name)


def new_agent(name: str = "Ana", *, accepting: bool = True, role: str = "agent") -> Principal:
    agent_id = f"agent-{next(_ids)}"
    agents.ensure_profile(agent_id, f"{agent_id}@example.com", name, role=role, accepting=accepting)
    return Principal("agent", agent_id, name, role)


def start_chat(visitor_socket: Socket, **fields: Any) -> dict[str, Any]:
    frames = visitor_socket.send({"action": "start_chat", **fields})
    chats = [f for f in frames if f["type"] == "chat"]
    assert chats, frames
    return chats[-1]["chat"]


def a_chat() -> tuple[Socket, Socket, str]:
    """Vera chatting with Ana, the one agent online: (visitor, agent, chat id), with the frames of
    the start cleared from both sockets."""
    agent = Socket(new_agent("Ana"))
    visitor = Socket(new_visitor("Vera"))
    chat_id = start_chat(visitor)["chat_id"]
    agent.clear()
    visitor.clear()
    return visitor, agent, chat_id


def drain_notices() -> dict[str, int]:
    """Hands every queued agent notice to the real drain handler in one batch, as Lambda's SQS event source
    does when a batching window closes; returns the drain's counts."""
    sqs, url = aws.client("sqs"), os.environ["AGENT_NOTICE_QUEUE_URL"]
    messages: list[dict[str, Any]] = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        messages += batch
        sqs.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(batch)]
        )
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    counts = charla.drain_job_queue(sqs_event(messages, arn, "us-east-1"), None)
    return {"notices": counts["notices"], "posts": counts["posts"]}
