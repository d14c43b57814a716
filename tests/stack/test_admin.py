"""Administration through the local stack: real HTTP, real WebSockets, moto's Cognito, SES and SQS.

One stack serves the module. The webhook retry delays are scaled down with
CHARLA_WEBHOOK_BACKOFF_SCALE so a retry comes at once instead of after 10 s.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest

from functions.admin import webhook_delivery, webhooks
from infra.local.stack import LocalStack
from tests.support import outbox
from tests.support.accounts import NEW_PASSWORD
from tests.support.admin import Receiver, signature_ok
from tests.support.polling import wait_for
from tests.support.stack_http import call


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(webhook_delivery.SCALE_VARIABLE, "0.01")
        with LocalStack(port=0, ses_production_access=True) as started:
            yield started


@pytest.fixture(scope="module")
def admin(stack: LocalStack) -> str:
    return stack.id_token(stack.demo_email, stack.demo_password)


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 30))


async def _closed_by_server(stack: LocalStack, ticket: str, action: Any) -> int:
    """Opens a socket with `ticket`, runs `action` (blocking, in a thread), returns the close code."""
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(f"{stack.ws_url}?ticket={ticket}", headers={"Origin": stack.base_url})
        await ws.send_str(json.dumps({"action": "ping"}))
        assert json.loads((await ws.receive(timeout=10)).data)["type"] == "pong"
        await asyncio.to_thread(action)
        message = await ws.receive(timeout=10)
        while message.type == aiohttp.WSMsgType.TEXT:  # frames sent before the close (a closed chat)
            message = await ws.receive(timeout=10)
        assert message.type == aiohttp.WSMsgType.CLOSE, message
        return int(message.data)


async def _refused(stack: LocalStack, ticket: str) -> int:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(f"{stack.ws_url}?ticket={ticket}", headers={"Origin": stack.base_url})
        return refused.value.status


def _invite_and_sign_in(stack: LocalStack, admin: str, email: str, name: str) -> dict[str, Any]:
    before = len(outbox.sent())
    code, invited = call(
        stack,
        "POST",
        "/admin/agents",
        {"email": email, "name": name, "role": "agent"},
        {"Origin": stack.base_url},
        token=admin,
    )
    assert code == 201, invited
    mail = wait_for(lambda: outbox.sent()[before:])[-1]
    assert mail.destinations["ToAddresses"] == [email] and f"{stack.base_url}/agent/" in mail.body
    temporary = re.search(r"temporary password: (\S+)", mail.body).group(1)  # type: ignore[union-attr]
    code, first = call(stack, "POST", "/auth/login", {"email": email, "password": temporary})
    assert code == 200 and first["challenge"] == "NEW_PASSWORD_REQUIRED"
    code, tokens = call(
        stack, "POST", "/auth/challenge", {"email": email, "session": first["session"], "new_password": NEW_PASSWORD}
    )
    assert code == 200, tokens
    return {"id": invited["id"], **tokens}


def test_an_invited_agent_signs_in_and_is_cut_off_live_when_disabled(stack: LocalStack, admin: str) -> None:
    agent = _invite_and_sign_in(stack, admin, "ines@example.com", "Inés")
    code, me = call(stack, "GET", "/agent/me", token=agent["id_token"])
    assert code == 200 and (me["id"], me["name"]) == (agent["id"], "Inés")
    code, ticket = call(stack, "POST", "/agent/ws-ticket", token=agent["id_token"])
    assert code == 201

    def disable() -> None:
        code, changed = call(stack, "PATCH", f"/admin/agents/{agent['id']}", {"disabled": True}, token=admin)
        assert code == 200 and changed["status"] == "disabled"

    assert run(_closed_by_server(stack, ticket["ticket"], disable)) == 1000
    assert call(stack, "GET", "/agent/me", token=agent["id_token"])[0] == 401  # the ID token has not expired
    assert call(stack, "POST", "/agent/ws-ticket", token=agent["id_token"])[0] == 401
    assert call(stack, "POST", "/auth/login", {"email": "ines@example.com", "password": NEW_PASSWORD})[0] == 401
    assert wait_for(lambda: not stack.connection_ids())


def test_a_banned_visitor_is_closed_and_cannot_reconnect(stack: LocalStack, admin: str) -> None:
    code, identity = call(stack, "POST", "/visitor/identity")
    assert code == 201
    visitor = {"Authorization": f"Visitor {identity['visitor_id']}:{identity['secret']}"}
    first = call(stack, "POST", "/visitor/ws-ticket", None, visitor)[1]["ticket"]
    spare = call(stack, "POST", "/visitor/ws-ticket", None, visitor)[1]["ticket"]  # minted before the ban

    def ban() -> None:
        code, made = call(
            stack, "POST", "/admin/bans", {"visitor_id": identity["visitor_id"], "reason": "spam"}, token=admin
        )
        assert code == 201, made

    assert run(_closed_by_server(stack, first, ban)) == 1000
    assert run(_refused(stack, spare)) == 403
    assert call(stack, "POST", "/visitor/ws-ticket", None, visitor)[0] == 403
    bans = call(stack, "GET", "/admin/bans", token=admin)[1]["bans"]
    assert [b["target"] for b in bans] == [identity["visitor_id"]]
    assert call(stack, "DELETE", f"/admin/bans/{bans[0]['id']}", token=admin)[0] == 204
    assert call(stack, "POST", "/visitor/ws-ticket", None, visitor)[0] == 201


def test_a_webhook_cannot_point_at_the_metadata_service_however_it_is_written(stack: LocalStack, admin: str) -> None:
    # The local stack allows receivers on loopback (that is how the test below gets its deliveries);
    # every other internal address stays refused, as in AWS.
    for url in (
        "https://169.254.169.254/latest/meta-data/",
        "https://2852039166/",
        "https://0xa9.0xfe.0xa9.0xfe/",
        "https://[::ffff:169.254.169.254]/",
        "https://[fd00:ec2::254]/",
        "http://10.0.0.1:8080/",
    ):
        code, answer = call(stack, "POST", "/admin/webhooks", {"url": url, "events": ["chat.ended"]}, token=admin)
        assert (code, answer["Code"]) == (400, "url_not_allowed"), (url, answer)


def test_a_webhook_is_delivered_signed_and_retried_after_a_failure(stack: LocalStack, admin: str) -> None:
    with Receiver(500, 200) as receiver:
        code, hook = call(
            stack, "POST", "/admin/webhooks", {"url": receiver.url, "events": ["chat.ended"]}, token=admin
        )
        assert code == 201, hook
        # The app's own emit, in the stack's environment: the queue, the poller and the handler do the rest.
        assert webhooks.emit("chat.ended", {"chat_id": "c_stack"}) == 1
        wait_for(lambda: len(receiver.requests) >= 2)

        def logged() -> list[dict[str, Any]]:
            found = call(stack, "GET", f"/admin/webhooks/{hook['id']}/deliveries", token=admin)[1]["deliveries"]
            return found if len(found) >= 2 else []

        deliveries = wait_for(logged)
    assert [(d["attempt"], d["status_code"], d["outcome"]) for d in reversed(deliveries)] == [
        (1, 500, "retrying"),
        (2, 200, "delivered"),
    ]
    for headers, data in receiver.requests:
        assert signature_ok(hook["secret"], headers, data)
        assert json.loads(data)["data"] == {"chat_id": "c_stack"}
