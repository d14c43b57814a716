"""Ticket attachments in S3: uploads through a presigned POST, downloads through a short presigned GET.

The browser never chooses the key, and the POST policy pins the key, the Content-Type and a size
range. Since a policy only binds what S3 enforces, `complete` checks the stored object again
(HeadObject, and the first bytes against the type's signature) before anyone can use it.

Downloads are served as `attachment` with a Content-Type from the allowlist, from S3's own origin, so
a file can never render inside the console. S3 cannot add `X-Content-Type-Options: nosniff` to an
object (nor can moto locally); serving the bucket through CloudFront with a response headers policy
is the way to add it, and the allowlisted type plus `attachment` are what protect without it.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import unicodedata
from typing import Any
from urllib.parse import quote

from botocore.exceptions import ClientError
from pynamodb.exceptions import DoesNotExist
from pynamodb.transactions import TransactWrite

from functions.core import aws, clock
from functions.core.errors import CharlaError, bad_request
from functions.core.principals import Principal
from functions.models import Ticket, TicketAttachment
from functions.visitors import identity

MAX_BYTES = 10 * 1024 * 1024
MAX_PER_ENTRY = 10
UPLOAD_SECONDS = 300
DOWNLOAD_SECONDS = 60
MAX_NAME = 150
# What may be attached, with the extensions a name may end in. Nothing a browser runs or renders as
# a page (HTML, SVG, XML, scripts) is on it: those are how attachments carry stored XSS.
TYPES: dict[str, tuple[str, ...]] = {
    "image/png": ("png",),
    "image/jpeg": ("jpg", "jpeg"),
    "image/gif": ("gif",),
    "image/webp": ("webp",),
    "application/pdf": ("pdf",),
    "text/plain": ("txt", "log"),
    "text/csv": ("csv",),
    "application/zip": ("zip",),
    "application/msword": ("doc",),
    "application/vnd.ms-excel": ("xls",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ("docx",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ("xlsx",),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ("pptx",),
    "application/vnd.oasis.opendocument.text": ("odt",),
    "application/vnd.oasis.opendocument.spreadsheet": ("ods",),
}
_ZIP = (b"PK\x03\x04", b"PK\x05\x06")
_OLE = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)
# The first bytes each binary type must start with; text types must simply not be binary.
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
    "application/pdf": (b"%PDF-",),
    "application/zip": _ZIP,
    "application/msword": _OLE,
    "application/vnd.ms-excel": _OLE,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": _ZIP,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": _ZIP,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": _ZIP,
    "application/vnd.oasis.opendocument.text": _ZIP,
    "application/vnd.oasis.opendocument.spreadsheet": _ZIP,
}
_TEXT = ("text/plain", "text/csv")
_ID = re.compile(r"^a_[A-Za-z0-9_-]{8,40}$")


def bucket() -> str:
    name = os.environ.get("ATTACHMENTS_BUCKET")
    if not name:
        raise CharlaError("retry", "Attachments are not configured (ATTACHMENTS_BUCKET).", retriable=True)
    return name


def key(ticket_id: str, attachment_id: str) -> str:
    return f"tickets/{ticket_id}/{attachment_id}"


def new_id() -> str:
    return "a_" + secrets.token_urlsafe(12)


def id_from(seed: str) -> str:
    """A stable id for an attachment of an inbound mail, so a repeated S3 event rewrites the same one."""
    return "a_" + hashlib.sha256(seed.encode()).hexdigest()[:20]


# --- rules -------------------------------------------------------------------------------------


def clean_name(name: object) -> str:
    """A file name as text: no path, no control or bidi characters, not hidden, not too long."""
    if not isinstance(name, str):
        raise CharlaError("attachment_refused", "`name` must be a file name.")
    base = re.split(r"[\\/]", name)[-1]
    base = "".join(c for c in base if unicodedata.category(c) not in ("Cc", "Cf", "Zl", "Zp"))
    base = base.strip().lstrip(".").strip()
    if not base:
        raise CharlaError("attachment_refused", "`name` must be a file name.")
    if len(base) > MAX_NAME:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: MAX_NAME - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 else base[:MAX_NAME]
    return base


def normal_type(content_type: object) -> str:
    if not isinstance(content_type, str):
        return ""
    return content_type.split(";", 1)[0].strip().lower()


def check(name: str, content_type: str, size: int) -> None:
    """Raises a clear error for a refused type, a name that doesn't match it, or a size over the limit."""
    if content_type not in TYPES:
        raise CharlaError("attachment_refused", f"Files of type {content_type or 'unknown'!s:.80} can't be attached.")
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    if extension not in TYPES[content_type]:
        allowed = ", ".join("." + e for e in TYPES[content_type])
        raise CharlaError("attachment_refused", f"A {content_type} file must be named {allowed}.")
    if size > MAX_BYTES:
        raise CharlaError("attachment_too_large", f"Attachments are limited to {MAX_BYTES // (1024 * 1024)} MB.")
    if size < 1:
        raise CharlaError("attachment_refused", "The file is empty.")


