"""Stale privileges and revocation windows: what an old token or an old connect ticket still opens.

REST calls go through the Chalice app with real tokens from moto's Cognito; sockets through the
app's `$connect` and `$default` handlers. Token times are whole seconds, so the windows are set up
with the clock stopped inside one second (time_machine moves moto's clock with ours).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

import app as charla
from functions.core.principals import Principal
from functions.models import Chat, Connection
from functions.realtime import connections
from functions.team import agents, revocation
from tests.conftest import ws_event
from tests.support.actors import Socket, new_visitor, start_chat
from tests.support.admin import add_user, body, call, login


@pytest.fixture
def boss(pool, api):
    """An admin, signed in: (agent id, id token)."""
    agent_id = add_user(pool, "boss@example.com", "Boss", role="admin")
    return agent_id, login(api, "boss@example.com")["id_token"]


def _a_second_ahead() -> datetime:
    """The start of a whole second a little ahead, so a stopped clock can sit inside it."""
    return datetime.fromtimestamp(int(time.time()) + 2, UTC)


def _connect(ticket: str, connection_id: str) -> int:
    return charla.ws_connect(ws_event("$connect", connection_id, ticket=ticket), None)["statusCode"]


def _ws_ticket(api, token: str) -> str:
    response = call(api, "POST", "/agent/ws-ticket", token)
    assert response.status_code == 201, response.body
    return str(body(response)["ticket"])


# --- ID tokens from the revoking second ----------------------------------------------------------


def test_a_token_from_earlier_in_the_second_of_signing_out_everywhere_is_refused(api, pool):
    add_user(pool, "ana@example.com")
    second = _a_second_ahead()
    with time_machine.travel(second + timedelta(milliseconds=100), tick=False) as traveller:
        stolen, laptop = login(api, "ana@example.com")["id_token"], login(api, "ana@example.com")["id_token"]
        traveller.move_to(second + timedelta(milliseconds=800))  # the same second, a moment later
        assert call(api, "POST", "/agent/me/signout-all", laptop).status_code == 204
        assert call(api, "GET", "/agent/me", stolen).status_code == 401
        assert call(api, "GET", "/agent/chats", stolen).status_code == 401
        traveller.move_to(second + timedelta(seconds=3))
        assert call(api, "GET", "/agent/me", stolen).status_code == 401  # and it stays refused
        assert call(api, "GET", "/agent/me", login(api, "ana@example.com")["id_token"]).status_code == 200


def test_a_token_from_the_second_of_a_disable_stays_refused_after_re_enabling(api, pool, boss):
    ana = add_user(pool, "ana@example.com")
    second = _a_second_ahead()
    with time_machine.travel(second + timedelta(milliseconds=100), tick=False) as traveller:
        old = login(api, "ana@example.com")["id_token"]
        traveller.move_to(second + timedelta(milliseconds=500))
        assert call(api, "PATCH", f"/admin/agents/{ana}", boss[1], {"disabled": True}).status_code == 200
        assert call(api, "GET", "/agent/me", old).status_code == 401
        traveller.move_to(second + timedelta(milliseconds=900))
        response = call(api, "PATCH", f"/admin/agents/{ana}", boss[1], {"disabled": False})
        assert response.status_code == 200 and body(response)["status"] == "active"
        assert call(api, "GET", "/agent/me", old).status_code == 401
        traveller.move_to(second + timedelta(seconds=5))
        assert call(api, "GET", "/agent/me", old).status_code == 401
        assert call(api, "GET", "/agent/me", login(api, "ana@example.com")["id_token"]).status_code == 200


def test_a_sign_in_right_after_signing_out_everywhere_works(api, pool):
    """The revoking second is refused as a whole, so the call answers only once it is over."""
    add_user(pool, "ana@example.com")
    token = login(api, "ana@example.com")["id_token"]
    assert call(api, "POST", "/agent/me/signout-all", token).status_code == 204
    fresh = login(api, "ana@example.com")["id_token"]
    assert call(api, "GET", "/agent/me", fresh).status_code == 200
    assert call(api, "GET", "/agent/me", token).status_code == 401


# --- connect tickets minted before a revocation or a role change -----------------------------------


def test_a_connect_ticket_minted_before_signing_out_everywhere_opens_no_socket(api, pool):
    ana = add_user(pool, "ana@example.com")
    token = login(api, "ana@example.com")["id_token"]
    ticket = _ws_ticket(api, token)
    assert call(api, "POST", "/agent/me/signout-all", token).status_code == 204
    assert _connect(ticket, "before-signout=") == 401
    assert Connection.count("before-signout=") == 0 and agents.get(ana).online_conns == 0
    fresh = login(api, "ana@example.com")["id_token"]
    assert _connect(_ws_ticket(api, fresh), "after-signout=") == 200


def test_a_connect_ticket_minted_before_a_disable_opens_no_socket_after_re_enabling(api, pool, boss):
    ana = add_user(pool, "ana@example.com")
    ticket = _ws_ticket(api, login(api, "ana@example.com")["id_token"])
    call(api, "PATCH", f"/admin/agents/{ana}", boss[1], {"disabled": True})
    assert call(api, "PATCH", f"/admin/agents/{ana}", boss[1], {"disabled": False}).status_code == 200
    assert _connect(ticket, "before-disable=") == 401
    assert Connection.count("before-disable=") == 0 and agents.get(ana).online_conns == 0


def test_a_connect_ticket_minted_as_an_admin_opens_no_socket_after_a_demotion(api, pool, boss):
    second = add_user(pool, "second@example.com", "Second", role="admin")
    token = login(api, "second@example.com")["id_token"]
    ticket = _ws_ticket(api, token)
    assert call(api, "PATCH", f"/admin/agents/{second}", boss[1], {"role": "agent"}).status_code == 200
    assert _connect(ticket, "before-demotion=") == 401
    # The same old token mints a ticket for what the agent is now.
    assert _connect(_ws_ticket(api, token), "after-demotion=") == 200
    assert Connection.get("after-demotion=").role == "agent"


def test_a_revocation_landing_during_connect_refuses_the_socket(api, pool, monkeypatch):
    """Sign-out everywhere lands after `$connect` checked the ticket and before it counted the socket."""
    ana = add_user(pool, "ana@example.com")
    token = login(api, "ana@example.com")["id_token"]
    ticket = _ws_ticket(api, token)
    register = connections.register

    def register_then_revoke(*args, **kwargs):
        row = register(*args, **kwargs)
        revocation.revoke_agent(ana)
        return row

    monkeypatch.setattr(connections, "register", register_then_revoke)
    assert _connect(ticket, "racing=") == 401
    assert Connection.count("racing=") == 0 and agents.get(ana).online_conns == 0


# --- a demotion ------------------------------------------------------------------------------------


def test_a_demotion_closes_the_sockets_opened_as_an_admin(api, pool, boss, closed):
    second = add_user(pool, "second@example.com", "Second", role="admin")
    socket = Socket(Principal("agent", second, "Second", "admin"))
    assert socket.status == 200 and Connection.get(socket.connection_id).role == "admin"
    assert call(api, "PATCH", f"/admin/agents/{second}", boss[1], {"role": "agent"}).status_code == 200
    assert closed == [socket.connection_id]
    assert Connection.count(socket.connection_id) == 0 and agents.get(second).online_conns == 0


def test_a_socket_the_demotion_missed_cannot_close_other_agents_chats(api, pool, boss, monkeypatch):
    """The index of connections is eventually consistent: a socket may escape the demotion's sweep."""
    ana = add_user(pool, "ana@example.com", "Ana")
    Socket(Principal("agent", ana, "Ana", "agent"))
    chat_id = start_chat(Socket(new_visitor("Vic")))["chat_id"]
    second = add_user(pool, "second@example.com", "Second", role="admin", accepting=False)
    socket = Socket(Principal("agent", second, "Second", "admin"))
    monkeypatch.setattr(connections, "connection_ids", lambda principal: [])  # the index hasn't caught up
    assert call(api, "PATCH", f"/admin/agents/{second}", boss[1], {"role": "agent"}).status_code == 200

    frames = socket.send({"action": "close", "chat_id": chat_id})
    assert [f["code"] for f in frames if f["type"] == "error"] == ["not_found"], frames
    assert Chat.get(chat_id, consistent_read=True).status == "active"


