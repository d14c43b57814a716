"""Mail to the support address becomes a ticket, or threads into the ticket it answers.

In AWS: an SES receipt rule stores the raw mail in the mail bucket, and the bucket's notification
invokes `inbound_mail` (app.py) with an S3 event. Locally the stack's SMTP listener does the same.

A mail threads into a ticket named by `[#REF]` in its subject, by a `support+REF@` recipient, or by an
In-Reply-To/References id of a mail in that ticket, and only when it comes from that ticket's
requester and SES's receipt verdicts say the From address is not forged (`sender_verified`);
anything else starts a new ticket, marked unverified when the verdicts don't pass. S3 may deliver an
event twice, so each object is processed once: a marker written in the same transaction as the
ticket entry makes the second delivery a no-op. A mail that is too big or malformed makes no ticket;
the object is tagged with the reason, which is also logged.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from email import policy
from email.errors import (
    InvalidMultipartContentTransferEncodingDefect,
    MissingHeaderBodySeparatorDefect,
    MultipartInvariantViolationDefect,
    NoBoundaryInMultipartDefect,
    StartBoundaryNotFoundDefect,
)
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote_plus

from pynamodb.exceptions import DoesNotExist
from pynamodb.transactions import TransactWrite

from functions.core import aws, clock
from functions.core.errors import CharlaError
from functions.core.text import free_text, is_mail_address, one_line
from functions.helpdesk import attachments, reply_mail, tickets
from functions.helpdesk.tickets import Entry
from functions.models import MailId, Ticket, TicketAttachment, TicketEvent

log = logging.getLogger(__name__)

MAX_MAIL_BYTES = 10 * 1024 * 1024
MAX_BODY = 50_000
MAX_ATTACHMENTS = 20
_SERIOUS = (
    MissingHeaderBodySeparatorDefect,
    NoBoundaryInMultipartDefect,
    StartBoundaryNotFoundDefect,
    MultipartInvariantViolationDefect,
    InvalidMultipartContentTransferEncodingDefect,
)
_MESSAGE_ID = re.compile(r"<[^<>\s]{1,900}>")
_ROBOTS = ("mailer-daemon", "postmaster", "noreply", "no-reply")


class Rejected(Exception):
    """No ticket from this mail: `reason` (malformed, automatic, virus) is tagged, `detail` logged."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass
class Parsed:
    sender: str
    sender_name: str | None
    subject: str
    text: str
    message_id: str | None
    references: list[str]
    recipients: list[str]
    files: list[tuple[str, str, bytes]] = field(default_factory=list)  # name, content type, bytes
    spam: bool = False
    verified: bool = False  # SES's SPF/DKIM/DMARC verdicts vouch for the From address (sender_verified)


@dataclass
class Outcome:
    key: str
    result: str  # created | threaded | duplicate | rejected
    ticket_id: str | None = None
    reason: str | None = None


def handle(event: dict[str, Any]) -> list[dict[str, Any]]:
    """The S3 notification: one record per stored mail (AWS sends one; a batch is handled too)."""
    outcomes = []
    for record in event.get("Records") or []:
        s3 = record.get("s3") or {}
        bucket = (s3.get("bucket") or {}).get("name")
        key = unquote_plus((s3.get("object") or {}).get("key") or "")  # S3 URL-encodes keys in events
        if not bucket or not key:
            log.warning("ignoring an S3 record without bucket or key")
            continue
        expected = os.environ.get("MAIL_BUCKET")
        if expected and bucket != expected:
            log.warning("ignoring an S3 record for bucket %s: mail arrives in %s", bucket, expected)
            continue
        outcome = process(bucket, key)
        log.info("inbound mail %s: %s %s %s", key, outcome.result, outcome.ticket_id or "", outcome.reason or "")
        outcomes.append(outcome.__dict__)
    return outcomes


