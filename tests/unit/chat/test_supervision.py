"""Supervision: an admin watches a chat silently, whispers, and joins; whispers never reach the visitor."""

from __future__ import annotations

import json

import pytest

from functions.admin import webhooks
from functions.core import aws as charla_aws
from functions.models import Agent, Chat, Connection, Message
from functions.team import revocation
from functions.visitors import data_requests
from infra.local import queues
from tests.support import desk, outbox
from tests.support.actors import Socket, new_agent, new_visitor, start_chat
from tests.unit.test_app import _json, _post, _visitor_headers


def _errors(frames):
    return [f["code"] for f in frames if f["type"] == "error"]


def _messages(frames):
    return [f["message"] for f in frames if f["type"] == "message"]


@pytest.fixture
def chat(aws):
    """Vera chatting with Ana; Boss, an admin, online and in no chat."""
    ana = Socket(new_agent("Ana"))
    boss = Socket(new_agent("Boss", accepting=False, role="admin"))
    visitor = Socket(new_visitor("Vera"))
    chat_id = start_chat(visitor, email="vera@example.com")["chat_id"]
    visitor.send({"action": "send", "chat_id": chat_id, "client_msg_id": "m1", "text": "my order is late"})
    for socket in (ana, boss, visitor):
        socket.clear()
    return visitor, ana, boss, chat_id


def _supervise(boss, chat_id):
    frames = boss.send({"action": "supervise", "chat_id": chat_id})
    assert [f["type"] for f in frames] == ["supervising"], frames
    return frames[0]


def test_an_admin_watches_a_chat_live_without_the_visitor_being_told(chat):
    visitor, ana, boss, chat_id = chat
    answer = _supervise(boss, chat_id)
    assert answer["chat"]["chat_id"] == chat_id
    assert [a["name"] for a in answer["chat"]["agents"]] == ["Ana"]  # the admin is not a participant
    assert visitor.frames() == [] and ana.frames() == []
    # The history, as any agent reads it.
    history = boss.send({"action": "resume", "chat_id": chat_id, "after_seq": 0})[0]
    assert [m["text"] for m in history["messages"]] == ["my order is late"]
    # What happens next arrives as it happens: messages both ways, typing with sneak peek.
    visitor.send({"action": "typing", "chat_id": chat_id, "typing": True, "draft": "where is"})
    typing = boss.of_type("typing")[-1]
    assert (typing["from"], typing["draft"]) == ("visitor", "where is")
    visitor.send({"action": "send", "chat_id": chat_id, "client_msg_id": "m2", "text": "where is it?"})
    ana.send({"action": "typing", "chat_id": chat_id, "typing": True})
    assert boss.of_type("typing")[-1]["from"] == "agent"
    ana.send({"action": "send", "chat_id": chat_id, "client_msg_id": "a1", "text": "Checking now"})
    assert [m["text"] for m in _messages(boss.frames())] == ["where is it?", "Checking now"]
    # Nothing the visitor gets names or counts the admin.
    assert "Boss" not in json.dumps(visitor.frames())
    assert "Boss" not in json.dumps(visitor.send({"action": "hello"}))


def test_a_visitor_message_to_a_watched_chat_still_costs_three_dynamodb_calls(chat):
    visitor, _ana, boss, chat_id = chat
    _supervise(boss, chat_id)
    calls: list[str] = []
    charla_aws.dynamodb_connection().client.meta.events.register(
        "before-call.dynamodb", lambda model, **_: calls.append(model.name)
    )
    visitor.send({"action": "send", "chat_id": chat_id, "client_msg_id": "m2", "text": "still there?"})
    assert len(calls) <= 3, calls
    assert [m["text"] for m in _messages(boss.frames())] == ["still there?"]


