"""Messages: stored before fan-out, gapless seqs, idempotent retries, lossless resume."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import time_machine

from functions.chat import messages
from functions.models import Message
from functions.realtime import push
from tests.support.actors import Socket, new_agent, new_visitor, start_chat


@pytest.fixture
def chat(aws):
    agent = Socket(new_agent("Ana"))
    visitor = Socket(new_visitor("Vera"))
    chat = start_chat(visitor)
    agent.clear()
    return visitor, agent, chat["chat_id"]


def test_message_reaches_the_agent_with_its_seq(chat):
    visitor, agent, chat_id = chat
    replies = visitor.send({"action": "send", "chat_id": chat_id, "client_msg_id": "m1", "text": "Hola"})
    ack = next(f for f in replies if f["type"] == "ack")
    delivered = agent.of_type("message")
    assert ack["seq"] == 1 and ack["duplicate"] is False
    assert [(m["message"]["seq"], m["message"]["text"], m["message"]["sender"]) for m in delivered] == [
        (1, "Hola", "visitor")
    ]


def test_agent_reply_reaches_the_visitor(chat):
    visitor, agent, chat_id = chat
    agent.send({"action": "send", "chat_id": chat_id, "client_msg_id": "r1", "text": "Hi, Ana here"})
    assert [m["message"]["text"] for m in visitor.of_type("message")] == ["Hi, Ana here"]


def test_message_is_stored_before_it_is_fanned_out(chat, monkeypatch):
    visitor, _agent, chat_id = chat
    stored_at_send_time = []
    real_send_many = push.send_many

    def spy(ids, frame):
        if frame.get("type") == "message":
            seq = frame["message"]["seq"]
            stored_at_send_time.append(Message.get(chat_id, seq, consistent_read=True).text)
        return real_send_many(ids, frame)

    monkeypatch.setattr(push, "send_many", spy)
    visitor.send({"action": "send", "chat_id": chat_id, "client_msg_id": "m1", "text": "stored first"})
    assert stored_at_send_time == ["stored first"]


def test_seqs_are_strictly_increasing_without_gaps(chat):
    visitor, agent, chat_id = chat
    for i in range(5):
        sender = visitor if i % 2 == 0 else agent
        sender.send({"action": "send", "chat_id": chat_id, "client_msg_id": f"m{i}", "text": f"t{i}"})
    assert [m.seq for m in Message.query(chat_id)] == [1, 2, 3, 4, 5]


def test_a_retried_send_is_stored_once_and_acked_with_the_original_seq(chat):
    visitor, agent, chat_id = chat
    frame = {"action": "send", "chat_id": chat_id, "client_msg_id": "same", "text": "once"}
    first = next(f for f in visitor.send(frame) if f["type"] == "ack")
    agent.clear()
    again = next(f for f in visitor.send(frame) if f["type"] == "ack")
    assert (first["seq"], again["seq"], again["duplicate"]) == (1, 1, True)
    assert [m.text for m in Message.query(chat_id)] == ["once"]
    assert agent.of_type("message") == []


def test_text_over_the_limit_is_refused_and_nothing_is_stored(chat):
    visitor, _agent, chat_id = chat
    frames = visitor.send({"action": "send", "chat_id": chat_id, "client_msg_id": "big", "text": "x" * 4001})
    assert [f["code"] for f in frames if f["type"] == "error"] == ["too_long"]
    assert list(Message.query(chat_id)) == []
    ok = visitor.send({"action": "send", "chat_id": chat_id, "client_msg_id": "ok", "text": "x" * 4000})
    assert [f["seq"] for f in ok if f["type"] == "ack"] == [1]


def test_resume_returns_everything_after_a_seq_in_pages(chat):
    visitor, _agent, chat_id = chat
    for i in range(130):
        visitor.send({"action": "send", "chat_id": chat_id, "client_msg_id": f"m{i}", "text": f"t{i}"})
    seen, after = [], 5
    while after is not None:
        page = visitor.send({"action": "resume", "chat_id": chat_id, "after_seq": after})[0]
        seen += [m["seq"] for m in page["messages"]]
        after = page["next_after"]
    assert seen == list(range(6, 131))


def test_a_closed_chat_takes_no_more_messages(chat):
    visitor, _agent, chat_id = chat
    visitor.send({"action": "close", "chat_id": chat_id})
    frames = visitor.send({"action": "send", "chat_id": chat_id, "client_msg_id": "late", "text": "hello?"})
    assert [f["code"] for f in frames if f["type"] == "error"] == ["conflict"]


def test_a_resume_page_stays_under_api_gateways_128_kb_post_limit(chat):
    visitor, _agent, chat_id = chat
    for i in range(40):
        visitor.send({"action": "send", "chat_id": chat_id, "client_msg_id": f"m{i}", "text": "ñ" * 4000})
    seen, after, sizes = [], 0, []
    while after is not None:
        frames = visitor.send({"action": "resume", "chat_id": chat_id, "after_seq": after})
        sizes.append(len(json.dumps(frames[0], ensure_ascii=False).encode()))
        seen += [m["seq"] for m in frames[0]["messages"]]
        after = frames[0]["next_after"]
    assert seen == list(range(1, 41))
    assert max(sizes) < 128 * 1024 and len(sizes) > 1


def _say(socket: Socket, chat_id: str, client_msg_id: str) -> list[tuple[str, str | None]]:
    replies = socket.send({"action": "send", "chat_id": chat_id, "client_msg_id": client_msg_id, "text": "x"})
    return [(f["type"], f.get("code")) for f in replies]


def test_a_visitor_flooding_from_many_tabs_is_slowed_and_other_visitors_are_not(chat, monkeypatch):
    monkeypatch.setattr(messages, "VISITOR_LIMIT", 30)
    visitor, agent, chat_id = chat
    tabs = [visitor] + [Socket(visitor.principal) for _ in range(2)]  # each tab is under its own limit
    other = Socket(new_visitor("Bea"))
    other_chat = start_chat(other)["chat_id"]
    with time_machine.travel(datetime(2026, 11, 22, 12, 0, 1, tzinfo=UTC), tick=False):
        for i in range(30):
            assert _say(tabs[i % 3], chat_id, f"m{i}") == [("ack", None)]
        refused = tabs[0].send({"action": "send", "chat_id": chat_id, "client_msg_id": "over", "text": "x"})
        assert [(f["code"], f["retriable"]) for f in refused if f["type"] == "error"] == [("rate_limited", True)]
        assert [m.seq for m in Message.query(chat_id)][-1] == 30  # nothing stored for the refused one
        assert _say(agent, chat_id, "a") == [("ack", None)]  # the agent still answers
        assert _say(other, other_chat, "b") == [("ack", None)]  # and another visitor still writes
    # The next window starts afresh, and the refused message, sent again, is stored once.
    with time_machine.travel(datetime(2026, 11, 22, 12, 0, 11, tzinfo=UTC), tick=False):
        assert _say(tabs[1], chat_id, "over") == [("ack", None)]
        assert _say(tabs[2], chat_id, "over") == [("ack", None)]
    assert [m.client_msg_id for m in Message.query(chat_id)].count("over") == 1
