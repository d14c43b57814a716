"""Helpdesk test helpers: buckets and a verified sender in moto, sent mail, REST callers with tokens."""

from __future__ import annotations

import json
from email import policy
from email.message import EmailMessage
from email.parser import Parser
from typing import Any

import boto3
import pytest

from functions.core import settings
from functions.core.principals import Principal

SUPPORT = "support@charla.test"
MAIL_BUCKET = "test-mail"
ATTACHMENTS_BUCKET = "test-attachments"
PASSWORD = "Corr3ct-horse-battery"


def prepare(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inside the `aws` fixture: both buckets, a verified sender domain, the support address."""
    monkeypatch.setenv("MAIL_BUCKET", MAIL_BUCKET)
    monkeypatch.setenv("ATTACHMENTS_BUCKET", ATTACHMENTS_BUCKET)
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=MAIL_BUCKET)
    s3.create_bucket(Bucket=ATTACHMENTS_BUCKET)
    boto3.client("ses", region_name="us-east-1").verify_domain_identity(Domain="charla.test")
    settings.save_settings({"support_email": SUPPORT})


def sent_mail() -> list[EmailMessage]:
    """Every raw mail moto's SES accepted, oldest first, parsed."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    sent = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
    return [Parser(policy=policy.default).parsestr(m.raw_data) for m in sent if hasattr(m, "raw_data")]


def raw_sent() -> list[str]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return [m.raw_data for m in ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages if hasattr(m, "raw_data")]


def agent_principal(agent_id: str, name: str = "Ana", role: str = "agent") -> Principal:
    return Principal("agent", agent_id, name, role)


class Rest:
    """The app's REST routes through chalice's test client, as a visitor or with an agent's ID token."""

    def __init__(self, http: Any) -> None:
        self.http = http

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        kwargs: dict[str, Any] = {"headers": {"content-type": "application/json", **(headers or {})}}
        if body is not None:
            kwargs["body"] = body if isinstance(body, str) else json.dumps(body)
        response = self.http.request(method, path, **kwargs)
        return response.status_code, (json.loads(response.body) if response.body else None)


def visitor_headers(identity: dict[str, str]) -> dict[str, str]:
    return {"authorization": f"Visitor {identity['visitor_id']}:{identity['secret']}"}


def cognito_pool(monkeypatch: pytest.MonkeyPatch) -> tuple[Any, str]:
    idp = boto3.client("cognito-idp", region_name="us-east-1")
    pool = idp.create_user_pool(PoolName="charla", UsernameAttributes=["email"])["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(
        UserPoolId=pool,
        ClientName="console",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        ReadAttributes=["email", "name"],
    )["UserPoolClient"]["ClientId"]
    monkeypatch.setenv("COGNITO_CLIENT_ID", client_id)
    idp.create_group(UserPoolId=pool, GroupName="admin")
    idp.create_group(UserPoolId=pool, GroupName="agent")
    return idp, pool


def agent_token(rest: Rest, idp: Any, pool: str, email: str, name: str, group: str = "agent") -> str:
    idp.admin_create_user(
        UserPoolId=pool,
        Username=email,
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "name", "Value": name}],
        MessageAction="SUPPRESS",
    )
    idp.admin_set_user_password(UserPoolId=pool, Username=email, Password=PASSWORD, Permanent=True)
    idp.admin_add_user_to_group(UserPoolId=pool, Username=email, GroupName=group)
    status, tokens = rest.call("POST", "/auth/login", {"email": email, "password": PASSWORD})
    assert status == 200, tokens
    return str(tokens["id_token"])
