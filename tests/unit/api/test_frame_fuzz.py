"""Anything a client can put in a WebSocket frame gets a clear answer, and bad frames change nothing.

Hypothesis sends arbitrary text and JSON through the real `$default` handler, from a visitor and
from an agent who share a live chat: random JSON values, objects with known and unknown actions
whose fields have random types, strings at and past the limits, unicode, lone surrogates, ids past
DynamoDB's key limits, nulls and nesting (up to 3,000 deep). For every frame:

- the handler returns normally (API Gateway would otherwise leave the client without an answer);
- every frame anyone is sent is a protocol frame, and every error has `code`, `message` and
  `retriable`;
- no frame is answered `retry`: nothing transient is injected here, so `retry` would mean the
  handler crashed and told the client to resend a frame that can never work;
- a frame answered with an error stores nothing: no message, no chat, no change to a chat.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

import app as charla
from functions.core import settings
from functions.models import Chat, Message, Visitor
from tests.conftest import ws_event
from tests.support.actors import Socket, new_agent, new_visitor, start_chat

ACTIONS = [
    "ping",
    "hello",
    "start_chat",
    "send",
    "resume",
    "typing",
    "accept",
    "close",
    "set_status",
    "transfer",
    "invite",
    "invite_reply",
    "rate",
    "transcript",
    "supervise",
    "unsupervise",
    "whisper",
    "join",
]
FIELDS = [
    "chat_id",
    "client_msg_id",
    "text",
    "after_seq",
    "typing",
    "draft",
    "accepting",
    "to_agent_id",
    "agent_id",
    "accept",
    "rating",
    "comment",
    "email",
    "name",
    "context",
]
SERVER_TYPES = {
    "pong",
    "welcome",
    "chat",
    "message",
    "ack",
    "messages",
    "typing",
    "queue",
    "status",
    "invitation",
    "transcript_sent",
    "supervising",
    "unsupervised",
    "error",
}
ERROR_CODES = {
    "bad_json",
    "unknown_action",
    "bad_request",
    "too_long",
    "not_found",
    "forbidden",
    "already_taken",
    "conflict",
    "offline",
    "rate_limited",
    "retry",
}

# --- strategies -------------------------------------------------------------------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
    | st.sampled_from(["\ud800", "a\udfffz", "\udbff\udc00\ud800"])  # lone surrogates: valid JSON, not text
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)


def long_strings() -> st.SearchStrategy[str]:
    """Strings at and past the limits: text 4000, comment 1000, name 100, ids 64; under API Gateway's 32 KB."""
    sizes = st.sampled_from([63, 64, 65, 99, 100, 101, 999, 1000, 1001, 3999, 4000, 4001, 8000, 30_000])
    return st.builds(lambda char, size: char * size, st.sampled_from(["x", "é", "字", "😀", " ", "\n", "\x00"]), sizes)


class World:
    """Vera chatting with Ana, kept open across examples; Ben (an agent), Boss (an admin, who may supervise it)
    and Mallory (a visitor) are outside it."""

    def __init__(self) -> None:
        settings.save_settings({"support_email": "support@charla.test"})
        boto3.client("ses", region_name="us-east-1").verify_domain_identity(Domain="charla.test")
        self.agent = Socket(new_agent("Ana"))
        self.colleague = Socket(new_agent("Ben", accepting=False))
        self.admin = Socket(new_agent("Boss", accepting=False, role="admin"))
        self.visitor = Socket(new_visitor("Vera"))
        self.intruder = Socket(new_visitor("Mallory"))
        self.chat_id = ""
        self.reopen()

    def reopen(self) -> None:
        """A fuzzed `close` may have ended the chat; the next example gets a live one again."""
        if self.chat_id and Chat.get(self.chat_id, consistent_read=True).status != "closed":
            return
        self.agent.send({"action": "set_status", "accepting": True})
        self.chat_id = start_chat(self.visitor)["chat_id"]

    @property
    def sockets(self) -> list[Socket]:
        return [self.agent, self.colleague, self.admin, self.visitor, self.intruder]

    def takes_part(self, socket: Socket) -> bool:
        """In the chat, or watching it (a supervising admin whispers and joins)."""
        chat = Chat.get(self.chat_id, consistent_read=True)
        watching = socket.connection_id in (chat.supervisor_conns or set())
        return watching or socket.principal.id in ({chat.visitor_id} | set(chat.agent_ids or ()))

    def ids(self) -> st.SearchStrategy[Any]:
        """Ids that lead somewhere, so fuzzed frames get past the first lookups."""
        people = [s.principal.id for s in self.sockets]
        return st.sampled_from([self.chat_id, *people]) | st.text(max_size=70)

    def chat_state(self) -> tuple:
        # A stored message moves `last_seq` in the same transaction, so it stands for the transcript.
        chat = Chat.get(self.chat_id, consistent_read=True)
        return (
            chat.status,
            int(chat.last_seq),
            chat.assignee_id,
            chat.agent_ids,
            chat.invited_ids,
            chat.rating,
            chat.visitor_name,
            chat.visitor_email,
        )

    def snapshot(self) -> tuple:
        """What a frame answered with an error must leave as it was (test code may scan)."""
        chats = sorted(
            (c.chat_id, c.status, int(c.last_seq), c.assignee_id, tuple(sorted(c.agent_ids or ())), c.rating)
            for c in Chat.scan(consistent_read=True)
        )
        visitors = sorted((v.visitor_id, v.name, v.email, v.open_chat_id) for v in Visitor.scan(consistent_read=True))
        return chats, visitors


