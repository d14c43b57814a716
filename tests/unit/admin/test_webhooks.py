"""Webhooks: registration, emitting through SQS, signed delivery, and retries with backoff via the queue.

Nothing here connects off this machine: `network` (on for every test) answers name lookups from a
table and refuses, and records, any connection to an address other than loopback. Receivers listen
on 127.0.0.1, which a deployment allows only with the local stack's setting (`local`).
"""

from __future__ import annotations

import ipaddress
import json
import socket
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import time_machine

import app as charla
from functions.admin import outbound, webhook_delivery, webhooks
from functions.core import aws as charla_aws
from functions.core.principals import Principal
from functions.models import WEBHOOK, Webhook, WebhookDelivery
from infra.local import queues
from tests.support.admin import Receiver, add_user, body, call, certificates, login, signature_ok, status

ADMIN = Principal("agent", "boss", "Boss", "admin")


class Network:
    """Name lookups answered from `answers` (a name's successive answers; the last one repeats),
    and a guard that refuses a connection to any address but loopback, recording the attempt."""

    def __init__(self) -> None:
        self.answers: dict[str, list[list[str]]] = {}
        self.lookups: list[str] = []
        self.off_machine: list[Any] = []


@pytest.fixture(autouse=True)
def network(monkeypatch) -> Network:
    net = Network()
    real_lookup, real_connect, real_connect_ex = socket.getaddrinfo, socket.socket.connect, socket.socket.connect_ex

    def getaddrinfo(host: Any, port: Any, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        try:
            ipaddress.ip_address(name.split("%")[0])
            return real_lookup(host, port, family, type, proto, flags | socket.AI_NUMERICHOST)
        except ValueError:
            pass
        net.lookups.append(name)
        if name not in net.answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        answers = net.answers[name]
        addresses = answers.pop(0) if len(answers) > 1 else answers[0]
        number = int(port or 0)
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (a, number, 0, 0))
            if ":" in a
            else (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (a, number))
            for a in addresses
        ]

    def off_machine(sock: socket.socket, address: Any) -> bool:
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            return False
        if ipaddress.ip_address(str(address[0]).split("%")[0]).is_loopback:
            return False
        net.off_machine.append(address)
        return True

    def connect(sock: socket.socket, address: Any) -> None:
        if off_machine(sock, address):
            raise ConnectionRefusedError("the tests never leave this machine")
        real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> int:
        return 111 if off_machine(sock, address) else real_connect_ex(sock, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    return net


@pytest.fixture
def local(monkeypatch) -> None:
    """The local stack's setting: receivers on this machine are allowed."""
    monkeypatch.setenv(outbound.LOOPBACK_SETTING, "1")


@pytest.fixture
def aws_deployment(monkeypatch) -> None:
    monkeypatch.delenv(outbound.LOOPBACK_SETTING, raising=False)


@pytest.fixture
def tls(tmp_path: Path, monkeypatch) -> Iterator[Any]:
    """An https receiver on 127.0.0.1 whose certificate is valid for hooks.test only, trusted here."""
    ca_file, context = certificates(tmp_path, "hooks.test")
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))

    def receiver(*statuses: int) -> Receiver:
        return Receiver(*statuses, tls=context)

    yield receiver


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
    outcomes = charla.drain_job_queue(
        queues.sqs_event(messages, "arn:aws:sqs:us-east-1:123456789012:q", "us-east-1"), None
    )["webhooks"]
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


def test_a_registration_is_validated(api, boss, local):
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


def test_a_delivery_is_signed_and_logged(api, boss, queue, local):
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
        200,
        "delivered",
        1,
        "chat.ended",
    )
    assert logged["delivery_id"] == headers["x-charla-delivery"]


def test_a_failure_is_retried_through_the_queue_after_a_delay(api, boss, queue, local):
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
    assert [(d["attempt"], d["status_code"], d["outcome"]) for d in log] == [
        (2, 200, "delivered"),
        (1, 500, "retrying"),
    ]


