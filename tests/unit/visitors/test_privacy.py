"""Privacy: what is kept of IP addresses, and an admin's export or erasure of one visitor's data."""

from __future__ import annotations

import json
import time
from email.message import EmailMessage

import pytest

import app as charla
from functions.core import clock, settings
from functions.core.aws import client as aws_client
from functions.core.principals import Principal
from functions.helpdesk import offline_form
from functions.models import Chat, MailId, Message, Ticket, TicketEvent, TicketTerm, Visitor
from functions.team import agents
from functions.visitors import data_requests, privacy, tracking
from infra.local.events import s3_object_created_event
from infra.local.smtp import ses_headers, verdicts_from
from tests.support import desk
from tests.support.actors import Socket, drain_notices, new_agent, start_chat
from tests.support.admin import add_user, api, body, call, closed, login, pool  # noqa: F401 (fixtures)


@pytest.mark.parametrize(
    ("mode", "ip", "kept"),
    [
        ("truncate", "203.0.113.77", "203.0.113.0"),
        ("truncate", "2001:db8:85a3:8d3:1319:8a2e:370:7348", "2001:db8:85a3::"),
        ("none", "203.0.113.77", None),
        ("full", "203.0.113.77", "203.0.113.77"),
        ("truncate", "not an address", None),
    ],
)
def test_the_ip_is_kept_as_the_setting_says(aws, mode, ip, kept):
    settings.save_settings({"ip_mode": mode})
    assert privacy.stored_ip(ip) == kept
    answer = tracking.page_view({"pv": "p1"}, user_agent=None, country=None, ip=ip)
    assert Visitor.get(answer["visitor_id"]).ip == kept


def test_truncation_is_the_default(aws):
    assert settings.get_settings()["ip_mode"] == "truncate" and settings.get_settings()["tracking"] is True


@pytest.fixture
def history(aws, monkeypatch):
    """A visitor with a page view, a finished chat, an open chat, an offline ticket; and someone else."""
    desk.prepare(monkeypatch)
    agent = new_agent("Ana")
    agent_socket = Socket(agent)
    answer = tracking.page_view(
        {"pv": "p1", "url": "https://shop.example/"}, user_agent=None, country=None, ip="203.0.113.5"
    )
    visitor = Principal("visitor", answer["visitor_id"])
    socket = Socket(visitor)
    first = start_chat(socket)["chat_id"]
    socket.send({"action": "send", "chat_id": first, "client_msg_id": "m1", "text": "My bike squeaks"})
    socket.send({"action": "close", "chat_id": first})
    ticket = offline_form.submit(
        visitor, {"fields": {"name": "Vera", "email": "vera@example.com", "message": "Squeaky brakes\nStill."}}
    )
    second = start_chat(socket)["chat_id"]
    other = Principal("visitor", tracking.page_view({"pv": "p1"}, user_agent=None, country=None, ip=None)["visitor_id"])
    other_chat = start_chat(Socket(other))["chat_id"]
    return {
        "agent": agent,
        "agent_socket": agent_socket,
        "visitor": visitor,
        "chats": [first, second],
        "ticket": ticket,
        "other": other,
        "other_chat": other_chat,
    }


def test_the_export_holds_everything_about_the_visitor_and_nothing_else(history):
    data = json.loads(json.dumps(data_requests.export(history["visitor"].id)))
    assert data["visitor"]["visitor_id"] == history["visitor"].id and "secret_hash" not in data["visitor"]
    assert sorted(c["chat_id"] for c in data["chats"]) == sorted(history["chats"])
    texts = [m["text"] for c in data["chats"] for m in c["messages"]]
    assert "My bike squeaks" in texts
    [ticket] = data["tickets"]
    assert ticket["ticket_id"] == history["ticket"].ticket_id and "Still." in ticket["events"][0]["body"]
    assert len(data["connections"]) == 1
    assert history["other_chat"] not in json.dumps(data)


