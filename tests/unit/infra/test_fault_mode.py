"""The fault mode's answers are shaped as AWS's: botocore's standard retry mode treats them as it treats
the real ones (retries throttling and 429/500, never a transaction conflict), and the app copes."""

from __future__ import annotations

import pytest

from functions.models import Chat, Message
from infra.local import faults as fault_mode
from tests.support import desk, outbox
from tests.support.actors import Socket, new_agent, new_visitor, start_chat


def _chat():
    agent = Socket(new_agent("Ana"))
    visitor = Socket(new_visitor("Vera"))
    chat_id = start_chat(visitor, email="vera@example.com")["chat_id"]
    agent.clear()
    visitor.clear()
    return visitor, agent, chat_id


@pytest.mark.parametrize("kind", ["post_429", "post_500"])
def test_a_post_answered_429_or_500_is_retried_by_botocore_and_delivered(faults, kind):
    visitor, agent, chat_id = _chat()
    faults.once(kind, operation="PostToConnection", times=2)

    visitor.send({"action": "send", "chat_id": chat_id, "client_msg_id": "m1", "text": "Hola"})

    assert [f["message"]["text"] for f in agent.of_type("message")] == ["Hola"]
    assert faults.injected[kind] == 2


def test_a_throttled_transcript_mail_is_retried_by_botocore_and_sent(faults, monkeypatch):
    desk.prepare(monkeypatch)
    visitor, _agent, chat_id = _chat()
    faults.once("ses_throttle", times=2)

    frames = visitor.send({"action": "transcript", "chat_id": chat_id})

    assert [f["type"] for f in frames] == ["transcript_sent"]
    assert faults.injected["ses_throttle"] == 2
    assert [m.destinations["ToAddresses"] for m in outbox.sent()] == [["vera@example.com"]]


def test_a_throttled_read_and_a_throttled_transaction_are_retried_and_stored_once(faults):
    visitor, agent, chat_id = _chat()
    faults.once("ddb_throttle", operation="GetItem")
    faults.once("ddb_throttle", operation="TransactWriteItems", item=0)  # cancelled: ThrottlingError

    frames = visitor.send({"action": "send", "chat_id": chat_id, "client_msg_id": "m1", "text": "Hola"})

    assert [(f["type"], f.get("seq")) for f in frames] == [("ack", 1)]
    assert [(int(m.seq), m.client_msg_id) for m in Message.query(chat_id)] == [(1, "m1")]
    assert faults.injected["ddb_throttle"] == 2


def test_rates_apply_to_the_chosen_calls_only(faults):
    visitor, _agent, chat_id = _chat()
    faults.rates.update({"ses_throttle": 1.0})  # no mail is sent here, so nothing is injected

    frames = visitor.send({"action": "send", "chat_id": chat_id, "client_msg_id": "m1", "text": "Hola"})

    assert [f["type"] for f in frames] == ["ack"]
    assert sum(faults.injected.values()) == 0
    assert Chat.get(chat_id).last_seq == 1


@pytest.mark.parametrize("spec", ["ddb_conflit=0.1", "post_429=2", "post_429"])
def test_a_misspelt_or_out_of_range_setting_is_refused(spec):
    with pytest.raises(ValueError, match="CHARLA_FAULTS"):
        fault_mode.parse(spec)


def test_the_setting_is_off_unless_named():
    assert fault_mode.from_environment({}) is None
    assert fault_mode.from_environment({"CHARLA_FAULTS": " "}) is None
    assert fault_mode.from_environment({"CHARLA_FAULTS": "post_500=0.05"}).rates == {"post_500": 0.05}