def test_a_drain_delivers_at_most_its_share_and_puts_the_rest_back_untried(api, boss, queue, local, monkeypatch):
    """The job queue's batches are large (they are shaped for the agents' notices): a drain must end
    within the function's timeout however many deliveries wait."""
    monkeypatch.setattr(webhook_delivery, "PER_DRAIN", 3)
    with Receiver() as receiver:
        call(api, "POST", "/admin/webhooks", boss, {"url": receiver.url, "events": ["message.created"]})
        for n in range(5):
            webhooks.emit("message.created", {"n": n})
        assert sorted(drain(queue)) == ["deferred"] * 2 + ["delivered"] * 3
        assert len(receiver.requests) == 3
        assert drain(queue) == ["delivered"] * 2  # first attempts still: putting back is not a retry
    attempts = [headers["x-charla-attempt"] for headers, _ in receiver.requests]
    deliveries = {headers["x-charla-delivery"] for headers, _ in receiver.requests}
    assert attempts == ["1"] * 5 and len(deliveries) == 5


def test_the_backoff_grows_and_only_tests_shorten_it(monkeypatch):
    assert [webhook_delivery.delay_before(n) for n in range(2, 6)] == [10, 60, 300, 900]
    monkeypatch.setenv(webhook_delivery.SCALE_VARIABLE, "0.01")
    assert [webhook_delivery.delay_before(n) for n in range(2, 6)] == [0, 1, 3, 9]
    monkeypatch.setenv(webhook_delivery.SCALE_VARIABLE, "50")
    assert webhook_delivery.delay_before(2) == 10
    monkeypatch.setenv(webhook_delivery.SCALE_VARIABLE, "fast")
    assert webhook_delivery.delay_before(2) == 10


def test_it_gives_up_after_five_attempts(queue, monkeypatch, local):
    monkeypatch.setenv(webhook_delivery.SCALE_VARIABLE, "0")
    with Receiver() as gone:
        url = gone.url  # nothing listens there once the receiver is closed
    hook = _hook(url)
    webhooks.emit("message.created", {})
    outcomes = [o for _ in range(6) for o in drain(queue)]
    assert outcomes == ["retrying"] * 4 + ["gave_up"]
    log = webhooks.deliveries(hook["id"], None)["deliveries"]
    assert [d["attempt"] for d in log] == [5, 4, 3, 2, 1]
    assert all(d["status_code"] is None and d["error"] == "connect_failed" for d in log)


def test_redirects_are_not_followed(queue, local):
    with Receiver(302) as receiver:
        hook = _hook(receiver.url)
        webhooks.emit("message.created", {})
        assert drain(queue) == ["retrying"]
    assert len(receiver.requests) == 1
    [logged] = webhooks.deliveries(hook["id"], None)["deliveries"]
    assert (logged["status_code"], logged["error"]) == (302, "http_status")


def test_a_deleted_webhooks_queued_deliveries_are_dropped(queue, local):
    with Receiver() as receiver:
        hook = _hook(receiver.url)
        webhooks.emit("message.created", {})
        webhooks.delete(hook["id"])
        assert drain(queue) == ["dropped"]
    assert receiver.requests == []


def test_a_malformed_job_is_dropped(queue):
    assert webhook_delivery.deliver("{not json") == "dropped"
    assert webhook_delivery.deliver(json.dumps({"webhook_id": "x"})) == "dropped"


def test_the_delivery_log_comes_newest_first_in_pages(queue, monkeypatch, local):
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


# --- where a webhook may point (server-side request forgery) -------------------------------------------

INTERNAL_URLS = [
    "https://169.254.169.254/latest/meta-data/iam/security-credentials/",  # the instance metadata service
    "https://10.0.0.1/",
    "https://172.16.5.4/",
    "https://192.168.1.1/",
    "https://100.64.0.1/",
    "https://127.0.0.1/",
    "https://127.0.0.1./",
    "https://0.0.0.0/",
    "https://224.0.0.1/",
    "https://240.0.0.1/",
    "https://255.255.255.255/",
    "https://192.0.2.1/",
    "https://[::1]/",
    "https://[fd00::1]/",
    "https://[fe80::1]/",
    "https://[fe80::1%25eth0]/",
    "https://[ff02::1]/",
    "https://[::]/",
    "https://[fec0::1]/",
    # IPv4 inside IPv6: mapped (two spellings), NAT64, 6to4
    "https://[::ffff:127.0.0.1]/",
    "https://[::ffff:a9fe:a9fe]/",
    "https://[::ffff:8.8.8.8]/",
    "https://[64:ff9b::a9fe:a9fe]/",
    "https://[2002:a9fe:a9fe::]/",
    # 169.254.169.254 and 127.0.0.1 as resolvers also read them: decimal, hex, octal, short forms
    "https://2852039166/",
    "https://0xa9fea9fe/",
    "https://0251.0376.0251.0376/",
    "https://169.254.43518/",
    "https://0xA9.0xFE.0xA9.0xFE/",
    "https://0x7f.1/",
    "https://127.1/",
    "https://017700000001/",
    "https://１２７.０.０.１/",  # full-width digits: IDNA maps them to 127.0.0.1
    "https://0x08080808/",  # public (8.8.8.8), but only dotted decimal is accepted
    "https://localhost/",
    "https://LOCALHOST:443/",
    "https://hooks.localhost/",
    # plain http, credentials, ports
    "http://hooks.example/x",
    "http://127.0.0.1:8080/hook",
    "http://localhost/hook",
    "http://[::1]:9000/",
    "https://user:pass@hooks.example/x",
    "https://user@hooks.example/x",
    "https://hooks.example:8080/x",
    "https://hooks.example:22/",
    "https://8.8.8.8:25/",
    "ftp://hooks.example/x",
]