def test_the_export_names_agents_but_holds_none_of_their_ids(history):
    socket = history["agent_socket"]
    open_chat = history["chats"][1]
    socket.send({"action": "send", "chat_id": open_chat, "client_msg_id": "r", "text": "Ana here"})
    data = data_requests.export(history["visitor"].id)
    assert history["agent"].id not in json.dumps(data)
    chat = next(c for c in data["chats"] if c["chat_id"] == open_chat)
    assert chat["agents"] == ["Ana"] and chat["messages"][-1]["sender_name"] == "Ana"


def test_erasure_deletes_everything_closes_sockets_and_frees_the_agent(history, closed):  # noqa: F811
    visitor, ticket = history["visitor"], history["ticket"]
    admin = new_agent("Root", role="admin")
    counts = data_requests.erase(admin, visitor.id)
    assert counts == {"chats": 2, "messages": counts["messages"], "files": 0, "tickets": 1, "connections": 1}
    assert counts["messages"] >= 3
    assert len(closed) == 1
    with pytest.raises(Visitor.DoesNotExist):
        Visitor.get(visitor.id)
    for chat_id in history["chats"]:
        assert list(Message.query(chat_id)) == []
        with pytest.raises(Chat.DoesNotExist):
            Chat.get(chat_id)
    with pytest.raises(Ticket.DoesNotExist):
        Ticket.get(ticket.ticket_id)
    assert list(TicketEvent.query(ticket.ticket_id)) == []
    assert [t for t in TicketTerm.query("squeaky")] == []
    # The open chat ended first, so the agent's slot is free again; the other visitor is untouched.
    assert history["chats"][1] not in (agents.get(history["agent"].id).chat_ids or set())
    assert Chat.get(history["other_chat"]).visitor_id == history["other"].id
    drain_notices()
    assert {"type": "visitor", "visitor": {"id": visitor.id, "online": False}} in history["agent_socket"].notified(
        "visitor"
    )


def test_only_admins_export_or_erase_and_unknown_visitors_are_404(api, pool, history):  # noqa: F811
    add_user(pool, "boss@example.com", "Boss", role="admin")
    add_user(pool, "ana@example.com", "Ana")
    admin, agent = login(api, "boss@example.com")["id_token"], login(api, "ana@example.com")["id_token"]
    visitor_id = history["visitor"].id
    assert call(api, "GET", f"/admin/visitors/{visitor_id}/export", agent).status_code == 403
    assert call(api, "DELETE", f"/admin/visitors/{visitor_id}", agent).status_code == 403
    exported = call(api, "GET", f"/admin/visitors/{visitor_id}/export", admin)
    assert exported.status_code == 200 and "attachment" in exported.headers["Content-Disposition"]
    assert body(exported)["visitor_id"] == visitor_id
    assert body(call(api, "DELETE", f"/admin/visitors/{visitor_id}", admin))["deleted"]["chats"] == 2
    assert call(api, "GET", f"/admin/visitors/{visitor_id}/export", admin).status_code == 404
    assert call(api, "DELETE", "/admin/visitors/v_nobody", admin).status_code == 404


# --- tracked URLs, retention, erasure by email address ---------------------------------------------

BEACON = {"content-type": "text/plain"}


def _view(api, **fields) -> dict:  # noqa: F811
    response = api.post("/visitor/pageview", body=json.dumps({"pv": "p1", **fields}), headers=BEACON)
    assert response.status_code == 200, response.body
    return json.loads(response.body)


