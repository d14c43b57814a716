"""The local SES plays a new account's sandbox: what AWS refuses there, moto refuses too."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from infra.local import ses_sandbox


@pytest.fixture
def ses(aws, monkeypatch):
    monkeypatch.setenv(ses_sandbox.PRODUCTION_ACCESS_VARIABLE, "0")
    client = boto3.client("ses", region_name="us-east-1")
    client.verify_domain_identity(Domain="charla.test")
    return client


def _send(ses, to: str, source: str = "support@charla.test") -> str:
    message = {"Subject": {"Data": "Hello"}, "Body": {"Text": {"Data": "hola"}}}
    return ses.send_email(Source=source, Destination={"ToAddresses": [to]}, Message=message)["MessageId"]


def _raw(ses, to: str) -> str:
    data = f"From: support@charla.test\nTo: {to}\nSubject: Hi\n\nhola\n"
    return ses.send_raw_email(Source="support@charla.test", Destinations=[to], RawMessage={"Data": data})["MessageId"]


def test_the_sandbox_refuses_an_unverified_recipient_as_ses_does(ses):
    for send in (_send, _raw):
        with pytest.raises(ClientError) as refused:
            send(ses, "vera@gmail.test")
        error = refused.value.response["Error"]
        assert error["Code"] == "MessageRejected"
        assert error["Message"] == (
            "Email address is not verified. The following identities failed the check in region US-EAST-1: "
            "vera@gmail.test"
        )


def test_verified_addresses_verified_domains_and_the_simulator_receive_mail_in_the_sandbox(ses):
    ses.verify_email_identity(EmailAddress="vera@gmail.test")
    assert _send(ses, "vera@gmail.test") and _raw(ses, "vera@gmail.test")
    assert _send(ses, "ana@charla.test")
    assert _send(ses, "success@simulator.amazonses.com")


def test_an_unverified_sender_is_named_too(ses):
    with pytest.raises(ClientError) as refused:
        _send(ses, "ana@charla.test", source="help@nowhere.test")
    assert refused.value.response["Error"]["Message"].endswith(": help@nowhere.test")


def test_production_access_is_read_at_each_call_and_the_quota_tells_the_two_apart(ses, monkeypatch):
    assert ses.get_send_quota()["Max24HourSend"] == 200
    monkeypatch.setenv(ses_sandbox.PRODUCTION_ACCESS_VARIABLE, "1")
    assert _send(ses, "vera@gmail.test") and _raw(ses, "vera@gmail.test")
    assert ses.get_send_quota()["Max24HourSend"] > 200
    with pytest.raises(ClientError):  # out of the sandbox the sender must still be verified
        _send(ses, "vera@gmail.test", source="help@nowhere.test")
