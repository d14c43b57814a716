"""A second factor for agents: TOTP (an authenticator app), which an admin can require for everyone.

Cognito keeps the secret and checks the codes: the pool's MFA is OPTIONAL, so an agent who turned
TOTP on gets a SOFTWARE_TOKEN_MFA challenge at every sign-in, whoever calls Cognito. "Required" is
Charla's setting, not the pool's: Cognito refuses to switch an existing pool to ON ("Cannot turn MFA
functionality ON, once the user pool has been created", aws-cloudformation/cloudformation-coverage-
roadmap#1176), and an ON pool can't let an admin reset a lost device. So Charla refuses every
request of an agent without TOTP while it is required (rest.agent()), except the set-up routes here;
a password alone, used straight against Cognito, opens nothing but the set-up.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from functions.core import data, settings, text
from functions.core.errors import CharlaError, bad_request
from functions.core.principals import Principal
from functions.models import Agent
from functions.team import agents, user_pool
from functions.team.members import own_access_token

ISSUER = "Charla"
MAX_CODE = 6


def code(body: dict[str, Any], name: str = "code") -> str:
    value = body.get(name)
    if not isinstance(value, str) or len(value) != MAX_CODE or not value.isdigit():
        raise bad_request(f"`{name}` must be the 6-digit code from the authenticator app.")
    return value


def required() -> bool:
    """Read fresh, not from the instance cache: an admin's switch applies to the very next request."""
    return bool(settings.get_fresh()["require_mfa"])


def check(profile: Agent) -> None:
    """Refuses an agent without TOTP while an admin requires it (only they pay the settings read)."""
    if not profile.mfa_enabled and required():
        raise CharlaError("mfa_required", "Your organisation requires two-step sign-in: set it up first.")


def status(profile: Agent) -> dict[str, bool]:
    return {"mfa_enabled": bool(profile.mfa_enabled), "mfa_required": required()}


def record(agent_id: str, enabled: bool) -> None:
    """What a sign-in or a set-up just proved about the agent's TOTP, kept on the profile."""
    # With no profile yet, nothing is written: rest.agent() makes one, and the next sign-in records it.
    data.conditional(
        lambda: Agent(agent_id).update(actions=[Agent.mfa_enabled.set(enabled)], condition=Agent.agent_id.exists())
    )


def setup(principal: Principal, body: dict[str, Any]) -> dict[str, str]:
    """A new secret for the agent's authenticator; TOTP is on only once a code from it is verified."""
    text.reject_unknown_fields(body, {"access_token"})
    token = own_access_token(body, principal)
    cognito = user_pool.client()
    try:
        secret = cognito.associate_software_token(AccessToken=token)["SecretCode"]
    except (cognito.exceptions.NotAuthorizedException, cognito.exceptions.ResourceNotFoundException):
        raise CharlaError("unauthorized", "This sign-in has ended; sign in again.") from None
    email = agents.get(principal.id).email
    label = quote(f"{ISSUER}:{email}", safe="@:")
    return {"secret": secret, "otpauth_uri": f"otpauth://totp/{label}?secret={secret}&issuer={ISSUER}"}


def verify(principal: Principal, body: dict[str, Any]) -> dict[str, bool]:
    """A code from the authenticator: TOTP becomes the agent's sign-in step from now on."""
    text.reject_unknown_fields(body, {"access_token", "code"})
    token, given = own_access_token(body, principal), code(body)
    cognito = user_pool.client()
    try:
        answer = cognito.verify_software_token(AccessToken=token, UserCode=given, FriendlyDeviceName=ISSUER)
    except (cognito.exceptions.CodeMismatchException, cognito.exceptions.EnableSoftwareTokenMFAException):
        raise bad_request("`code` is wrong or has expired; enter the code the app shows now.") from None
    except cognito.exceptions.NotAuthorizedException:
        raise CharlaError("unauthorized", "This sign-in has ended; sign in again.") from None
    except cognito.exceptions.InvalidParameterException:
        raise bad_request("Start the set-up again: no authenticator is waiting for a code.") from None
    if answer.get("Status") != "SUCCESS":
        raise bad_request("`code` is wrong or has expired; enter the code the app shows now.")
    cognito.set_user_mfa_preference(AccessToken=token, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True})
    record(principal.id, True)
    return status(agents.get(principal.id))


def disable(principal: Principal, body: dict[str, Any]) -> dict[str, bool]:
    text.reject_unknown_fields(body, {"access_token"})
    token = own_access_token(body, principal)
    if required():
        raise CharlaError("forbidden", "Your organisation requires two-step sign-in; it can't be turned off.")
    cognito = user_pool.client()
    try:
        cognito.set_user_mfa_preference(
            AccessToken=token, SoftwareTokenMfaSettings={"Enabled": False, "PreferredMfa": False}
        )
    except cognito.exceptions.NotAuthorizedException:
        raise CharlaError("unauthorized", "This sign-in has ended; sign in again.") from None
    record(principal.id, False)
    return status(agents.get(principal.id))
