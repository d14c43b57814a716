"""Outgoing mail through SES. Every header value is stripped of CR/LF so nothing can inject headers.

The SES sandbox. Every new AWS account starts in it, in each region, and there SES sends only to verified
email addresses and domains (and the mailbox simulator), at most 200 messages a day
(https://docs.aws.amazon.com/ses/latest/dg/request-production-access.html). A send to anyone else
fails with `MessageRejected`, "Email address is not verified. The following identities failed the check in
region ...: <addresses>"; the same answer names an unverified sender, which is a settings problem, not the
sandbox. In the sandbox IAM also checks the recipient's identity, so a role that may send only as the mail
domain is refused with `AccessDenied` "... on resource `arn:aws:ses:...:identity/<recipient>`"
(cloudposse/terraform-aws-ses#40). Both become one answer here, `mail_sandbox`, naming the recipient.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from functions.core import aws, settings, text
from functions.core.errors import CharlaError
from functions.core.instance_cache import InstanceCache

log = logging.getLogger(__name__)

# GetSendQuota's Max24HourSend in the sandbox: 200 a day, 1 a second there; with production access the quota
# "varies based on your specific use case", above it
# (https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_PutAccountDetails.html, ProductionAccessEnabled).
SANDBOX_DAILY_QUOTA = 200.0
# Whether the account is in the sandbox changes once in its life; an instance asks every 10 minutes at most.
SANDBOX_CHECK_SECONDS = 600
_NOT_VERIFIED = re.compile(r"identities failed the check in region [^:]*:\s*(.+)$", re.S)
_DENIED_IDENTITY = re.compile(r"on resource `?arn:[^:]+:ses:[^:]*:[^:]*:identity/([^`'\s]+)")


class MailSandbox(CharlaError):
    """SES is in the sandbox and the recipient is not a verified identity: nothing was sent."""

    def __init__(self, recipient: str) -> None:
        super().__init__(
            "mail_sandbox",
            f"Email to {recipient} was not sent: this AWS account's SES is in the sandbox, where it sends only to "
            "verified addresses and domains. Verify the address in SES, or request SES production access "
            "(see docs/operations.md).",
        )
        self.recipient = recipient


def _quota_is_sandboxed() -> bool:
    try:
        quota = aws.client("ses").get_send_quota()
    except (ClientError, BotoCoreError):
        # Unknown: offer the mail; a refused send still answers `mail_sandbox`.
        log.warning("SES GetSendQuota failed; assuming production access", exc_info=True)
        return False
    return float(quota.get("Max24HourSend", 0)) <= SANDBOX_DAILY_QUOTA


_sandbox: InstanceCache[bool] = InstanceCache(_quota_is_sandboxed, seconds=SANDBOX_CHECK_SECONDS)


@aws.on_reset
def _forget_sandbox() -> None:
    _sandbox.forget()


def sandboxed() -> bool:
    """Whether SES here mails only verified recipients: ask before offering mail to an address a visitor typed."""
    return _sandbox.get()


def sandbox_refusal(error: ClientError, sender: str, recipients: list[str]) -> MailSandbox | None:
    """The sandbox's refusal of `recipients`, if that is what `error` is; None for anything else."""
    details = error.response.get("Error", {})
    code, message = str(details.get("Code", "")), str(details.get("Message", ""))
    sender_address = sender.rpartition("<")[2].rstrip(">").strip().lower()
    wanted = {r.strip().lower(): r for r in recipients}
    failed: list[str] = []
    if code == "MessageRejected" and (match := _NOT_VERIFIED.search(message)):
        failed = [part.strip().lower() for part in match.group(1).split(",")]
        if sender_address in failed or sender_address.split("@")[-1] in failed:
            return None  # the support address itself is unverified: the settings are wrong
    elif code in {"AccessDenied", "AccessDeniedException"} and (match := _DENIED_IDENTITY.search(message)):
        failed = [match.group(1).lower()]
    refused = [wanted[address] for address in failed if address in wanted]
    return MailSandbox(refused[0]) if refused else None


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
    try:
        return str(ses.send_email(**request)["MessageId"])
    except ClientError as error:
        refusal = sandbox_refusal(error, sender, request["Destination"]["ToAddresses"])
        if refusal is None:
            raise
        raise refusal from error