def test_tracked_urls_lose_query_fragment_and_credentials_but_allowed_parameters(api, pool):  # noqa: F811
    add_user(pool, "boss@example.com", "Boss", role="admin")
    admin = login(api, "boss@example.com")["id_token"]
    url = "https://me:pw@shop.example/reset?token=S3CRET&utm_campaign=spring#access_token=T0KEN"
    visitor = _view(api, url=url, referrer="https://mail.example/inbox?session=SESS1")
    listed = body(call(api, "GET", "/agent/visitors/online", admin))["visitors"]
    [row] = [v for v in listed if v["id"] == visitor["visitor_id"]]
    assert (row["url"], row["referrer"]) == ("https://shop.example/reset", "https://mail.example/inbox")
    shown = json.dumps(body(call(api, "GET", f"/agent/visitors/{visitor['visitor_id']}", admin)))
    assert [w for w in ("S3CRET", "T0KEN", "SESS1", "pw@") if w in shown] == []

    assert call(api, "PATCH", "/admin/settings", admin, {"tracked_url_params": ["utm_campaign"]}).status_code == 200
    kept = _view(api, url=url)
    listed = body(call(api, "GET", "/agent/visitors/online", admin))["visitors"]
    [row] = [v for v in listed if v["id"] == kept["visitor_id"]]
    assert row["url"] == "https://shop.example/reset?utm_campaign=spring"
    for bad in (["token=x"], "utm_campaign", ["a"] * 21, [""], [7]):
        refused = call(api, "PATCH", "/admin/settings", admin, {"tracked_url_params": bad})
        assert refused.status_code == 400 and "tracked_url_params" in body(refused)["Message"], bad
    # The same rule for the page a chat starts from (the widget's `context`).
    chatting = Principal("visitor", _view(api)["visitor_id"])
    Socket(new_agent("Ana"))  # someone accepting chats
    start_chat(
        Socket(chatting), context={"url": "https://shop.example/pay?card=4111#x", "referrer": "https://a.example/?q=1"}
    )
    profile = Visitor.get(chatting.id)
    assert (profile.current_url, profile.referrer) == ("https://shop.example/pay", "https://a.example/")


def test_anonymous_visitors_expire_after_the_retention_period(api, pool, monkeypatch):  # noqa: F811
    from infra.aws import tables

    add_user(pool, "boss@example.com", "Boss", role="admin")
    admin = login(api, "boss@example.com")["id_token"]
    assert call(api, "PATCH", "/admin/settings", admin, {"retention_days": 7}).status_code == 200
    for bad in (0, 3651, "7", True):
        refused = call(api, "PATCH", "/admin/settings", admin, {"retention_days": bad})
        assert refused.status_code == 400 and "retention_days" in body(refused)["Message"]
    # DynamoDB deletes the item by its TTL attribute; the table declares it.
    assert tables.table(Visitor, "p")["Properties"]["TimeToLiveSpecification"] == {
        "AttributeName": "expires_at",
        "Enabled": True,
    }
    idle = _view(api)
    key = {"visitor_id": {"S": idle["visitor_id"]}}
    raw = aws_client("dynamodb").get_item(TableName=Visitor.Meta.table_name, Key=key)
    assert abs(int(raw["Item"]["expires_at"]["N"]) - (time.time() + 7 * 86400)) < 60
    returning = _view(api)
    writer = _view(api)
    writer_auth = {"authorization": f"Visitor {writer['visitor_id']}:{writer['secret']}"}
    form = {"fields": {"name": "Vera", "email": "vera@example.com", "message": "Call me"}}
    assert call(api, "POST", "/visitor/offline", None, form, **writer_auth).status_code == 201
    start = time.time()

    monkeypatch.setattr(clock, "epoch", lambda: int(start + 5 * 86400))
    _view(api, visitor_id=returning["visitor_id"], secret=returning["secret"])  # day 5: pushes the expiry back
    monkeypatch.setattr(clock, "epoch", lambda: int(start + 8 * 86400))
    # Day 8: DynamoDB may not have deleted the item yet (moto never does), but nobody gets it back.
    idle_auth = {"authorization": f"Visitor {idle['visitor_id']}:{idle['secret']}"}
    assert call(api, "POST", "/visitor/ws-ticket", None, None, **idle_auth).status_code == 401
    again = _view(api, visitor_id=idle["visitor_id"], secret=idle["secret"])
    assert again["visitor_id"] != idle["visitor_id"]
    assert call(api, "GET", f"/agent/visitors/{idle['visitor_id']}", admin).status_code == 404
    # Someone who came back within the period, or who wrote to us, is still there.
    returning_auth = {"authorization": f"Visitor {returning['visitor_id']}:{returning['secret']}"}
    assert call(api, "POST", "/visitor/ws-ticket", None, None, **returning_auth).status_code == 201
    assert call(api, "POST", "/visitor/ws-ticket", None, None, **writer_auth).status_code == 201
    assert Visitor.get(writer["visitor_id"]).expires_at is None