def test_supervising_ends_when_the_admin_stops_or_disconnects(chat):
    visitor, _ana, boss, chat_id = chat
    _supervise(boss, chat_id)
    assert boss.send({"action": "unsupervise", "chat_id": chat_id}) == [{"type": "unsupervised", "chat_id": chat_id}]
    visitor.send({"action": "send", "chat_id": chat_id, "client_msg_id": "m2", "text": "hello?"})
    assert _messages(boss.frames()) == []
    assert not Chat.get(chat_id).supervisor_conns
    _supervise(boss, chat_id)
    assert Chat.get(chat_id).supervisor_conns == {boss.connection_id}
    boss.close()
    assert not Chat.get(chat_id).supervisor_conns


def test_a_supervising_socket_that_died_is_forgotten_by_the_next_message(chat, gone):
    visitor, ana, boss, chat_id = chat
    _supervise(boss, chat_id)
    gone.add(boss.connection_id)
    visitor.send({"action": "send", "chat_id": chat_id, "client_msg_id": "m2", "text": "anyone?"})
    assert not Chat.get(chat_id).supervisor_conns
    assert [m["text"] for m in _messages(ana.frames())] == ["anyone?"]


def test_watching_another_chat_on_the_same_tab_leaves_the_first(chat):
    _visitor, _ana, boss, chat_id = chat
    _supervise(boss, chat_id)
    other_visitor = Socket(new_visitor("Otto"))
    other = start_chat(other_visitor)["chat_id"]
    _supervise(boss, other)
    assert not Chat.get(chat_id).supervisor_conns
    assert Chat.get(other).supervisor_conns == {boss.connection_id}
    assert Connection.get(boss.connection_id).supervising == other


def test_only_admins_supervise(chat):
    visitor, ana, _boss, chat_id = chat
    cleo = Socket(new_agent("Cleo"))
    for socket in (cleo, ana, visitor):
        assert _errors(socket.send({"action": "supervise", "chat_id": chat_id})) == ["forbidden"]
    assert not Chat.get(chat_id).supervisor_conns


def test_a_demoted_admin_loses_supervision_at_once(chat):
    visitor, _ana, boss, chat_id = chat
    _supervise(boss, chat_id)
    # A demotion: the role and access version move in one write, and the admin's sockets close.
    Agent(boss.principal.id).update(actions=[Agent.role.set("agent"), Agent.access_version.add(1)])
    revocation.role_changed(boss.principal.id)
    assert not Chat.get(chat_id).supervisor_conns
    boss.clear()
    visitor.send({"action": "send", "chat_id": chat_id, "client_msg_id": "m2", "text": "secret"})
    assert _messages(boss.frames()) == []


def test_the_profile_decides_even_on_a_socket_opened_as_admin(chat):
    _visitor, _ana, boss, chat_id = chat
    _supervise(boss, chat_id)
    Agent(boss.principal.id).update(actions=[Agent.role.set("agent")])  # demoted, socket somehow still open
    assert _errors(boss.send({"action": "supervise", "chat_id": chat_id})) == ["forbidden"]
    assert _errors(_whisper(boss, chat_id, "still here?")) == ["forbidden"]
    assert _errors(boss.send({"action": "join", "chat_id": chat_id})) == ["forbidden"]
    assert Chat.get(chat_id).last_seq == 1 and boss.principal.id not in Chat.get(chat_id).agent_ids


def test_only_an_active_chat_is_supervised(chat):
    visitor, _ana, boss, chat_id = chat
    visitor.send({"action": "close", "chat_id": chat_id})
    assert _errors(boss.send({"action": "supervise", "chat_id": chat_id})) == ["conflict"]
    assert _errors(boss.send({"action": "supervise", "chat_id": "c_nope"})) == ["not_found"]
    assert _errors(boss.send({"action": "supervise", "chat_id": 5})) == ["bad_request"]


def _whisper(socket, chat_id, text, cid="w1"):
    return socket.send({"action": "whisper", "chat_id": chat_id, "client_msg_id": cid, "text": text})


