"""The agents' Cognito user pool, for what admins and agents change there: users, groups, sign-outs."""

from __future__ import annotations

import os
import secrets
from typing import Any

from functions.core import aws


def client() -> Any:
    return aws.client("cognito-idp")


def pool_id() -> str:
    return os.environ["COGNITO_USER_POOL_ID"]


def temporary_password() -> str:
    """Meets Cognito's default policy and the stack's (upper, lower, digit, symbol; 12+ characters)."""
    return f"Tmp-{secrets.token_urlsafe(15)}-9aZ"


def create_invited_user(idp: Any, pool: str, email: str, name: str, password: str) -> dict[str, Any]:
    """A user with a verified email who must replace `password` at the first sign-in; Cognito's user record.

    Cognito's own invitation mail is suppressed: Charla mails invitations itself, from the support address
    and in the organisation's words, and the deploy command hands the first admin's password to the operator.
    """
    user: dict[str, Any] = idp.admin_create_user(
        UserPoolId=pool,
        Username=email,
        UserAttributes=[
            {"Name": "email", "Value": email},
            {"Name": "email_verified", "Value": "true"},
            {"Name": "name", "Value": name},
        ],
        TemporaryPassword=password,
        MessageAction="SUPPRESS",
    )["User"]
    return user
