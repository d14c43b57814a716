"""The agents' Cognito user pool, for what admins and agents change there: users, groups, sign-outs."""

from __future__ import annotations

import os
import secrets
from typing import Any

from functions.core import aws
from functions.core.errors import CharlaError, bad_request


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


# The pool's password policy (infra/aws/resources.yaml, PasswordPolicy), said once for people.
PASSWORD_POLICY = "at least 12 characters, with upper- and lower-case letters and a digit"


def password_refused(error: Any) -> CharlaError:
    """Cognito's refusal of a new password, as Charla's own sentence.

    Cognito answers in English only, with wording that varies by rule and a typo of its own ("Password
    does not confirm to the configured password policy"); the console translates this one sentence.
    """
    detail = str(error.response.get("Error", {}).get("Message") or "")
    if "password" not in detail.lower() and "policy" not in detail.lower():
        return bad_request("The new password was refused; choose another one.")
    return bad_request(f"The new password does not meet the password policy: {PASSWORD_POLICY}.")
