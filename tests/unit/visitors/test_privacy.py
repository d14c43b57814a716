"""Privacy: what is kept of IP addresses, and an admin's export or erasure of one visitor's data."""

from __future__ import annotations

import json

import pytest

from functions.core import settings
from functions.core.principals import Principal
from functions.helpdesk import offline_form
from functions.models import Chat, Message, Ticket, TicketEvent, TicketTerm, Visitor
from functions.team import agents
from functions.visitors import data_requests, privacy, tracking
from tests.support import desk
from tests.support.actors import Socket, new_agent, start_chat
from tests.support.admin import add_user, api, body, call, closed, login, pool  # noqa: F401 (fixtures)


@pytest.mark.parametrize(("mode", "ip", "kept"), [
    ("truncate", "203.0.113.77", "203.0.113.0"),
    ("truncate", "2001:db8:85a3:8d3:1319:8a2e:370:7348", "2001:db8:85a3::"),
    ("none", "203.0.113.77", None),
    ("full", "203.0.113.77", "203.0.113.77"),
    ("truncate", "not an address", None),
])
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
    answer = tracking.page_view({"pv": "p1", "url": "https://shop.example/"}, user_agent=None, country=None,
                                ip="203.0.113.5")
    visitor = Principal("visitor", answer["visitor_id"])
    socket = Socket(visitor)
    first = start_chat(socket)["chat_id"]
    socket.send({"action": "send", "chat_id": first, "client_msg_id": "m1", "text": "My bike squeaks"})
    socket.send({"action": "close", "chat_id": first})
    ticket = offline_form.submit(visitor, {"fields": {"name": "Vera", "email": "vera@example.com",
                                                      "message": "Squeaky brakes\nStill."}})
    second = start_chat(socket)["chat_id"]
    other = Principal("visitor", tracking.page_view({"pv": "p1"}, user_agent=None, country=None, ip=None)["visitor_id"])
    other_chat = start_chat(Socket(other))["chat_id"]
    return {"agent": agent, "agent_socket": agent_socket, "visitor": visitor, "chats": [first, second],
            "ticket": ticket, "other": other, "other_chat": other_chat}


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
    assert counts == {"chats": 2, "messages": counts["messages"], "tickets": 1, "connections": 1}
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
    assert {"type": "visitor", "visitor": {"id": visitor.id, "online": False}} in history["agent_socket"].frames()


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
