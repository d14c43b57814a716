"""Fan-out: a connection API Gateway calls Gone is forgotten, and everyone else is still served."""

from __future__ import annotations

import pytest

from functions.models import Agent, Chat, Connection, Message
from functions.realtime import push
from tests.support.actors import Socket, new_agent, new_visitor, start_chat


def test_a_gone_recipient_is_removed_and_the_others_still_get_the_message(aws, gone):
    agent = new_agent("Ana")
    desk, laptop = Socket(agent), Socket(agent)
    visitor = Socket(new_visitor())
    chat_id = start_chat(visitor)["chat_id"]
    gone.add(laptop.connection_id)
    desk.clear()
    frames = visitor.send({"action": "send", "chat_id": chat_id, "client_msg_id": "m", "text": "anyone?"})
    assert [f["type"] for f in frames] == ["ack"]
    assert [f["message"]["text"] for f in desk.of_type("message")] == ["anyone?"]
    assert Chat.get(chat_id).agent_conns == {desk.connection_id}
    with pytest.raises(Connection.DoesNotExist):
        Connection.get(laptop.connection_id)
    assert Agent.get(agent.id).online_conns == 1
    assert [m.text for m in Message.query(chat_id)] == ["anyone?"]


def test_when_the_only_agent_connection_is_gone_the_agent_stops_being_offered_chats(aws, gone):
    agent = new_agent("Ana")
    socket = Socket(agent)
    visitor = Socket(new_visitor())
    chat_id = start_chat(visitor)["chat_id"]
    gone.add(socket.connection_id)
    visitor.send({"action": "send", "chat_id": chat_id, "client_msg_id": "m", "text": "hello"})
    stored = Agent.get(agent.id)
    assert (stored.online_conns, stored.routable_pk) == (0, None)
    newcomer = Socket(new_visitor())
    assert [f.get("code") for f in newcomer.send({"action": "start_chat"})] == ["offline"]


def test_send_many_returns_only_the_gone_connections(aws, gone):
    gone.add("dead=")
    assert push.send_many(["a=", "dead=", "b="], {"type": "pong"}) == ["dead="]


def test_a_socket_still_opening_is_not_forgotten_when_api_gateway_calls_it_gone(aws, gone):
    # API Gateway refuses posts to a socket whose $connect hasn't finished; that socket is new, not dead.
    agent = new_agent("Ana")
    desk = Socket(agent)
    visitor = Socket(new_visitor())
    chat_id = start_chat(visitor)["chat_id"]
    opening = Socket(agent)
    set.add(gone, opening.connection_id)  # Gone, but opened just now: not aged like a dead socket
    visitor.send({"action": "send", "chat_id": chat_id, "client_msg_id": "m", "text": "hello"})
    assert Connection.get(opening.connection_id)  # kept: it recovers the message with resume
    assert opening.connection_id in Chat.get(chat_id).agent_conns
    assert Agent.get(agent.id).online_conns == 2
    assert [f["message"]["text"] for f in desk.of_type("message")] == ["hello"]
