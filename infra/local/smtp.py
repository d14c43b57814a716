"""Inbound mail, as SES receives it: an SMTP listener that stores each raw mail in the mail bucket and
then invokes the app's mail handler with the S3 event that bucket's notification would send.

aiosmtpd speaks SMTP; this module only decides what happens to a mail once it is accepted.

SES stores each mail with its receipt verdicts as headers on top (X-SES-Spam-Verdict,
X-SES-Virus-Verdict, Received-SPF, Authentication-Results: amazonses.com; see
functions/helpdesk/inbound_mail.py for the shape and the sources). The listener can't check SPF, DKIM or
DMARC without DNS, so it writes the verdicts it is configured with: `MailDrop.verdicts`, pass by
default, set from CHARLA_SMTP_VERDICTS (e.g. `spf=fail,dkim=fail,dmarc=fail`) or changed by a test
to send a failing mail. Like SES, it stamps them above every header the sender wrote.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import uuid
from collections.abc import Callable
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from infra.local import events
from infra.local.invoker import LambdaInvoker

log = logging.getLogger("charla.local.smtp")

# The app's pure Lambda function for mail (app.py); the stack listens only when the app has one.
HANDLER = "inbound_mail"
# SES receives mails of up to 40 MB into S3; the app's own, lower limit is the app's to enforce.
SES_MAX_BYTES = 40 * 1024 * 1024
KEY_PREFIX = "inbound/"
DEFAULT_VERDICTS = {"spf": "pass", "dkim": "pass", "dmarc": "pass", "spam": "PASS", "virus": "PASS"}


def verdicts_from(text: str | None) -> dict[str, str]:
    """`spf=fail,dkim=none,dmarc=fail,spam=FAIL`: what the listener stamps (the rest stays pass)."""
    chosen = dict(DEFAULT_VERDICTS)
    for part in (text or "").split(","):
        name, _, value = part.strip().partition("=")
        if name in chosen and value:
            chosen[name] = value.upper() if name in ("spam", "virus") else value.lower()
    return chosen


def ses_headers(raw: bytes, mail_from: str, verdicts: dict[str, str], client_ip: str) -> bytes:
    """The trace headers SES puts on top of a received mail, as an S3 action stores it."""
    domain = mail_from.rpartition("@")[2].lower() or "unknown"
    from_domain = _from_domain(raw) or domain
    spf = verdicts["spf"]
    spf_note = (
        f"(spfCheck: domain of {domain} designates {client_ip} as permitted sender)"
        if spf == "pass"
        else f"(spfCheck: domain of {domain} does not designate {client_ip} as permitted sender)"
    )
    lines = [
        f"X-SES-Spam-Verdict: {verdicts['spam']}",
        f"X-SES-Virus-Verdict: {verdicts['virus']}",
        f"Received-SPF: {spf} {spf_note} client-ip={client_ip}; envelope-from={mail_from}; helo=localhost;",
        "Authentication-Results: amazonses.com;",
        f" spf={spf} {spf_note} client-ip={client_ip}; envelope-from={mail_from}; helo=localhost;",
        f" dkim={verdicts['dkim']} header.i=@{from_domain};",
        f" dmarc={verdicts['dmarc']} header.from={from_domain};",
    ]
    return ("\r\n".join(lines) + "\r\n").encode() + raw


def _from_domain(raw: bytes) -> str:
    from email.parser import BytesHeaderParser
    from email.utils import parseaddr

    try:
        value = BytesHeaderParser().parsebytes(raw).get("From") or ""
    except Exception:
        return ""
    return parseaddr(str(value))[1].rpartition("@")[2].lower()


class MailDrop:
    """The aiosmtpd handler: accept mail for the support domain, then deliver it like SES + S3."""

    def __init__(
        self,
        domain: str,
        bucket: str,
        s3: Any,
        handler: Callable[[Any, Any], Any],
        invoker: LambdaInvoker,
        region: str,
    ) -> None:
        self._domain = domain.lower()
        self._bucket = bucket
        self._s3 = s3
        self._handler = handler
        self._invoker = invoker
        self._region = region
        # What SES's checks say of each mail from now on; a test changes it to send a forged mail.
        self.verdicts = verdicts_from(os.environ.get("CHARLA_SMTP_VERDICTS"))

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        # Like an SES receipt rule for the domain: other domains are not ours to receive.
        if address.rpartition("@")[2].lower() != self._domain:
            return f"550 5.1.1 <{address}>: this server receives mail for @{self._domain} only"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        peer = session.peer[0] if isinstance(session.peer, tuple) and session.peer else "127.0.0.1"
        raw = ses_headers(envelope.original_content or b"", envelope.mail_from or "", self.verdicts, str(peer))
        key = KEY_PREFIX + uuid.uuid4().hex
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, lambda: self._s3.put_object(Bucket=self._bucket, Key=key, Body=raw))
        event = events.s3_object_created_event(
            self._bucket, key, size=len(raw), etag=hashlib.md5(raw).hexdigest(), region=self._region
        )
        # S3 invokes the function asynchronously, so its outcome never bounces the mail. Waiting for it
        # here keeps the local stack predictable: once the client has its 250, the ticket exists.
        try:
            await self._invoker.invoke(self._handler, event, HANDLER)
        except Exception:
            log.exception("the mail handler raised for %s", key)
        return "250 2.0.0 Message accepted"


class SmtpListener:
    def __init__(self, host: str, port: int, drop: MailDrop) -> None:
        self.host = host
        self._requested_port = port
        self._drop = drop
        self._server: asyncio.base_events.Server | None = None
        self.port = 0

    async def start(self) -> int:
        # aiosmtpd logs every SMTP command at INFO; the app's own log line says what became of a mail.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        loop = asyncio.get_running_loop()

        def protocol() -> SMTP:
            return SMTP(
                self._drop,
                data_size_limit=SES_MAX_BYTES,
                enable_SMTPUTF8=True,
                hostname="charla.local",
                ident="Charla local SMTP",
                loop=loop,
            )

        try:
            self._server = await loop.create_server(protocol, self.host, self._requested_port)
        except OSError as error:
            raise OSError(
                f"cannot listen for SMTP on {self.host}:{self._requested_port}: {error} "
                "(set CHARLA_SMTP_PORT to use another port)"
            ) from error
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