def test_a_supervisor_whispers_to_the_agents_and_the_visitor_never_sees_it(chat):
    visitor, ana, boss, chat_id = chat
    _supervise(boss, chat_id)
    acked = _whisper(boss, chat_id, "Offer the refund")
    assert [f["type"] for f in acked] == ["ack"] and acked[0]["seq"] == 2
    told = _messages(ana.frames())
    assert told[0]["kind"] == "whisper" and told[0]["text"] == "Offer the refund"
    assert told[0]["audience"] == "agents" and told[0]["sender_name"] == "Boss"
    assert visitor.frames() == []
    # A retry is stored once.
    again = _whisper(boss, chat_id, "Offer the refund")
    assert again[0]["duplicate"] is True and again[0]["seq"] == 2
    assert Chat.get(chat_id).last_seq == 2
    # The agent whispers back, as a participant; the supervisor hears it.
    boss.clear()
    _whisper(ana, chat_id, "Will do", cid="w2")
    assert [m["text"] for m in _messages(boss.frames())] == ["Will do"]
    assert visitor.frames() == []
    # A whisper is not a reply: the chat still waits for one.
    assert Chat.get(chat_id).awaiting_reply_since is not None


def test_a_whisper_reaches_the_visitor_by_no_path(chat, api, monkeypatch):
    visitor, ana, boss, chat_id = chat
    desk.prepare(monkeypatch)  # the data export lists the chat's files in the attachments bucket
    url, _ = queues.ensure_queue(charla_aws.client("sqs"), "charla-test-webhooks")
    monkeypatch.setenv("WEBHOOK_QUEUE_URL", url)
    charla_aws.client("ses").verify_domain_identity(Domain="example.com")  # moto refuses unverified senders
    webhooks.create(boss.principal, {"url": "https://hooks.example.com/in", "events": list(webhooks.EVENTS)})
    _supervise(boss, chat_id)
    _whisper(boss, chat_id, "SECRET-WHISPER")
    _whisper(ana, chat_id, "SECRET-NOTE", cid="w2")
    ana.send({"action": "send", "chat_id": chat_id, "client_msg_id": "a1", "text": "Refund on its way"})
    # resume over the socket: the whispers are only their seqs.
    page = visitor.send({"action": "resume", "chat_id": chat_id, "after_seq": 0})[0]
    assert [m["kind"] for m in page["messages"]] == ["text", "hidden", "hidden", "text"]
    # webhooks: only the visible message was announced.
    sqs = charla_aws.client("sqs")
    bodies = [m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])]
    assert any("Refund on its way" in b for b in bodies)
    # the mailed transcript
    assert visitor.send({"action": "transcript", "chat_id": chat_id})[-1]["type"] == "transcript_sent"
    mailed = json.dumps(outbox.sent()[-1].body)
    assert "Refund on its way" in mailed
    # the visitor's data export
    exported = json.dumps(data_requests.export(visitor.principal.id))
    assert "Refund on its way" in exported and "supervisor" not in exported
    # the visitor's REST page (a visitor of this test's own identity)
    owner = _json(_post(api, "/visitor/identity"))
    from functions.core.principals import Principal

    own = Socket(Principal("visitor", owner["visitor_id"], "Olga"))
    own_chat = start_chat(own)["chat_id"]
    ana.send({"action": "accept", "chat_id": own_chat})
    _supervise(boss, own_chat)
    _whisper(boss, own_chat, "SECRET-REST", cid="w3")
    rest = _json(api.get(f"/visitor/chats/{own_chat}/messages?after=0", headers=_visitor_headers(owner)))
    assert [m["kind"] for m in rest["messages"]][-1] == "hidden"
    for text in (json.dumps(page), *bodies, mailed, exported, json.dumps(rest), json.dumps(visitor.frames())):
        assert "SECRET" not in text
    # The agents keep the whispers in the chat's history.
    history = ana.send({"action": "resume", "chat_id": chat_id, "after_seq": 0})[0]
    assert [m["text"] for m in history["messages"] if m["kind"] == "whisper"] == ["SECRET-WHISPER", "SECRET-NOTE"]
    assert Message.get(chat_id, 2).audience == "agents"


