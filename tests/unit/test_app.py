"""The REST routes through Chalice's test client, with real tokens from moto's Cognito."""

from __future__ import annotations

import json

import pytest

import app as charla
from functions.core import settings
from tests.support.accounts import PASSWORD
from tests.support.actors import Socket, new_agent, new_visitor, start_chat
from tests.support.admin import add_user, call


@pytest.fixture
def cognito(pool):
    """Boss, an admin, with the profile a first sign-in makes (not accepting chats)."""
    add_user(pool, "boss@example.com", "Boss", role="admin", accepting=False)


def _json(response):
    return json.loads(response.body)


def _post(api, path, body=None, headers=None, raw=None):
    return call(api, "POST", path, payload=raw if raw is not None else (body or {}), **(headers or {}))


def _visitor_headers(identity):
    return {"authorization": f"Visitor {identity['visitor_id']}:{identity['secret']}"}


def test_a_visitor_gets_an_identity_and_then_a_connect_ticket(api):
    identity = _json(_post(api, "/visitor/identity"))
    response = _post(api, "/visitor/ws-ticket", headers=_visitor_headers(identity))
    assert response.status_code == 201 and _json(response)["expires_in"] == 60


@pytest.mark.parametrize(
    "authorization",
    [None, "Visitor ", "Visitor nobody:secret", "Bearer abc", "Visitor v_x"],
)
def test_bad_visitor_credentials_get_401(api, authorization):
    headers = {"authorization": authorization} if authorization else {}
    response = _post(api, "/visitor/ws-ticket", headers=headers)
    assert response.status_code == 401 and _json(response)["Code"] == "unauthorized"


def test_a_wrong_secret_for_a_real_visitor_gets_401(api):
    identity = _json(_post(api, "/visitor/identity"))
    response = _post(api, "/visitor/ws-ticket", headers=_visitor_headers({**identity, "secret": "guess"}))
    assert response.status_code == 401


def test_a_visitor_reads_their_own_transcript_but_gets_404_for_anothers(api):
    Socket(new_agent())
    owner = _json(_post(api, "/visitor/identity"))
    socket = Socket(new_visitor_from(owner))
    chat_id = start_chat(socket)["chat_id"]
    socket.send({"action": "send", "chat_id": chat_id, "client_msg_id": "a", "text": "mine"})
    mine = api.get(f"/visitor/chats/{chat_id}/messages?after=0", headers=_visitor_headers(owner))
    assert [m["text"] for m in _json(mine)["messages"]] == ["mine"]
    other = _json(_post(api, "/visitor/identity"))
    theirs = api.get(f"/visitor/chats/{chat_id}/messages", headers=_visitor_headers(other))
    assert theirs.status_code == 404 and "mine" not in theirs.body.decode()


def test_a_visitor_reading_their_transcript_over_rest_sees_no_agent_id(api):
    ana = new_agent("Ana")
    agent = Socket(ana)
    owner = _json(_post(api, "/visitor/identity"))
    chat_id = start_chat(Socket(new_visitor_from(owner)))["chat_id"]
    agent.send({"action": "send", "chat_id": chat_id, "client_msg_id": "r", "text": "Ana here"})
    page = api.get(f"/visitor/chats/{chat_id}/messages?after=0", headers=_visitor_headers(owner))
    [message] = _json(page)["messages"]
    assert (message["sender_name"], message["text"]) == ("Ana", "Ana here")
    assert ana.id not in page.body.decode()


def new_visitor_from(identity):
    from functions.core.principals import Principal

    return Principal("visitor", identity["visitor_id"])


def test_a_bad_after_parameter_is_a_400(api):
    identity = _json(_post(api, "/visitor/identity"))
    response = api.get("/visitor/chats/c_x/messages?after=-1", headers=_visitor_headers(identity))
    assert response.status_code == 400 and "after" in _json(response)["Message"]


def test_login_with_a_bad_body_is_a_400_not_a_500(api, cognito):
    assert _post(api, "/auth/login", raw="{nope").status_code == 400
    assert _post(api, "/auth/login", raw="[]").status_code == 400
    response = _post(api, "/auth/login", {"email": "boss@example.com"})
    assert response.status_code == 400 and "password" in _json(response)["Message"]


def test_login_with_a_wrong_password_is_a_401(api, cognito):
    response = _post(api, "/auth/login", {"email": "boss@example.com", "password": "wrong-Pa55"})
    assert response.status_code == 401 and _json(response)["Message"] == "Wrong email or password."


def test_an_agent_logs_in_and_sees_their_profile(api, cognito):
    tokens = _json(_post(api, "/auth/login", {"email": "boss@example.com", "password": PASSWORD}))
    me = _json(api.get("/agent/me", headers={"authorization": tokens["id_token"]}))
    profile = (me["email"], me["name"], me["role"], me["accepting"])
    assert profile == ("boss@example.com", "Boss", "admin", False)
    refreshed = _json(_post(api, "/auth/refresh", {"refresh_token": tokens["refresh_token"]}))
    assert refreshed["id_token"]
    ticket = _post(api, "/agent/ws-ticket", headers={"authorization": tokens["id_token"]})
    assert ticket.status_code == 201


