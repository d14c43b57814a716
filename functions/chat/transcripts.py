"""A chat's transcript as plain text, and sending it to the visitor by email."""

from __future__ import annotations

from functions.chat import access
from functions.chat.chats import clean_email
from functions.core import mail
from functions.core.errors import CharlaError, bad_request
from functions.core.principals import Principal
from functions.models import Chat, Message

MAX_MESSAGES = 2000


def render(chat: Chat) -> str:
    lines = [f"Chat {chat.chat_id}, started {chat.created_at[:16].replace('T', ' ')} UTC", ""]
    for message in Message.query(chat.chat_id, limit=MAX_MESSAGES):
        stamp = message.ts[11:16]
        if message.sender == "system":
            lines.append(f"[{stamp}] {message.text}")
            continue
        who = message.sender_name or {"visitor": "You", "agent": "Agent"}.get(message.sender, "")
        lines.append(f"[{stamp}] {who}: {message.text}")
    return "\n".join(lines) + "\n"


def email_to_visitor(principal: Principal, chat_id: str, email: object) -> str:
    if principal.kind != "visitor":
        raise CharlaError("forbidden", "Only the visitor asks for their transcript.")
    chat = access.chat_for_write(principal, chat_id)
    address = clean_email(email) or chat.visitor_email
    if not address:
        raise bad_request("Give an email address to send the transcript to.")
    mail.send(address, "Your chat transcript", render(chat))
    return address
