"""Chat to ticket: the "Create ticket" action copies the whole transcript, with its original times.

The ticket id is derived from the chat id, and the ticket and the chat's `ticket_id` are written in
one transaction, so two agents clicking at once get the same ticket and the link goes both ways.
A long transcript is written first, in batches; its entries stay invisible until that transaction
makes the ticket exist, so a failure leaves nothing half-written that anyone can see.
"""

from __future__ import annotations

from typing import Any

from pynamodb.transactions import TransactWrite

from functions.chat import access
from functions.chat.chats import clean_email
from functions.core.principals import Principal
from functions.helpdesk import tickets
from functions.helpdesk.tickets import Entry
from functions.models import Chat, Message, Ticket, TicketEvent
from functions.visitors import names

MAX_MESSAGES = 5000
_AUTHORS = {"visitor": "requester", "agent": "agent", "system": "system"}


def create(principal: Principal, chat_id: str, body: dict[str, Any]) -> tuple[Ticket, bool]:
    """Returns the chat's ticket and whether this call created it (a participant, or any admin)."""
    chat = access.chat_for_read(principal, chat_id) if principal.is_admin else access.chat_for_write(principal, chat_id)
    # Checked first: a malformed request is refused even when the ticket already exists.
    subject = tickets.clean_subject(body.get("subject"), name="subject", required=False)
    email = clean_email(body.get("email")) or chat.visitor_email
    if chat.ticket_id:
        return tickets.load(chat.ticket_id), False
    ticket = tickets.new_ticket(
        ticket_id=tickets.ref_from(f"chat:{chat.chat_id}"),
        subject=subject or f"Chat with {names.display(chat.visitor_name, chat.visitor_id, chat.visitor_country)}",
        source="chat",
        requester_email=email,
        # An anonymous visitor's label keeps their ticket apart from others' in the desk's list.
        requester_name=names.display(chat.visitor_name, chat.visitor_id),
        visitor_id=chat.visitor_id,
        chat_id=chat.chat_id,
    )
    ticket.group_id, ticket.group_name = chat.group_id, chat.group_name
    written = _copy_transcript(ticket.ticket_id, chat.chat_id)
    created = Entry(
        kind="update",
        author="agent",
        author_id=principal.id,
        author_name=principal.name,
        data={"field": "source", "chat_id": chat.chat_id, "messages": written},
    )

    def link(tx: TransactWrite) -> None:
        tx.update(
            Chat(chat.chat_id),
            actions=[Chat.ticket_id.set(ticket.ticket_id)],
            condition=Chat.chat_id.exists() & Chat.ticket_id.does_not_exist(),
        )

    try:
        tickets.create(ticket, [created], first_seq=written + 1, extra=link)
    except tickets.Conflict:
        # Another agent created it meanwhile: theirs is the chat's ticket.
        fresh = Chat.get(chat.chat_id, consistent_read=True)
        if fresh.ticket_id:
            return tickets.load(fresh.ticket_id), False
        raise
    return ticket, True


def _copy_transcript(ticket_id: str, chat_id: str) -> int:
    seq = 0
    with TicketEvent.batch_write() as batch:
        for message in Message.query(chat_id, consistent_read=True, limit=MAX_MESSAGES):
            seq += 1
            batch.save(
                TicketEvent(
                    ticket_id,
                    seq,
                    # An agents-only line (routing) stays an internal note, kept from the requester.
                    kind="note" if message.audience else "message",
                    author=_AUTHORS.get(message.sender, "system"),
                    author_id=message.sender_id,
                    author_name=message.sender_name,
                    body=message.text,
                    data={"chat_id": chat_id, "chat_seq": int(message.seq)},
                    ts=message.ts,
                )
            )
    return seq
