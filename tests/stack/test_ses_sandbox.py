"""A stack as `make run` starts it by default: SES in the sandbox of a new AWS account, the support domain
(charla.local) verified. Moto runs in its own process, so the setting must reach it through the environment."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from infra.local.stack import LocalStack


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(port=0, moto_process=True, ses_production_access=False) as started:
        yield started


def http(stack: LocalStack, method: str, path: str, token: str | None = None, payload: Any = None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json", "Origin": stack.base_url}
    if token:
        headers["Authorization"] = token
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(stack.api_url + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, json.loads(raw) if raw else None


def test_a_sandboxed_stack_refuses_invitations_to_unverified_addresses_and_tells_the_admin_why(stack):
    admin = stack.id_token(stack.demo_email, stack.demo_password)
    ana = {"email": "ana@gmail.test", "name": "Ana", "role": "agent"}
    status, answer = http(stack, "POST", "/admin/agents", admin, ana)
    assert status == 422 and answer["Code"] == "mail_sandbox" and "sandbox" in answer["Message"], answer
    status, listed = http(stack, "GET", "/admin/agents", admin)
    assert "ana@gmail.test" not in [a["email"] for a in listed["agents"]]
    # The stack's own domain is verified, as a deploy's mail domain is: its addresses get their invitation.
    bob = {"email": "bob@charla.local", "name": "Bob", "role": "agent"}
    status, invited = http(stack, "POST", "/admin/agents", admin, bob)
    assert status == 201, invited
    with urllib.request.urlopen(stack.base_url + "/_local/outbox.json", timeout=15) as response:
        outbox = json.loads(response.read())["messages"]
    assert [m["to"] for m in outbox] == [["bob@charla.local"]]


def test_a_sandboxed_stack_tells_the_widget_not_to_offer_a_transcript(stack):
    status, settings = http(stack, "GET", "/widget/settings")
    assert status == 200 and settings["transcript_email"] is False
