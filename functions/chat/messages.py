"""Storing and reading a chat's transcript.

A message is stored by one transaction that bumps the chat's `last_seq` on the condition that it is
unchanged, puts the message, and puts its `client_msg_id` record. So seqs have no gaps and no
repeats, and a retried send is stored once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pynamodb.attributes import MapAttribute
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from functions.admin import webhooks
from functions.chat import access, files
from functions.core import aws, clock, data, lines
from functions.core.errors import CharlaError, bad_request
from functions.core.principals import Principal
from functions.models import Chat, Message, MessageKey
from functions.realtime import broadcast

MAX_TEXT = 4000
AGENTS = "agents"  # a message's audience when only agents may see it
FIRST_MESSAGE = 200  # characters of the visitor's first message kept on the chat, for the queue card
PAGE_SIZE = 100
# API Gateway refuses a post over 128 KB; 100 messages of 4,000 multi-byte characters exceed it.
PAGE_BYTES = 96 * 1024
CLIENT_MSG_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_ATTEMPTS = 6
# A visitor's messages across all their tabs; each tab's connection also has its own limit
# (functions/realtime/connections.py), so one tab alone meets that one first.
VISITOR_WINDOW_S = 10
VISITOR_LIMIT = 30


@dataclass
class Stored:
    message: Message
    duplicate: bool
    chat: Chat


def validate_text(text: object) -> str:
    if not isinstance(text, str) or not text.strip():
        raise bad_request("`text` must be a non-empty string.")
    if len(text) > MAX_TEXT:
        raise CharlaError("too_long", f"`text` is limited to {MAX_TEXT} characters.")
    return text


def send(principal: Principal, chat_id: str, client_msg_id: object, text: object, file_id: object = None) -> Stored:
    """A participant's message: text, or (with `file_id`) a file uploaded through files.grant."""
    if not isinstance(client_msg_id, str) or not CLIENT_MSG_ID.match(client_msg_id):
        raise bad_request("`client_msg_id` must be 1-64 characters of letters, digits, _ or -.")
    if file_id is None:
        text = validate_text(text)
    chat = access.chat_for_write(principal, chat_id)
    # The file is checked in S3 (no DynamoDB call), and its name is the message's text.
    file = files.stored(chat.chat_id, file_id) if file_id is not None else None
    text = file["name"] if file else text
    assert isinstance(text, str)
    if chat.status == "closed":
        # A message stored just before the close whose ack was lost is still acked, not failed.
        try:
            return Stored(_original(chat, client_msg_id, principal, text, file), True, chat)
        except MessageKey.DoesNotExist:
            raise CharlaError("conflict", "This chat is closed.") from None
    return store(chat, principal=principal, text=text, client_msg_id=client_msg_id, file=file)


def post(
    principal: Principal,
    chat_id: str,
    client_msg_id: object,
    text: object,
    *,
    acknowledge: Callable[[Stored], None],
    exclude: Iterable[str] = (),
    file_id: object = None,
) -> Stored:
    """A message from a chat's participant: stored once, acknowledged to the sender, then (unless it was a
    retry of one already stored) shown to everyone else in the chat and announced as `message.created`.

    The sender is acknowledged before the fan-out, so its retry timer stops as soon as the message is safe;
    `exclude` names the sender's connection, which has its own copy already.
    """
    stored = send(principal, chat_id, client_msg_id, text, file_id)
    acknowledge(stored)
    if not stored.duplicate:
        message = stored.message
        frame = {"type": "message", "chat_id": message.chat_id, "message": view(message)}
        broadcast.to_chat(stored.chat, frame, exclude=list(exclude))
        webhooks.emit("message.created", {"chat_id": message.chat_id, "message": view(message)})
    return stored


