"""The scheduled functions through the local stack: real sockets, the real scheduler, moto's SES.

Time is moved with time-machine, which also moves the stack's threads, as the sweep would see it
minutes later.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from functions.core import settings
from functions.team import agents
from infra.local.stack import LocalStack
from tests.support import outbox, ws_client
from tests.support.accounts import PASSWORD


@pytest.fixture
def stack():
    with LocalStack(port=0, ses_production_access=True) as running:
        agents.set_accepting(running.demo_agent_id, False)
        yield running
        ws_client.close_all()


def _chat(stack, agent_name: str):
    email = f"{agent_name.lower()}@charla.local"
    stack.create_agent(email, PASSWORD, agent_name)
    agent = ws_client.agent(stack, email, PASSWORD)
    visitor = ws_client.visitor(stack)
    visitor.send({"action": "start_chat"})
    chat = visitor.wait_for("chat")["chat"]
    return agent, visitor, chat


def test_an_unanswered_chat_moves_on_through_the_stack(stack):
    ana, visitor, chat = _chat(stack, "Ana")
    ben_id = stack.create_agent("ben@charla.local", PASSWORD, "Ben")
    ben = ws_client.agent(stack, "ben@charla.local", PASSWORD)
    with time_machine.travel(timedelta(seconds=130)):
        result = stack.run_schedule("sweep")
    assert result["unanswered_chats"] == 1
    moved = lambda frame: frame["chat"]["assignee_id"] == ben_id  # noqa: E731
    assert ana.wait_for("chat", moved)
    note = ben.wait_for("message")["message"]["text"]  # the line comes first, then the chat
    assert note == "Ana did not answer within 120 s and no longer gets new chats; Ben takes over."
    assert ben.wait_for("chat", moved)
    # The routing line is the agents': the visitor gets its seq alone, and sees Ben.
    assert visitor.wait_for("message")["message"]["kind"] == "hidden"
    assert visitor.wait_for("chat", lambda f: [a["name"] for a in f["chat"]["agents"]] == ["Ben"])


def test_a_long_queue_wait_offers_the_offline_form_through_the_stack(stack):
    settings.save_settings({"max_chats_per_agent": 1})
    _ana, _first, _chat_ = _chat(stack, "Ana")
    waiting = ws_client.visitor(stack)
    waiting.send({"action": "start_chat"})
    chat = waiting.wait_for("chat")["chat"]
    assert chat["status"] == "queued"
    with time_machine.travel(timedelta(minutes=6)):
        stack.run_schedule("sweep")
    assert waiting.wait_for("offer_offline")["chat_id"] == chat["chat_id"]


def test_an_idle_chat_closes_through_the_stack(stack):
    ana, visitor, chat = _chat(stack, "Ana")
    with time_machine.travel(timedelta(minutes=31)):
        ana.send({"action": "ping"})
        visitor.send({"action": "ping"})
        ana.wait_for("pong")
        visitor.wait_for("pong")
        assert stack.run_schedule("sweep")["idle_chats"] == 1
    assert visitor.wait_for("chat", lambda frame: frame["chat"]["status"] == "closed")


def test_a_silent_connection_is_removed_through_the_stack(stack):
    _ana, visitor, _chat_ = _chat(stack, "Ana")
    with time_machine.travel(timedelta(minutes=12)):
        assert stack.run_schedule("sweep")["stale_connections"] >= 2


def test_the_daily_summary_mail_shows_in_the_outbox(stack):
    settings.save_settings({"summary_hour": 9, "summary_timezone": "UTC"})
    ana, visitor, chat = _chat(stack, "Ana")
    ana.send({"action": "send", "chat_id": chat["chat_id"], "client_msg_id": "a1", "text": "Hello!"})
    ana.wait_for("ack")
    ana.send({"action": "close", "chat_id": chat["chat_id"]})
    visitor.wait_for("chat", lambda frame: frame["chat"]["status"] == "closed")
    tomorrow_nine = datetime.now(UTC).replace(hour=9, minute=5) + timedelta(days=1)
    with time_machine.travel(tomorrow_nine):
        assert stack.run_schedule("daily_summary") == {"sent": 2}  # Ana and the demo admin
    ana_mail = [m for m in outbox.of_stack(stack) if "ana@charla.local" in json.dumps(m)]
    assert ana_mail and "Chats handled:          1" in json.dumps(ana_mail[-1])
