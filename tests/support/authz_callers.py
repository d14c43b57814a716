"""The callers of the authorization matrix (tests/stack/test_authz_matrix.py), against one LocalStack.

Every caller knows how to call a REST route (its headers) and how to open a WebSocket (its
connect ticket). Tokens are real Cognito ID tokens checked by the stack's JWT verifier, except
`forged` (a random RSA key with the right claims and kid) and `expired` (a real token presented
while the verifier's clock is two hours ahead). `demoted` was an admin when it signed in and is
an agent now: its token still carries the `admin` group.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import queue
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import jwt
import jwt.api_jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from infra.local.stack import LocalStack
from tests.support import stack_http, ws_client
from tests.support.accounts import PASSWORD

REST_CALLERS = (
    "anonymous",
    "visitor_A",
    "visitor_B",
    "agent_out",
    "agent_in",
    "admin",
    "demoted",
    "disabled",
    "expired",
    "forged",
)
WS_CALLERS = (*REST_CALLERS, "reused_ticket")
AGENTS = ("agent_out", "agent_in", "admin", "demoted")
VISITORS = ("visitor_A", "visitor_B")

# What a denied answer must never show: visitor A's words, addresses and ids (the requested id excepted).
SECRET_TEXT = "the-launch-code-is-4711"
A_NAME = "Alice Matrix"
A_EMAIL = "alice.matrix@example.com"


def http(stack: LocalStack, method: str, path: str, headers: dict[str, str], body: Any = None) -> tuple[int, bytes]:
    """(status, raw answer): a denied answer is searched for leaks as the bytes that went out."""
    data = json.dumps(body).encode() if body is not None else None
    all_headers = {**headers, **({"Content-Type": "application/json"} if data is not None else {})}
    status, _, raw = stack_http.request(method, stack.api_url + path, all_headers, data)
    return status, raw


class _Later(datetime):
    """`datetime` for PyJWT's expiry check only: two hours on, past any ID token's one-hour life."""

    @classmethod
    def now(cls, tz: Any = None) -> Any:  # type: ignore[override]
        return datetime.now(tz) + timedelta(hours=2)


@contextlib.contextmanager
def verifier_clock_ahead() -> Iterator[None]:
    """The stack's verifier (PyJWT, in this process) sees the future; nothing else does.

    Moving the whole process clock (time_machine) would also move the stack's sweeps, which
    close chats idle for that long, and the matrix needs its chat to stay open.
    """
    original = jwt.api_jwt.datetime
    jwt.api_jwt.datetime = _Later  # type: ignore[misc]
    try:
        yield
    finally:
        jwt.api_jwt.datetime = original  # type: ignore[misc]


def forge(real_token: str) -> str:
    """The same claims and key id as a real token, signed with a key Cognito never had."""
    claims = jwt.decode(real_token, options={"verify_signature": False})
    now = int(time.time())
    claims.update(iat=now, auth_time=now, exp=now + 3600)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = jwt.get_unverified_header(real_token).get("kid")
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


@dataclass
class World:
    stack: LocalStack
    tokens: dict[str, str] = field(default_factory=dict)  # caller -> ID token
    emails: dict[str, str] = field(default_factory=dict)
    agent_ids: dict[str, str] = field(default_factory=dict)
    visitors: dict[str, tuple[str, str]] = field(default_factory=dict)  # caller -> (id, secret)
    chat_id: str = ""
    ticket_id: str = ""
    presence: list[ws_client.Client] = field(default_factory=list)

    # --- REST ----------------------------------------------------------------------------------

    def headers(self, caller: str) -> dict[str, str]:
        headers = {"Origin": self.stack.base_url}
        if caller in self.visitors:
            visitor_id, secret = self.visitors[caller]
            headers["Authorization"] = f"Visitor {visitor_id}:{secret}"
        elif caller in self.tokens:
            headers["Authorization"] = self.tokens[caller]
        return headers

    def call(self, caller: str, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        if caller == "expired":
            with verifier_clock_ahead():
                return http(self.stack, method, path, self.headers(caller), body)
        return http(self.stack, method, path, self.headers(caller), body)

    def sign_in_again(self, caller: str) -> None:
        """After `signout-all`: a sign-in after the revocation is accepted again."""
        self.tokens[caller] = self.stack.id_token(
            self.emails[caller], PASSWORD if caller != "admin" else self.stack.demo_password
        )

    # --- WebSocket -----------------------------------------------------------------------------

    def ticket(self, caller: str) -> tuple[int, str | None]:
        """(status of minting over REST, ticket or None) for the caller's own route."""
        route = "/visitor/ws-ticket" if caller in self.visitors or caller == "anonymous" else "/agent/ws-ticket"
        code, raw = self.call(caller, "POST", route)
        return code, (json.loads(raw)["ticket"] if code == 201 else None)

    def connect(self, ticket: str) -> ws_client.Client:
        return ws_client.Client(self.stack.ws_url, ticket, self.stack.base_url)

    @staticmethod
    def hang_up(client: ws_client.Client) -> None:
        client.close()
        ws_client.OPEN.remove(client)  # ws_client.close_all() would close it a second time, and hang

    def refused_status(self, ticket: str | None) -> int:
        """The HTTP status of a refused WebSocket upgrade (fails if the socket opens)."""
        url = self.stack.ws_url + (f"?ticket={ticket}" if ticket else "")

        async def attempt() -> int:
            async with aiohttp.ClientSession() as session:
                try:
                    socket = await session.ws_connect(url, headers={"Origin": self.stack.base_url})
                except aiohttp.WSServerHandshakeError as refused:
                    return refused.status
                await socket.close()
                return 101

        return asyncio.run(asyncio.wait_for(attempt(), 20))


def outcome(client: ws_client.Client, frame: dict[str, Any], success: str | None) -> dict[str, Any]:
    """Sends `frame`; returns the error frame answering it, or the first frame of type `success`.

    Frames run concurrently (as Lambda invocations do), so a later ping can't mark "done"; an action
    that answers nothing on success (`success` None) gets a quiet second to report an error instead.
    """
    client.send(frame)
    deadline = time.monotonic() + (1.0 if success is None else 10.0)
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            if success is None:
                return {"type": "(silent)"}
            raise AssertionError(f"no answer to {frame}")
        try:
            got = client.frames.get(timeout=left)
        except queue.Empty:
            continue
        if got.get("type") == "error" and got.get("action") == frame.get("action"):
            return got
        if success is not None and got.get("type") == success:
            return got


def unique() -> str:
    return uuid.uuid4().hex[:12]