def process(bucket: str, key: str) -> Outcome:
    marker = f"obj:{bucket}/{key}"
    if _exists(marker):
        return Outcome(key, "duplicate")
    s3 = aws.client("s3")
    size = int(s3.head_object(Bucket=bucket, Key=key)["ContentLength"])
    if size > MAX_MAIL_BYTES:
        return _reject(bucket, key, "too_large", f"{size} bytes; the limit is {MAX_MAIL_BYTES}")
    raw = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    try:
        parsed = parse(raw)
    except Rejected as error:
        return _reject(bucket, key, error.reason, str(error))
    if parsed.sender == reply_mail.support_address().lower():
        return _reject(bucket, key, "from_self", "mail from the support address itself")
    ticket = find_ticket(parsed) if parsed.verified else None
    if not parsed.verified:
        log.info("mail from %s fails SES's SPF/DKIM/DMARC verdicts: a new, unverified ticket", parsed.sender)
    outcome = _thread(ticket, parsed, marker, key) if ticket else _create(parsed, marker, key)
    _tag(bucket, key, {"charla": outcome.result, "ticket": outcome.ticket_id or "-"})
    return outcome


# --- parsing -----------------------------------------------------------------------------------


def parse(raw: bytes) -> Parsed:
    if not raw.strip():
        raise Rejected("malformed", "empty")
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    for part in message.walk():
        serious = [d for d in part.defects if isinstance(d, _SERIOUS)]
        if serious:
            raise Rejected("malformed", f"MIME structure: {type(serious[0]).__name__}")
    sender, name = _sender(message)
    if sender.split("@", 1)[0] in _ROBOTS or str(message.get("Auto-Submitted", "no")).strip().lower() != "no":
        raise Rejected("automatic", "a bounce or an auto-reply; answering it could start a mail loop")
    if str(message.get("X-SES-Virus-Verdict", "")).strip().upper() == "FAIL":
        raise Rejected("virus", "SES's virus scan failed this mail")
    text, files = _content(message)
    message_ids = _ids(message.get("Message-ID"))
    return Parsed(
        sender=sender,
        sender_name=name,
        subject=one_line(str(message.get("Subject") or ""), tickets.MAX_SUBJECT),
        text=text,
        message_id=message_ids[0] if message_ids else None,
        references=(_ids(message.get("In-Reply-To")) + _ids(message.get("References"))[::-1])[:10],
        recipients=[
            a.lower()
            for _, a in getaddresses(
                [str(v) for h in ("To", "Cc", "Delivered-To", "X-Original-To") for v in message.get_all(h) or []]
            )
            if a
        ],
        files=files,
        spam=str(message.get("X-SES-Spam-Verdict", "")).strip().upper() == "FAIL",
        verified=sender_verified(message, sender),
    )


# --- SES's verdicts ----------------------------------------------------------------------------
# An SES receipt rule's S3 action stores the mail with SES's own trace headers on top, above
# everything the sender wrote:
#
#     X-SES-Spam-Verdict: PASS
#     X-SES-Virus-Verdict: PASS
#     Received-SPF: pass (spfCheck: ...) client-ip=...; envelope-from=rex@example.com; helo=...;
#     Authentication-Results: amazonses.com;
#      spf=pass (spfCheck: ...) client-ip=...; envelope-from=rex@example.com; helo=...;
#      dkim=pass header.i=@example.com;
#      dmarc=pass header.from=example.com;
#
# They carry the receipt's spamVerdict, virusVerdict, spfVerdict, dkimVerdict and dmarcVerdict
# (https://docs.aws.amazon.com/ses/latest/dg/receiving-email-notifications-contents.html; the
# S3 action has no JSON receipt, only the S3 event, so the stored headers are where the verdicts
# are). Only the topmost Authentication-Results counts, and only if SES wrote it (authserv-id
# amazonses.com): a sender can put any header of their own below it.
#
# The rule: DMARC pass for the From domain; or, unless DMARC failed, an SPF pass whose envelope-from
# domain is aligned with the From domain, or a DKIM pass whose signing domain is. Aligned means
# the same domain or a subdomain of the From domain (relaxed alignment, conservatively: without
# the public suffix list, a From on a subdomain never aligns with its parent).

_AUTHSERV = "amazonses.com"
_COMMENT = re.compile(r"\([^()]*\)")
_METHODS = ("spf", "dkim", "dmarc")


