"""Files in chats: up through a presigned POST straight to S3, down through a short presigned GET.

The ticket attachments' rules apply (functions/helpdesk/attachments.py: the type allowlist, cleaned
names, content sniffing, served as `attachment`). What differs is where the record lives: nowhere but
S3 until the file is sent. The POST policy pins the key, the type, the size range and the name (as
object metadata), and sending checks the stored object (HeadObject, then the first bytes against the
type's signature), so a `file` message costs the DynamoDB calls of a text message and no more.

A file belongs to its chat (its key starts with the chat's), so reading it is reading the chat.
"""

from __future__ import annotations

import re
import secrets
from typing import Any
from urllib.parse import quote, unquote

from botocore.exceptions import ClientError

from functions.chat import access
from functions.core import aws
from functions.core.errors import CharlaError, bad_request
from functions.core.principals import Principal
from functions.core.settings import get_settings
from functions.helpdesk import attachments

UPLOAD_SECONDS = 300
DOWNLOAD_SECONDS = 300  # long enough for a thumbnail to load and a click to open it
FILE_ID = re.compile(r"^f_[A-Za-z0-9_-]{16}$")
PREFIX = "chats/"
_NAME_META = "x-amz-meta-name"  # S3 metadata is ASCII: the name is stored percent-encoded


def key(chat_id: str, file_id: str) -> str:
    return f"{PREFIX}{chat_id}/{file_id}"


def limit_bytes() -> int:
    return int(get_settings()["chat_file_max_mb"]) * 1024 * 1024


def check(name: str, content_type: str, size: object, max_bytes: int) -> None:
    """The attachments' type and name rules, each refusal naming the field at fault."""
    if content_type not in attachments.TYPES:
        shown = content_type or "unknown"
        raise CharlaError("attachment_refused", f"`content_type`: files of type {shown:.80} can't be sent.")
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    if extension not in attachments.TYPES[content_type]:
        allowed = ", ".join("." + e for e in attachments.TYPES[content_type])
        raise CharlaError("attachment_refused", f"`name`: a {content_type} file must be named {allowed}.")
    if isinstance(size, bool) or not isinstance(size, int):
        raise bad_request("`size` must be the file's size in bytes.")
    if size < 1:
        raise CharlaError("attachment_refused", "`size`: the file is empty.")
    if size > max_bytes:
        raise CharlaError("attachment_too_large", f"`size`: files are limited to {max_bytes // (1024 * 1024)} MB.")