def test_widget_settings_say_whether_anyone_is_accepting(api):
    assert _json(api.get("/widget/settings"))["online"] is False
    Socket(new_agent(accepting=True))
    body = _json(api.get("/widget/settings"))
    assert body["online"] is True and body["prechat"] == "anonymous"


def test_a_foreign_origin_is_refused_on_visitor_routes(api):
    settings.save_settings({"allowed_origins": ["https://shop.example"]})
    assert api.get("/widget/settings", headers={"origin": "https://evil.example"}).status_code == 403
    assert _post(api, "/visitor/identity", headers={"origin": "https://evil.example"}).status_code == 403
    assert _post(api, "/visitor/identity", headers={"origin": "https://shop.example"}).status_code == 201


def test_a_report_download_is_named_safely_whatever_agent_is_asked_for(api, cognito):
    # An admin may name any agent id; a newline in it made the Content-Disposition header a 500.
    tokens = _json(_post(api, "/auth/login", {"email": "boss@example.com", "password": PASSWORD}))
    path = "/agent/reports/csv?from=2026-11-20&to=2026-11-20&agent=a%0D%0Ab%22%3B%20x%3Dy"
    response = api.get(path, headers={"authorization": tokens["id_token"]})
    assert response.status_code == 200, response.body
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="charla-a__b__ x=y-2026-11-20-2026-11-20.csv"; '
        "filename*=UTF-8''charla-a%0D%0Ab%22%3B%20x%3Dy-2026-11-20-2026-11-20.csv"
    )


def test_a_refused_setting_is_named_in_field_for_the_console_to_label_in_its_own_language(api, cognito):
    tokens = _json(_post(api, "/auth/login", {"email": "boss@example.com", "password": PASSWORD}))
    headers = {"authorization": tokens["id_token"], "content-type": "application/json"}
    response = api.patch("/admin/settings", headers=headers, body=json.dumps({"wait_threshold_s": "soon"}))
    assert response.status_code == 400
    assert _json(response) == {
        "Code": "bad_request",
        "Message": "`wait_threshold_s` must be a whole number from 1 to 3600.",
        "Field": "wait_threshold_s",
    }
    nameless = _post(api, "/auth/login", {"email": "boss@example.com"})
    assert nameless.status_code == 400 and _json(nameless)["Field"] == "password"


def test_health(api):
    assert _json(api.get("/health")) == {"ok": True}


del new_visitor


def _gateway_event(method, resource, path_params=None, query=None, headers=None):
    """An API Gateway REST event as Lambda decodes it: its JSON may carry `\\ud800` escapes anywhere."""
    return {
        "resource": resource,
        "path": resource,
        "httpMethod": method,
        "headers": {"origin": "http://127.0.0.1:8000", **(headers or {})},
        "multiValueHeaders": {},
        "queryStringParameters": {k: v[-1] for k, v in (query or {}).items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": path_params,
        "stageVariables": None,
        "body": None,
        "isBase64Encoded": False,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "stage": "api",
            "identity": {"sourceIp": "203.0.113.9"},
        },
    }


@pytest.mark.parametrize(
    ("resource", "path_params", "query", "named"),
    [
        ("/visitor/chats/{chat_id}/messages", {"chat_id": "c_\ud800"}, None, "chat_id"),
        ("/visitor/chats/{chat_id}/messages", {"chat_id": "c_x"}, {"after": ["1\udfff"]}, "after"),
        ("/visitor/tickets/{ticket_id}", {"ticket_id": "T1"}, {"after": ["0"], "x": ["\ud800", "ok"]}, "x"),
    ],
)
def test_a_lone_surrogate_in_a_path_or_query_parameter_is_a_400_naming_it(api, resource, path_params, query, named):
    identity = _json(_post(api, "/visitor/identity"))
    event = _gateway_event("GET", resource, path_params, query, _visitor_headers(identity))
    response = charla.app(event, None)
    assert response["statusCode"] == 400, response
    body = json.loads(response["body"])
    assert body["Code"] == "bad_request" and f"`{named}`" in body["Message"], body


def test_a_path_id_longer_than_any_key_is_a_404_before_the_handler(api):
    identity = _json(_post(api, "/visitor/identity"))
    event = _gateway_event(
        "GET", "/visitor/tickets/{ticket_id}", {"ticket_id": "T" * 2100}, None, _visitor_headers(identity)
    )
    response = charla.app(event, None)
    assert (response["statusCode"], json.loads(response["body"])["Code"]) == (404, "not_found")
