"""The local S3 holds a presigned POST to its policy as AWS does, and the console's uploads satisfy it."""

from __future__ import annotations

import base64
import json

import boto3
import pytest
import requests

from functions.helpdesk import attachments, offline_form
from tests.support import desk
from tests.support.actors import new_visitor

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
ANA = desk.agent_principal("ana", "Ana")


@pytest.fixture
def ticket(aws, monkeypatch):
    desk.prepare(monkeypatch)
    body = {"fields": {"name": "Vera", "email": "vera@example.com", "message": "See the file"}}
    return offline_form.submit(new_visitor(), body)


def started(ticket, size: int = len(PNG)) -> dict:
    return attachments.start_upload(ANA, ticket, {"name": "scan.png", "content_type": "image/png", "size": size})


def post(upload: dict, fields: dict, data: bytes = PNG) -> requests.Response:
    return requests.post(upload["url"], data=fields, files={"file": ("scan.png", data)}, timeout=10)


def stored_keys() -> list[str]:
    listed = boto3.client("s3", region_name="us-east-1").list_objects_v2(Bucket=desk.ATTACHMENTS_BUCKET)
    return [item["Key"] for item in listed.get("Contents", [])]


def test_the_consoles_upload_as_started_satisfies_its_policy(ticket):
    upload = started(ticket)["upload"]
    assert post(upload, dict(upload["fields"])).status_code == 204
    assert stored_keys() == [upload["fields"]["key"]]


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"Content-Type": "text/html"}, 403, "AccessDenied"),
        ({"key": "tickets/someone-else/a_stolen12345"}, 403, "AccessDenied"),
        ({"x-amz-meta-extra": "1"}, 403, "AccessDenied"),
        ({"x-amz-signature": "0" * 64}, 403, "SignatureDoesNotMatch"),
    ],
    ids=["another content type", "another key", "a field the policy does not name", "a forged signature"],
)
def test_a_post_that_breaks_its_policy_is_refused_and_stores_nothing(ticket, change, status, code):
    upload = started(ticket)["upload"]
    response = post(upload, {**upload["fields"], **change})
    assert (response.status_code, f"<Code>{code}</Code>" in response.text) == (status, True), response.text
    assert stored_keys() == []


def test_a_file_over_the_policys_size_range_is_refused(ticket, monkeypatch):
    monkeypatch.setattr(attachments, "MAX_BYTES", 70)
    upload = started(ticket, size=70)["upload"]
    response = post(upload, dict(upload["fields"]), PNG + b"\x00" * 10)
    assert response.status_code == 400 and "<Code>EntityTooLarge</Code>" in response.text
    assert stored_keys() == []


def test_a_rewritten_policy_no_longer_matches_its_signature(ticket):
    upload = started(ticket)["upload"]
    policy = json.loads(base64.b64decode(upload["fields"]["policy"]))
    policy["conditions"] = [
        c for c in policy["conditions"] if not (isinstance(c, list) and c[0] == "content-length-range")
    ]
    forged = base64.b64encode(json.dumps(policy).encode()).decode()
    response = post(upload, {**upload["fields"], "policy": forged})
    assert response.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in response.text


def test_an_expired_policy_is_refused(ticket, monkeypatch):
    monkeypatch.setattr(attachments, "UPLOAD_SECONDS", -1)
    upload = started(ticket)["upload"]
    response = post(upload, dict(upload["fields"]))
    assert response.status_code == 403 and "Policy expired" in response.text


def test_a_post_signed_with_signature_version_2_is_refused_as_new_buckets_refuse_it(ticket):
    legacy = boto3.client("s3", region_name="us-east-1")  # boto3's default for presigned POSTs: version 2
    upload = legacy.generate_presigned_post(desk.ATTACHMENTS_BUCKET, "tickets/t/a_legacy12345")
    assert "AWSAccessKeyId" in upload["fields"]
    response = post(upload, dict(upload["fields"]))
    assert response.status_code == 403 and "<Code>AccessDenied</Code>" in response.text
    assert stored_keys() == []