def verdicts(message: EmailMessage) -> list[tuple[str, str, dict[str, str]]]:
    """SES's Authentication-Results as (method, result, properties), in order; [] when SES wrote none."""
    values = message.get_all("Authentication-Results") or []
    if not values:
        return []
    text = str(values[0])
    for _ in range(3):  # comments may nest once or twice
        text = _COMMENT.sub(" ", text)
    parts = [p.strip() for p in text.split(";")]
    if not parts or not parts[0] or parts[0].split()[0].lower() != _AUTHSERV:
        return []
    found: list[tuple[str, str, dict[str, str]]] = []
    for part in parts[1:]:
        for word in part.split():
            name, equals, value = word.partition("=")
            if not equals:
                continue
            name = name.lower()
            if name in _METHODS:
                found.append((name, value.lower(), {}))
            elif found:  # SES separates some of SPF's properties with `;`: they belong to the last method
                found[-1][2].setdefault(name, value)
    return found


def _aligned(domain: str, from_domain: str) -> bool:
    domain = domain.lower().strip().rstrip(".").lstrip("@")
    if "@" in domain:
        domain = domain.rpartition("@")[2]
    return bool(domain) and (domain == from_domain or domain.endswith("." + from_domain))


def sender_verified(message: EmailMessage, sender: str) -> bool:
    """Do SES's verdicts vouch for the From address? (The rule is in the comment above.)"""
    from_domain = sender.rpartition("@")[2].lower()
    results = verdicts(message)
    dmarc = [(result, props) for method, result, props in results if method == "dmarc"]
    if any(result == "pass" and _aligned(props.get("header.from", ""), from_domain) for result, props in dmarc):
        return True
    if any(result == "fail" for result, _ in dmarc):
        return False
    for method, result, props in results:
        if result != "pass":
            continue
        if method == "spf" and _aligned(props.get("envelope-from") or props.get("smtp.mailfrom") or "", from_domain):
            return True
        if method == "dkim" and _aligned(props.get("header.d") or props.get("header.i") or "", from_domain):
            return True
    return False


def _sender(message: EmailMessage) -> tuple[str, str | None]:
    try:
        header: Any = message.get("From")
        addresses = list(header.addresses) if header is not None else []
    except Exception as error:  # the header parser's errors are many and undocumented
        raise Rejected("malformed", f"unreadable From: {type(error).__name__}") from None
    if len(addresses) != 1 or not is_mail_address(addresses[0].addr_spec or "", in_headers=True):
        raise Rejected("malformed", "no single valid From address")
    name = one_line(addresses[0].display_name or "", 100) or None
    return addresses[0].addr_spec.lower(), name


def _ids(value: object) -> list[str]:
    return _MESSAGE_ID.findall(str(value)) if value else []


def _content(message: EmailMessage) -> tuple[str, list[tuple[str, str, bytes]]]:
    body = message.get_body(preferencelist=("plain", "html"))
    text = ""
    if body is not None:
        text = _decoded(body)
        if body.get_content_type() == "text/html":
            text = _html_text(text)
    files: list[tuple[str, str, bytes]] = []
    for part in message.iter_attachments():
        if len(files) == MAX_ATTACHMENTS:
            break
        if part.is_multipart():
            continue
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):
            continue
        files.append((part.get_filename() or "", part.get_content_type(), data))
    return _trim(text), files