def _mail_in(sender: str, subject: str, text: str, key: str) -> dict:
    """SES stores the mail (with its verdicts on top) and S3 invokes the app's mail function."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, desk.SUPPORT, subject
    message["Message-ID"] = f"<{key}@mail.example>"
    message.set_content(text)
    data = ses_headers(message.as_bytes(), sender, verdicts_from(""), "192.0.2.7")
    aws_client("s3").put_object(Bucket=desk.MAIL_BUCKET, Key=key, Body=data)
    [outcome] = charla.inbound_mail_received(
        s3_object_created_event(desk.MAIL_BUCKET, key, size=len(data), etag="e", region="us-east-1"), None
    )
    return outcome


def _mail_keys() -> set[str]:
    listed = aws_client("s3").list_objects_v2(Bucket=desk.MAIL_BUCKET).get("Contents", [])
    return {o["Key"] for o in listed}


def test_erasure_by_email_takes_the_tickets_that_came_by_mail_and_their_raw_mail(api, pool, monkeypatch):  # noqa: F811
    desk.prepare(monkeypatch)
    add_user(pool, "boss@example.com", "Boss", role="admin")
    add_user(pool, "ana@example.com", "Ana")
    admin, agent = login(api, "boss@example.com")["id_token"], login(api, "ana@example.com")["id_token"]
    first = _mail_in("vera@example.com", "My order", "Order 77 never came", "inbound/v1")
    reply = _mail_in("vera@example.com", f"Re: [#{first['ticket_id']}]", "Still waiting", "inbound/v2")
    assert reply["ticket_id"] == first["ticket_id"]
    writer = _view(api)
    form = {"fields": {"name": "Vera", "email": "Vera@example.com", "message": "Phone me"}}
    auth = {"authorization": f"Visitor {writer['visitor_id']}:{writer['secret']}"}
    offline = body(call(api, "POST", "/visitor/offline", None, form, **auth))["ticket_id"]
    other = _mail_in("rex@example.com", "Printer", "It smokes", "inbound/r1")

    assert call(api, "POST", "/admin/email-erasures", agent, {"email": "vera@example.com"}).status_code == 403
    for bad in ({}, {"email": "not-an-address"}, {"email": ["vera@example.com"]}):
        refused = call(api, "POST", "/admin/email-erasures", admin, bad)
        assert refused.status_code == 400 and "`email`" in body(refused)["Message"]
    erased = call(api, "POST", "/admin/email-erasures", admin, {"email": "VERA@example.com"})
    assert erased.status_code == 200 and body(erased)["deleted"] == {"tickets": 2, "mails": 2, "visitors": 0}
    for ticket_id in (first["ticket_id"], offline):
        assert call(api, "GET", f"/agent/tickets/{ticket_id}", agent).status_code == 404
    assert _mail_keys() == {"inbound/r1"}
    with pytest.raises(MailId.DoesNotExist):
        MailId.get("msg:inbound/v1@mail.example")
    assert call(api, "GET", f"/agent/tickets/{other['ticket_id']}", agent).status_code == 200


def test_erasing_a_visitor_takes_the_raw_mail_of_replies_to_their_tickets(history, monkeypatch):
    ticket = history["ticket"]
    threaded = _mail_in("vera@example.com", f"Re: [#{ticket.ticket_id}]", "Any news?", "inbound/answer")
    assert threaded["ticket_id"] == ticket.ticket_id and "inbound/answer" in _mail_keys()
    data_requests.erase(new_agent("Root", role="admin"), history["visitor"].id)
    assert "inbound/answer" not in _mail_keys()
