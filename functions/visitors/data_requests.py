"""Everything stored about one visitor, exported as JSON or erased, at an admin's request.

Erasure removes the visitor, their chats with every message and file, their tickets with every
entry, attachment and search posting, and their live connections (whose sockets close). Day counters in
`stats` hold no personal data and stay. Reads and writes grow with the visitor's data, which is fine
for a rare admin task; nothing here is on a request path of visitors or agents.

Erasure by email address (`erase_email`) reaches what no visitor id names: every ticket whose
requester is that address (those that arrived by mail included) with the raw mails in the mail
bucket that made them and the Message-ID markers they left, plus every visitor whose site-signed
identity is that address, erased as above.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from typing import Any

from botocore.exceptions import ClientError
from pynamodb.exceptions import DoesNotExist
from pynamodb.models import Model

from functions.chat import archive, chats, files
from functions.core import aws, clock, lines, text
from functions.core.errors import CharlaError, bad_request
from functions.core.principals import Principal
from functions.helpdesk import attachments, search_terms
from functions.models import (
    Chat,
    Connection,
    MailId,
    Message,
    MessageKey,
    Ticket,
    TicketAttachment,
    TicketEvent,
    Visitor,
)
from functions.realtime import agent_notices, connections
from functions.team import revocation

log = logging.getLogger(__name__)

_ERASED_NOTE = lines.line("closed")


def _visitor(visitor_id: str) -> Visitor:
    if not isinstance(visitor_id, str) or not visitor_id or len(visitor_id) > 64:
        raise CharlaError("not_found", "No such visitor.")
    try:
        return Visitor.get(visitor_id, consistent_read=True)
    except DoesNotExist:
        raise CharlaError("not_found", "No such visitor.") from None


def _plain(item: Model, *, drop: Iterable[str] = ()) -> dict[str, Any]:
    data = item.to_simple_dict(force=True)
    for name in drop:
        data.pop(name, None)
    return data


def _chats(visitor_id: str) -> list[Chat]:
    return list(Chat.visitor_index.query(visitor_id))


def _connections(principal: Principal) -> list[Connection]:
    ids = connections.connection_ids(principal)  # the index holds keys only
    return list(Connection.batch_get(ids)) if ids else []


# A chat's attributes that hold agents' ids; the export gives their names instead.
_CHAT_AGENT_IDS = ("agent_ids", "agent_names", "assignee_id", "invited_ids", "closed_by")


def _closed_by(key: str | None) -> str | None:
    return "agent" if key and key.startswith("a:") else ("visitor" if key and key.startswith("v:") else key)


def _tickets(visitor_id: str) -> list[Ticket]:
    return list(Ticket.visitor_index.query(visitor_id))


def export(visitor_id: str) -> dict[str, Any]:
    """Everything stored about one visitor. Reads grow with their data, which is fine for a rare admin task."""
    visitor = _visitor(visitor_id)
    principal = Principal("visitor", visitor_id)
    return {
        "exported_at": clock.now_iso(),
        "visitor_id": visitor_id,
        # The secret's hash only proves the browser's credentials; it says nothing about the person.
        "visitor": _plain(visitor, drop=("secret_hash", "greeting")),
        "connections": [_plain(row, drop=("principal_id",)) for row in _connections(principal)],
        "chats": [
            {
                **_plain(chat, drop=("visitor_conns", "agent_conns", "supervisor_conns", *_CHAT_AGENT_IDS)),
                # The visitor may read this export: agents appear by display name only.
                "agents": sorted(str(n) for n in (chat.agent_names.as_dict() if chat.agent_names else {}).values()),
                "closed_by": _closed_by(chat.closed_by),
                "messages": [
                    _plain(m, drop=("sender_id",) if m.sender == "agent" else ())
                    for m in Message.query(chat.chat_id, consistent_read=True)
                    if not m.audience  # agents-only lines (routing) are the team's, not the visitor's
                ],
                "files": files.export_chat(chat.chat_id),
            }
            for chat in _chats(visitor_id)
        ],
        "tickets": [
            {
                **_plain(ticket, drop=("assignee_id",)),
                "events": [
                    _plain(e, drop=("author_id",) if e.author != "requester" else ())
                    for e in TicketEvent.query(ticket.ticket_id)
                ],
                "attachments": [_plain(a) for a in TicketAttachment.query(ticket.ticket_id)],
            }
            for ticket in _tickets(visitor_id)
        ],
    }


def erase(admin: Principal, visitor_id: str) -> dict[str, int]:
    """Deletes everything about one visitor; returns how many of each thing went."""
    visitor = _visitor(visitor_id)
    principal = Principal("visitor", visitor_id)
    # First, while the sockets are open: the open chat ends properly, so its agents get their slot back.
    open_chat = chats.open_chat_of_visitor(visitor_id)
    if open_chat is not None:
        chats.end(open_chat, closed_by=admin.key, note=_ERASED_NOTE)
    closed = revocation.close_connections(principal)
    counts = {"chats": 0, "messages": 0, "files": 0, "tickets": 0, "connections": len(closed)}
    for chat in _chats(visitor_id):
        counts["files"] += files.erase_chat(chat.chat_id)
        counts["messages"] += _delete_all(Message.query(chat.chat_id, consistent_read=True))
        _delete_all(MessageKey.query(chat.chat_id))
        archive.forget_chat(chat.chat_id)
        chat.delete()
        counts["chats"] += 1
    for ticket in _tickets(visitor_id):
        _erase_mails(ticket)  # replies that came by mail into the visitor's tickets
        _erase_ticket(ticket)
        counts["tickets"] += 1
    visitor.delete()
    # The Visitors list in every console drops the row at once.
    agent_notices.tell(f"visitor:{visitor_id}", {"type": "visitor", "visitor": {"id": visitor_id, "online": False}})
    log.info("visitor %s erased by %s: %s", visitor_id, admin.id, counts)
    return counts


def _delete_all(items: Iterable[Model]) -> int:
    rows = list(items)
    if rows:
        with type(rows[0]).batch_write() as batch:
            for row in rows:
                batch.delete(row)
    return len(rows)


def _erase_ticket(ticket: Ticket) -> None:
    """A ticket, its timeline, its files (records and S3 objects) and its subject-search postings."""
    files = list(TicketAttachment.query(ticket.ticket_id))
    for attachment in files:
        aws.client("s3").delete_object(
            Bucket=attachments.bucket(), Key=attachments.key(ticket.ticket_id, attachment.attachment_id)
        )
    _delete_all(files)
    _delete_all(TicketEvent.query(ticket.ticket_id))
    _delete_all(search_terms.items(ticket))
    ticket.delete()


def erase_email(admin: Principal, body: dict[str, Any]) -> dict[str, int]:
    """POST /admin/email-erasures: deletes everything stored under one email address."""
    email = body.get("email")
    if not isinstance(email, str) or not text.is_mail_address(email.strip()) or not _encodable(email):
        raise bad_request("`email` must be an email address.")
    address = email.strip().lower()
    counts = {"tickets": 0, "mails": 0, "visitors": 0}
    # Visitors whose site vouched for the address go whole, with their chats and tickets.
    for visitor in list(Visitor.verified_index.query(address)):
        erased = erase(admin, visitor.visitor_id)
        counts["visitors"] += 1
        counts["tickets"] += erased["tickets"]
    for ticket in list(Ticket.requester_index.query(address)):
        counts["mails"] += _erase_mails(ticket)
        _erase_ticket(ticket)
        counts["tickets"] += 1
    log.info("email data erased by %s: %s", admin.id, counts)
    return counts


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")  # a lone surrogate can't be stored or compared in DynamoDB
    except UnicodeEncodeError:
        return False
    return True


def _erase_mails(ticket: Ticket) -> int:
    """The raw mails behind a ticket's entries (named by functions/helpdesk/inbound_mail.py) and their Message-IDs."""
    bucket = os.environ.get("MAIL_BUCKET")
    erased = 0
    for event in TicketEvent.query(ticket.ticket_id):
        data = event.data.as_dict() if event.data is not None else {}
        key, message_id = data.get("mail_key"), data.get("message_id")
        if isinstance(message_id, str) and message_id:
            marker = f"msg:{message_id.strip('<>')}"
            try:
                if MailId.get(marker).ticket_id == ticket.ticket_id:  # a marker another ticket owns stays
                    MailId(marker).delete()
            except DoesNotExist:
                pass
        if bucket and isinstance(key, str) and key:
            try:
                aws.client("s3").delete_object(Bucket=bucket, Key=key)
                erased += 1
            except ClientError:
                log.exception("could not delete the raw mail %s of ticket %s", key, ticket.ticket_id)
                raise CharlaError("retry", "Could not delete every raw mail; try again.", retriable=True) from None
    return erased
