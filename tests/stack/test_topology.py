"""The local stack plays AWS's topology: CloudFront's viewer headers, CORS on every answer, and a REST
function served by several instances at once, each with its own minute-long caches."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from functions.models import Visitor
from functions.visitors import identity
from infra.local.stack import LocalStack
from tests.support.stack_http import exchange

SHOP = "https://shop.example"
SPOOFED = {
    "X-Forwarded-For": "6.6.6.6",
    "CloudFront-Viewer-Address": "6.6.6.6:4242",
    "CloudFront-Viewer-Country": "KP",
}


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(port=0) as started:
        yield started


@pytest.fixture(scope="module")
def admin(stack: LocalStack) -> str:
    return stack.id_token(stack.demo_email, stack.demo_password)


def _settings(stack: LocalStack, admin: str, changes: dict[str, Any]) -> None:
    status, _, body = exchange(stack, "PATCH", "/admin/settings", changes, {"Authorization": admin})
    assert status == 200, body


# --- the viewer's address and country ----------------------------------------------------------------


def test_spoofed_forwarding_headers_change_neither_the_address_nor_the_country(stack: LocalStack, admin: str) -> None:
    _settings(stack, admin, {"ip_mode": "full"})
    try:
        status, _, body = exchange(
            stack,
            "POST",
            "/visitor/pageview",
            {"event": "view", "pv": "pv-spoof", "url": "https://x.example/"},
            {"Origin": stack.base_url, **SPOOFED},
        )
        assert status == 200, body
        visitor = Visitor.get(body["visitor_id"])
        assert visitor.ip == "127.0.0.1"
        assert visitor.country is None
    finally:
        _settings(stack, admin, {"ip_mode": "truncate"})


def test_an_address_ban_holds_whatever_the_client_claims_to_forward(stack: LocalStack, admin: str) -> None:
    status, _, ban = exchange(
        stack, "POST", "/admin/bans", {"ip": "127.0.0.1", "reason": "test"}, {"Authorization": admin}
    )
    assert status == 201, ban
    try:
        status, _, body = exchange(stack, "POST", "/visitor/identity", {}, {"Origin": stack.base_url, **SPOOFED})
        assert status == 403, body
    finally:
        ban_path = "/admin/bans/" + urllib.request.quote(ban["id"], safe="")
        exchange(stack, "DELETE", ban_path, headers={"Authorization": admin})


# --- CORS on every answer of a widget route -------------------------------------------------------


def test_preflight_success_and_error_answers_all_carry_cors(stack: LocalStack) -> None:
    preflight = urllib.request.Request(
        stack.api_url + "/visitor/identity",
        method="OPTIONS",
        headers={
            "Origin": SHOP,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    with urllib.request.urlopen(preflight, timeout=15) as response:
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert "POST" in response.headers["Access-Control-Allow-Methods"]
    status, headers, _ = exchange(stack, "POST", "/visitor/identity", {}, {"Origin": stack.base_url})
    assert status == 201 and headers["Access-Control-Allow-Origin"] == "*"
    status, headers, body = exchange(stack, "POST", "/visitor/identity", {}, {"Origin": SHOP})
    assert status == 403 and body["Code"] == "origin_not_allowed"
    assert headers["Access-Control-Allow-Origin"] == "*"
    status, headers, _ = exchange(
        stack, "POST", "/visitor/ws-ticket", {}, {"Origin": stack.base_url, "Authorization": "Visitor v-x:nope"}
    )
    assert status == 401 and headers["Access-Control-Allow-Origin"] == "*"
    # API Gateway's own answers, as the deployed GatewayResponses shape them.
    status, headers, _ = exchange(stack, "GET", "/agent/chats", headers={"Authorization": "not-a-token"})
    assert status == 401 and headers["Access-Control-Allow-Origin"] == "*"
    status, headers, _ = exchange(stack, "GET", "/no/such/route", headers={"Authorization": "x"})
    assert status == 403 and headers["Access-Control-Allow-Origin"] == "*"


# --- concurrency: several instances, each with its own caches ------------------------------------


def test_requests_are_served_at_the_same_time(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> None:
    both_inside = threading.Barrier(2, timeout=10)
    create = identity.create_identity

    def meet_then_create() -> dict[str, Any]:
        both_inside.wait()  # passes only if the second request runs while the first is in the app
        return create()

    monkeypatch.setattr(identity, "create_identity", meet_then_create)
    with ThreadPoolExecutor(2) as pool:
        answers = list(
            pool.map(lambda _: exchange(stack, "POST", "/visitor/identity", {}, {"Origin": stack.base_url}), range(2))
        )
    assert [status for status, _, _ in answers] == [201, 201]
    assert answers[0][2]["visitor_id"] != answers[1][2]["visitor_id"]


def test_each_instance_keeps_its_settings_for_up_to_a_minute(stack: LocalStack, admin: str) -> None:
    allowed = [stack.base_url, f"http://localhost:{stack.port}"]
    _settings(stack, admin, {"allowed_origins": [*allowed, SHOP]})
    try:
        # Instance 0 serves this and caches the settings that allow the shop.
        assert exchange(stack, "POST", "/visitor/identity", {}, {"Origin": SHOP})[0] == 201
        with stack.busy_rest_instance():
            # Instance 0 is busy: another instance saves the change and sees it at once.
            _settings(stack, admin, {"allowed_origins": allowed})
            assert exchange(stack, "POST", "/visitor/identity", {}, {"Origin": SHOP})[0] == 403
        # Instance 0 is free again and still has its copy from before the change, as a warm Lambda
        # instance would for up to a minute.
        assert exchange(stack, "POST", "/visitor/identity", {}, {"Origin": SHOP})[0] == 201
    finally:
        _settings(stack, admin, {"allowed_origins": allowed})