def test_who_may_whisper(chat):
    visitor, _ana, boss, chat_id = chat
    cleo = Socket(new_agent("Cleo"))
    assert _errors(_whisper(visitor, chat_id, "hi")) == ["forbidden"]
    assert _errors(_whisper(cleo, chat_id, "hi")) == ["not_found"]  # an agent outside the chat
    assert _errors(_whisper(boss, chat_id, "hi")) == ["not_found"]  # an admin not watching it
    assert _errors(_whisper(boss, chat_id, "", cid="w2")) == ["bad_request"]
    assert _errors(_whisper(boss, chat_id, "hi", cid="bad id!")) == ["bad_request"]
    assert Chat.get(chat_id).last_seq == 1


def test_the_supervising_admin_joins_and_the_visitor_sees_them_join(chat):
    visitor, ana, boss, chat_id = chat
    assert _errors(boss.send({"action": "join", "chat_id": chat_id})) == ["conflict"]  # not supervising
    _supervise(boss, chat_id)
    boss.send({"action": "join", "chat_id": chat_id})
    stored = Chat.get(chat_id)
    assert stored.agent_ids == {ana.principal.id, boss.principal.id}
    assert boss.connection_id in stored.agent_conns and not stored.supervisor_conns
    assert chat_id in Agent.get(boss.principal.id).chat_ids
    joined = _messages(visitor.frames())[-1]
    assert (joined["text"], joined["code"]) == ("Boss joined the chat.", "joined")
    assert [a["name"] for a in visitor.of_type("chat")[-1]["chat"]["agents"]] == ["Ana", "Boss"]
    assert _messages(ana.frames())[-1]["text"] == "Boss joined the chat."
    # Now a participant: Boss writes to the visitor.
    boss.send({"action": "send", "chat_id": chat_id, "client_msg_id": "b1", "text": "Hi Vera"})
    assert _messages(visitor.frames())[-1]["text"] == "Hi Vera"
    assert _errors(boss.send({"action": "join", "chat_id": chat_id})) == ["conflict"]


def test_a_spanish_visitor_sees_the_join_in_spanish(aws):
    Socket(new_agent("Ana"))
    boss = Socket(new_agent("Jefa", accepting=False, role="admin"))
    visitor = Socket(new_visitor("Vera"))
    chat_id = start_chat(visitor, context={"language": "es-ES"})["chat_id"]
    _supervise(boss, chat_id)
    visitor.clear()
    boss.send({"action": "join", "chat_id": chat_id})
    assert _messages(visitor.frames())[-1]["text"] == "Jefa se ha unido al chat."


def test_a_supervisor_sees_the_chat_end(chat):
    visitor, _ana, boss, chat_id = chat
    _supervise(boss, chat_id)
    visitor.send({"action": "close", "chat_id": chat_id})
    assert boss.of_type("chat")[-1]["chat"]["status"] == "closed"
    assert _messages(boss.frames())[-1]["text"] == "Vera closed the chat."
    assert _errors(_whisper(boss, chat_id, "too late")) == ["conflict"]


def test_an_admin_lists_the_active_chats_to_supervise_and_an_agent_cannot(aws, api, pool):
    from tests.support.admin import body, call, signed_in

    boss_token = signed_in(api, pool, "boss@example.com", "Boss", role="admin")
    ana_token = signed_in(api, pool, "ana@example.com", "Ana")
    Socket(new_agent("Cleo"))
    active = start_chat(Socket(new_visitor("Vera")))["chat_id"]
    leaving = Socket(new_visitor("Otto"))
    closed = start_chat(leaving)["chat_id"]
    leaving.send({"action": "close", "chat_id": closed})
    listed = body(call(api, "GET", "/admin/chats/active", boss_token))
    assert [c["chat_id"] for c in listed["chats"]] == [active]
    assert [a["name"] for a in listed["chats"][0]["agents"]] == ["Cleo"]
    assert call(api, "GET", "/admin/chats/active", ana_token).status_code == 403