@pytest.fixture
def world(aws) -> World:
    return World()


def plausible(world: World) -> dict[str, st.SearchStrategy[Any]]:
    """For each field, values of the right type and near the limits, so frames reach the deeper checks."""
    text = st.text(max_size=30) | long_strings()
    flag = st.booleans()
    return {
        "chat_id": world.ids() | long_strings(),
        "client_msg_id": st.from_regex(r"[A-Za-z0-9_-]{1,65}", fullmatch=True) | text,
        "text": text,
        "after_seq": st.integers(min_value=-3, max_value=2**64) | st.sampled_from([0, 1, 10**38, 10**39]),
        "typing": flag,
        "draft": text,
        "accepting": flag,
        "to_agent_id": world.ids(),
        "agent_id": world.ids(),
        "accept": flag,
        "rating": st.sampled_from(["good", "bad", "Good", ""]) | text,
        "comment": text,
        "email": st.emails() | st.sampled_from(["a@b", "x@example.com\r\nBcc: y@example.com"]) | text,
        "name": text | st.sampled_from(["<img src=x onerror=alert(1)>", "Eve\r\nBcc: all@example.com"]),
        "context": st.fixed_dictionaries(
            {}, optional={k: text | json_values for k in ("url", "title", "referrer", "language", "timezone")}
        )
        | json_values,
    }


def frames(world: World) -> st.SearchStrategy[str]:
    fields = plausible(world)
    # Mostly values of the right type, sometimes anything at all.
    values = {name: st.sampled_from([fields[name]] * 3 + [json_values]).flatmap(lambda v: v) for name in FIELDS}
    known_action = st.fixed_dictionaries({"action": st.sampled_from(ACTIONS)}, optional=values)
    odd_action = st.fixed_dictionaries(
        {"action": json_values | st.sampled_from(["SEND", "send ", " ping", "__proto__", "constructor", ""])},
        optional={name: values[name] for name in FIELDS[:4]},
    )
    not_json = st.text(max_size=200) | st.sampled_from(["", "{", "}", "null", "[]", '{"action":', "\ufeff{}", "NaN"])
    # Nested past the 32 levels allowed, up to where Python's parser gives up (RecursionError).
    deep = st.builds(
        lambda action, depth: f'{{"action": {json.dumps(action)}, "text": {"[" * depth}{"]" * depth}}}',
        st.sampled_from(ACTIONS),
        st.sampled_from([32, 33, 999, 1000, 3000]),
    )
    not_json = not_json | deep
    # Weighted by hand: most frames name a real action, so they reach the checks behind the dispatch.
    kinds = [known_action] * 6 + [odd_action, json_values]
    as_json = st.sampled_from(kinds).flatmap(lambda kind: kind).map(lambda value: json.dumps(value, allow_nan=True))
    return st.sampled_from([as_json] * 4 + [not_json]).flatmap(lambda kind: kind)


# --- checks -----------------------------------------------------------------------------------


