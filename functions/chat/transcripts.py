"""A chat's transcript as plain text, and sending it to the visitor by email.

The transcript goes only to the chat's own address: the email given when the chat started, or else
the visitor's verified identity email. An address typed into the frame is never mailed, so the
action can't relay mail from the support address to strangers. Each send is counted before SES is
called, in one transaction on the chat and the visitor, so concurrent frames can't pass the caps.
"""

from __future__ import annotations

from datetime import UTC
from zoneinfo import ZoneInfo

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from functions.chat import access
from functions.core import aws, clock, data, lines, mail
from functions.core.errors import CharlaError, bad_request
from functions.core.principals import Principal
from functions.models import Chat, Message, Visitor

MAX_MESSAGES = 2000
PER_CHAT = 3  # transcripts one chat may have mailed, ever
PER_VISITOR_DAY = 5  # transcripts one visitor may have mailed per UTC day, over all their chats


def render(chat: Chat, zone: ZoneInfo | None = None) -> str:
    """The transcript in the chat's visitor language, with its times in `zone` (the visitor's, as their
    browser reported it), else UTC."""
    tz, lang = zone or UTC, chat.visitor_lang or "en"
    started = clock.parse(chat.created_at).astimezone(tz).strftime("%Y-%m-%d %H:%M")
    head = lines.say("transcript_head", lang, chat_id=chat.chat_id, started=started, zone=zone.key if zone else "UTC")
    out = [head, ""]
    for message in Message.query(chat.chat_id, limit=MAX_MESSAGES):
        if message.audience:
            continue  # agents-only lines never reach the visitor
        stamp = clock.parse(message.ts).astimezone(tz).strftime("%H:%M")
        if message.sender == "system":
            out.append(f"[{stamp}] {message.visitor_text or message.text}")
            continue
        who = message.sender_name or (lines.say(message.sender, lang) if message.sender in ("visitor", "agent") else "")
        # A file goes by its name only: the mail carries no link that would outlive the chat's access rules.
        said = lines.say("transcript_file", lang, name=message.text) if message.kind == "file" else message.text
        out.append(f"[{stamp}] {who}: {said}")
    return "\n".join(out) + "\n"


def own_address(chat: Chat, visitor: Visitor | None) -> str | None:
    """Where this chat's transcript may go: the email it started with, else a verified identity's."""
    return chat.visitor_email or (visitor.verified_email if visitor else None) or None


def email_to_visitor(principal: Principal, chat_id: str, email: object) -> str:
    if principal.kind != "visitor":
        raise CharlaError("forbidden", "Only the visitor asks for their transcript.")
    chat = access.chat_for_write(principal, chat_id)
    try:
        visitor: Visitor | None = Visitor.get(principal.id, consistent_read=True)
    except DoesNotExist:
        visitor = None
    address = own_address(chat, visitor)
    if not address:
        raise CharlaError("no_email", "This chat has no email address to send the transcript to.")
    if email is not None and email != "" and (not isinstance(email, str) or email.strip().lower() != address.lower()):
        raise bad_request("`email` can only be the chat's own address; leave it out to use that address.")
    _count(chat, visitor)
    try:
        zone = clock.zone(visitor.timezone if visitor else None)
        mail.send(address, lines.say("transcript_subject", chat.visitor_lang or "en"), render(chat, zone))
    except Exception:
        _uncount(chat, visitor)  # SES refused it: the visitor may ask again without losing one
        raise
    return address


def _count(chat: Chat, visitor: Visitor | None) -> None:
    """Counts one send against the chat's cap and the visitor's day cap, both or neither."""
    for _ in range(3):
        today = clock.now_iso()[:10]
        chat_actions: list[Action] = [Chat.transcripts_sent.add(1)]
        under_cap = Chat.transcripts_sent.does_not_exist() | (Chat.transcripts_sent < PER_CHAT)
        try:
            with TransactWrite(connection=aws.dynamodb_connection()) as tx:
                tx.update(Chat(chat.chat_id), actions=chat_actions, condition=under_cap)
                if visitor is not None:
                    actions, condition = _visitor_update(visitor, today)
                    tx.update(Visitor(visitor.visitor_id), actions=actions, condition=condition)
            return
        except TransactWriteError as error:
            reasons = data.reasons(error)
            if reasons and reasons[0] == "ConditionalCheckFailed":
                raise CharlaError(
                    "limit_reached", f"This chat's transcript was already sent {PER_CHAT} times."
                ) from None
            if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed" and visitor is not None:
                visitor = Visitor.get(visitor.visitor_id, consistent_read=True)
                if visitor.transcript_day == today and int(visitor.transcripts_today or 0) >= PER_VISITOR_DAY:
                    raise CharlaError(
                        "limit_reached", f"At most {PER_VISITOR_DAY} transcripts a day can be sent; try tomorrow."
                    ) from None
                continue  # the day turned, or another tab counted meanwhile: count again
            raise CharlaError("retry", "Could not send the transcript; try again.", retriable=True) from error
    raise CharlaError("retry", "Could not send the transcript; try again.", retriable=True)


def _visitor_update(visitor: Visitor, today: str) -> tuple[list[Action], Condition]:
    if visitor.transcript_day == today:
        return (
            [Visitor.transcripts_today.add(1)],
            (Visitor.transcript_day == today) & (Visitor.transcripts_today < PER_VISITOR_DAY),
        )
    # The first of the day starts the count afresh, on the condition that no tab just did.
    seen = (
        Visitor.transcript_day.does_not_exist()
        if visitor.transcript_day is None
        else (Visitor.transcript_day == visitor.transcript_day)
    )
    return [Visitor.transcript_day.set(today), Visitor.transcripts_today.set(1)], seen


def _uncount(chat: Chat, visitor: Visitor | None) -> None:
    # A count already at 0 stays there: at worst one send of the cap is used up.
    data.conditional(
        lambda: Chat(chat.chat_id).update(actions=[Chat.transcripts_sent.add(-1)], condition=Chat.transcripts_sent > 0)
    )
    if visitor is not None:
        data.conditional(
            lambda: Visitor(visitor.visitor_id).update(
                actions=[Visitor.transcripts_today.add(-1)], condition=Visitor.transcripts_today > 0
            )
        )
