"""Chat to ticket: the "Create ticket" action copies the whole transcript, with its original times.

The ticket id is derived from the chat id, and the ticket and the chat's `ticket_id` are written in
one transaction, so two agents clicking at once get the same ticket and the link goes both ways.
A long transcript is written first, in batches; its entries stay invisible until that transaction
makes the ticket exist, so a failure leaves nothing half-written that anyone can see. A file sent in
the chat becomes an attachment of its entry, copied inside S3 (the bytes never pass through Lambda).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError
from pynamodb.attributes import MapAttribute
from pynamodb.transactions import TransactWrite

from functions.chat import access, files
from functions.chat.chats import clean_email
from functions.core import aws
from functions.core.principals import Principal
from functions.helpdesk import attachments, tickets
from functions.helpdesk.tickets import Entry
from functions.models import Chat, Message, Ticket, TicketAttachment, TicketEvent
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
            copied = _copy_file(ticket_id, chat_id, message, seq) if message.file else None
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
                    data={"chat_id": chat_id, "chat_seq": int(message.seq)}
                    | ({"attachments": [attachments.view(copied)]} if copied else {}),
                    ts=message.ts,
                )
            )
    return seq


def _copy_file(ticket_id: str, chat_id: str, message: Message, seq: int) -> TicketAttachment | None:
    """The chat file as an attachment of the ticket entry `seq` (none when the file was erased)."""
    file = message.file.as_dict() if isinstance(message.file, MapAttribute) else dict(message.file or {})
    attachment_id = attachments.id_from(f"chat:{chat_id}:{file['file_id']}")
    try:
        aws.client("s3").copy_object(
            Bucket=attachments.bucket(),
            Key=attachments.key(ticket_id, attachment_id),
            CopySource={"Bucket": attachments.bucket(), "Key": files.key(chat_id, str(file["file_id"]))},
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    attachment = TicketAttachment(
        ticket_id,
        attachment_id,
        name=str(file["name"]),
        content_type=str(file["content_type"]),
        size=int(file["size"]),
        state="stored",
        source="chat",
        seq=seq,
        created_at=message.ts,
        created_by=message.sender_id,
    )
    attachment.save()
    return attachment