def test_a_promotion_takes_effect_on_the_next_request(api, pool, boss):
    ana = add_user(pool, "ana@example.com")
    token = login(api, "ana@example.com")["id_token"]
    assert call(api, "GET", "/admin/settings", token).status_code == 403
    assert call(api, "PATCH", f"/admin/agents/{ana}", boss[1], {"role": "admin"}).status_code == 200
    assert call(api, "GET", "/admin/settings", token).status_code == 200  # the token's groups say agent


def test_a_demoted_admins_old_token_has_no_admin_reach_on_agent_routes(api, pool, boss):
    ana = add_user(pool, "ana@example.com", "Ana")
    Socket(Principal("agent", ana, "Ana", "agent"))
    chat_id = start_chat(Socket(new_visitor("Vic")))["chat_id"]
    second = add_user(pool, "second@example.com", "Second", role="admin", accepting=False)
    token = login(api, "second@example.com")["id_token"]
    shared = {"text": "Our hours are 9 to 5.", "shared": True}
    report = f"/agent/reports?from=2026-11-01&to=2026-11-02&agent={ana}"
    assert call(api, "PUT", "/agent/canned/hours", token, shared).status_code == 200  # control, as an admin
    assert call(api, "GET", report, token).status_code == 200
    assert call(api, "PATCH", f"/admin/agents/{second}", boss[1], {"role": "agent"}).status_code == 200

    assert call(api, "PUT", "/agent/offline-form", token, {"fields": []}).status_code == 403
    assert call(api, "PUT", "/agent/canned/hours", token, shared).status_code == 403
    assert call(api, "DELETE", "/agent/canned/hours?shared=true", token).status_code == 403
    assert call(api, "GET", report, token).status_code == 403
    assert call(api, "POST", f"/agent/chats/{chat_id}/ban", token, {"reason": "spam"}).status_code == 404
    assert call(api, "GET", "/agent/me", token).status_code == 200  # still an agent
    assert body(call(api, "GET", "/agent/me", token))["role"] == "agent"
