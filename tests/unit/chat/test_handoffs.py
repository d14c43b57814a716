"""Transfer and invite: the transcript carries over, everyone is told, counts stay true."""

from __future__ import annotations

import pytest

from functions.chat import transcripts
from functions.models import Agent, Chat, Message
from functions.visitors import data_requests
from tests.support import desk
from tests.support.actors import Socket, new_agent, new_visitor, start_chat


def _errors(frames):
    return [f["code"] for f in frames if f["type"] == "error"]


@pytest.fixture
def chat(aws):
    ana, ben = new_agent("Ana"), new_agent("Ben", accepting=False)
    ana_socket, ben_socket = Socket(ana), Socket(ben)
    visitor = Socket(new_visitor("Vera"))
    chat_id = start_chat(visitor)["chat_id"]
    visitor.send({"action": "send", "chat_id": chat_id, "client_msg_id": "m1", "text": "my order is late"})
    return visitor, ana_socket, ben_socket, chat_id


def test_a_transfer_hands_the_chat_and_its_transcript_to_the_new_agent(chat):
    visitor, ana, ben, chat_id = chat
    ben.clear()
    visitor.clear()
    ana.send({"action": "transfer", "chat_id": chat_id, "to_agent_id": ben.principal.id})
    stored = Chat.get(chat_id)
    assert (stored.assignee_id, stored.agent_ids) == (ben.principal.id, {ben.principal.id})
    assert stored.agent_conns == {ben.connection_id}
    # Everyone hears of it: the visitor (who now talks to Ben, and no more), the new agent and the previous one.
    notice = "Ana transferred the chat to Ben."
    assert [a["name"] for a in visitor.of_type("chat")[-1]["chat"]["agents"]] == ["Ben"]
    assert "transferred" not in str(visitor.frames())
    assert visitor.send({"action": "resume", "chat_id": chat_id, "after_seq": 0})[0]["messages"][-1] == {
        "seq": 2,
        "chat_id": chat_id,
        "kind": "hidden",
        "sender": "system",
        "ts": Message.get(chat_id, 2).ts,
    }
    assert ben.of_type("chat")[-1]["chat"]["assignee_id"] == ben.principal.id
    assert ana.of_type("chat")[-1]["chat"]["assignee_id"] == ben.principal.id
    page = ben.send({"action": "resume", "chat_id": chat_id, "after_seq": 0})[0]
    assert [m["text"] for m in page["messages"]] == ["my order is late", notice]
    assert (Agent.get(ana.principal.id).active_count, Agent.get(ben.principal.id).active_count) == (0, 1)


def test_after_a_transfer_the_previous_agent_can_no_longer_write(chat):
    _visitor, ana, ben, chat_id = chat
    ana.send({"action": "transfer", "chat_id": chat_id, "to_agent_id": ben.principal.id})
    frames = ana.send({"action": "send", "chat_id": chat_id, "client_msg_id": "late", "text": "still me"})
    assert _errors(frames) == ["not_found"]


def test_a_transfer_to_an_offline_agent_is_refused(chat):
    _visitor, ana, _ben, chat_id = chat
    away = new_agent("Away")
    frames = ana.send({"action": "transfer", "chat_id": chat_id, "to_agent_id": away.id})
    assert _errors(frames) == ["conflict"] and "Away is not online" in frames[0]["message"]
    assert Chat.get(chat_id).assignee_id == ana.principal.id


def test_only_a_participant_can_transfer(chat):
    _visitor, _ana, ben, chat_id = chat
    frames = ben.send({"action": "transfer", "chat_id": chat_id, "to_agent_id": ben.principal.id})
    assert _errors(frames) == ["bad_request"] or _errors(frames) == ["not_found"]
    cleo = Socket(new_agent("Cleo", accepting=False))
    frames = cleo.send({"action": "transfer", "chat_id": chat_id, "to_agent_id": ben.principal.id})
    assert _errors(frames) == ["not_found"]


def test_an_invited_agent_who_accepts_joins_and_both_agents_get_messages(chat):
    visitor, ana, ben, chat_id = chat
    ben.clear()
    ana.send({"action": "invite", "chat_id": chat_id, "agent_id": ben.principal.id})
    invitation = ben.of_type("invitation")
    assert [(i["chat_id"], i["from"]["name"]) for i in invitation] == [(chat_id, "Ana")]
    assert [c["chat_id"] for c in ben.send({"action": "hello"})[0]["invitations"]] == [chat_id]
    ben.send({"action": "invite_reply", "chat_id": chat_id, "accept": True})
    assert Chat.get(chat_id).agent_ids == {ana.principal.id, ben.principal.id}
    ana.clear()
    ben.clear()
    visitor.send({"action": "send", "chat_id": chat_id, "client_msg_id": "m2", "text": "thanks both"})
    assert [f["message"]["text"] for f in ana.of_type("message")] == ["thanks both"]
    assert [f["message"]["text"] for f in ben.of_type("message")] == ["thanks both"]
    ben.send({"action": "send", "chat_id": chat_id, "client_msg_id": "b1", "text": "Ben here"})
    assert [f["message"]["sender_name"] for f in visitor.of_type("message")][-1] == "Ben"


def test_a_declined_invitation_changes_nothing_and_cannot_be_accepted_later(chat):
    _visitor, ana, ben, chat_id = chat
    ana.send({"action": "invite", "chat_id": chat_id, "agent_id": ben.principal.id})
    ben.send({"action": "invite_reply", "chat_id": chat_id, "accept": False})
    frames = ben.send({"action": "invite_reply", "chat_id": chat_id, "accept": True})
    assert _errors(frames) == ["conflict"]
    assert Chat.get(chat_id).agent_ids == {ana.principal.id}


def test_an_uninvited_agent_cannot_join_by_replying(chat):
    _visitor, _ana, ben, chat_id = chat
    frames = ben.send({"action": "invite_reply", "chat_id": chat_id, "accept": True})
    assert _errors(frames) == ["conflict"]
    assert ben.principal.id not in Chat.get(chat_id).agent_ids


def test_a_routing_line_stays_out_of_everything_the_visitor_can_read(chat, monkeypatch):
    visitor, ana, ben, chat_id = chat
    desk.prepare(monkeypatch)  # the data export lists the chat's files in the attachments bucket
    ana.send({"action": "transfer", "chat_id": chat_id, "to_agent_id": ben.principal.id})
    stored = Chat.get(chat_id)
    assert "transferred" not in transcripts.render(stored)  # the transcript mailed to the visitor
    exported = data_requests.export(visitor.principal.id)  # the visitor's own data export
    assert "transferred" not in str(exported)
    # The agents keep it in the chat's history.
    page = ben.send({"action": "resume", "chat_id": chat_id, "after_seq": 0})[0]
    assert page["messages"][-1]["text"] == "Ana transferred the chat to Ben."
    assert page["messages"][-1]["audience"] == "agents"