def test_an_admin_cannot_register_an_internal_or_plain_url(api, boss, aws_deployment):
    for url in INTERNAL_URLS:
        response = call(api, "POST", "/admin/webhooks", boss, {"url": url, "events": ["chat.ended"]})
        assert response.status_code == 400, url
        assert body(response)["Code"] == "url_not_allowed" and "`url`" in body(response)["Message"], url
    assert body(call(api, "GET", "/admin/webhooks", boss))["webhooks"] == []


def test_public_https_urls_are_registered_and_malformed_hosts_are_bad_requests(api, boss, aws_deployment):
    for url in (
        "https://hooks.example/x?a=1",
        "https://hooks.example:8443/x",
        "https://8.8.8.8/x",
        "https://[2606:4700:4700::1111]/x",
        "https://bücher.example/x",
        "HTTPS://Hooks.Example/x",
    ):
        assert status(api, "POST", "/admin/webhooks", boss, {"url": url, "events": ["chat.ended"]}) == 201, url
    for url in (
        "https://1.2.3.999/",
        "https://0x7g.1/",
        "https://1.2.3.4.5/",
        "https://%31%32%37.0.0.1/",
        "https://hooks..example/",
        "https://hooks.example:0/",
        "https://hooks.example/ä",
    ):
        response = call(api, "POST", "/admin/webhooks", boss, {"url": url, "events": ["chat.ended"]})
        assert (response.status_code, body(response)["Code"]) == (400, "bad_request"), url
    assert not [row for row in body(call(api, "GET", "/admin/webhooks", boss))["webhooks"] if "1.2.3" in row["url"]]


def test_receivers_on_this_machine_need_the_deployments_setting(api, boss, monkeypatch):
    urls = ("http://127.0.0.1:8080/hook", "http://localhost:8080/hook", "http://[::1]:9000/", "https://127.0.0.1:9/")
    monkeypatch.delenv(outbound.LOOPBACK_SETTING, raising=False)
    for url in urls:
        assert status(api, "POST", "/admin/webhooks", boss, {"url": url, "events": ["chat.ended"]}) == 400, url
    monkeypatch.setenv(outbound.LOOPBACK_SETTING, "1")  # what the local stack sets
    for url in urls:
        assert status(api, "POST", "/admin/webhooks", boss, {"url": url, "events": ["chat.ended"]}) == 201, url
    # Even then: loopback only, never another internal address, and never IPv4 dressed as IPv6.
    for url in ("http://10.0.0.1:8080/", "https://169.254.169.254/", "http://[::ffff:127.0.0.1]:8080/"):
        assert status(api, "POST", "/admin/webhooks", boss, {"url": url, "events": ["chat.ended"]}) == 400, url


def _delivered_to(hook_id: str, queue: str) -> dict[str, Any]:
    webhooks.emit("message.created", {"text": "secret"})
    drain(queue)
    [logged] = webhooks.deliveries(hook_id, None)["deliveries"]
    return logged


def test_a_name_resolving_to_an_internal_address_is_refused_at_delivery(network, queue, aws_deployment):
    answers = [["169.254.169.254"], ["10.0.0.1"], ["fd00::1"], ["::ffff:10.0.0.1"], ["127.0.0.1"], ["0.0.0.0"]]
    for n, answer in enumerate(answers):
        network.answers[f"hooks{n}.attacker.example"] = [answer]
        hook = _hook(f"https://hooks{n}.attacker.example/collect")  # a name: its addresses are checked at delivery
        logged = _delivered_to(hook["id"], queue)
        assert (logged["outcome"], logged["status_code"], logged["error"]) == ("retrying", None, "refused_address")
        webhooks.delete(hook["id"])
    assert network.off_machine == []