def _is_seq(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def check_frame(frame: object) -> None:
    assert isinstance(frame, dict) and frame.get("type") in SERVER_TYPES, frame
    kind = frame["type"]
    if kind == "error":
        assert frame["code"] in ERROR_CODES, frame
        assert isinstance(frame["message"], str) and frame["message"], frame
        assert isinstance(frame["retriable"], bool), frame
        for key in ("action", "chat_id", "client_msg_id"):
            assert key not in frame or (isinstance(frame[key], str) and len(frame[key]) <= 64), frame
    elif kind == "ack":
        assert _is_seq(frame["seq"]) and isinstance(frame["duplicate"], bool), frame
        assert isinstance(frame["chat_id"], str) and isinstance(frame["client_msg_id"], str), frame
    elif kind == "message":
        message = frame["message"]
        assert _is_seq(message["seq"]) and message["chat_id"] == frame["chat_id"], frame
        assert isinstance(message["text"], str) and 0 < len(message["text"]) <= 4000, frame
    elif kind == "messages":
        seqs = [m["seq"] for m in frame["messages"]]
        assert seqs == sorted(set(seqs)) and all(_is_seq(s) for s in seqs), frame
        assert frame["next_after"] is None or _is_seq(frame["next_after"]), frame
    elif kind == "chat":
        assert frame["chat"]["status"] in ("queued", "active", "closed"), frame
    elif kind == "welcome":
        assert frame["me"]["kind"] in ("visitor", "agent") and isinstance(frame["chats"], list), frame


def deliver(world: World, sender: Socket, body: str) -> list[dict[str, Any]]:
    """Sends one frame through the real handler; returns what the sender got, checking everyone's frames."""
    for socket in world.sockets:
        socket.clear()
    # A normal return is the point: an exception here is a Lambda error and no answer at all.
    charla.ws_message(ws_event("$default", sender.connection_id, body=body), None)
    for socket in world.sockets:
        for frame in socket.frames():
            check_frame(frame)
    return sender.frames()


FUZZ_SETTINGS = hypothesis_settings(
    max_examples=250,
    deadline=None,
    # The world is built once per test and deliberately carried across examples.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


@FUZZ_SETTINGS
@given(data=st.data())
def test_any_frame_gets_a_clear_answer_and_bad_frames_store_nothing(world, data):
    world.reopen()
    sender = data.draw(st.sampled_from(world.sockets), label="sender")
    body = data.draw(frames(world), label="frame")
    before, chat_before, outsider = world.snapshot(), world.chat_state(), not world.takes_part(sender)

    replies = deliver(world, sender, body)

    action = _action_of(body)
    # Every frame is answered, except the few whose success is only seen by others.
    assert replies or action in ("typing", "invite", "invite_reply", "accept"), (body[:300], action)
    errors = [f for f in replies if f["type"] == "error"]
    assert all(e["code"] != "retry" for e in errors), (body[:300], errors)
    if errors:
        assert world.snapshot() == before, (body[:300], errors)
    if outsider:  # whatever someone outside the chat sends, the chat and its transcript stay as they were
        assert world.chat_state() == chat_before, (body[:300], replies)
    event(f"{action if action in ACTIONS else 'other'} -> {', '.join(f.get('code') or f['type'] for f in replies)}")


def _action_of(body: str) -> str | None:
    try:
        frame = json.loads(body)
    except (ValueError, RecursionError):  # the fuzz nests up to 3,000 deep
        return None
    action = frame.get("action") if isinstance(frame, dict) else None
    return action if isinstance(action, str) else None


@hypothesis_settings(FUZZ_SETTINGS, max_examples=100)
@given(data=st.data())
def test_a_send_with_any_text_is_stored_as_sent_or_refused_without_a_trace(world, data):
    """The one frame that writes on every call, fuzzed on its own: text in, the same text out."""
    world.reopen()
    sender = data.draw(st.sampled_from([world.visitor, world.agent]), label="sender")
    text = data.draw(st.text(max_size=50) | long_strings() | json_values, label="text")
    client_msg_id = data.draw(st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True) | json_values, label="id")
    frame = {"action": "send", "chat_id": world.chat_id, "client_msg_id": client_msg_id, "text": text}
    before = world.snapshot()

    replies = deliver(world, sender, json.dumps(frame))

    [reply] = [f for f in replies if f["type"] in ("ack", "error")]
    if reply["type"] == "error":
        assert reply["code"] in ("bad_request", "too_long") and world.snapshot() == before, (frame, reply)
        return
    stored = Message.get(world.chat_id, reply["seq"], consistent_read=True)
    assert stored.client_msg_id == client_msg_id
    if reply["duplicate"]:  # an id used by an earlier example: nothing new was stored
        assert world.snapshot() == before
    else:
        assert stored.text == text and text.strip() and len(text) <= 4000


def test_a_lone_surrogate_is_refused_as_a_bad_request_not_retried(world):
    body = f'{{"action": "send", "chat_id": "{world.chat_id}", "client_msg_id": "s1", "text": "hi \\ud800"}}'
    replies = deliver(world, world.visitor, body)
    assert [(f["code"], f["retriable"]) for f in replies if f["type"] == "error"] == [("bad_request", False)]


def test_an_invitation_reply_with_an_empty_chat_id_is_refused_not_retried(world):
    replies = deliver(world, world.agent, json.dumps({"action": "invite_reply", "chat_id": "", "accept": False}))
    assert [(f["code"], f["retriable"]) for f in replies if f["type"] == "error"] in (
        [("not_found", False)],
        [("bad_request", False)],
    )


def test_non_finite_numbers_are_refused_where_integers_belong(world):
    # Python's json accepts NaN and Infinity, which no browser sends; they must not reach a query.
    for value in ("NaN", "Infinity", "-Infinity", "1e400"):
        body = f'{{"action": "resume", "chat_id": "{world.chat_id}", "after_seq": {value}}}'
        replies = deliver(world, world.visitor, body)
        assert [f["code"] for f in replies if f["type"] == "error"] == ["bad_request"], (value, replies)


DEEP = "[" * 3000 + "]" * 3000


@pytest.mark.parametrize("nested", [DEEP, '{"action": "send", "text": ' + DEEP + "}"], ids=["array", "field"])
def test_json_nested_3000_deep_gets_a_typed_bad_json_error(world, nested):
    before = world.snapshot()
    replies = deliver(world, world.visitor, nested)
    assert [(f["type"], f["code"]) for f in replies] == [("error", "bad_json")], replies
    assert world.snapshot() == before


STRING_FIELDS = {
    "start_chat": ["name", "email", "context.url", "greeting_id"],
    "send": ["chat_id", "client_msg_id", "text"],
    "typing": ["chat_id", "draft"],
    "rate": ["chat_id", "rating", "comment"],
    "transfer": ["chat_id", "to_agent_id"],
    "transcript": ["chat_id", "email"],
}


@pytest.mark.parametrize(("action", "field"), [(a, f) for a, fields in STRING_FIELDS.items() for f in fields])
def test_a_lone_surrogate_in_any_frame_field_is_a_bad_request_naming_it(world, action, field):
    frame: dict[str, Any] = {
        "action": action,
        "chat_id": world.chat_id,
        "client_msg_id": "s1",
        "text": "hi",
        "typing": True,
        "rating": "good",
    }
    if "." in field:
        outer, inner = field.split(".")
        frame[outer] = {inner: "a\ud800"}
    else:
        frame[field] = "a\ud800"
    sender = world.agent if action == "transfer" else world.visitor
    before = world.snapshot()
    replies = deliver(world, sender, json.dumps(frame))
    errors = [f for f in replies if f["type"] == "error"]
    assert [e["code"] for e in errors] == ["bad_request"] and f"`{field}`" in errors[0]["message"], replies
    assert world.snapshot() == before


@pytest.mark.parametrize("field", ["chat_id", "to_agent_id", "agent_id", "client_msg_id"])
def test_an_id_longer_than_any_key_is_refused_not_retried(world, field):
    # Over DynamoDB's key limits (2,048 bytes partition, 1,024 sort), which the tests' moto enforces.
    action = {"to_agent_id": "transfer", "agent_id": "invite"}.get(field, "send")
    frame = {"action": action, "chat_id": world.chat_id, "client_msg_id": "k1", "text": "hi", field: "é" * 1100}
    sender = world.visitor if action == "send" else world.agent
    before = world.snapshot()
    replies = deliver(world, sender, json.dumps(frame))
    errors = [f for f in replies if f["type"] == "error"]
    assert [e["code"] for e in errors] in (["not_found"], ["bad_request"], ["too_long"]), replies
    assert world.snapshot() == before