def _decoded(part: Any) -> str:
    try:
        return str(part.get_content())
    except (LookupError, UnicodeError):
        # An unknown or lying charset: keep the text readable rather than lose the mail.
        data = part.get_payload(decode=True) or b""
        return data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data)
    except Exception as error:
        raise Rejected("malformed", f"unreadable body: {type(error).__name__}") from None


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("script", "style", "head"):
            self._skip += 1
        elif tag in ("br", "p", "div", "li", "tr", "h1", "h2", "h3"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def _html_text(html: str) -> str:
    """An HTML-only mail kept as its text: it is stored and shown as text, never as markup."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    return re.sub(r"\n\s*\n+", "\n\n", "".join(parser.parts))


def _trim(text: str) -> str:
    """Drops the quoted thread below our marker, and what introduces it ("On ... wrote:")."""
    if reply_mail.REPLY_ABOVE in text:
        lines = text.split(reply_mail.REPLY_ABOVE, 1)[0].splitlines()
        while lines and (not lines[-1].strip() or lines[-1].lstrip().startswith(">")):
            lines.pop()
        if lines and lines[-1].rstrip().endswith("wrote:"):
            lines.pop()
        text = "\n".join(lines)
    text = free_text(text.replace("\r\n", "\n"))
    if len(text) > MAX_BODY:
        text = text[:MAX_BODY] + "\n[… the rest of this mail was cut: too long]"
    return text or "(empty message)"


# --- threading ---------------------------------------------------------------------------------


def find_ticket(parsed: Parsed) -> Ticket | None:
    """The ticket this mail answers, if it names one and comes from that ticket's requester."""
    for ref in _refs(parsed):
        ticket = _get(ref)
        if ticket and _from_requester(ticket, parsed):
            return ticket
    for message_id in parsed.references:
        for mail_id in _mail_ids(message_id):
            try:
                ticket = _get(MailId.get(mail_id).ticket_id)
            except DoesNotExist:
                continue
            if ticket and _from_requester(ticket, parsed):
                return ticket
    return None


def _refs(parsed: Parsed) -> list[str]:
    refs = reply_mail.SUBJECT_REF.findall(parsed.subject)
    local, _, domain = reply_mail.support_address().lower().partition("@")
    for address in parsed.recipients:
        box, _, host = address.partition("@")
        if host == domain and box.startswith(local + "+"):
            refs.append(box[len(local) + 1 :].upper())
    return list(dict.fromkeys(r for r in refs if tickets.REF.match(r)))


def _mail_ids(message_id: str) -> list[str]:
    inner = message_id.strip("<>")
    ids = [f"msg:{inner}"]
    local, _, host = inner.partition("@")
    if host.endswith("amazonses.com"):  # SES sets `<SES message id>@<region>.amazonses.com` on what it sends
        ids.append(f"ses:{local}")
    return ids


def _from_requester(ticket: Ticket, parsed: Parsed) -> bool:
    if ticket.requester_email != parsed.sender:
        log.info("mail from %s names ticket %s of another requester: a new ticket", parsed.sender, ticket.ticket_id)
        return False
    return True


def _get(ticket_id: str) -> Ticket | None:
    try:
        return tickets.load(ticket_id)
    except CharlaError:
        return None


# --- writing -----------------------------------------------------------------------------------


def _create(parsed: Parsed, marker: str, key: str) -> Outcome:
    ticket = tickets.new_ticket(
        ticket_id=tickets.ref_from("mail:" + marker),
        subject=parsed.subject or "(no subject)",
        source="email",
        requester_email=parsed.sender,
        requester_name=parsed.sender_name,
        status="spam" if parsed.spam else "open",
    )
    ticket.last_inbound_message_id = parsed.message_id
    ticket.sender_verified = parsed.verified
    stored, entry = _entry(ticket.ticket_id, parsed, marker, key)
    for attempt in range(2):
        with_id = attempt == 0 and _id_is_new(parsed)

        def extra(tx: TransactWrite, named: Parsed | None = parsed if with_id else None) -> None:
            _markers(tx, ticket.ticket_id, marker, named)
            attachments.bind(tx, stored, 1, internal=False)

        try:
            tickets.create(ticket, [entry], extra=extra)
        except tickets.Conflict:
            if _exists(marker):
                return Outcome(key, "duplicate")
            if with_id:
                continue  # the Message-ID was claimed meanwhile: it keeps naming its first ticket
            raise
        return Outcome(key, "created", ticket.ticket_id)
    raise AssertionError("unreachable")


def _thread(ticket: Ticket, parsed: Parsed, marker: str, key: str) -> Outcome:
    stored, entry = _entry(ticket.ticket_id, parsed, marker, key)

    def remember_id(current: Ticket) -> list[Any]:
        return [Ticket.last_inbound_message_id.set(parsed.message_id)] if parsed.message_id else []

    for attempt in range(2):
        with_id = attempt == 0 and _id_is_new(parsed)

        def extra(
            tx: TransactWrite, events: list[TicketEvent], named: Parsed | None = parsed if with_id else None
        ) -> None:
            _markers(tx, ticket.ticket_id, marker, named)
            attachments.bind(tx, stored, int(events[0].seq), internal=False)

        try:
            appended = tickets.append(
                ticket, [entry], status=tickets.requester_replied, actions=remember_id, extra=extra
            )
        except tickets.Conflict:
            if _exists(marker):
                return Outcome(key, "duplicate")
            if with_id:
                continue  # the Message-ID was claimed meanwhile: it keeps naming its first ticket
            raise
        tickets.announce(appended.ticket, "requester_reply")
        return Outcome(key, "threaded", ticket.ticket_id)
    raise AssertionError("unreachable")


def _entry(ticket_id: str, parsed: Parsed, marker: str, key: str) -> tuple[list[TicketAttachment], Entry]:
    stored: list[TicketAttachment] = []
    refused: list[dict[str, str]] = []
    for index, (raw_name, declared, data) in enumerate(parsed.files):
        content_type = _type_of(raw_name, declared)
        try:
            name = attachments.clean_name(raw_name or f"attachment-{index + 1}")
            attachments.check(name, content_type, len(data))
            if not attachments.signature_ok(content_type, data[:512]):
                raise CharlaError("attachment_refused", f"The file's content is not {content_type}.")
        except CharlaError as error:
            shown = one_line(raw_name, 150) or f"attachment-{index + 1}"
            refused.append({"name": shown, "reason": error.message})
            continue
        attachment_id = attachments.id_from(f"{marker}#{index}")
        stored.append(attachments.store_bytes(ticket_id, attachment_id, name, content_type, data))
    entry = Entry(
        kind="message",
        author="requester",
        author_name=parsed.sender_name or parsed.sender,
        body=parsed.text,
        data={
            "via": "email",
            "subject": parsed.subject,
            "sender_verified": parsed.verified,
            "attachments": [attachments.view(a) for a in stored],
            "refused_attachments": refused,
            # Where the raw mail lies and the id it claimed, so erasure finds both
            # (functions/visitors/data_requests.py).
            "mail_key": key,
            "message_id": parsed.message_id,
        },
    )
    return stored, entry


def _type_of(name: str, declared: str) -> str:
    """Mail clients often label a PDF application/octet-stream; the name's extension decides then."""
    if declared in attachments.TYPES:
        return declared
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    matches = [t for t, extensions in attachments.TYPES.items() if extension in extensions]
    return matches[0] if len(matches) == 1 else declared


def _markers(tx: TransactWrite, ticket_id: str, marker: str, parsed: Parsed | None) -> None:
    """The object's idempotency marker, and the Message-ID's, which is written only if absent.

    A Message-ID is chosen by the sender: overwriting its marker would let anyone re-point the
    replies to someone else's mail at a ticket of their own.
    """
    now = clock.now_iso()
    tx.save(MailId(marker, ticket_id=ticket_id, created_at=now), condition=MailId.mail_id.does_not_exist())
    if parsed is not None and parsed.message_id:
        tx.save(
            MailId(_message_marker(parsed.message_id), ticket_id=ticket_id, created_at=now),
            condition=MailId.mail_id.does_not_exist(),
        )


def _message_marker(message_id: str) -> str:
    return f"msg:{message_id.strip('<>')}"


def _id_is_new(parsed: Parsed) -> bool:
    return bool(parsed.message_id) and not _exists(_message_marker(parsed.message_id or ""))


def _exists(mail_id: str) -> bool:
    try:
        MailId.get(mail_id, consistent_read=True)
        return True
    except DoesNotExist:
        return False


def _reject(bucket: str, key: str, reason: str, detail: str) -> Outcome:
    log.warning("inbound mail %s rejected (%s): %s", key, reason, detail)
    _tag(bucket, key, {"charla": "rejected", "reason": reason})
    return Outcome(key, "rejected", reason=f"{reason}: {detail}")


def _tag(bucket: str, key: str, tags: dict[str, str]) -> None:
    try:
        aws.client("s3").put_object_tagging(
            Bucket=bucket, Key=key, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]}
        )
    except Exception:
        log.exception("could not tag %s", key)  # a tag helps an operator; it never decides anything
