"""The job queue's drain: agents' notices and webhook deliveries share one queue and one event source."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

import app as charla
from functions.admin import outbound, webhooks
from functions.core import aws as charla_aws
from functions.core.principals import Principal
from functions.realtime import agent_notices, connections
from infra.local.queues import sqs_event
from tests.support.actors import Socket, new_agent
from tests.support.admin import Receiver

ADMIN = Principal("agent", "boss", "Boss", "admin")


@pytest.fixture
def job_queue(aws, monkeypatch) -> str:
    """As deployed: deliveries go to the queue the notices go to (conftest's), and receivers on this
    machine are allowed (the local stack's setting)."""
    url = os.environ["AGENT_NOTICE_QUEUE_URL"]
    monkeypatch.setenv("WEBHOOK_QUEUE_URL", url)
    monkeypatch.setenv(outbound.LOOPBACK_SETTING, "1")
    return url


def drain(url: str) -> dict[str, Any]:
    """What Lambda's event source does when a batching window closes: everything queued, one batch."""
    sqs = charla_aws.client("sqs")
    messages: list[dict[str, Any]] = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        messages += batch
    for start in range(0, len(messages), 10):
        entries = [
            {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages[start : start + 10])
        ]
        sqs.delete_message_batch(QueueUrl=url, Entries=entries)
    return charla.drain_job_queue(sqs_event(messages, "arn:aws:sqs:us-east-1:123456789012:jobs", "us-east-1"), None)


def test_one_batch_posts_the_notices_and_delivers_the_webhooks(job_queue):
    console = Socket(new_agent("Ana"))
    console.clear()
    with Receiver() as receiver:
        webhooks.create(ADMIN, {"url": receiver.url, "events": ["chat.started"]})
        assert webhooks.emit("chat.started", {"chat_id": "c_1"}) == 1
        agent_notices.tell("visitor:v_1", {"type": "visitor", "visitor": {"id": "v_1"}})
        counts = drain(job_queue)
    assert counts == {"notices": 1, "posts": 1, "webhooks": ["delivered"]}
    assert [json.loads(data)["data"] for _, data in receiver.requests] == [{"chat_id": "c_1"}]
    assert console.notified("visitor") == [{"type": "visitor", "visitor": {"id": "v_1"}}]


def test_a_notice_that_cannot_be_posted_never_fails_the_batch_its_webhooks_are_in(job_queue, monkeypatch):
    """Failing the batch would have Lambda hand it over again, and the webhooks be delivered twice."""

    def unavailable() -> list[str]:
        raise RuntimeError("DynamoDB is having a bad day")

    monkeypatch.setattr(connections, "agent_connection_ids", unavailable)
    with Receiver() as receiver:
        webhooks.create(ADMIN, {"url": receiver.url, "events": ["chat.started"]})
        webhooks.emit("chat.started", {"chat_id": "c_1"})
        agent_notices.tell("visitor:v_1", {"type": "visitor", "visitor": {"id": "v_1"}})
        assert drain(job_queue)["webhooks"] == ["delivered"]
    assert len(receiver.requests) == 1


def test_records_of_no_known_kind_are_dropped(job_queue):
    counts = charla.drain_job_queue(
        sqs_event(
            [
                {"MessageId": str(n), "ReceiptHandle": str(n), "Body": raw}
                for n, raw in enumerate(["not json", "[1]", json.dumps({"kind": "mystery"}), json.dumps({"kind": 1})])
            ],
            "arn:aws:sqs:us-east-1:123456789012:jobs",
            "us-east-1",
        ),
        None,
    )
    assert counts == {"notices": 0, "posts": 0, "webhooks": []}
