"""Visitor presence in a chat: agents hear the visitor left and came back; a chat whose visitor stayed
away closes after the admin's timeout and frees its agent's slot; the unanswered sweep leaves it alone."""

from __future__ import annotations

from datetime import timedelta

import time_machine

import app as charla
from functions.core import settings
from functions.models import Agent, Chat, Message
from infra.local.events import scheduled_event
from tests.support.actors import Socket, new_agent, new_visitor, start_chat

SCHEDULED_EVENT = scheduled_event("charla-dev-sweep", "us-east-1")


def sweep(after: timedelta) -> dict[str, int]:
    with time_machine.travel(after):
        return charla.sweep(SCHEDULED_EVENT, None)


def _chat() -> tuple[Socket, Socket, dict]:
    agent = Socket(new_agent("Ana"))
    visitor = Socket(new_visitor("Vera"))
    chat = start_chat(visitor)
    agent.send({"action": "send", "chat_id": chat["chat_id"], "client_msg_id": "hi", "text": "Hi, Vera!"})
    return agent, visitor, chat


def test_agents_hear_the_visitor_leave_and_come_back_to_the_chat_as_it_was(aws):
    agent, visitor, chat = _chat()
    agent.clear()
    visitor.close()
    left = agent.of_type("chat")[-1]["chat"]
    assert left["chat_id"] == chat["chat_id"] and left["visitor_left_at"]
    assert left["status"] == "active"

    agent.clear()
    back = Socket(visitor.principal)  # the visitor reopens the page
    assert agent.of_type("chat")[-1]["chat"]["visitor_left_at"] is None
    welcome = next(f for f in back.send({"action": "hello"}) if f["type"] == "welcome")
    assert [(c["chat_id"], c["status"]) for c in welcome["chats"]] == [(chat["chat_id"], "active")]
    assert Chat.get(chat["chat_id"]).visitor_conns == {back.connection_id}


def test_one_tab_closing_while_another_is_open_is_not_leaving(aws):
    agent, visitor, chat = _chat()
    second_tab = Socket(visitor.principal)
    agent.clear()
    visitor.close()
    assert agent.of_type("chat") == []
    assert Chat.get(chat["chat_id"]).visitor_left_at is None
    second_tab.close()
    assert Chat.get(chat["chat_id"]).visitor_left_at is not None


def test_a_chat_whose_visitor_stayed_away_closes_after_the_admins_timeout_and_frees_the_slot(aws):
    settings.save_settings({"max_chats_per_agent": 1, "visitor_left_timeout_min": 5})
    agent, visitor, chat = _chat()
    waiting = start_chat(Socket(new_visitor("Next")))
    assert waiting["status"] == "queued"
    visitor.close()
    assert sweep(timedelta(minutes=4))["abandoned_chats"] == 0  # not yet
    assert sweep(timedelta(minutes=6))["abandoned_chats"] == 1
    closed = Chat.get(chat["chat_id"])
    assert (closed.status, closed.closed_by) == ("closed", "system")
    assert [m.text for m in Message.query(chat["chat_id"])][-1] == (
        "The visitor left; the chat closed after 5 minutes without them."
    )
    # The slot went to the visitor who was waiting.
    assert Chat.get(waiting["chat_id"]).assignee_id == agent.principal.id
    assert Agent.get(agent.principal.id).active_count == 1


def test_a_visitor_back_within_the_timeout_keeps_the_chat(aws):
    settings.save_settings({"visitor_left_timeout_min": 5})
    _agent, visitor, chat = _chat()
    visitor.close()
    with time_machine.travel(timedelta(minutes=3)):
        Socket(visitor.principal)
    assert sweep(timedelta(minutes=10))["abandoned_chats"] == 0
    assert Chat.get(chat["chat_id"]).status == "active"


def test_the_unanswered_sweep_never_hands_an_abandoned_chat_to_another_agent(aws):
    ana = Socket(new_agent("Ana"))
    visitor = Socket(new_visitor("Vera"))
    chat_id = start_chat(visitor)["chat_id"]
    visitor.send({"action": "send", "chat_id": chat_id, "client_msg_id": "q", "text": "hello?"})
    visitor.close()
    Socket(new_agent("Ben"))
    assert sweep(timedelta(seconds=130))["unanswered_chats"] == 0
    assert Chat.get(chat_id).assignee_id == ana.principal.id
    assert Agent.get(ana.principal.id).accepting is True  # nobody to answer: not a missed chat


def test_a_visitor_whose_socket_died_without_a_disconnect_is_gone_once_the_sweep_finds_it_silent(aws):
    agent, visitor, chat = _chat()
    with time_machine.travel(timedelta(minutes=10)):
        agent.send({"action": "ping"})  # the agent's socket stays alive; the visitor's goes quiet
    agent.clear()
    # No $disconnect ever arrives (a phone that lost its network): the connection just stops pinging.
    assert sweep(timedelta(minutes=12))["stale_connections"] == 1
    left = agent.of_type("chat")[-1]["chat"]
    assert left["chat_id"] == chat["chat_id"] and left["visitor_left_at"]
    stored = Chat.get(chat["chat_id"])
    assert stored.visitor_conns is None and stored.visitor_left_at is not None
