"""Webhooks: registration, emitting through SQS, signed delivery, and retries with backoff via the queue."""

from __future__ import annotations

import json
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import time_machine

import app as charla
from functions.admin import webhook_delivery, webhooks
from functions.core import aws as charla_aws
from functions.core.principals import Principal
from functions.models import Webhook
from infra.local import queues
from tests.support.admin import Receiver, add_user, body, call, login, signature_ok, status

pytest_plugins = ["tests.support.admin"]  # api, pool

ADMIN = Principal("agent", "boss", "Boss", "admin")


@pytest.fixture
def queue(aws, monkeypatch) -> str:
    url, _ = queues.ensure_queue(charla_aws.client("sqs"), "charla-test-webhooks")
    monkeypatch.setenv("WEBHOOK_QUEUE_URL", url)
    monkeypatch.delenv(webhook_delivery.SCALE_VARIABLE, raising=False)
    return url


@pytest.fixture
def boss(pool, api) -> str:
    add_user(pool, "boss@example.com", "Boss", role="admin")
    return login(api, "boss@example.com")["id_token"]


def drain(queue_url: str) -> list[str]:
    """What Lambda's SQS event source does once: receive a batch, run the handler, delete the batch."""
    sqs = charla_aws.client("sqs")
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
    if not messages:
        return []
    outcomes = charla.deliver_webhooks(queues.sqs_event(messages, "arn:aws:sqs:us-east-1:123456789012:q", "us-east-1"),
                                       None)
    entries = [{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)]
    sqs.delete_message_batch(QueueUrl=queue_url, Entries=entries)
    return list(outcomes)


def _delayed(queue_url: str) -> int:
    attributes = charla_aws.client("sqs").get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessagesDelayed"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessagesDelayed"])


def _hook(url: str, *events: str) -> dict[str, Any]:
    return webhooks.create(ADMIN, {"url": url, "events": list(events) or ["message.created"]})


# --- registration -------------------------------------------------------------------------------------


def test_an_admin_registers_lists_and_deletes_webhooks(api, boss):
    payload = {"url": "https://hooks.example/charla", "events": ["message.created", "chat.started"]}
    response = call(api, "POST", "/admin/webhooks", boss, payload)
    assert response.status_code == 201
    created = body(response)
    assert created["secret"].startswith("whsec_") and created["events"] == ["chat.started", "message.created"]
    listed = body(call(api, "GET", "/admin/webhooks", boss))
    assert [w["id"] for w in listed["webhooks"]] == [created["id"]]
    assert "secret" not in listed["webhooks"][0]  # shown once, at creation
    assert "ticket.updated" in listed["events"]
    assert status(api, "GET", f"/admin/webhooks/{created['id']}/deliveries", boss) == 200
    assert status(api, "DELETE", f"/admin/webhooks/{created['id']}", boss) == 204
    assert status(api, "DELETE", f"/admin/webhooks/{created['id']}", boss) == 404
    assert status(api, "GET", f"/admin/webhooks/{created['id']}/deliveries", boss) == 404


def test_a_registration_is_validated(api, boss):
    good = {"url": "https://hooks.example/x", "events": ["chat.ended"]}
    bad = [
        {**good, "url": "http://hooks.example/x"},  # plain http leaves the machine
        {**good, "url": "ftp://hooks.example/x"},
        {**good, "url": "https://user:pass@hooks.example/x"},
        {**good, "url": "https://"},
        {**good, "url": "https://hooks.example:99999/x"},
        {**good, "url": "https://hooks.example/" + "x" * 2000},
        {**good, "events": []},
        {**good, "events": ["chat.exploded"]},
        {**good, "events": "chat.ended"},
        {**good, "secret": "mine"},
    ]
    for payload in bad:
        assert status(api, "POST", "/admin/webhooks", boss, payload) == 400, payload
    for url in ("http://127.0.0.1:8080/hook", "http://localhost/hook", "http://[::1]:9000/"):
        assert status(api, "POST", "/admin/webhooks", boss, {**good, "url": url}) == 201, url


