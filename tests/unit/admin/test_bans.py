"""Bans: a banned visitor or address is refused at `$connect` and on REST, and cut off at once."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
import time_machine

import app as charla
from functions.admin import ban_enforcement, bans
from functions.core import instance_cache, settings
from functions.core.principals import Principal
from functions.models import Ban, Chat, Connection, Message
from functions.realtime import connect_tickets
from tests.conftest import ws_event
from tests.support.actors import Socket, new_agent, new_visitor, start_chat
from tests.support.admin import (
    add_user,
    body,
    call,
    login,
)


@pytest.fixture
def boss(pool, api) -> str:
    add_user(pool, "boss@example.com", "Boss", role="admin")
    return login(api, "boss@example.com")["id_token"]


def _identity(api) -> dict[str, str]:
    return body(call(api, "POST", "/visitor/identity"))


def _visitor_headers(identity: dict[str, str]) -> dict[str, str]:
    return {"authorization": f"Visitor {identity['visitor_id']}:{identity['secret']}"}


def _connect(principal: Principal, connection_id: str, ip: str = "203.0.113.9") -> int:
    event = ws_event("$connect", connection_id, ticket=str(connect_tickets.mint(principal)["ticket"]))
    event["requestContext"]["identity"]["sourceIp"] = ip
    return charla.ws_connect(event, None)["statusCode"]


def test_a_banned_visitor_is_cut_off_and_refused(api, boss, closed):
    identity = _identity(api)
    visitor = Principal("visitor", identity["visitor_id"], "Vic")
    Socket(new_agent("Ana"))
    tabs = [Socket(visitor), Socket(visitor)]
    chat_id = start_chat(tabs[0])["chat_id"]

    response = call(api, "POST", "/admin/bans", boss, {"visitor_id": visitor.id, "reason": "Spam", "hours": 24})
    assert response.status_code == 201, response.body
    ban = body(response)
    assert (ban["kind"], ban["target"], ban["reason"]) == ("visitor", visitor.id, "Spam")
    assert ban["created_by"]["name"] == "Boss"
    assert ban["expires_at"] and ban["ban_id"] == f"visitor#{visitor.id}"
    assert sorted(closed) == sorted(t.connection_id for t in tabs)
    assert Connection.count(tabs[0].connection_id) + Connection.count(tabs[1].connection_id) == 0
    chat = Chat.get(chat_id, consistent_read=True)
    assert chat.status == "closed"
    assert list(Message.query(chat_id))[-1].text == "The chat was closed."  # no reason shown to the visitor

    refused = call(api, "POST", "/visitor/ws-ticket", **_visitor_headers(identity))
    assert refused.status_code == 403 and "Spam" not in refused.body.decode()
    assert call(api, "GET", f"/visitor/chats/{chat_id}/messages", **_visitor_headers(identity)).status_code == 403
    assert _connect(visitor, "again=") == 403
    assert Connection.count("again=") == 0  # refused before anything is written

    assert [b["target"] for b in body(call(api, "GET", "/admin/bans", boss))["bans"]] == [visitor.id]
    assert call(api, "DELETE", f"/admin/bans/{ban['id']}", boss).status_code == 204
    assert call(api, "POST", "/visitor/ws-ticket", **_visitor_headers(identity)).status_code == 201
    assert _connect(visitor, "back=") == 200
    assert call(api, "DELETE", f"/admin/bans/{ban['id']}", boss).status_code == 404


def test_an_address_range_ban_closes_and_refuses_everyone_in_it(api, boss, closed):
    inside, outside = new_visitor(), new_visitor()
    assert _connect(inside, "in=", ip="203.0.113.77") == 200
    assert _connect(outside, "out=", ip="198.51.100.1") == 200
    response = call(api, "POST", "/admin/bans", boss, {"ip": "203.0.113.5/24", "reason": "Abuse"})
    assert response.status_code == 201 and body(response)["target"] == "203.0.113.0/24"
    assert closed == ["in="]
    assert _connect(new_visitor(), "new=", ip="203.0.113.200") == 403
    assert _connect(new_visitor(), "fine=", ip="198.51.100.2") == 200
    # Agents are never refused by address: the team may share an office with a spammer.
    assert _connect(new_agent(), "agent=", ip="203.0.113.8") == 200


def test_a_single_address_ban_with_truncated_stored_addresses(api, boss, closed):
    """Connections keep only the /24 by default (ip_mode truncate), so who is at .9 is uncertain."""
    agent = Socket(new_agent("Ana"))
    banned, neighbour = Principal("visitor", new_visitor().id), Principal("visitor", new_visitor().id)
    assert _connect(banned, "banned=", ip="203.0.113.9") == 200
    assert _connect(neighbour, "neighbour=", ip="203.0.113.50") == 200
    chats_before = len(agent.of_type("chat"))
    assert call(api, "POST", "/admin/bans", boss, {"ip": "203.0.113.9", "reason": "x"}).status_code == 201
    assert sorted(closed) == ["banned=", "neighbour="]  # both sockets close; nothing else happens
    assert len(agent.of_type("chat")) == chats_before
    assert _connect(banned, "banned2=", ip="203.0.113.9") == 403  # the reconnect meets the exact check
    assert _connect(neighbour, "neighbour2=", ip="203.0.113.50") == 200


def test_a_single_address_ban_with_full_stored_addresses(api, boss, closed):
    settings.save_settings({"ip_mode": "full"})
    assert _connect(new_visitor(), "banned=", ip="203.0.113.9") == 200
    assert _connect(new_visitor(), "neighbour=", ip="203.0.113.50") == 200
    assert call(api, "POST", "/admin/bans", boss, {"ip": "203.0.113.9", "reason": "x"}).status_code == 201
    assert closed == ["banned="]


def test_a_banned_address_gets_no_identity_and_no_widget(api, boss):
    identity = _identity(api)
    call(api, "POST", "/admin/bans", boss, {"ip": "127.0.0.1", "reason": "Local abuse"})  # chalice's test client
    assert call(api, "POST", "/visitor/identity").status_code == 403
    assert call(api, "GET", "/widget/settings").status_code == 403
    assert call(api, "POST", "/visitor/ws-ticket", **_visitor_headers(identity)).status_code == 403
    assert call(api, "GET", "/agent/me", boss).status_code == 200


def test_an_expired_ban_no_longer_refuses(api, boss):
    visitor = new_visitor()
    call(api, "POST", "/admin/bans", boss, {"visitor_id": visitor.id, "reason": "Cool off", "hours": 1})
    assert _connect(visitor, "now=") == 403
    with time_machine.travel(timedelta(hours=1, minutes=1)):
        assert _connect(visitor, "later=") == 200  # TTL deletes lazily; the read checks expiry itself
        assert body(call(api, "GET", "/admin/bans", boss))["bans"] == []


def test_a_ban_request_is_validated(api, boss):
    visitor = new_visitor()
    cases = [
        ({"reason": "x"}, 400),
        ({"visitor_id": visitor.id, "ip": "10.0.0.1", "reason": "x"}, 400),
        ({"ip": "not-an-ip", "reason": "x"}, 400),
        ({"ip": "0.0.0.0/0", "reason": "x"}, 400),
        ({"ip": "2001:db8::/8", "reason": "x"}, 400),
        ({"visitor_id": visitor.id}, 400),
        ({"visitor_id": visitor.id, "reason": "x" * 501}, 400),
        ({"visitor_id": visitor.id, "reason": "x", "hours": 0}, 400),
        ({"visitor_id": visitor.id, "reason": "x", "hours": True}, 400),
        ({"visitor_id": visitor.id, "reason": "x", "hours": 24 * 366}, 400),
        ({"visitor_id": "../etc", "reason": "x"}, 400),
        ({"visitor_id": "v_nobody", "reason": "x"}, 404),
    ]
    for payload, status in cases:
        assert call(api, "POST", "/admin/bans", boss, payload).status_code == status, payload
    assert call(api, "DELETE", "/admin/bans/not-base64!", boss).status_code == 404
    assert list(Ban.query("ban")) == []


def test_an_agent_in_the_chat_bans_its_visitor(api, pool, boss, closed):
    ana_id = add_user(pool, "ana@example.com", "Ana")
    ana = Principal("agent", ana_id, "Ana", "agent")
    Socket(ana)
    visitor_socket = Socket(new_visitor("Vic"))
    chat_id = start_chat(visitor_socket)["chat_id"]
    add_user(pool, "bob@example.com", "Bob", accepting=False)
    bob_token = login(api, "bob@example.com")["id_token"]
    ana_token = login(api, "ana@example.com")["id_token"]

    payload = {"reason": "Insults", "hours": 2}
    assert call(api, "POST", f"/agent/chats/{chat_id}/ban", bob_token, payload).status_code == 404  # not Bob's chat
    assert call(api, "POST", f"/agent/chats/{chat_id}/ban", ana_token, {"hours": 2}).status_code == 400
    response = call(api, "POST", f"/agent/chats/{chat_id}/ban", ana_token, payload)
    assert response.status_code == 201
    ban = body(response)
    assert (ban["chat_id"], ban["created_by"]["id"], ban["target"]) == (chat_id, ana_id, visitor_socket.principal.id)
    assert closed == [visitor_socket.connection_id]
    assert Chat.get(chat_id, consistent_read=True).status == "closed"
    # An admin may ban from any chat, even one they are not in.
    assert call(api, "POST", f"/agent/chats/{chat_id}/ban", boss, payload).status_code == 201


def test_the_address_list_is_cached_and_dropped_when_it_changes(aws, monkeypatch):
    admin = new_agent("Boss", role="admin")
    bans.add(admin, "ip", "192.0.2.0/24", "x", None)
    assert bans.refusal(None, "192.0.2.1") is not None
    calls: list[str] = []
    original = Ban.query
    monkeypatch.setattr(Ban, "query", classmethod(lambda cls, *a, **k: calls.append("q") or original(*a, **k)))
    for _ in range(20):
        bans.check(None, "198.51.100.1")
    assert calls == []  # no Query per check
    bans.add(admin, "ip", "198.51.100.0/24", "x", None)
    assert bans.refusal(None, "198.51.100.1") is not None and calls == ["q"]
    later = time.monotonic() + instance_cache.SECONDS + 1
    monkeypatch.setattr(instance_cache.time, "monotonic", lambda: later)
    bans.check(None, "203.0.113.1")
    assert calls == ["q", "q"]  # at most a minute old


def test_a_visitor_ban_is_seen_at_once_by_every_instance(aws):
    visitor = new_visitor()
    assert bans.refusal(visitor.id, "203.0.113.9") is None  # this instance now caches an empty list
    # Another Lambda (the admin's REST call) bans: this instance's cache knows nothing of it.
    Ban(
        "ban",
        f"visitor#{visitor.id}",
        kind="visitor",
        target=visitor.id,
        reason="x",
        created_by="a",
        created_at="2024-01-01T00:00:00.000Z",
    ).save()
    assert bans.refusal(visitor.id, "203.0.113.9") is not None
    assert _connect(visitor, "c=") == 403


def test_the_sweep_closes_sockets_opened_from_a_range_before_every_instance_knew(aws, closed):
    assert ban_enforcement.sweep_address_bans() == 0  # no range bans: nothing read
    inside = new_visitor()
    assert _connect(inside, "in=", ip="203.0.113.77") == 200
    assert _connect(new_visitor(), "out=", ip="198.51.100.1") == 200
    Ban(
        "ban",
        "ip#203.0.113.0/24",
        kind="ip",
        target="203.0.113.0/24",
        reason="x",
        created_by="a",
        created_at="2024-01-01T00:00:00.000Z",
    ).save()  # written by another instance, not enforced here
    bans.forget()
    assert ban_enforcement.sweep_address_bans() == 1
    assert closed == ["in="]


def test_ipv6_and_garbage_addresses(aws):
    admin = new_agent("Boss", role="admin")
    bans.add(admin, "ip", bans.parse_network("2001:db8::/32"), "x", None)
    assert bans.refusal(None, "2001:db8::1") is not None
    assert bans.refusal(None, "2001:db9::1") is None
    assert bans.refusal(None, "10.0.0.1") is None
    assert bans.refusal(None, "garbage") is None and bans.refusal(None, None) is None
    assert json.dumps(bans.list_view())
