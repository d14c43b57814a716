"""Helpdesk test helpers: buckets and a verified sender in moto, REST calls answered as (status, body)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from functions.core import settings
from functions.core.principals import Principal
from tests.support import admin

SUPPORT = "support@charla.test"
MAIL_BUCKET = "test-mail"
ATTACHMENTS_BUCKET = "test-attachments"


def prepare(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inside the `aws` fixture: both buckets, a verified sender domain, the support address."""
    monkeypatch.setenv("MAIL_BUCKET", MAIL_BUCKET)
    monkeypatch.setenv("ATTACHMENTS_BUCKET", ATTACHMENTS_BUCKET)
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=MAIL_BUCKET)
    s3.create_bucket(Bucket=ATTACHMENTS_BUCKET)
    boto3.client("ses", region_name="us-east-1").verify_domain_identity(Domain="charla.test")
    settings.save_settings({"support_email": SUPPORT})


def agent_principal(agent_id: str, name: str = "Ana", role: str = "agent") -> Principal:
    return Principal("agent", agent_id, name, role)


class Rest:
    """The app's REST routes through chalice's test client, as a visitor or with an agent's ID token."""

    def __init__(self, http: Any) -> None:
        self.http = http

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        response = admin.call(self.http, method, path, payload=body, **(headers or {}))
        return response.status_code, admin.body(response)


def visitor_headers(identity: dict[str, str]) -> dict[str, str]:
    return {"authorization": f"Visitor {identity['visitor_id']}:{identity['secret']}"}