def store(
    chat: Chat,
    *,
    text: str,
    principal: Principal | None = None,
    client_msg_id: str | None = None,
    allow_closed: bool = False,
    line: lines.Line | None = None,
    audience: str | None = None,
    kind: str | None = None,
    file: dict[str, object] | None = None,
) -> Stored:
    """Appends to the transcript. `principal=None` writes a system message, `line` a coded system line;
    `audience=AGENTS` one only agents see; `kind` overrides the message's kind (a whisper)."""
    for _attempt in data.attempts(_ATTEMPTS, busy_message="The chat is busy; resend the message."):
        window, sent = _visitor_rate(chat, principal)
        message = _new_message(chat, principal, text, client_msg_id, file)
        if line is not None:
            _code(message, line, chat.visitor_lang)
        message.audience = audience
        if kind is not None:
            message.kind = kind
        try:
            with TransactWrite(connection=aws.dynamodb_connection()) as tx:
                tx.update(
                    Chat(chat.chat_id),
                    # What only agents see is not the conversation: no reply, no idle clock, no first message.
                    actions=_chat_actions(chat, None if audience else principal, message, activity=not audience)
                    + ([Chat.visitor_window.set(window), Chat.visitor_sent.set(sent + 1)] if window else []),
                    condition=_chat_condition(chat, allow_closed),
                )
                tx.save(message, condition=Message.seq.does_not_exist())
                if client_msg_id:
                    key = MessageKey(chat.chat_id, client_msg_id, seq=message.seq, ts=message.ts)
                    tx.save(key, condition=MessageKey.client_msg_id.does_not_exist())
            return Stored(message, False, chat)
        except TransactWriteError as error:
            # PynamoDB sends puts before updates: [message, key?, chat].
            reasons = data.reasons(error)
            if client_msg_id and len(reasons) == 3 and reasons[1] == data.CHECK_FAILED:
                original = _original(chat, client_msg_id, principal, text, file)
                original.kind, original.audience = message.kind, audience
                return Stored(original, True, chat)
            if data.throttled(reasons):
                continue  # DynamoDB cancels a throttled transaction, and botocore does not retry a cancellation
            if data.TX_CONFLICT in reasons or data.CHECK_FAILED in reasons:
                # Someone else appended (or closed) meanwhile: reload and take the next seq.
                chat = Chat.get(chat.chat_id, consistent_read=True)
                if chat.status == "closed" and not allow_closed:
                    raise CharlaError("conflict", "This chat is closed.") from None
                continue
            raise CharlaError("retry", "Could not store the message; resend it.", retriable=True) from error
    raise AssertionError("unreachable")  # data.attempts raises when the attempts run out


def _visitor_rate(chat: Chat, principal: Principal | None) -> tuple[int, int]:
    """The window and the visitor's count in it so far, from the chat as read.

    Counting on the chat costs no extra call, and the transaction's unchanged-`last_seq` condition
    makes the count exact: two tabs that read the same count can't both store.
    """
    if principal is None or principal.kind != "visitor":
        return 0, 0
    window = clock.epoch() // VISITOR_WINDOW_S
    sent = int(chat.visitor_sent or 0) if chat.visitor_window == window else 0
    if sent >= VISITOR_LIMIT:
        raise CharlaError("rate_limited", "Too many messages at once; wait a few seconds.", retriable=True)
    return window, sent


def _new_message(
    chat: Chat, principal: Principal | None, text: str, client_msg_id: str | None, file: dict[str, object] | None = None
) -> Message:
    return Message(
        chat.chat_id,
        int(chat.last_seq) + 1,
        client_msg_id=client_msg_id,
        kind="file" if file else "text" if principal else "system",
        file=file,
        sender=principal.kind if principal else "system",
        sender_id=principal.id if principal else None,
        sender_name=_sender_name(chat, principal),
        text=text,
        ts=clock.now_iso(),
    )


def _code(message: Message, line: lines.Line, visitor_lang: str | None) -> None:
    message.code = line.code
    message.params = dict(line.params)
    if visitor_lang and visitor_lang != "en":
        message.visitor_text = line.text(visitor_lang)


