"""A stack as `make run` starts it by default: SES in the sandbox of a new AWS account, the support domain
(charla.local) verified. Moto runs in its own process, so the setting must reach it through the environment."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from infra.local.stack import LocalStack
from tests.support import outbox
from tests.support.stack_http import call


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(port=0, moto_process=True, ses_production_access=False) as started:
        yield started


def test_a_sandboxed_stack_refuses_invitations_to_unverified_addresses_and_tells_the_admin_why(stack):
    admin = stack.id_token(stack.demo_email, stack.demo_password)
    ana = {"email": "ana@gmail.test", "name": "Ana", "role": "agent"}
    status, answer = call(stack, "POST", "/admin/agents", ana, token=admin)
    assert status == 422 and answer["Code"] == "mail_sandbox" and "sandbox" in answer["Message"], answer
    status, listed = call(stack, "GET", "/admin/agents", token=admin)
    assert "ana@gmail.test" not in [a["email"] for a in listed["agents"]]
    # The stack's own domain is verified, as a deploy's mail domain is: its addresses get their invitation.
    bob = {"email": "bob@charla.local", "name": "Bob", "role": "agent"}
    status, invited = call(stack, "POST", "/admin/agents", bob, token=admin)
    assert status == 201, invited
    assert [m["to"] for m in outbox.of_stack(stack)] == [["bob@charla.local"]]


def test_a_sandboxed_stack_tells_the_widget_not_to_offer_a_transcript(stack):
    status, settings = call(stack, "GET", "/widget/settings")
    assert status == 200 and settings["transcript_email"] is False