def grant(principal: Principal, chat_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Permission to upload one file into a chat the principal writes in: a presigned POST."""
    if principal.kind == "visitor" and not get_settings()["visitor_uploads"]:
        raise CharlaError("forbidden", "Sending files is turned off on this site.")
    chat = access.chat_for_write(principal, chat_id)
    if chat.status == "closed":
        raise CharlaError("conflict", "This chat is closed.")
    try:
        name = attachments.clean_name(body.get("name"))
    except CharlaError as error:
        raise CharlaError(error.code, "`name` must be a file name.") from None
    content_type = attachments.normal_type(body.get("content_type"))
    max_bytes = limit_bytes()
    check(name, content_type, body.get("size"), max_bytes)
    file_id = "f_" + secrets.token_urlsafe(12)
    object_key = key(chat.chat_id, file_id)
    meta_name = quote(name, safe="")
    post = aws.client("s3").generate_presigned_post(
        Bucket=attachments.bucket(),
        Key=object_key,
        Fields={"Content-Type": content_type, _NAME_META: meta_name},
        Conditions=[
            {"key": object_key},
            {"Content-Type": content_type},
            {_NAME_META: meta_name},
            ["content-length-range", 1, max_bytes],
        ],
        ExpiresIn=UPLOAD_SECONDS,
    )
    return {
        "file": {"file_id": file_id, "name": name, "content_type": content_type, "size": body["size"]},
        "upload": {"url": post["url"], "fields": post["fields"]},
        "expires_in": UPLOAD_SECONDS,
        "max_bytes": max_bytes,
    }


def stored(chat_id: str, file_id: object) -> dict[str, Any]:
    """What really arrived in S3 for a `file` message: checked again, since a policy binds only what S3
    enforces. A refused object is deleted. S3 calls only, no DynamoDB."""
    if not isinstance(file_id, str) or not FILE_ID.match(file_id):
        raise bad_request("`file_id` must be the id an upload grant gave.")
    s3 = aws.client("s3")
    object_key = key(chat_id, file_id)
    head = _head(object_key, "`file_id`: the file has not been uploaded; upload it, then send.")
    size = int(head.get("ContentLength") or 0)
    content_type = attachments.normal_type(head.get("ContentType"))
    name = unquote(str((head.get("Metadata") or {}).get("name") or ""))
    try:
        check(name, content_type, size, limit_bytes())
        first = s3.get_object(Bucket=attachments.bucket(), Key=object_key, Range="bytes=0-511")["Body"].read()
        if not attachments.signature_ok(content_type, first):
            raise CharlaError("attachment_refused", f"`file_id`: the file's content is not {content_type}.")
    except CharlaError:
        s3.delete_object(Bucket=attachments.bucket(), Key=object_key)
        raise
    return {"file_id": file_id, "name": name, "content_type": content_type, "size": size}


def download(principal: Principal, chat_id: str, file_id: str) -> dict[str, Any]:
    """A short link to a file of a chat the principal may read, served as an attachment."""
    chat = access.chat_for_read(principal, chat_id)
    if not isinstance(file_id, str) or not FILE_ID.match(file_id):
        raise CharlaError("not_found", "No such file.")
    return _link(chat.chat_id, file_id)


def _head(object_key: str, missing: str) -> dict[str, Any]:
    """The object's HeadObject answer; `not_found` saying `missing` when there is no such object."""
    try:
        return dict(aws.client("s3").head_object(Bucket=attachments.bucket(), Key=object_key))
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            raise CharlaError("not_found", missing) from None
        raise


def _link(chat_id: str, file_id: str) -> dict[str, Any]:
    s3 = aws.client("s3")
    object_key = key(chat_id, file_id)
    head = _head(object_key, "No such file.")
    name = unquote(str((head.get("Metadata") or {}).get("name") or file_id))
    content_type = attachments.normal_type(head.get("ContentType"))
    served = content_type if content_type in attachments.TYPES else "application/octet-stream"
    url = s3.generate_presigned_url(
        "get_object",
        Params={
            "Bucket": attachments.bucket(),
            "Key": object_key,
            "ResponseContentDisposition": attachments.disposition(name),
            "ResponseContentType": served,
        },
        ExpiresIn=DOWNLOAD_SECONDS,
    )
    return {"file_id": file_id, "name": name, "content_type": served, "url": url, "expires_in": DOWNLOAD_SECONDS}


def read_bytes(chat_id: str, file_id: str) -> bytes:
    response = aws.client("s3").get_object(Bucket=attachments.bucket(), Key=key(chat_id, file_id))
    return bytes(response["Body"].read())


def _keys(chat_id: str) -> list[str]:
    pages = (
        aws.client("s3").get_paginator("list_objects_v2").paginate(Bucket=attachments.bucket(), Prefix=key(chat_id, ""))
    )
    return [item["Key"] for listed in pages for item in listed.get("Contents") or ()]


def export_chat(chat_id: str) -> list[dict[str, Any]]:
    """Every file of one chat with a short download link (a visitor's data export)."""
    return [_link(chat_id, object_key.rpartition("/")[2]) for object_key in _keys(chat_id)]


def erase_chat(chat_id: str) -> int:
    """Deletes every file of one chat (a visitor's erasure); returns how many went."""
    found = _keys(chat_id)
    for object_key in found:
        aws.client("s3").delete_object(Bucket=attachments.bucket(), Key=object_key)
    return len(found)
