"""Per-address limits: scripted anonymous callers can't mint, chat, queue or mail their way past them.

Every caller here talks to the app's real handlers with API Gateway-shaped events whose
`requestContext.identity.sourceIp` is the caller's address; each scripted caller takes a fresh
identity, as a script would, so per-identity limits alone would let them all through.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import app as charla
from functions.core import settings
from functions.core.principals import Principal
from functions.models import Chat, RateCounter
from functions.visitors import limits
from tests.support.actors import Socket, new_agent

REAL_RULES = dict(limits.RULES)  # before the aws fixture relaxes them for every other test
REAL_MAX_QUEUED = limits.MAX_QUEUED
SCRIPT = "198.51.100.7"  # the flood's address
CUSTOMER = "203.0.113.50"  # a real customer elsewhere
ORIGIN = "http://127.0.0.1:8000"


@pytest.fixture
def real_limits(aws, monkeypatch):
    monkeypatch.setattr(limits, "RULES", REAL_RULES)
    monkeypatch.setattr(limits, "MAX_QUEUED", REAL_MAX_QUEUED)


def rest(
    ip: str,
    method: str,
    path: str,
    body: Any = None,
    *,
    visitor: dict[str, str] | None = None,
    content_type: str = "application/json",
) -> tuple[int, Any]:
    """One REST call through the Chalice app, as API Gateway's proxy integration delivers it from `ip`."""
    headers = {"Origin": ORIGIN, "Content-Type": content_type}
    if visitor:
        headers["Authorization"] = f"Visitor {visitor['visitor_id']}:{visitor['secret']}"
    event = {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": path,
            "httpMethod": method,
            "stage": "api",
            "apiId": "abc123",
            "identity": {"sourceIp": ip, "userAgent": "script/1.0"},
        },
        "body": None if body is None else json.dumps(body),
        "isBase64Encoded": False,
    }
    response = charla.app(event, None)
    text = response.get("body") or ""
    return response["statusCode"], json.loads(text) if text else None


def mint(ip: str) -> tuple[int, Any]:
    return rest(ip, "POST", "/visitor/identity")


def first_page_view(ip: str, pv: str = "pv1") -> tuple[int, Any]:
    return rest(ip, "POST", "/visitor/pageview", {"pv": pv, "url": "https://shop.example/"}, content_type="text/plain")


def visitor_at(ip: str) -> Socket:
    """A scripted visitor: a fresh identity over REST, then a socket, both from `ip`."""
    status, identity = mint(ip)
    assert status == 201, identity
    return Socket(Principal("visitor", identity["visitor_id"]), ip=ip)


def start(socket: Socket) -> dict[str, Any]:
    """The start_chat answer: the chat, or the error frame."""
    frames = [f for f in socket.send({"action": "start_chat"}) if f["type"] in ("chat", "error")]
    assert frames, socket.frames()
    return frames[-1]


def test_new_identities_are_limited_per_address_whether_minted_or_by_page_view(real_limits):
    rule = limits.RULES["identity"]
    answers = [mint(SCRIPT) if n % 2 else first_page_view(SCRIPT, f"pv{n}") for n in range(rule.limit)]
    assert {status for status, _ in answers} == {200, 201}
    assert len({a["visitor_id"] for _, a in answers}) == rule.limit

    status, refused = mint(SCRIPT)
    assert (status, refused["Code"]) == (429, "rate_limited")
    status, refused = first_page_view(SCRIPT, "pvx")
    assert (status, refused["Code"]) == (429, "rate_limited")

    # Another address, and a visitor who already has an identity, are not held back.
    assert mint(CUSTOMER)[0] == 201
    known = answers[0][1]
    status, _ = rest(
        SCRIPT,
        "POST",
        "/visitor/pageview",
        {"pv": "pv9", "visitor_id": known["visitor_id"], "secret": known["secret"]},
        content_type="text/plain",
    )
    assert status == 200


