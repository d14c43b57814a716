"""SES as a new account has it: in the sandbox mail reaches only verified addresses and domains. The admin, the
agent and the visitor each hear why, through REST and WebSocket, and nothing is half-written."""

from __future__ import annotations

import boto3
import pytest

from functions.core import settings
from functions.models import Ticket
from infra.local import ses_sandbox
from tests.support import desk, outbox
from tests.support.actors import Socket, new_agent, new_visitor, start_chat
from tests.support.admin import add_user, body, call, login, signed_in


@pytest.fixture
def sandbox(aws, monkeypatch):
    """A new AWS account: SES in the sandbox (the `aws` fixture plays one with production access)."""
    monkeypatch.setenv(ses_sandbox.PRODUCTION_ACCESS_VARIABLE, "0")


@pytest.fixture
def boss(sandbox, pool, api):
    """A signed-in admin; example.com (the support address's domain) is verified, as a deploy's domain is."""
    add_user(pool, "boss@example.com", "Boss", role="admin")
    return login(api, "boss@example.com")["id_token"]


def _agents(api, token) -> list[str]:
    return sorted(a["email"] for a in body(call(api, "GET", "/admin/agents", token))["agents"])


def test_in_the_sandbox_inviting_an_unverified_address_is_a_422_naming_the_sandbox_and_creates_no_one(api, boss):
    response = call(api, "POST", "/admin/agents", boss, {"email": "ana@gmail.test", "name": "Ana", "role": "agent"})
    assert response.status_code == 422, response.body
    answer = body(response)
    assert answer["Code"] == "mail_sandbox"
    assert "sandbox" in answer["Message"] and "ana@gmail.test" in answer["Message"]
    assert "production access" in answer["Message"] and "support email" not in answer["Message"]
    assert _agents(api, boss) == ["boss@example.com"]
    assert not [m for m in outbox.sent() if "ana@gmail.test" in str(m.destinations)]


def test_in_the_sandbox_an_invitation_to_a_verified_address_goes_out(api, boss):
    boto3.client("ses", region_name="us-east-1").verify_email_identity(EmailAddress="ana@gmail.test")
    response = call(api, "POST", "/admin/agents", boss, {"email": "ana@gmail.test", "name": "Ana", "role": "agent"})
    assert response.status_code == 201, response.body
    assert outbox.sent()[-1].destinations["ToAddresses"] == ["ana@gmail.test"]
    # And inside the verified domain, without verifying the address.
    colleague = {"email": "bob@example.com", "name": "Bob", "role": "agent"}
    assert call(api, "POST", "/admin/agents", boss, colleague).status_code == 201


def test_an_unverified_support_address_is_still_a_settings_problem_not_the_sandbox(api, boss):
    settings.save_settings({"support_email": "help@unverified.test"})
    boto3.client("ses", region_name="us-east-1").verify_email_identity(EmailAddress="ana@gmail.test")
    response = call(api, "POST", "/admin/agents", boss, {"email": "ana@gmail.test", "name": "Ana", "role": "agent"})
    assert response.status_code == 503 and "support email" in body(response)["Message"]


def test_the_widget_is_told_no_transcript_can_be_mailed_in_the_sandbox(api, sandbox):
    response = api.get("/widget/settings", headers={"origin": "http://127.0.0.1:8000"})
    assert response.status_code == 200, response.body
    assert body(response)["transcript_email"] is False


def test_with_production_access_the_widget_offers_the_transcript(api, aws):
    response = api.get("/widget/settings", headers={"origin": "http://127.0.0.1:8000"})
    assert response.status_code == 200 and body(response)["transcript_email"] is True


def test_in_the_sandbox_a_transcript_to_an_unverified_address_is_an_error_frame_and_nothing_is_sent(sandbox):
    boto3.client("ses", region_name="us-east-1").verify_domain_identity(Domain="charla.test")
    settings.save_settings({"support_email": "support@charla.test"})
    Socket(new_agent())
    visitor = Socket(new_visitor())
    chat = start_chat(visitor, name="Vera", email="vera@gmail.test")
    frames = visitor.send({"action": "transcript", "chat_id": chat["chat_id"]})
    errors = [f for f in frames if f["type"] == "error"]
    assert [e["code"] for e in errors] == ["mail_sandbox"], frames
    assert "sandbox" in errors[0]["message"] and not [f for f in frames if f["type"] == "transcript_sent"]
    assert not [m for m in outbox.sent() if "vera@gmail.test" in str(getattr(m, "destinations", ""))]


def test_in_the_sandbox_a_reply_to_an_unverified_requester_is_stored_and_marked_not_mailed_with_the_reason(
    sandbox, api, pool, monkeypatch
):
    desk.prepare(monkeypatch)
    rest = desk.Rest(api)
    ana = {"authorization": signed_in(api, pool, "ana@charla.test", "Ana")}
    identity = rest.call("POST", "/visitor/identity")[1]
    fields = {"name": "Vera", "email": "vera@gmail.test", "message": "Where is my parcel?"}
    status, made = rest.call("POST", "/visitor/offline", {"fields": fields}, desk.visitor_headers(identity))
    assert status == 201, made
    ref = made["ticket_id"]

    status, replied = rest.call("POST", f"/agent/tickets/{ref}/replies", {"body": "On its way"}, ana)
    assert status == 201, replied
    data = replied["event"]["data"]
    assert (data["delivery"], data["error"]) == ("failed", "mail_sandbox")
    assert "sandbox" in data["reason"] and "vera@gmail.test" in data["reason"]
    assert outbox.sent_mail() == []
    status, opened = rest.call("GET", f"/agent/tickets/{ref}", headers=ana)
    stored = [e for e in opened["events"] if e["body"] == "On its way"]
    assert stored and stored[0]["data"]["error"] == "mail_sandbox"
    assert Ticket.get(ref).status == "pending"


def test_iam_refusing_the_recipients_identity_in_the_sandbox_is_the_same_clear_answer(api, boss, monkeypatch):
    # On AWS the sandbox also checks IAM against the recipient's identity, and the role may send only as the
    # mail domain: SES answers AccessDenied naming identity/<recipient> (cloudposse/terraform-aws-ses#40).
    from botocore.exceptions import ClientError

    from functions.core import aws as charla_aws

    ses = charla_aws.client("ses")

    def denied(**request):
        recipient = request["Destination"]["ToAddresses"][0]
        raise ClientError(
            {
                "Error": {
                    "Code": "AccessDenied",
                    "Message": (
                        "User `arn:aws:sts::123456789012:assumed-role/charla/fn' is not authorized to perform "
                        f"`ses:SendEmail' on resource `arn:aws:ses:us-east-1:123456789012:identity/{recipient}'"
                    ),
                }
            },
            "SendEmail",
        )

    monkeypatch.setattr(ses, "send_email", denied)
    response = call(api, "POST", "/admin/agents", boss, {"email": "ana@gmail.test", "name": "Ana", "role": "agent"})
    assert response.status_code == 422 and body(response)["Code"] == "mail_sandbox", response.body
    assert _agents(api, boss) == ["boss@example.com"]