def _sender_name(chat: Chat, principal: Principal | None) -> str | None:
    if principal is None:
        return None
    # A visitor's name is given at the start of the chat, after their connection was opened.
    return principal.name or (chat.visitor_name if principal.kind == "visitor" else None)


# `last_activity_at` is the sort key of `open_index`: moving it rewrites the index entry (2 write units), so it
# moves only once it is this far behind. The idle sweep allows for the step (functions/chat/sweeps.py).
ACTIVITY_STEP_S = 60


def _chat_actions(chat: Chat, principal: Principal | None, message: Message, *, activity: bool = True) -> list:
    now, seq = message.ts, int(message.seq)
    actions = [Chat.last_seq.set(seq)]
    # An agents-only line (routing) is not the conversation going on: it leaves the idle clock alone.
    if activity and (not chat.last_activity_at or chat.last_activity_at <= clock.iso_ago(ACTIVITY_STEP_S)):
        actions.append(Chat.last_activity_at.set(now))
    if principal is None:
        return actions
    if principal.kind == "visitor":
        if chat.awaiting_reply_since is None:
            actions.append(Chat.awaiting_reply_since.set(now))
        if chat.first_message is None:
            actions.append(Chat.first_message.set(message.text[:FIRST_MESSAGE]))
    else:
        actions += [Chat.awaiting_reply_since.remove(), Chat.unanswered_pk.remove()]
        if chat.first_response_at is None:
            actions.append(Chat.first_response_at.set(now))
    return actions


def _chat_condition(chat: Chat, allow_closed: bool):  # type: ignore[no-untyped-def]
    unchanged = Chat.last_seq == chat.last_seq
    return unchanged if allow_closed else unchanged & (Chat.status != "closed")


def _original(
    chat: Chat, client_msg_id: str, principal: Principal | None, text: str, file: dict[str, object] | None = None
) -> Message:
    key = MessageKey.get(chat.chat_id, client_msg_id, consistent_read=True)
    message = _new_message(chat, principal, text, client_msg_id, file)
    message.seq, message.ts = key.seq, key.ts
    return message


def page(principal: Principal, chat_id: str, after: object) -> dict[str, object]:
    if isinstance(after, bool) or not isinstance(after, int) or after < 0:
        raise bad_request("`after_seq` must be an integer of 0 or more.")
    access.chat_for_read(principal, chat_id)
    items = list(Message.query(chat_id, Message.seq > after, limit=PAGE_SIZE + 1, consistent_read=True))
    views: list[dict[str, object]] = []
    size = 0
    for message in items[:PAGE_SIZE]:
        shown = view(message)
        size += len(json.dumps(shown, ensure_ascii=False).encode())
        if views and size > PAGE_BYTES:
            break
        views.append(shown)
    more = len(views) < len(items)
    return {"chat_id": chat_id, "messages": views, "next_after": views[-1]["seq"] if more else None}


def view(message: Message) -> dict[str, object]:
    shown: dict[str, object] = {
        "seq": int(message.seq),
        "chat_id": message.chat_id,
        "client_msg_id": message.client_msg_id,
        "kind": message.kind,
        "sender": message.sender,
        "sender_id": message.sender_id,
        "sender_name": message.sender_name,
        "text": message.text,
        "ts": message.ts,
        **_coded(message),
    }
    if message.audience:
        shown["audience"] = message.audience
    if message.file:
        file = message.file
        shown["file"] = file.as_dict() if isinstance(file, MapAttribute) else dict(file)
    return shown


def _coded(message: Message) -> dict[str, object]:
    """A system line's code and parameters (for the console's catalogue) and the visitor's text."""
    if not message.code:
        return {}
    params = message.params
    found: dict[str, object] = {
        "code": message.code,
        "params": params.as_dict() if isinstance(params, MapAttribute) else dict(params or {}),
    }
    if message.visitor_text:
        found["visitor_text"] = message.visitor_text
    return found