def signature_ok(content_type: str, head: bytes) -> bool:
    if content_type in _TEXT:
        return b"\x00" not in head
    signatures = SIGNATURES.get(content_type)
    if content_type == "image/webp":
        return head.startswith(b"RIFF") and head[8:12] == b"WEBP"
    return signatures is None or head.startswith(signatures)


# --- uploads from the console ------------------------------------------------------------------


def start_upload(principal: Principal, ticket: Ticket, body: dict[str, Any]) -> dict[str, Any]:
    name = clean_name(body.get("name"))
    content_type = normal_type(body.get("content_type"))
    size = body.get("size")
    if isinstance(size, bool) or not isinstance(size, int):
        raise bad_request("`size` must be the file's size in bytes.")
    check(name, content_type, size)
    attachment = TicketAttachment(
        ticket.ticket_id,
        new_id(),
        name=name,
        content_type=content_type,
        size=size,
        state="pending",
        source="upload",
        created_at=clock.now_iso(),
        created_by=principal.id,
    )
    attachment.save(condition=TicketAttachment.attachment_id.does_not_exist())
    object_key = key(ticket.ticket_id, attachment.attachment_id)
    post = aws.client("s3").generate_presigned_post(
        Bucket=bucket(),
        Key=object_key,
        Fields={"Content-Type": content_type},
        Conditions=[
            {"key": object_key},
            {"Content-Type": content_type},
            ["content-length-range", 1, MAX_BYTES],
        ],
        ExpiresIn=UPLOAD_SECONDS,
    )
    return {
        "attachment": view(attachment),
        "upload": {"url": post["url"], "fields": post["fields"]},
        "expires_in": UPLOAD_SECONDS,
        "max_bytes": MAX_BYTES,
    }


