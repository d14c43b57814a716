"""Outgoing mail through SES. Every header value is stripped of CR/LF so nothing can inject headers."""

from __future__ import annotations

from typing import Any

from functions.core import aws, settings, text


def header_safe(value: str, limit: int = 200) -> str:
    return text.one_line(value)[:limit]


def send(to: str, subject: str, body: str, *, reply_to: str | None = None) -> str:
    """Sends a plain-text mail from the support address; returns SES's message id."""
    ses: Any = aws.client("ses")
    sender = header_safe(settings.get_settings()["support_email"])
    request: dict[str, Any] = {
        "Source": sender,
        "Destination": {"ToAddresses": [header_safe(to, 254)]},
        "Message": {
            "Subject": {"Data": header_safe(subject), "Charset": "UTF-8"},
            "Body": {"Text": {"Data": body, "Charset": "UTF-8"}},
        },
    }
    if reply_to:
        request["ReplyToAddresses"] = [header_safe(reply_to, 254)]
    return str(ses.send_email(**request)["MessageId"])
