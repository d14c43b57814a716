"""Faults a real deployment meets: dead sockets, throttled writes, a Lambda cut off mid-fan-out, SES down.

Each test injects one fault into the real handlers and checks what a visitor or an agent would
notice: nothing acknowledged is lost, nothing is stored twice, and errors a client should retry
say so (`code: retry`, `retriable: true`).
"""

from __future__ import annotations

import json

import boto3
import botocore.retries.standard
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from moto.core.models import botocore_stubber

from functions.core import aws as charla_aws
from functions.core import settings
from functions.helpdesk import agent_actions, tickets
from functions.models import Chat, Connection, Message, TicketEvent
from functions.realtime import push
from tests.support import desk, outbox
from tests.support.actors import Socket, a_chat, new_visitor, start_chat

# --- fault injection helpers ------------------------------------------------------------------


class _Body:
    """The raw body botocore reads an HTTP response from."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_kwargs):
        yield self.data


class DynamoDBFaults:
    """Sits in front of moto on the app's DynamoDB client and answers chosen calls with an error.

    It replaces moto's `before-send` hook rather than adding to it: botocore calls every
    `before-send` handler, so a fault added beside moto would still let moto apply the write, and
    a "throttled" transaction would in fact have been committed.
    """

    def __init__(self) -> None:
        self.script: dict[str, list[tuple[str, dict]]] = {}
        self.attempts: dict[str, int] = {}

    def fail(self, operation: str, code: str, times: int, **extra: object) -> None:
        self.script.setdefault(operation, []).extend([(code, dict(extra))] * times)

    def clear(self) -> None:
        self.script.clear()

    def __call__(self, event_name: str, request, **kwargs):
        operation = event_name.rsplit(".", 1)[-1]
        self.attempts[operation] = self.attempts.get(operation, 0) + 1
        pending = self.script.get(operation)
        if pending:
            code, extra = pending.pop(0)
            body = {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": "injected", **extra}
            headers = {"x-amzn-RequestId": "injected", "Content-Type": "application/x-amz-json-1.0"}
            return AWSResponse(request.url, 400, headers, _Body(json.dumps(body).encode()))
        return botocore_stubber(event_name=event_name, request=request, **kwargs)


@pytest.fixture
def dynamodb_faults(aws, monkeypatch):
    # The test is about whether a retry happens, not how long botocore's backoff waits.
    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)
    events = charla_aws.dynamodb_connection().client.meta.events
    faults = DynamoDBFaults()
    events.unregister("before-send", botocore_stubber)
    events.register("before-send", faults)
    yield faults
    events.unregister("before-send", faults)
    events.register("before-send", botocore_stubber)


def _errors(frames):
    return [f for f in frames if f["type"] == "error"]


def _send(socket: Socket, chat_id: str, client_msg_id: str, text: str) -> list[dict]:
    return socket.send({"action": "send", "chat_id": chat_id, "client_msg_id": client_msg_id, "text": text})


def _stored(chat_id: str) -> list[tuple[int, str | None, str]]:
    return [(int(m.seq), m.client_msg_id, m.text) for m in Message.query(chat_id, consistent_read=True)]


@pytest.fixture
def chat(aws):
    return a_chat()


# --- Gone on fan-out --------------------------------------------------------------------------


def test_a_dead_visitor_tab_does_not_stop_the_agent_getting_the_message(chat, gone):
    visitor, agent, chat_id = chat
    # The visitor has the site open twice; the phone's tab died without a $disconnect.
    phone = Socket(visitor.principal)
    assert Chat.get(chat_id).visitor_conns == {visitor.connection_id, phone.connection_id}
    gone.add(phone.connection_id)

    frames = _send(visitor, chat_id, "m1", "is anyone there?")

    assert [(f["type"], f["seq"]) for f in frames] == [("ack", 1)]
    assert [f["message"]["text"] for f in agent.of_type("message")] == ["is anyone there?"]
    assert _stored(chat_id) == [(1, "m1", "is anyone there?")]
    # The dead tab is forgotten, so later messages don't pay for a post that can't arrive.
    assert Chat.get(chat_id).visitor_conns == {visitor.connection_id}
    with pytest.raises(Connection.DoesNotExist):
        Connection.get(phone.connection_id)


def test_a_reply_to_a_visitor_whose_socket_died_waits_for_them_in_the_transcript(chat, gone):
    visitor, agent, chat_id = chat
    gone.add(visitor.connection_id)

    frames = _send(agent, chat_id, "r1", "Sorry for the wait!")

    assert [(f["type"], f["seq"]) for f in frames] == [("ack", 1)]
    assert _stored(chat_id) == [(1, "r1", "Sorry for the wait!")]
    assert not Chat.get(chat_id).visitor_conns
    # The widget reconnects and asks for what it missed.
    back = Socket(visitor.principal)
    welcome = back.send({"action": "hello"})[0]
    assert [c["chat_id"] for c in welcome["chats"]] == [chat_id]
    page = back.send({"action": "resume", "chat_id": chat_id, "after_seq": 0})[0]
    assert [(m["seq"], m["text"]) for m in page["messages"]] == [(1, "Sorry for the wait!")]


# --- throttled writes -------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["ProvisionedThroughputExceededException", "ThrottlingException"])
def test_a_throttled_message_write_is_retried_and_stored_once(chat, dynamodb_faults, code):
    visitor, agent, chat_id = chat
    dynamodb_faults.fail("TransactWriteItems", code, times=2)

    frames = _send(visitor, chat_id, "m1", "Hola")

    assert [(f["type"], f["seq"], f["duplicate"]) for f in frames] == [("ack", 1, False)]
    assert dynamodb_faults.attempts["TransactWriteItems"] == 3
    assert _stored(chat_id) == [(1, "m1", "Hola")]
    assert [f["message"]["seq"] for f in agent.of_type("message")] == [1]


def test_when_throttling_outlasts_the_retries_the_client_resends_and_it_is_stored_once(chat, dynamodb_faults):
    visitor, agent, chat_id = chat
    dynamodb_faults.fail("TransactWriteItems", "ProvisionedThroughputExceededException", times=50)

    frames = _send(visitor, chat_id, "m1", "Hola")

    [error] = _errors(frames)
    assert (error["code"], error["retriable"], error["client_msg_id"]) == ("retry", True, "m1")
    assert error["chat_id"] == chat_id and error["message"]
    assert _stored(chat_id) == []
    assert agent.of_type("message") == []

    # The throttling passes; the widget resends the same frame, as the error told it to.
    dynamodb_faults.clear()
    resent = _send(visitor, chat_id, "m1", "Hola")
    assert [(f["type"], f["seq"], f["duplicate"]) for f in resent] == [("ack", 1, False)]
    again = _send(visitor, chat_id, "m1", "Hola")
    assert [(f["type"], f["seq"], f["duplicate"]) for f in again] == [("ack", 1, True)]
    assert _stored(chat_id) == [(1, "m1", "Hola")]
    assert [f["message"]["seq"] for f in agent.of_type("message")] == [1]


def test_a_transaction_cancelled_for_throttling_is_retried_before_the_client_hears_of_it(chat, dynamodb_faults):
    visitor, _agent, chat_id = chat
    reasons = [{"Code": "None"}, {"Code": "None"}, {"Code": "ThrottlingError", "Message": "Throughput exceeds"}]
    dynamodb_faults.fail("TransactWriteItems", "TransactionCanceledException", times=1, CancellationReasons=reasons)

    frames = _send(visitor, chat_id, "m1", "Hola")

    assert [(f["type"], f.get("seq")) for f in frames] == [("ack", 1)]
    assert _stored(chat_id) == [(1, "m1", "Hola")]


# --- a Lambda cut off mid-fan-out -------------------------------------------------------------


class LambdaKilled(BaseException):
    """Like the runtime's timeout: nothing after this point runs, not even the handler's error reply."""


def test_a_lambda_killed_mid_fan_out_loses_nothing(chat, monkeypatch):
    visitor, agent, chat_id = chat
    laptop = Socket(agent.principal)  # the agent's second device
    real_send = push.send

    def dies_after_the_first_post(connection_ids, frame):
        first, *_rest = list(connection_ids)
        real_send(first, frame)
        raise LambdaKilled

    with monkeypatch.context() as patched, pytest.raises(LambdaKilled):
        patched.setattr(push, "send_many", dies_after_the_first_post)
        _send(visitor, chat_id, "m1", "did you get this?")

    # Stored before fan-out, and acknowledged to the sender before the Lambda died.
    assert _stored(chat_id) == [(1, "m1", "did you get this?")]
    assert [(f["type"], f["seq"]) for f in visitor.frames()] == [("ack", 1)]
    reached = [s for s in (agent, laptop) if s.of_type("message")]
    missed = [s for s in (agent, laptop) if not s.of_type("message")]
    assert len(reached) == 1 and len(missed) == 1

    # The device that missed it sees the gap at the next message and resumes from what it has.
    _send(visitor, chat_id, "m2", "hello?")
    [live] = missed[0].of_type("message")
    assert live["message"]["seq"] == 2
    page = missed[0].send({"action": "resume", "chat_id": chat_id, "after_seq": 0})[0]
    assert [(m["seq"], m["text"]) for m in page["messages"]] == [(1, "did you get this?"), (2, "hello?")]

    # A widget that never saw the ack resends; that stores nothing new.
    resent = _send(visitor, chat_id, "m1", "did you get this?")
    assert [(f["type"], f["seq"], f["duplicate"]) for f in resent] == [("ack", 1, True)]
    assert [seq for seq, _id, _text in _stored(chat_id)] == [1, 2]


# --- SES down ---------------------------------------------------------------------------------


def test_when_ses_fails_the_visitor_is_told_to_retry_the_transcript_and_the_chat_carries_on(chat, monkeypatch):
    _visitor, agent, _chat_id = chat
    visitor = Socket(new_visitor("Vera"))
    chat_id = start_chat(visitor, email="vera@example.com")["chat_id"]
    settings.save_settings({"support_email": "support@charla.test"})
    boto3.client("ses", region_name="us-east-1").verify_domain_identity(Domain="charla.test")
    _send(visitor, chat_id, "m1", "can I get a copy of this?")
    ses = charla_aws.client("ses")

    def unavailable(**_request):
        raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "Service unavailable"}}, "SendEmail")

    with monkeypatch.context() as patched:
        patched.setattr(ses, "send_email", unavailable)
        frames = visitor.send({"action": "transcript", "chat_id": chat_id})

        [error] = _errors(frames)
        assert (error["code"], error["retriable"], error["action"]) == ("retry", True, "transcript")
        assert error["chat_id"] == chat_id and error["message"]
        # Nothing else broke while SES is down: the conversation goes on.
        agent.clear()
        assert [f["type"] for f in _send(visitor, chat_id, "m2", "no rush")] == ["ack"]
        assert [f["message"]["text"] for f in agent.of_type("message")] == ["no rush"]
        assert Chat.get(chat_id).status == "active"

    # SES is back: the widget's retry goes through.
    frames = visitor.send({"action": "transcript", "chat_id": chat_id})
    assert frames == [{"type": "transcript_sent", "chat_id": chat_id, "email": "vera@example.com"}]


# --- a resend whose ack was lost --------------------------------------------------------------


def test_a_resend_after_the_chat_closed_still_gets_its_original_ack(chat):
    visitor, agent, chat_id = chat
    _send(visitor, chat_id, "bye", "Thanks, bye!")  # stored and delivered, but the ack is lost
    agent.send({"action": "close", "chat_id": chat_id})

    frames = _send(visitor, chat_id, "bye", "Thanks, bye!")

    assert [(f["type"], f.get("seq"), f.get("duplicate")) for f in frames] == [("ack", 1, True)]


def test_when_ses_fails_a_ticket_reply_is_kept_and_marked_not_sent(aws, monkeypatch):
    desk.prepare(monkeypatch)
    ticket = tickets.create(
        tickets.new_ticket(subject="Printer on fire", source="email", requester_email="rex@example.com"),
        [tickets.Entry(kind="message", author="requester", body="Help")],
    )
    ana = desk.agent_principal("ana", "Ana")
    ses = charla_aws.client("ses")

    def unavailable(**_request):
        raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "Service unavailable"}}, "SendRawEmail")

    with monkeypatch.context() as patched:
        patched.setattr(ses, "send_raw_email", unavailable)
        result = agent_actions.reply(ana, ticket.ticket_id, {"body": "Unplug it."})

    # The agent's words are kept and the console is told they did not go out.
    assert (result["event"]["body"], result["event"]["data"]["delivery"]) == ("Unplug it.", "failed")
    assert outbox.sent_mail() == []
    replies = [e for e in TicketEvent.query(ticket.ticket_id) if e.author == "agent"]
    assert [(e.body, e.data.as_dict()["delivery"]) for e in replies] == [("Unplug it.", "failed")]
    # SES is back: the next reply goes out, and the ticket carries on.
    again = agent_actions.reply(ana, ticket.ticket_id, {"body": "Unplug it, then call us."})
    assert again["event"]["data"]["delivery"] == "sent"
    assert [m["To"] for m in outbox.sent_mail()] == ["rex@example.com"]
