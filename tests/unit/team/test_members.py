"""Agents and roles: invitation to first sign-in, role changes, disabling and removal, self-service.

REST calls go through the Chalice app with real tokens from moto's Cognito.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine

from functions.core import settings, shards
from functions.core.principals import Principal
from functions.models import Agent, Chat, Connection
from functions.team import agents, revocation
from tests.support import outbox
from tests.support.accounts import NEW_PASSWORD, PASSWORD
from tests.support.actors import Socket, new_visitor, start_chat
from tests.support.admin import (
    add_user,
    body,
    call,
    idp,
    login,
    login_status,
    refresh_status,
    status,
)


@pytest.fixture
def boss(pool, api):
    """An admin, signed in: (agent id, id token)."""
    agent_id = add_user(pool, "boss@example.com", "Boss", role="admin")
    return agent_id, login(api, "boss@example.com")["id_token"]


def _groups(pool, agent_id: str) -> list[str]:
    groups = idp().admin_list_groups_for_user(UserPoolId=pool.pool_id, Username=agent_id)["Groups"]
    return [g["GroupName"] for g in groups]


def _temporary_password(mail) -> str:
    match = re.search(r"temporary password: (\S+)", mail.body)
    assert match, mail.body
    return match.group(1)


# --- invitation to first sign-in ------------------------------------------------------------------


def test_an_invited_agent_gets_a_mail_and_chooses_a_password_at_first_sign_in(api, pool, boss):
    _, token = boss
    response = call(
        api,
        "POST",
        "/admin/agents",
        token,
        {"email": "Ana@Example.com", "name": "Ana", "role": "agent"},
        origin="https://help.example",
    )
    assert response.status_code == 201, response.body
    invited = body(response)
    assert (invited["email"], invited["name"], invited["role"], invited["status"]) == (
        "ana@example.com",
        "Ana",
        "agent",
        "invited",
    )
    assert _groups(pool, invited["id"]) == ["agent"]
    mail = outbox.sent()[-1]
    assert mail.destinations["ToAddresses"] == ["ana@example.com"] and mail.source == "support@example.com"
    assert "https://help.example/agent/" in mail.body
    temporary = _temporary_password(mail)

    listed = {a["email"]: a for a in body(call(api, "GET", "/admin/agents", token))["agents"]}
    assert listed["ana@example.com"]["status"] == "invited" and listed["boss@example.com"]["status"] == "active"

    first = body(call(api, "POST", "/auth/login", payload={"email": "ana@example.com", "password": temporary}))
    assert first["challenge"] == "NEW_PASSWORD_REQUIRED" and "id_token" not in first
    weak = call(
        api,
        "POST",
        "/auth/challenge",
        payload={"email": "ana@example.com", "session": first["session"], "new_password": "short"},
    )
    assert weak.status_code == 400
    tokens = body(
        call(
            api,
            "POST",
            "/auth/challenge",
            payload={"email": "ana@example.com", "session": first["session"], "new_password": NEW_PASSWORD},
        )
    )
    assert {"id_token", "access_token", "refresh_token"} <= set(tokens)
    me = body(call(api, "GET", "/agent/me", tokens["id_token"]))
    assert (me["id"], me["role"], me["accepting"]) == (invited["id"], "agent", False)
    assert login(api, "ana@example.com", NEW_PASSWORD)["id_token"]
    listed = {a["email"]: a for a in body(call(api, "GET", "/admin/agents", token))["agents"]}
    assert listed["ana@example.com"]["status"] == "active"


def test_a_stale_challenge_session_is_a_401(api, pool):
    response = call(
        api,
        "POST",
        "/auth/challenge",
        payload={"email": "nobody@example.com", "session": "made-up-" * 5, "new_password": NEW_PASSWORD},
    )
    assert response.status_code == 401
    short = call(
        api,
        "POST",
        "/auth/challenge",
        payload={"email": "nobody@example.com", "session": "short", "new_password": NEW_PASSWORD},
    )
    assert short.status_code == 400


def test_inviting_an_existing_email_is_a_409(api, pool, boss):
    _, token = boss
    add_user(pool, "ana@example.com")
    response = call(api, "POST", "/admin/agents", token, {"email": "ana@example.com", "name": "Ana 2", "role": "agent"})
    assert response.status_code == 409 and body(response)["Code"] == "conflict"


def test_an_invitation_is_validated(api, pool, boss):
    cases = [
        ({"email": "not-an-email", "name": "Ana", "role": "agent"}, "email"),
        ({"email": "ana@example.com", "name": "", "role": "agent"}, "name"),
        ({"email": "ana@example.com", "name": "Ana", "role": "owner"}, "role"),
        ({"email": "ana@example.com", "name": "Ana", "role": "agent", "password": "x"}, "password"),
    ]
    for payload, word in cases:
        response = call(api, "POST", "/admin/agents", boss[1], payload)
        assert response.status_code == 400 and word in body(response)["Message"], payload


def test_an_invitation_whose_mail_fails_leaves_nothing_behind(api, pool, boss):
    _, token = boss
    settings.save_settings({"support_email": "help@unverified.example"})
    response = call(api, "POST", "/admin/agents", token, {"email": "ana@example.com", "name": "Ana", "role": "agent"})
    assert response.status_code == 503 and "support email" in body(response)["Message"]
    assert [a["email"] for a in body(call(api, "GET", "/admin/agents", token))["agents"]] == ["boss@example.com"]
    settings.save_settings({"support_email": "help@example.com"})
    again = call(api, "POST", "/admin/agents", token, {"email": "ana@example.com", "name": "Ana", "role": "agent"})
    assert again.status_code == 201


def test_a_new_temporary_password_can_be_sent_until_the_first_sign_in(api, pool, boss):
    _, token = boss
    ana = {"email": "ana@example.com", "name": "Ana", "role": "agent"}
    invited = body(call(api, "POST", "/admin/agents", token, ana))
    first = _temporary_password(outbox.sent()[-1])
    response = call(api, "POST", f"/admin/agents/{invited['id']}/reinvite", token)
    assert response.status_code == 200 and body(response)["status"] == "invited"
    second = _temporary_password(outbox.sent()[-1])
    assert second != first
    assert call(api, "POST", "/auth/login", payload={"email": "ana@example.com", "password": first}).status_code == 401
    assert body(call(api, "POST", "/auth/login", payload={"email": "ana@example.com", "password": second}))["challenge"]
    active = add_user(pool, "bob@example.com", "Bob")
    assert call(api, "POST", f"/admin/agents/{active}/reinvite", token).status_code == 409


# --- who may administer -------------------------------------------------------------------------------


ADMIN_ROUTES = [
    ("GET", "/admin/agents"),
    ("POST", "/admin/agents"),
    ("PATCH", "/admin/agents/x"),
    ("DELETE", "/admin/agents/x"),
    ("POST", "/admin/agents/x/reinvite"),
    ("GET", "/admin/settings"),
    ("PATCH", "/admin/settings"),
    ("GET", "/admin/bans"),
    ("POST", "/admin/bans"),
    ("DELETE", "/admin/bans/x"),
    ("GET", "/admin/webhooks"),
    ("POST", "/admin/webhooks"),
    ("DELETE", "/admin/webhooks/x"),
    ("GET", "/admin/webhooks/x/deliveries"),
]


def test_agents_get_403_on_every_admin_route(api, pool):
    add_user(pool, "ana@example.com")
    token = login(api, "ana@example.com")["id_token"]
    for method, path in ADMIN_ROUTES:
        response = call(api, method, path, token, {"email": "x@example.com", "name": "X", "role": "admin"})
        assert response.status_code == 403, (method, path, response.body)
        assert body(response)["Code"] == "forbidden"


def test_a_demotion_takes_effect_before_the_old_token_expires(api, pool, boss):
    other = add_user(pool, "second@example.com", "Second", role="admin")
    token = login(api, "second@example.com")["id_token"]
    assert call(api, "GET", "/admin/agents", token).status_code == 200
    response = call(api, "PATCH", f"/admin/agents/{other}", boss[1], {"role": "agent"})
    assert response.status_code == 200 and body(response)["role"] == "agent"
    assert _groups(pool, other) == ["agent"]
    assert call(api, "GET", "/admin/agents", token).status_code == 403  # the token still says admin


def test_a_promotion_works_from_the_next_sign_in(api, pool, boss):
    ana = add_user(pool, "ana@example.com")
    assert body(call(api, "PATCH", f"/admin/agents/{ana}", boss[1], {"role": "admin"}))["role"] == "admin"
    assert _groups(pool, ana) == ["admin"]
    assert call(api, "GET", "/admin/settings", login(api, "ana@example.com")["id_token"]).status_code == 200


def test_admins_cannot_lock_themselves_out(api, pool, boss):
    me, token = boss
    for payload in ({"disabled": True}, {"role": "agent"}):
        response = call(api, "PATCH", f"/admin/agents/{me}", token, payload)
        assert response.status_code == 400 and "yourself" in body(response)["Message"]
    assert call(api, "DELETE", f"/admin/agents/{me}", token).status_code == 400


def test_an_agent_change_is_validated_and_needs_a_known_agent(api, pool, boss):
    ana = add_user(pool, "ana@example.com")
    for payload in ({}, {"disabled": "yes"}, {"role": "root"}, {"name": "X"}):
        assert call(api, "PATCH", f"/admin/agents/{ana}", boss[1], payload).status_code == 400, payload
    assert call(api, "PATCH", "/admin/agents/nobody", boss[1], {"disabled": True}).status_code == 404
    assert call(api, "DELETE", "/admin/agents/nobody", boss[1]).status_code == 404


# --- disabling and removing -------------------------------------------------------------------------


def test_a_disabled_agent_is_cut_off_at_once(api, pool, boss, closed):
    ana = add_user(pool, "ana@example.com")
    tokens = login(api, "ana@example.com")
    socket = Socket(Principal("agent", ana, "Ana", "agent"))
    assert socket.status == 200 and shards.is_key("routable", agents.get(ana).routable_pk)
    assert call(api, "GET", "/agent/chats", tokens["id_token"]).status_code == 200

    response = call(api, "PATCH", f"/admin/agents/{ana}", boss[1], {"disabled": True})
    assert response.status_code == 200 and body(response)["status"] == "disabled"
    assert closed == [socket.connection_id]
    assert Connection.count(socket.connection_id) == 0
    profile = agents.get(ana)
    assert profile.disabled and profile.routable_pk is None and profile.online_conns == 0
    assert call(api, "GET", "/agent/chats", tokens["id_token"]).status_code == 401  # the token is still unexpired
    assert call(api, "POST", "/agent/ws-ticket", tokens["id_token"]).status_code == 401
    assert refresh_status(api, tokens["refresh_token"]) == 401
    assert login_status(api, "ana@example.com") == 401
    socket.close()  # API Gateway's late $disconnect finds nothing left to undo
    assert agents.get(ana).online_conns == 0
    assert "ana@example.com" not in [a["email"] for a in agents.team()]


def test_a_re_enabled_agent_signs_in_again(api, pool, boss):
    ana = add_user(pool, "ana@example.com")
    old = login(api, "ana@example.com")["id_token"]
    with time_machine.travel(timedelta(seconds=2)):  # claims have whole seconds
        call(api, "PATCH", f"/admin/agents/{ana}", boss[1], {"disabled": True})
        response = call(api, "PATCH", f"/admin/agents/{ana}", boss[1], {"disabled": False})
        assert response.status_code == 200 and body(response)["status"] == "active"
        assert call(api, "GET", "/agent/me", old).status_code == 401  # sign-ins from before stay revoked
        fresh = login(api, "ana@example.com")["id_token"]
        assert call(api, "GET", "/agent/me", fresh).status_code == 200


def test_a_disabled_agents_chats_go_to_a_free_colleague(api, pool, boss):
    ana = add_user(pool, "ana@example.com", "Ana")
    Socket(Principal("agent", ana, "Ana", "agent"))
    chat_id = start_chat(Socket(new_visitor("Vic")))["chat_id"]
    assert Chat.get(chat_id).assignee_id == ana
    bob = add_user(pool, "bob@example.com", "Bob")
    Socket(Principal("agent", bob, "Bob", "agent"))
    call(api, "PATCH", f"/admin/agents/{ana}", boss[1], {"disabled": True})
    chat = Chat.get(chat_id, consistent_read=True)
    assert chat.assignee_id == bob and chat.agent_ids == {bob}
    assert not agents.get(ana).chat_ids


def test_a_removed_agent_is_gone_but_their_token_stays_refused(api, pool, boss, closed):
    ana = add_user(pool, "ana@example.com")
    token = login(api, "ana@example.com")["id_token"]
    socket = Socket(Principal("agent", ana, "Ana", "agent"))
    assert call(api, "DELETE", f"/admin/agents/{ana}", boss[1]).status_code == 204
    assert closed == [socket.connection_id]
    assert "ana@example.com" not in [a["email"] for a in body(call(api, "GET", "/admin/agents", boss[1]))["agents"]]
    with pytest.raises(idp().exceptions.UserNotFoundException):
        idp().admin_get_user(UserPoolId=pool.pool_id, Username=ana)
    assert call(api, "GET", "/agent/me", token).status_code == 401  # no fresh profile from the old token
    assert Agent.get(ana).disabled
    assert call(api, "DELETE", f"/admin/agents/{ana}", boss[1]).status_code == 404
    # The address can be invited again, as a new user.
    again = call(api, "POST", "/admin/agents", boss[1], {"email": "ana@example.com", "name": "Ana", "role": "agent"})
    assert again.status_code == 201 and body(again)["id"] != ana


# --- self-service ------------------------------------------------------------------------------------


def test_an_agent_changes_their_display_name(api, pool):
    ana = add_user(pool, "ana@example.com", "Ana")
    token = login(api, "ana@example.com")["id_token"]
    response = call(api, "PATCH", "/agent/me", token, {"name": "  Ana María\r\n"})
    assert response.status_code == 200 and body(response)["name"] == "Ana María"
    assert agents.get(ana).name == "Ana María"
    user = idp().admin_get_user(UserPoolId=pool.pool_id, Username=ana)
    assert {a["Name"]: a["Value"] for a in user["UserAttributes"]}["name"] == "Ana María"
    for bad in ({"name": ""}, {"name": "x" * 101}, {"name": 5}, {"email": "x@example.com"}):
        assert call(api, "PATCH", "/agent/me", token, bad).status_code == 400


def test_an_agent_changes_their_password(api, pool):
    add_user(pool, "ana@example.com")
    tokens = login(api, "ana@example.com")
    change = {"old_password": PASSWORD, "new_password": NEW_PASSWORD, "access_token": tokens["access_token"]}
    wrong = call(api, "POST", "/agent/me/password", tokens["id_token"], {**change, "old_password": "Wrong-passw0rd"})
    assert wrong.status_code == 400 and "current password" in body(wrong)["Message"]
    assert status(api, "POST", "/agent/me/password", tokens["id_token"], {**change, "new_password": "weak"}) == 400
    no_access_token = {k: v for k, v in change.items() if k != "access_token"}
    assert status(api, "POST", "/agent/me/password", tokens["id_token"], no_access_token) == 400
    assert status(api, "POST", "/agent/me/password", tokens["id_token"], change) == 204
    assert login(api, "ana@example.com", NEW_PASSWORD)["id_token"]
    assert login_status(api, "ana@example.com") == 401


def test_an_access_token_of_another_agent_is_refused(api, pool):
    add_user(pool, "ana@example.com")
    add_user(pool, "bob@example.com")
    ana, bob = login(api, "ana@example.com"), login(api, "bob@example.com")
    change = {"old_password": PASSWORD, "new_password": NEW_PASSWORD, "access_token": bob["access_token"]}
    response = call(api, "POST", "/agent/me/password", ana["id_token"], change)
    assert response.status_code == 400 and "another sign-in" in body(response)["Message"]


def test_signing_out_everywhere_ends_every_session(api, pool, closed):
    ana = add_user(pool, "ana@example.com")
    laptop, phone = login(api, "ana@example.com"), login(api, "ana@example.com")
    sockets = [Socket(Principal("agent", ana, "Ana", "agent")) for _ in range(2)]
    with time_machine.travel(timedelta(seconds=2)):
        assert call(api, "POST", "/agent/me/signout-all", laptop["id_token"]).status_code == 204
        assert sorted(closed) == sorted(s.connection_id for s in sockets)
        assert agents.get(ana).online_conns == 0
        for tokens in (laptop, phone):
            assert call(api, "GET", "/agent/me", tokens["id_token"]).status_code == 401
            assert refresh_status(api, tokens["refresh_token"]) == 401
        assert call(api, "GET", "/agent/me", login(api, "ana@example.com")["id_token"]).status_code == 200


# --- claims as API Gateway hands them over ------------------------------------------------------------


def test_time_claims_are_read_in_every_form():
    cases = [
        (1_700_000_000, 1_700_000_000),
        ("1700000000", 1_700_000_000),
        ("Tue Nov 14 22:13:20 UTC 2023", 1_700_000_000),  # how API Gateway passes iat and exp
        ("yesterday", None),
        (None, None),
        (True, None),
    ]
    for value, expected in cases:
        assert revocation.claim_epoch(value) == expected, value


def test_a_token_without_times_is_refused_once_sessions_were_revoked():
    agent = Agent("a", email="a@example.com", name="A", sessions_revoked_at=1_700_000_000)
    assert revocation.token_revoked(agent, {})
    assert not revocation.token_revoked(agent, {"auth_time": "1700000001"})
    assert revocation.token_revoked(agent, {"auth_time": "1700000000"})  # the stamped second is refused too
    assert revocation.token_revoked(agent, {"auth_time": "1699999999"})
    assert not revocation.token_revoked(Agent("b", email="b@example.com", name="B"), {})
