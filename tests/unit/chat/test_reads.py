"""Read positions: an agent's unread state per chat is kept on the server, moves only forward, and is
told to their other tabs and to the next `welcome`."""

from __future__ import annotations

import pytest

from functions.models import ReadMark
from tests.support.actors import Socket, new_agent, new_visitor, start_chat


def _errors(frames):
    return [f["code"] for f in frames if f["type"] == "error"]


def _welcome_chat(socket: Socket, chat_id: str) -> dict:
    welcome = socket.send({"action": "hello"})[0]
    return next(c for c in welcome["chats"] if c["chat_id"] == chat_id)


@pytest.fixture
def chat(aws):
    ana = new_agent("Ana")
    tab, phone = Socket(ana), Socket(ana)
    visitor = Socket(new_visitor("Vera"))
    chat_id = start_chat(visitor)["chat_id"]
    for n in range(1, 4):
        visitor.send({"action": "send", "chat_id": chat_id, "client_msg_id": f"m{n}", "text": f"line {n}"})
    return visitor, tab, phone, chat_id


def test_a_read_position_is_in_the_next_welcome_and_reaches_the_agents_other_tabs(chat):
    _visitor, tab, phone, chat_id = chat
    assert "read_seq" not in _welcome_chat(tab, chat_id)
    phone.clear()
    tab.clear()
    assert tab.send({"action": "read", "chat_id": chat_id, "seq": 2}) == []
    assert phone.of_type("read") == [{"type": "read", "chat_id": chat_id, "seq": 2}]
    assert _welcome_chat(phone, chat_id)["read_seq"] == 2


def test_a_read_position_never_moves_back_nor_past_the_last_message(chat):
    _visitor, tab, phone, chat_id = chat
    tab.send({"action": "read", "chat_id": chat_id, "seq": 3})
    phone.clear()
    tab.send({"action": "read", "chat_id": chat_id, "seq": 1})  # a slower tab reporting late
    assert phone.of_type("read") == []
    assert ReadMark.get(tab.principal.id, chat_id).seq == 3
    tab.send({"action": "read", "chat_id": chat_id, "seq": 10_000})
    assert ReadMark.get(tab.principal.id, chat_id).seq == 3


@pytest.mark.parametrize("seq", [-1, "2", 1.5, True, None, 2**60])
def test_a_bad_seq_is_refused_naming_the_field(chat, seq):
    _visitor, tab, _phone, chat_id = chat
    frames = tab.send({"action": "read", "chat_id": chat_id, "seq": seq})
    assert _errors(frames) == ["bad_request"] and "`seq`" in frames[0]["message"]


def test_only_agents_keep_read_positions_and_only_for_chats_that_exist(chat):
    visitor, tab, _phone, chat_id = chat
    assert _errors(visitor.send({"action": "read", "chat_id": chat_id, "seq": 1})) == ["forbidden"]
    assert _errors(tab.send({"action": "read", "chat_id": "no-such-chat", "seq": 1})) == ["not_found"]
    assert _errors(tab.send({"action": "read", "chat_id": "x" * 5000, "seq": 1})) == ["not_found"]
    assert _errors(tab.send({"action": "read", "chat_id": 7, "seq": 1})) == ["bad_request"]
    assert ReadMark.count(tab.principal.id) == 0


def test_each_agent_has_their_own_position(chat):
    _visitor, tab, _phone, chat_id = chat
    other = Socket(new_agent("Ben", accepting=False))
    tab.send({"action": "read", "chat_id": chat_id, "seq": 3})
    other.send({"action": "read", "chat_id": chat_id, "seq": 1})
    assert ReadMark.get(tab.principal.id, chat_id).seq == 3
    assert ReadMark.get(other.principal.id, chat_id).seq == 1
