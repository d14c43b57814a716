"""The WebSocket `$default` route: parses a frame, checks who sent it, and runs its action.

Every failure becomes an `error` frame on the sender's connection; the connection stays usable.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from functions.chat import chats, handoffs, messages, reads, supervision, transcripts, typing, welcome
from functions.core import clock, untrusted
from functions.core.errors import CharlaError, bad_request
from functions.core.principals import Principal
from functions.models import Connection
from functions.realtime import connections, push, visitor_frames

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Call:
    connection_id: str
    principal: Principal
    frame: dict[str, Any]
    connection: Connection  # the row read (and rate-counted) for this frame
    source_ip: str | None = None  # the sender's address, for the per-address limits (functions/visitors/limits.py)

    def field(self, name: str, kind: type, *, required: bool = True) -> Any:
        value = self.frame.get(name)
        if value is None and not required:
            return None
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise bad_request(f"`{name}` must be {_KIND_NAMES[kind]}.")
        return value

    def reply(self, frame: dict[str, Any]) -> None:
        visitor = self.principal.kind == "visitor"
        push.send(self.connection_id, visitor_frames.frame(frame) if visitor else frame)


_KIND_NAMES = {str: "a string", int: "an integer", bool: "true or false", dict: "an object"}


def handle(connection_id: str, body: str, source_ip: str | None = None) -> None:
    try:
        frame = untrusted.parse_json(body, what="The frame")
    except CharlaError as error:
        _error(connection_id, error, {})
        return
    if not isinstance(frame, dict):
        _error(connection_id, CharlaError("bad_json", "Frames must be JSON objects."), {})
        return
    action = frame.get("action")
    handler = ACTIONS.get(action) if isinstance(action, str) else None
    if handler is None:
        _error(connection_id, CharlaError("unknown_action", f"Unknown action: {action!r:.40}."), frame)
        return
    try:
        if action == "ping":  # cheap on purpose: a heartbeat must not load the connection
            connections.touch(connection_id)
            push.send(connection_id, {"type": "pong", "ts": clock.now_iso()})
            return
        row, frames = connections.get_counting(connection_id)
        if frames > connections.RATE_LIMIT:
            raise CharlaError("rate_limited", "Too many messages at once; wait a few seconds.", retriable=True)
        handler(Call(connection_id, connections.principal_of(row), frame, row, source_ip))
    except CharlaError as error:
        _error(connection_id, error, frame)
    except Exception:
        log.exception("action %s failed", action)
        _error(connection_id, CharlaError("retry", "Something went wrong; try again.", retriable=True), frame)


def _error(connection_id: str, error: CharlaError, frame: dict[str, Any]) -> None:
    reply: dict[str, Any] = {
        "type": "error",
        "code": error.code,
        "message": error.message,
        "retriable": error.retriable,
    }
    for key in ("action", "chat_id", "client_msg_id"):
        if isinstance(frame.get(key), str):
            reply[key] = frame[key][:64]
    push.send(connection_id, reply)


def _hello(call: Call) -> None:
    for frame in welcome.frames(call.principal):
        call.reply(frame)


def _start_chat(call: Call) -> None:
    frame = call.frame
    chat, created = chats.start_with_context(
        call.principal,
        frame.get("name"),
        frame.get("email"),
        context=frame.get("context"),
        greeting_id=frame.get("greeting_id"),
        greeting_rule=frame.get("greeting_rule"),
        group=frame.get("group"),
        connection=call.connection,
        address=call.source_ip,
    )
    if not created:
        call.reply({"type": "chat", "chat": chats.view(chat)})


def _acknowledge(call: Call) -> Callable[[messages.Stored], None]:
    def acknowledge(stored: messages.Stored) -> None:
        message = stored.message
        call.reply(
            {
                "type": "ack",
                "chat_id": message.chat_id,
                "client_msg_id": message.client_msg_id,
                "seq": int(message.seq),
                "ts": message.ts,
                "duplicate": stored.duplicate,
            }
        )

    return acknowledge


def _send(call: Call) -> None:
    frame = call.frame
    chats.post(
        call.principal,
        call.field("chat_id", str),
        frame.get("client_msg_id"),
        frame.get("text"),
        acknowledge=_acknowledge(call),
        exclude=[call.connection_id],
        file_id=frame.get("file_id"),
    )


def _supervise(call: Call) -> None:
    chat = supervision.supervise(call.principal, call.frame.get("chat_id"), call.connection)
    call.reply({"type": "supervising", "chat": chats.view(chat)})


def _unsupervise(call: Call) -> None:
    chat_id = supervision.unsupervise(call.principal, call.frame.get("chat_id"), call.connection_id)
    call.reply({"type": "unsupervised", "chat_id": chat_id})


def _join(call: Call) -> None:
    supervision.join(call.principal, call.frame.get("chat_id"), call.connection_id)


def _whisper(call: Call) -> None:
    frame = call.frame
    supervision.whisper(
        call.principal,
        frame.get("chat_id"),
        frame.get("client_msg_id"),
        frame.get("text"),
        call.connection_id,
        acknowledge=_acknowledge(call),
    )


def _resume(call: Call) -> None:
    page = messages.page(call.principal, call.field("chat_id", str), call.frame.get("after_seq"))
    call.reply({"type": "messages", **page})


def _typing(call: Call) -> None:
    typing.notify(call.principal, call.field("chat_id", str), call.field("typing", bool), call.frame.get("draft"))


def _accept(call: Call) -> None:
    chats.accept(call.principal, call.field("chat_id", str))


def _close(call: Call) -> None:
    chats.close(call.principal, call.field("chat_id", str))


def _transfer(call: Call) -> None:
    if "to_group_id" in call.frame:
        handoffs.transfer_to_group(call.principal, call.frame.get("chat_id"), call.frame.get("to_group_id"))
        return
    handoffs.transfer(call.principal, call.frame.get("chat_id"), call.frame.get("to_agent_id"))


def _invite(call: Call) -> None:
    handoffs.invite(call.principal, call.frame.get("chat_id"), call.frame.get("agent_id"))


def _invite_reply(call: Call) -> None:
    handoffs.reply_to_invitation(call.principal, call.frame.get("chat_id"), call.frame.get("accept"))


def _rate(call: Call) -> None:
    frame = call.frame
    chat = chats.rate(call.principal, call.field("chat_id", str), frame.get("rating"), frame.get("comment"))
    call.reply({"type": "chat", "chat": chats.view(chat)})


def _transcript(call: Call) -> None:
    chat_id = call.field("chat_id", str)
    address = transcripts.email_to_visitor(call.principal, chat_id, call.frame.get("email"))
    call.reply({"type": "transcript_sent", "chat_id": chat_id, "email": address})


def _read(call: Call) -> None:
    reads.mark(call.principal, call.frame.get("chat_id"), call.frame.get("seq"), exclude=call.connection_id)


def _set_status(call: Call) -> None:
    chats.set_accepting(call.principal, call.field("accepting", bool))


ACTIONS: dict[str, Callable[[Call], None]] = {
    "ping": lambda call: None,
    "hello": _hello,
    "start_chat": _start_chat,
    "send": _send,
    "resume": _resume,
    "typing": _typing,
    "accept": _accept,
    "close": _close,
    "set_status": _set_status,
    "transfer": _transfer,
    "invite": _invite,
    "invite_reply": _invite_reply,
    "rate": _rate,
    "transcript": _transcript,
    "read": _read,
    "supervise": _supervise,
    "unsupervise": _unsupervise,
    "join": _join,
    "whisper": _whisper,
}