def test_one_internal_address_in_the_answer_refuses_the_delivery(network, queue, local, tls):
    with tls() as receiver:
        network.answers["hooks.test"] = [["127.0.0.1", "10.0.0.1"]]
        hook = _hook(f"https://hooks.test:{receiver.port}/hook")
        logged = _delivered_to(hook["id"], queue)
    assert logged["error"] == "refused_address"
    assert receiver.requests == [] and network.off_machine == []


def test_a_delivery_connects_to_the_address_it_checked_with_the_name_for_tls(network, queue, local, tls):
    """DNS rebinding: the name answers an allowed address once, then an internal one. One lookup, one
    check, and the connection goes to the checked address; TLS still names (and verifies) the host."""
    with tls() as receiver:
        network.answers["hooks.test"] = [["127.0.0.1"], ["10.0.0.1"]]
        hook = _hook(f"https://hooks.test:{receiver.port}/hook?from=charla")
        logged = _delivered_to(hook["id"], queue)
    assert (logged["outcome"], logged["status_code"], logged["error"]) == ("delivered", 200, None)
    assert network.off_machine == [] and network.lookups == ["hooks.test"]
    [(headers, _)] = receiver.requests
    assert receiver.server_names == ["hooks.test"] and headers["host"] == f"hooks.test:{receiver.port}"


def test_the_certificate_must_be_valid_for_the_urls_host(network, queue, local, tls):
    with tls() as receiver:
        network.answers["other.test"] = [["127.0.0.1"]]  # the right address, the wrong certificate
        for url in (f"https://other.test:{receiver.port}/hook", f"https://127.0.0.1:{receiver.port}/hook"):
            hook = _hook(url)
            logged = _delivered_to(hook["id"], queue)
            assert (logged["status_code"], logged["error"]) == (None, "tls_error"), url
            webhooks.delete(hook["id"])
    assert receiver.requests == []


def test_the_delivery_log_gives_a_category_never_the_error_text(network, queue, local, monkeypatch):
    monkeypatch.setattr(webhook_delivery, "TIMEOUT_S", 0.3)
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # accepts the connection (the kernel does) and never answers
    with Receiver() as gone:
        closed = gone.url  # nothing listens there once the receiver is closed
    try:
        with Receiver(500) as failing:
            cases = {
                "https://nowhere.test/hook": "dns_failure",
                closed: "connect_failed",
                f"http://127.0.0.1:{silent.getsockname()[1]}/hook": "timeout",
                failing.url: "http_status",
            }
            for url, category in cases.items():
                hook = _hook(url)
                logged = _delivered_to(hook["id"], queue)
                assert (logged["outcome"], logged["error"]) == ("retrying", category), url
                webhooks.delete(hook["id"])
    finally:
        silent.close()
    assert network.off_machine == []


def test_a_webhook_stored_before_the_rule_is_refused_at_delivery(network, queue, aws_deployment):
    for n, url in enumerate(
        ("https://169.254.169.254/latest/meta-data/", "http://10.0.0.1:8080/", "https://0x7f000001:8443/")
    ):
        Webhook(
            WEBHOOK,
            f"wh_old{n}",
            url=url,
            events={"message.created"},
            secret="whsec_x",
            created_at="2020-01-01",
            created_by="boss",
            active=True,
        ).save()
        webhooks.forget()
        logged = _delivered_to(f"wh_old{n}", queue)
        assert (logged["status_code"], logged["error"]) == (None, "refused_address"), url
        webhooks.delete(f"wh_old{n}")
    assert network.off_machine == []


def test_log_rows_with_raw_error_text_read_as_categories(queue, local):
    hook = _hook("https://hooks.example/x")
    for n, (code, error) in enumerate([(None, "[Errno 111] Connection refused"), (503, "HTTP 503")]):
        WebhookDelivery(
            hook["id"],
            f"2020-01-01T00:00:0{n}Z#dlv#1#ab",
            delivery_id="dlv",
            event="message.created",
            attempt=1,
            status_code=code,
            outcome="retrying",
            error=error,
            ts=f"2020-01-01T00:00:0{n}Z",
            expires_at=timedelta(days=1),
        ).save()
    log = webhooks.deliveries(hook["id"], None)["deliveries"]
    assert [d["error"] for d in log] == ["http_status", "connect_failed"]
