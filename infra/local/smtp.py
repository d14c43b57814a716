"""Inbound mail, as SES receives it: an SMTP listener that stores each raw mail in the mail bucket and
then invokes the app's mail handler with the S3 event that bucket's notification would send.

aiosmtpd speaks SMTP; this module only decides what happens to a mail once it is accepted.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
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

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        # Like an SES receipt rule for the domain: other domains are not ours to receive.
        if address.rpartition("@")[2].lower() != self._domain:
            return f"550 5.1.1 <{address}>: this server receives mail for @{self._domain} only"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        raw = envelope.original_content or b""
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
