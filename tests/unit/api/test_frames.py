"""The $default route: bad frames get clear errors, and every action checks who may do it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import time_machine

from functions.core import settings
from functions.models import Message
from functions.realtime import connections
from tests.support.actors import Socket, new_agent, new_visitor, start_chat


def _errors(frames):
    return [f["code"] for f in frames if f["type"] == "error"]


@pytest.fixture
def chat(aws):
    agent = Socket(new_agent("Ana"))
    visitor = Socket(new_visitor("Vera"))
    chat = start_chat(visitor)
    return visitor, agent, chat["chat_id"]


def test_malformed_json_gets_an_error_frame_and_the_connection_still_works(chat):
    visitor, _agent, chat_id = chat
    assert _errors(visitor.send("{not json")) == ["bad_json"]
    assert _errors(visitor.send("[1, 2]")) == ["bad_json"]
    frames = visitor.send({"action": "send", "chat_id": chat_id, "client_msg_id": "a", "text": "still here"})
    assert [f["type"] for f in frames] == ["ack"]


def test_an_unknown_or_missing_action_gets_an_error_frame(chat):
    visitor, _agent, _chat_id = chat
    assert _errors(visitor.send({"action": "explode"})) == ["unknown_action"]
    assert _errors(visitor.send({"text": "no action"})) == ["unknown_action"]


def test_missing_fields_are_named_in_the_error(chat):
    visitor, _agent, chat_id = chat
    frames = visitor.send({"action": "send", "chat_id": chat_id, "text": "no id"})
    assert _errors(frames) == ["bad_request"] and "client_msg_id" in frames[0]["message"]


def test_ping_answers_pong(chat):
    visitor, _agent, _chat_id = chat
    assert [f["type"] for f in visitor.send({"action": "ping"})] == ["pong"]


def test_another_visitor_cannot_read_send_to_or_close_the_chat(chat):
    visitor, agent, chat_id = chat
    intruder = Socket(new_visitor("Mallory"))
    send = {"action": "send", "chat_id": chat_id, "client_msg_id": "x", "text": "hijack"}
    assert _errors(intruder.send(send)) == ["not_found"]
    assert _errors(intruder.send({"action": "resume", "chat_id": chat_id, "after_seq": 0})) == ["not_found"]
    assert _errors(intruder.send({"action": "close", "chat_id": chat_id})) == ["not_found"]
    assert _errors(intruder.send({"action": "typing", "chat_id": chat_id, "typing": True})) == ["not_found"]
    assert list(Message.query(chat_id)) == []
    assert visitor.send({"action": "hello"})[0]["chats"][0]["status"] == "active"


def test_an_unknown_chat_and_someone_elses_chat_look_the_same(chat):
    _visitor, _agent, chat_id = chat
    intruder = Socket(new_visitor())
    theirs = intruder.send({"action": "resume", "chat_id": chat_id, "after_seq": 0})[0]
    missing = intruder.send({"action": "resume", "chat_id": "c_doesnotexist", "after_seq": 0})[0]
    assert (theirs["code"], theirs["message"]) == (missing["code"], missing["message"])


def test_an_agent_outside_the_chat_cannot_write_into_it(chat):
    _visitor, _agent, chat_id = chat
    outsider = Socket(new_agent("Otto"))
    frames = outsider.send({"action": "send", "chat_id": chat_id, "client_msg_id": "o", "text": "psst"})
    assert _errors(frames) == ["not_found"]
    assert list(Message.query(chat_id)) == []


def test_an_admin_may_read_any_chat(chat):
    visitor, _agent, chat_id = chat
    visitor.send({"action": "send", "chat_id": chat_id, "client_msg_id": "a", "text": "hello"})
    admin = Socket(new_agent("Root", role="admin"))
    page = admin.send({"action": "resume", "chat_id": chat_id, "after_seq": 0})[0]
    assert [m["text"] for m in page["messages"]] == ["hello"]


def test_sneak_peek_shows_the_draft_to_agents_only(chat):
    visitor, agent, chat_id = chat
    agent.clear()
    visitor.send({"action": "typing", "chat_id": chat_id, "typing": True, "draft": "I want a refu"})
    assert [(f["typing"], f.get("draft")) for f in agent.of_type("typing")] == [(True, "I want a refu")]
    assert visitor.of_type("typing") == []
    assert list(Message.query(chat_id)) == []


def test_with_sneak_peek_off_agents_see_typing_but_no_draft(chat):
    visitor, agent, chat_id = chat
    settings.save_settings({"sneak_peek": False})
    agent.clear()
    visitor.send({"action": "typing", "chat_id": chat_id, "typing": True, "draft": "secret"})
    assert [(f["typing"], "draft" in f) for f in agent.of_type("typing")] == [(True, False)]


def test_hello_tells_a_visitor_their_open_chat(chat):
    visitor, _agent, chat_id = chat
    welcome = visitor.send({"action": "hello"})[0]
    assert welcome["type"] == "welcome" and [c["chat_id"] for c in welcome["chats"]] == [chat_id]


def test_every_tab_of_the_visitor_sees_the_agents_reply(chat):
    visitor, agent, chat_id = chat
    second_tab = Socket(visitor.principal)
    agent.send({"action": "send", "chat_id": chat_id, "client_msg_id": "r", "text": "hi both"})
    assert [f["message"]["text"] for f in visitor.of_type("message")] == ["hi both"]
    assert [f["message"]["text"] for f in second_tab.of_type("message")] == ["hi both"]


def test_a_flooding_connection_is_slowed_and_other_visitors_are_unaffected(chat, monkeypatch):
    monkeypatch.setattr(connections, "RATE_LIMIT", 30)
    visitor, agent, chat_id = chat
    bystander = Socket(new_visitor("Bea"))
    typing = {"action": "typing", "chat_id": chat_id, "typing": True, "draft": "spam"}
    with time_machine.travel(datetime(2026, 11, 22, 12, 0, 1, tzinfo=UTC), tick=False):
        for _ in range(30):
            assert _errors(visitor.send(typing)) == []
        refused = visitor.send(typing)
        assert [(f["code"], f["retriable"]) for f in refused if f["type"] == "error"] == [("rate_limited", True)]
        assert [f["type"] for f in bystander.send({"action": "hello"})] == ["welcome"]
        assert [f["type"] for f in agent.send({"action": "hello"})] == ["welcome"]
    # The next window starts afresh, and the same client_msg_id is then stored once.
    with time_machine.travel(datetime(2026, 11, 22, 12, 0, 11, tzinfo=UTC), tick=False):
        frames = visitor.send({"action": "send", "chat_id": chat_id, "client_msg_id": "after", "text": "ok now"})
        assert [f["type"] for f in frames] == ["ack"]


def test_a_visitor_never_receives_an_agents_id_only_a_name_and_a_per_chat_alias(aws):
    ana = new_agent("Ana")
    agent = Socket(ana)
    visitor = Socket(new_visitor("Vera"))
    seen = [start_chat(visitor)]
    chat_id = seen[0]["chat_id"]
    visitor.clear()
    agent.send({"action": "typing", "chat_id": chat_id, "typing": True})
    agent.send({"action": "send", "chat_id": chat_id, "client_msg_id": "r1", "text": "Hi, Ana here"})
    seen += visitor.frames()
    seen += visitor.send({"action": "hello"})
    seen += visitor.send({"action": "resume", "chat_id": chat_id, "after_seq": 0})
    seen += visitor.send({"action": "rate", "chat_id": chat_id, "rating": "good"})
    agent.send({"action": "close", "chat_id": chat_id})
    seen += visitor.frames()
    assert ana.id not in json.dumps(seen)
    # The widget can still tell agents apart: one alias for Ana throughout the chat.
    [message] = [f["message"] for f in seen if f.get("type") == "message" and f["message"]["sender"] == "agent"]
    [welcome] = [f for f in seen if f.get("type") == "welcome"]
    assert welcome["chats"][0]["agents"] == [{"id": message["sender_id"], "name": "Ana"}]
    assert welcome["chats"][0]["assignee_id"] == message["sender_id"] and message["sender_name"] == "Ana"
    # The agent's own console still gets the real ids.
    assert agent.send({"action": "hello"})[0]["me"]["id"] == ana.id
    assert agent.send({"action": "resume", "chat_id": chat_id, "after_seq": 0})[0]["messages"][0]["sender_id"] == ana.id