def complete(ticket: Ticket, attachment_id: str) -> dict[str, Any]:
    """Checks what really arrived in S3; a refused file is deleted and the record with it."""
    attachment = _load(ticket.ticket_id, attachment_id)
    if attachment.state == "stored":
        return view(attachment)
    s3 = aws.client("s3")
    object_key = key(ticket.ticket_id, attachment.attachment_id)
    try:
        head = s3.head_object(Bucket=bucket(), Key=object_key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            raise CharlaError("conflict", "The file has not been uploaded yet; upload it, then complete.") from None
        raise
    size = int(head.get("ContentLength") or 0)
    content_type = normal_type(head.get("ContentType"))
    try:
        if content_type != attachment.content_type:
            raise CharlaError("attachment_refused", "The uploaded file's type is not the one announced.")
        check(attachment.name, content_type, size)
        first = s3.get_object(Bucket=bucket(), Key=object_key, Range="bytes=0-511")["Body"].read()
        if not signature_ok(content_type, first):
            raise CharlaError("attachment_refused", f"The file's content is not {content_type}.")
    except CharlaError:
        s3.delete_object(Bucket=bucket(), Key=object_key)
        attachment.delete()
        raise
    attachment.update(
        actions=[TicketAttachment.state.set("stored"), TicketAttachment.size.set(size)],
        condition=TicketAttachment.state == "pending",
    )
    return view(attachment)


# --- inbound mail ------------------------------------------------------------------------------


def store_bytes(ticket_id: str, attachment_id: str, name: str, content_type: str, data: bytes) -> TicketAttachment:
    """Stores an attachment of an inbound mail (the caller checked it) and its record."""
    aws.client("s3").put_object(Bucket=bucket(), Key=key(ticket_id, attachment_id), Body=data, ContentType=content_type)
    attachment = TicketAttachment(
        ticket_id,
        attachment_id,
        name=name,
        content_type=content_type,
        size=len(data),
        state="stored",
        source="email",
        created_at=clock.now_iso(),
    )
    attachment.save()
    return attachment


def read_bytes(attachment: TicketAttachment) -> bytes:
    response = aws.client("s3").get_object(Bucket=bucket(), Key=key(attachment.ticket_id, attachment.attachment_id))
    return bytes(response["Body"].read())


# --- binding to a timeline entry ---------------------------------------------------------------


def usable(ticket_id: str, ids: object) -> list[TicketAttachment]:
    """The stored, not yet used attachments a reply or note names; anything else is a clear 400."""
    if ids is None:
        return []
    if not isinstance(ids, list) or len(ids) > MAX_PER_ENTRY or not all(isinstance(i, str) for i in ids):
        raise bad_request(f"`attachment_ids` must be a list of at most {MAX_PER_ENTRY} attachment ids.")
    found: list[TicketAttachment] = []
    for attachment_id in dict.fromkeys(ids):
        attachment = _load(ticket_id, attachment_id)
        if attachment.state != "stored":
            raise CharlaError("conflict", f"Attachment {attachment.name} is not uploaded yet; complete it first.")
        if attachment.seq is not None:
            raise CharlaError("conflict", f"Attachment {attachment.name} is already on the timeline.")
        found.append(attachment)
    return found


def bind(tx: TransactWrite, attachments: list[TicketAttachment], seq: int, *, internal: bool) -> None:
    """In the entry's own transaction: each attachment joins exactly one entry, once."""
    for attachment in attachments:
        tx.update(
            TicketAttachment(attachment.ticket_id, attachment.attachment_id),
            actions=[TicketAttachment.seq.set(seq), TicketAttachment.internal.set(internal)],
            condition=(TicketAttachment.state == "stored") & TicketAttachment.seq.does_not_exist(),
        )


# --- downloads ---------------------------------------------------------------------------------


def download(ticket: Ticket, attachment_id: str, *, for_visitor: bool = False) -> dict[str, Any]:
    attachment = _load(ticket.ticket_id, attachment_id)
    # A requester sees only what reached them: files on messages, never on notes or unsent uploads.
    if attachment.state != "stored" or (for_visitor and (attachment.seq is None or attachment.internal)):
        raise CharlaError("not_found", "No such attachment.")
    # A file that came by mail reaches the visitor only once they proved the address is theirs.
    if (
        for_visitor
        and attachment.source == "email"
        and not identity.email_proven(ticket.visitor_id, ticket.requester_email)
    ):
        raise CharlaError("not_found", "No such attachment.")
    content_type = attachment.content_type if attachment.content_type in TYPES else "application/octet-stream"
    url = aws.client("s3").generate_presigned_url(
        "get_object",
        Params={
            "Bucket": bucket(),
            "Key": key(ticket.ticket_id, attachment.attachment_id),
            "ResponseContentDisposition": disposition(attachment.name),
            "ResponseContentType": content_type,
        },
        ExpiresIn=DOWNLOAD_SECONDS,
    )
    return {**view(attachment), "url": url, "expires_in": DOWNLOAD_SECONDS}


def disposition(name: str) -> str:
    """`attachment` with an ASCII fallback and the exact UTF-8 name (RFC 6266 / 5987)."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def view(attachment: TicketAttachment) -> dict[str, Any]:
    return {
        "attachment_id": attachment.attachment_id,
        "name": attachment.name,
        "content_type": attachment.content_type,
        "size": int(attachment.size),
        "state": attachment.state,
    }


def _load(ticket_id: str, attachment_id: str) -> TicketAttachment:
    if not isinstance(attachment_id, str) or not _ID.match(attachment_id):
        raise CharlaError("not_found", "No such attachment.")
    try:
        return TicketAttachment.get(ticket_id, attachment_id, consistent_read=True)
    except DoesNotExist:
        raise CharlaError("not_found", "No such attachment.") from None
