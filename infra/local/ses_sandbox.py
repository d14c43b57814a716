"""SES as a new AWS account has it: in the sandbox, mail to unverified recipients is refused.

moto's SES checks only the sender. AWS places every new account in the SES sandbox, per region
(https://docs.aws.amazon.com/ses/latest/dg/request-production-access.html):

- mail goes only to verified email addresses and domains, or to the mailbox simulator;
- at most 200 messages per 24 hours and 1 per second (what `GetSendQuota` answers there);
- out of the sandbox, any recipient is accepted, but the sender ("From", "Source", "Sender",
  "Return-Path") must still be a verified address or domain
  (https://docs.aws.amazon.com/ses/latest/dg/verify-addresses-and-domains.html).

A refused send answers as SES does: `MessageRejected`, "Email address is not verified. The following
identities failed the check in region US-EAST-1: a@example.com" (boto/boto3#3873, django-ses#275).

`CHARLA_SES_PRODUCTION_ACCESS=1` plays an account that has been granted production access. It is read
at every call, so a test or an operator can switch it without restarting moto. Unset: the sandbox.
"""

from __future__ import annotations

import email
import functools
import os
from email.utils import getaddresses, parseaddr
from typing import Any

from moto.ses.exceptions import MessageRejectedError
from moto.ses.models import SESBackend, SESQuota

from infra.local import require_patched_moto

PRODUCTION_ACCESS_VARIABLE = "CHARLA_SES_PRODUCTION_ACCESS"
# The mailbox simulator's addresses are accepted in the sandbox too
# (https://docs.aws.amazon.com/ses/latest/dg/send-an-email-from-console.html#send-email-simulator).
SIMULATOR_DOMAIN = "simulator.amazonses.com"
SANDBOX_QUOTA = (200.0, 1.0)  # messages per 24 hours, per second
# What a new production account typically starts with; any figure above the sandbox's would do here.
PRODUCTION_QUOTA = (50_000.0, 14.0)


def production_access() -> bool:
    return os.environ.get(PRODUCTION_ACCESS_VARIABLE, "").strip().lower() in {"1", "true", "yes", "on"}


def _address(value: str) -> str:
    return parseaddr(value)[1] or value


def _check(backend: SESBackend, source: str | None, recipients: list[str]) -> None:
    """Raises SES's MessageRejected naming every identity that failed the check."""
    failed: list[str] = []
    if source is not None and not backend._is_verified_address(_address(source)):
        failed.append(_address(source))
    if not production_access():
        for recipient in recipients:
            address = _address(recipient)
            if address.lower().endswith("@" + SIMULATOR_DOMAIN):
                continue
            if not backend._is_verified_address(address) and address not in failed:
                failed.append(address)
    if failed:
        backend.rejected_messages_count += 1
        raise MessageRejectedError(
            "Email address is not verified. The following identities failed the check in region "
            f"{backend.region_name.upper()}: {', '.join(failed)}"
        )


def _send_email(original: Any) -> Any:
    @functools.wraps(original)
    def send_email(self: SESBackend, source: str, subject: str, body: str, destinations: dict[str, list[str]]) -> Any:
        _check(self, source, [address for addresses in destinations.values() for address in addresses])
        return original(self, source, subject, body, destinations)

    return send_email


def _send_raw_email(original: Any) -> Any:
    @functools.wraps(original)
    def send_raw_email(self: SESBackend, source: str | None, destinations: list[str], raw_data: str) -> Any:
        message = email.message_from_string(raw_data)
        sender = source if source is not None else message["from"]
        headers = [message[name] for name in ("TO", "CC", "BCC") if name in message]
        recipients = list(destinations) + [address for _, address in getaddresses(headers) if address]
        _check(self, sender, recipients)
        return original(self, source, destinations, raw_data)

    return send_raw_email


def _get_send_quota(original: Any) -> Any:
    @functools.wraps(original)
    def get_send_quota(self: SESBackend) -> SESQuota:
        quota = original(self)
        quota.max24_hour_send, quota.max_send_rate = PRODUCTION_QUOTA if production_access() else SANDBOX_QUOTA
        return quota

    return get_send_quota


def install() -> None:
    require_patched_moto()
    if getattr(SESBackend.send_email, "_charla_sandbox", False):
        return
    patches = {"send_email": _send_email, "send_raw_email": _send_raw_email, "get_send_quota": _get_send_quota}
    for name, wrap in patches.items():
        patched = wrap(getattr(SESBackend, name))
        patched._charla_sandbox = True
        setattr(SESBackend, name, patched)