def test_there_is_a_limit(queue):
    for n in range(webhooks.MAX_WEBHOOKS):
        _hook(f"https://hooks.example/{n}")
    with pytest.raises(webhooks.CharlaError) as refused:
        _hook("https://hooks.example/one-too-many")
    assert refused.value.code == "conflict"


# --- emitting ------------------------------------------------------------------------------------------


def test_emitting_costs_nothing_while_nobody_listens(queue, monkeypatch):
    assert webhooks.emit("message.created", {"text": "warm-up"}) == 0  # one Query fills the cache
    calls: list[str] = []
    monkeypatch.setattr(Webhook, "query", classmethod(lambda cls, *a, **k: calls.append("query") or iter(())))
    monkeypatch.setattr(webhooks, "aws", SimpleNamespace(client=lambda *a, **k: calls.append("client")))
    for n in range(50):
        assert webhooks.emit("message.created", {"n": n}) == 0
    assert calls == []


def test_one_message_per_subscribed_active_webhook(queue):
    _hook("https://a.example/", "message.created")
    _hook("https://b.example/", "message.created", "chat.ended")
    _hook("https://c.example/", "chat.ended")
    inactive = _hook("https://d.example/", "message.created")
    Webhook(webhooks.WEBHOOK, inactive["id"]).update(actions=[Webhook.active.set(False)])
    webhooks.forget()
    assert webhooks.emit("message.created", {"text": "hi"}) == 2
    assert webhooks.emit("chat.started", {}) == 0
    messages = charla_aws.client("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    jobs = [json.loads(m["Body"]) for m in messages]
    assert len(jobs) == 2 and {j["attempt"] for j in jobs} == {1}
    assert jobs[0]["body"] == jobs[1]["body"]  # the same event, one delivery id each
    assert jobs[0]["delivery_id"] != jobs[1]["delivery_id"]


def test_emit_never_fails_the_caller(queue, monkeypatch):
    _hook("https://a.example/")
    monkeypatch.setenv("WEBHOOK_QUEUE_URL", queue + "-missing")
    assert webhooks.emit("message.created", {}) == 0
    monkeypatch.delenv("WEBHOOK_QUEUE_URL")
    assert webhooks.emit("message.created", {}) == 0
    with pytest.raises(ValueError):
        webhooks.emit("no.such.event", {})


# --- delivery ------------------------------------------------------------------------------------------


def test_a_delivery_is_signed_and_logged(api, boss, queue):
    with Receiver(200) as receiver:
        hook = body(call(api, "POST", "/admin/webhooks", boss, {"url": receiver.url, "events": ["chat.ended"]}))
        assert webhooks.emit("chat.ended", {"chat_id": "c_1", "text": "¡adiós!"}) == 1
        assert drain(queue) == ["delivered"]
    [(headers, data)] = receiver.requests
    assert signature_ok(hook["secret"], headers, data)
    assert not signature_ok("whsec_wrong", headers, data)
    event = json.loads(data)
    assert (event["event"], event["data"]) == ("chat.ended", {"chat_id": "c_1", "text": "¡adiós!"})
    assert headers["x-charla-event"] == "chat.ended" and headers["x-charla-attempt"] == "1"
    assert headers["content-type"].startswith("application/json")
    [logged] = body(call(api, "GET", f"/admin/webhooks/{hook['id']}/deliveries", boss))["deliveries"]
    assert (logged["status_code"], logged["outcome"], logged["attempt"], logged["event"]) == (
        200, "delivered", 1, "chat.ended")
    assert logged["delivery_id"] == headers["x-charla-delivery"]


def test_a_failure_is_retried_through_the_queue_after_a_delay(api, boss, queue):
    with Receiver(500, 200) as receiver:
        hook = body(call(api, "POST", "/admin/webhooks", boss, {"url": receiver.url, "events": ["message.created"]}))
        webhooks.emit("message.created", {"text": "hello"})
        assert drain(queue) == ["retrying"]
        assert drain(queue) == [] and _delayed(queue) == 1  # SQS holds it for 10 s, no Lambda sleeps
        with time_machine.travel(timedelta(seconds=11)):
            assert drain(queue) == ["delivered"]
    first, second = receiver.requests
    assert first[1] == second[1] and signature_ok(hook["secret"], *second)
    assert first[0]["x-charla-delivery"] == second[0]["x-charla-delivery"]
    assert (first[0]["x-charla-attempt"], second[0]["x-charla-attempt"]) == ("1", "2")
    log = body(call(api, "GET", f"/admin/webhooks/{hook['id']}/deliveries", boss))["deliveries"]
    assert [(d["attempt"], d["status_code"], d["outcome"]) for d in log] == [(2, 200, "delivered"),
                                                                            (1, 500, "retrying")]


def test_the_backoff_grows_and_only_tests_shorten_it(monkeypatch):
    assert [webhook_delivery.delay_before(n) for n in range(2, 6)] == [10, 60, 300, 900]
    monkeypatch.setenv(webhook_delivery.SCALE_VARIABLE, "0.01")
    assert [webhook_delivery.delay_before(n) for n in range(2, 6)] == [0, 1, 3, 9]
    monkeypatch.setenv(webhook_delivery.SCALE_VARIABLE, "50")
    assert webhook_delivery.delay_before(2) == 10
    monkeypatch.setenv(webhook_delivery.SCALE_VARIABLE, "fast")
    assert webhook_delivery.delay_before(2) == 10


def test_it_gives_up_after_five_attempts(queue, monkeypatch):
    monkeypatch.setenv(webhook_delivery.SCALE_VARIABLE, "0")
    with Receiver() as gone:
        url = gone.url  # nothing listens there once the receiver is closed
    hook = _hook(url)
    webhooks.emit("message.created", {})
    outcomes = [o for _ in range(6) for o in drain(queue)]
    assert outcomes == ["retrying"] * 4 + ["gave_up"]
    log = webhooks.deliveries(hook["id"], None)["deliveries"]
    assert [d["attempt"] for d in log] == [5, 4, 3, 2, 1]
    assert all(d["status_code"] is None and d["error"] for d in log)


def test_redirects_are_not_followed(queue):
    with Receiver(302) as receiver:
        hook = _hook(receiver.url)
        webhooks.emit("message.created", {})
        assert drain(queue) == ["retrying"]
    assert len(receiver.requests) == 1
    assert webhooks.deliveries(hook["id"], None)["deliveries"][0]["status_code"] == 302


def test_a_deleted_webhooks_queued_deliveries_are_dropped(queue):
    with Receiver() as receiver:
        hook = _hook(receiver.url)
        webhooks.emit("message.created", {})
        webhooks.delete(hook["id"])
        assert drain(queue) == ["dropped"]
    assert receiver.requests == []


def test_a_malformed_job_is_dropped(queue):
    assert webhook_delivery.deliver("{not json") == "dropped"
    assert webhook_delivery.deliver(json.dumps({"webhook_id": "x"})) == "dropped"


def test_the_delivery_log_comes_newest_first_in_pages(queue, monkeypatch):
    monkeypatch.setattr(webhooks, "PAGE", 2)
    with Receiver() as receiver:
        hook = _hook(receiver.url)
        for n in range(3):
            webhooks.emit("message.created", {"n": n})
            drain(queue)
    first = webhooks.deliveries(hook["id"], None)
    assert len(first["deliveries"]) == 2 and first["next"]
    rest = webhooks.deliveries(hook["id"], first["next"])
    assert len(rest["deliveries"]) == 1 and rest["next"] is None
    seen = [d["ts"] for d in first["deliveries"] + rest["deliveries"]]
    assert seen == sorted(seen, reverse=True)
