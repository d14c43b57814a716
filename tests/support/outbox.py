"""The one reader of sent mail (moto's SES in this process, or a local stack's outbox over HTTP), and
mail sent in to a local stack's SMTP server, as a customer's mail client would."""

from __future__ import annotations

import json
import smtplib
import urllib.request
from email import policy
from email.message import EmailMessage
from email.parser import Parser
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID

REGION = "us-east-1"


def sent() -> list[Any]:
    """Every message moto's SES accepted in this process, oldest first (simple and raw alike)."""
    from moto.ses.models import ses_backends

    return list(ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages)


def raw_sent() -> list[str]:
    """The raw MIME text of every raw mail sent, oldest first."""
    return [m.raw_data for m in sent() if hasattr(m, "raw_data")]


def sent_mail() -> list[EmailMessage]:
    """Every raw mail sent, oldest first, parsed."""
    return [Parser(policy=policy.default).parsestr(raw) for raw in raw_sent()]


def of_stack(stack: Any) -> list[dict[str, Any]]:
    """What a local stack's outbox page lists: every mail it sent, as the developer sees it."""
    with urllib.request.urlopen(stack.base_url + "/_local/outbox.json", timeout=10) as response:
        return list(json.loads(response.read())["messages"])


def send_mail(stack: Any, subject: str, body: str, sender: str = "rex@example.com") -> None:
    """A plain mail from Rex at `sender` to the stack's support address."""
    message = EmailMessage()
    message["From"] = f"Rex <{sender}>"
    message["To"] = "support@charla.local"
    message["Subject"] = subject
    message.set_content(body)
    with smtplib.SMTP(stack.host, stack.smtp_port, timeout=20) as smtp:
        smtp.send_message(message)
