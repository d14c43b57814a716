"""Replies to a ticket's requester, by email through SES, carrying the ticket reference three ways.

A reply threads back in by the `[#REF]` in its subject, by its Reply-To (`support+REF@domain`), or by
In-Reply-To naming the SES message id recorded here. Every header value goes through
`mail.header_safe`, so CR/LF in a subject or a name can never add a header.
"""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formataddr
from typing import Any

from botocore.exceptions import ClientError

from functions.core import aws, clock, mail, settings
from functions.core.mail import header_safe
from functions.models import MailId, Ticket, TicketAttachment

# Incoming replies are cut here, so the quoted history of the thread is not stored again.
REPLY_ABOVE = "##- Please type your reply above this line -##"
SUBJECT_REF = re.compile(r"\[#([2-9A-HJ-NP-Z]{10})\]")
_MESSAGE_ID = re.compile(r"^<[^<>\s]{1,900}>$")


def support_address() -> str:
    return header_safe(settings.get_settings()["support_email"], 254)


def reply_to(ref: str) -> str:
    """`support+REF@domain`: most mail clients reply to it, and it names the ticket on its own."""
    local, _, domain = support_address().partition("@")
    return f"{local}+{ref}@{domain}"


def subject(ticket: Ticket) -> str:
    base = SUBJECT_REF.sub("", ticket.subject).strip()
    if not re.match(r"(?i)^re:", base):
        base = f"Re: {base}"
    return header_safe(f"{base} [#{ticket.ticket_id}]", 250)


def compose(ticket: Ticket, text: str, files: list[tuple[TicketAttachment, bytes]]) -> EmailMessage:
    message = EmailMessage(policy=SMTP)
    message["From"] = support_address()
    to = header_safe(ticket.requester_email or "", 254)
    message["To"] = formataddr((header_safe(ticket.requester_name or ""), to))
    message["Reply-To"] = reply_to(ticket.ticket_id)
    message["Subject"] = subject(ticket)
    previous = header_safe(ticket.last_inbound_message_id or "", 998)
    if _MESSAGE_ID.match(previous):
        message["In-Reply-To"] = previous
        message["References"] = previous
    message["Auto-Submitted"] = "no"
    footer = f"--\nTicket [#{ticket.ticket_id}]: reply to this email to answer."
    message.set_content(f"{REPLY_ABOVE}\n\n{text}\n\n{footer}\n")
    for attachment, data in files:
        maintype, _, subtype = attachment.content_type.partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=header_safe(attachment.name))
    return message


def send(ticket: Ticket, text: str, files: list[tuple[TicketAttachment, bytes]]) -> str:
    """Sends the reply and records its SES id, so an In-Reply-To naming it threads back here."""
    message = compose(ticket, text, files)
    ses: Any = aws.client("ses")
    sender, recipient = support_address(), header_safe(ticket.requester_email or "", 254)
    try:
        response = ses.send_raw_email(Source=sender, Destinations=[recipient], RawMessage={"Data": message.as_bytes()})
    except ClientError as error:
        refusal = mail.sandbox_refusal(error, sender, [recipient])
        if refusal is None:
            raise
        raise refusal from error
    ses_id = str(response["MessageId"])
    MailId(f"ses:{ses_id}", ticket_id=ticket.ticket_id, created_at=clock.now_iso()).save()
    return ses_id