def test_an_ipv6_network_counts_as_one_address(real_limits):
    rule = limits.RULES["identity"]
    for n in range(rule.limit):
        assert mint(f"2001:db8:1:2::{n + 1:x}")[0] == 201  # one /64, many addresses
    assert mint("2001:db8:1:2:ffff::1")[0] == 429
    assert mint("2001:db8:1:3::1")[0] == 201  # the next /64 is someone else


def test_the_offline_form_is_limited_per_address_across_fresh_identities(real_limits):
    rule = limits.RULES["offline_form"]
    form = {"fields": {"name": "Spam", "email": "victim@target.example", "message": "Buy now"}}
    sent = 0
    while sent < rule.limit:
        status, identity = mint(SCRIPT)
        assert status == 201
        for _ in range(2):  # well under the per-visitor limit: only the address can stop them
            if sent < rule.limit:
                status, ticket = rest(SCRIPT, "POST", "/visitor/offline", form, visitor=identity)
                assert status == 201, ticket
                sent += 1
    fresh = mint(SCRIPT)[1]
    status, refused = rest(SCRIPT, "POST", "/visitor/offline", form, visitor=fresh)
    assert (status, refused["Code"]) == (429, "rate_limited")

    customer = mint(CUSTOMER)[1]
    status, ticket = rest(
        CUSTOMER,
        "POST",
        "/visitor/offline",
        {"fields": {"name": "Carla", "email": "carla@example.com", "message": "Where is my order?"}},
        visitor=customer,
    )
    assert status == 201 and ticket["ref"]


def test_new_chats_are_limited_per_address_across_fresh_identities(real_limits):
    settings.save_settings({"max_chats_per_agent": 100})
    Socket(new_agent("Ana"))
    rule = limits.RULES["start_chat"]
    for _ in range(rule.limit):
        assert start(visitor_at(SCRIPT))["type"] == "chat"
    refused = start(visitor_at(SCRIPT))
    assert (refused["type"], refused["code"], refused["retriable"]) == ("error", "rate_limited", False)
    assert Chat.count() == rule.limit  # nothing half-written

    answer = start(visitor_at(CUSTOMER))
    assert answer["type"] == "chat" and answer["chat"]["status"] == "active"


def test_a_flood_from_one_address_holds_few_queue_places_and_a_customer_keeps_their_turn(real_limits):
    settings.save_settings({"max_chats_per_agent": 1})
    agent = Socket(new_agent("Ana"))
    flood = [visitor_at(SCRIPT) for _ in range(limits.MAX_QUEUED + 4)]
    answers = [start(v) for v in flood]
    assert [a["chat"]["status"] for a in answers[:1]] == ["active"]  # the agent's one slot
    assert [a["chat"]["status"] for a in answers[1 : limits.MAX_QUEUED + 1]] == ["queued"] * limits.MAX_QUEUED
    refused = answers[limits.MAX_QUEUED + 1 :]
    assert {(a["type"], a["code"]) for a in refused} == {("error", "queue_full")}

    customer = visitor_at(CUSTOMER)
    mine = start(customer)["chat"]
    assert mine["status"] == "queued"
    customer.clear()
    customer.send({"action": "hello"})
    assert customer.of_type("queue")[-1]["position"] == limits.MAX_QUEUED + 1

    # A place comes back once a chat from the address stops waiting: the cap is on waiting, not on ever.
    agent.send({"action": "close", "chat_id": answers[0]["chat"]["chat_id"]})  # the next in line is assigned
    assert start(flood[-1])["chat"]["status"] == "queued"
    assert start(visitor_at(SCRIPT))["code"] == "queue_full"


def test_counters_keep_no_address_and_expire(real_limits):
    mint(SCRIPT)
    [counter] = list(RateCounter.scan())  # a test may scan; the app never does
    assert SCRIPT not in counter.counter_key and counter.counter_key.startswith("identity#")
    assert counter.expires_at is not None
