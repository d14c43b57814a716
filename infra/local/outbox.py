"""`/_local/outbox`: the mail Charla sent, read from moto's SES, which delivers nothing.

JSON for tests and scripts (`/_local/outbox.json`, or `/_local/outbox` asked for JSON); a plain HTML
page for a browser. Every value is untrusted text, so the page escapes it all and runs no script.
"""

from __future__ import annotations

import asyncio
import html
import json
import urllib.request
from email import policy
from email.parser import Parser
from typing import Any

from aiohttp import web
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import RawMessage, ses_backends

CSP = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"


class Outbox:
    """What moto's SES accepted. `sent_mail_url` is set when moto runs in a process of its own
    (infra/local/moto_process.py), which then describes its mail; otherwise moto is in this process."""

    def __init__(self, region: str, account_id: str = DEFAULT_ACCOUNT_ID, sent_mail_url: str | None = None) -> None:
        self._region = region
        self._account_id = account_id
        self._sent_mail_url = sent_mail_url

    def messages(self) -> list[dict[str, Any]]:
        """Newest first."""
        if self._sent_mail_url:
            request = urllib.request.Request(self._sent_mail_url, headers={"X-Charla-Region": self._region})
            with urllib.request.urlopen(request, timeout=10) as response:
                return list(json.loads(response.read())["messages"])
        sent = list(ses_backends[self._account_id][self._region].sent_messages)
        return [_describe(m) for m in reversed(sent)]

    async def _messages(self) -> list[dict[str, Any]]:
        return await asyncio.to_thread(self.messages)  # the other process may be busy; the loop is not

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/_local/outbox", self.page), web.get("/_local/outbox.json", self.json)]

    async def json(self, request: web.Request) -> web.Response:
        return web.json_response({"messages": await self._messages()}, headers={"Cache-Control": "no-store"})

    async def page(self, request: web.Request) -> web.Response:
        if "text/html" not in request.headers.get("Accept", ""):
            return await self.json(request)
        return web.Response(
            text=render(await self._messages()),
            content_type="text/html",
            headers={"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"},
        )


def _describe(message: Any) -> dict[str, Any]:
    if isinstance(message, RawMessage):
        return _raw(message)
    destinations = getattr(message, "destinations", {}) or {}
    if not isinstance(destinations, dict):
        destinations = {"ToAddresses": list(destinations)}
    return {
        "id": message.id,
        "kind": "simple" if hasattr(message, "body") else type(message).__name__,
        "from": message.source,
        "to": list(destinations.get("ToAddresses", [])),
        "cc": list(destinations.get("CcAddresses", [])),
        "reply_to": [],
        "subject": getattr(message, "subject", None) or getattr(message, "template", ""),
        "in_reply_to": None,
        "body": getattr(message, "body", None) or getattr(message, "template_data", ""),
        "attachments": [],
        "headers": [],
    }


def _raw(message: RawMessage) -> dict[str, Any]:
    parsed: Any = Parser(policy=policy.default).parsestr(message.raw_data)
    body = parsed.get_body(preferencelist=("plain", "html"))
    attachments = []
    for part in parsed.iter_attachments():
        data = part.get_payload(decode=True) or b""
        attachments.append({"name": part.get_filename(), "content_type": part.get_content_type(), "size": len(data)})
    return {
        "id": message.id,
        "kind": "raw",
        "from": str(parsed.get("From", "")),
        "to": [str(v) for v in parsed.get_all("To") or []],
        "cc": [str(v) for v in parsed.get_all("Cc") or []],
        "reply_to": [str(v) for v in parsed.get_all("Reply-To") or []],
        "subject": str(parsed.get("Subject", "")),
        "in_reply_to": str(parsed["In-Reply-To"]) if parsed["In-Reply-To"] else None,
        "body": body.get_content() if body is not None else "",
        "attachments": attachments,
        # Exactly as sent (folded lines unfolded), so a test can see that nothing was injected.
        "headers": [[name, str(value)] for name, value in parsed.items()],
    }


def render(messages: list[dict[str, Any]]) -> str:
    e = html.escape
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8"><title>Charla outbox</title></head><body>',
        "<h1>Outbox</h1>",
        f"<p>{len(messages)} mail(s) sent through the local SES, newest first. "
        'As JSON: <a href="/_local/outbox.json">/_local/outbox.json</a>.</p>',
    ]
    for message in messages:
        parts.append("<article><hr>")
        parts.append(f"<h2>{e(message['subject'] or '(no subject)')}</h2><dl>")
        for label, value in (
            ("From", message["from"]),
            ("To", ", ".join(message["to"])),
            ("Cc", ", ".join(message["cc"])),
            ("Reply-To", ", ".join(message["reply_to"])),
            ("In-Reply-To", message["in_reply_to"] or ""),
            ("Attachments", ", ".join(f"{a['name']} ({a['size']} bytes)" for a in message["attachments"])),
        ):
            if value:
                parts.append(f"<dt>{e(label)}</dt><dd>{e(str(value))}</dd>")
        parts.append(f"</dl><pre>{e(str(message['body']))}</pre></article>")
    parts.append("</body></html>")
    return "\n".join(parts)
