"""Agent sign-in through the Cognito user pool. Charla itself never sees a stored password."""

from __future__ import annotations

import os
from typing import Any

from functions.core import aws
from functions.core.errors import CharlaError, bad_request
from functions.team import members, mfa, user_pool

_WRONG = CharlaError("unauthorized", "Wrong email or password.")


def _cognito() -> Any:
    return aws.client("cognito-idp")


def _client_id() -> str:
    return os.environ["COGNITO_CLIENT_ID"]


def _text(body: dict[str, Any], name: str, limit: int = 256) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value or len(value) > limit:
        raise bad_request(f"`{name}` must be a non-empty string of at most {limit} characters.")
    return value


def _tokens(result: dict[str, Any]) -> dict[str, Any]:
    tokens = {"id_token": result["IdToken"], "expires_in": result["ExpiresIn"]}
    # The access token is what Cognito wants for an agent's own password change (POST /agent/me/password).
    if "AccessToken" in result:
        tokens["access_token"] = result["AccessToken"]
    if "RefreshToken" in result:
        tokens["refresh_token"] = result["RefreshToken"]
    return tokens


def login(body: dict[str, Any]) -> dict[str, Any]:
    email, password = _text(body, "email"), _text(body, "password")
    cognito = _cognito()
    try:
        answer = cognito.initiate_auth(
            AuthFlow="USER_PASSWORD_AUTH",
            ClientId=_client_id(),
            AuthParameters={"USERNAME": email, "PASSWORD": password},
        )
    except (cognito.exceptions.NotAuthorizedException, cognito.exceptions.UserNotFoundException):
        raise _WRONG from None
    if answer.get("ChallengeName") in ("NEW_PASSWORD_REQUIRED", "SOFTWARE_TOKEN_MFA"):
        return {"challenge": answer["ChallengeName"], "session": answer["Session"]}
    if "AuthenticationResult" not in answer:
        raise CharlaError("unauthorized", "This sign-in needs a step Charla does not support.")
    return _signed_in(answer["AuthenticationResult"], mfa_used=False)


def _signed_in(result: dict[str, Any], *, mfa_used: bool) -> dict[str, Any]:
    """Tokens, plus `mfa_setup_required` when an admin requires TOTP and this agent has none yet.

    Cognito asks every agent with TOTP for a code, so a sign-in without one proves they have none:
    the profile learns it here (and learns "on" from a sign-in that passed the code).
    """
    tokens = _tokens(result)
    agent_id = members.unverified_claim(result["IdToken"], "sub")  # from Cognito over TLS, not a caller
    if agent_id:
        mfa.record(agent_id, mfa_used)
    if not mfa_used and mfa.required():
        tokens["mfa_setup_required"] = True
    return tokens


def logout(body: dict[str, Any]) -> None:
    """Revokes the sign-in's refresh token, and with it every access token it issued (RevokeToken).

    Cognito's RevokeToken ends exactly this sign-in; "sign out everywhere" (revocation.py) ends them all.
    A token that is unknown, already revoked or not a refresh token gets the same answer: signing out
    twice is not an error, and the answer tells a caller nothing about someone else's token.
    See docs.aws.amazon.com/cognito/latest/developerguide/token-revocation.html.
    """
    token = _text(body, "refresh_token", limit=8192)
    cognito = _cognito()
    try:
        cognito.revoke_token(Token=token, ClientId=_client_id())
    except (
        cognito.exceptions.UnsupportedTokenTypeException,
        cognito.exceptions.NotAuthorizedException,
        cognito.exceptions.InvalidParameterException,
    ):
        pass


def refresh(body: dict[str, Any]) -> dict[str, Any]:
    token = _text(body, "refresh_token", limit=8192)
    cognito = _cognito()
    try:
        answer = cognito.initiate_auth(
            AuthFlow="REFRESH_TOKEN_AUTH", ClientId=_client_id(), AuthParameters={"REFRESH_TOKEN": token}
        )
    except cognito.exceptions.NotAuthorizedException:
        raise CharlaError("unauthorized", "The session has ended; sign in again.") from None
    return _tokens(answer["AuthenticationResult"])


def answer_challenge(body: dict[str, Any]) -> dict[str, Any]:
    """The step /auth/login asked for: a new password (first sign-in) or the TOTP code.

    `challenge` says which; without it, the first sign-in's NEW_PASSWORD_REQUIRED as before.
    """
    challenge = body.get("challenge", "NEW_PASSWORD_REQUIRED")
    if challenge not in ("NEW_PASSWORD_REQUIRED", "SOFTWARE_TOKEN_MFA"):
        raise bad_request('`challenge` must be "NEW_PASSWORD_REQUIRED" or "SOFTWARE_TOKEN_MFA".')
    email, session = _text(body, "email"), _text(body, "session", limit=8192)
    if len(session) < 20:  # Cognito's own minimum; anything shorter never came from /auth/login
        raise bad_request("`session` must be the `session` that /auth/login returned.")
    if challenge == "SOFTWARE_TOKEN_MFA":
        return _answer_code(email, session, mfa.code(body))
    new_password = _text(body, "new_password")
    cognito = _cognito()
    try:
        answer = cognito.respond_to_auth_challenge(
            ClientId=_client_id(),
            ChallengeName="NEW_PASSWORD_REQUIRED",
            Session=session,
            ChallengeResponses={"USERNAME": email, "NEW_PASSWORD": new_password},
        )
    except cognito.exceptions.InvalidPasswordException as error:
        raise user_pool.password_refused(error) from None
    except cognito.exceptions.InvalidParameterException as error:
        raise user_pool.password_refused(error) from None
    except (
        cognito.exceptions.NotAuthorizedException,
        cognito.exceptions.CodeMismatchException,
        cognito.exceptions.ExpiredCodeException,
        cognito.exceptions.ResourceNotFoundException,  # moto's answer for an unknown session
        cognito.exceptions.UserNotFoundException,
    ):
        raise CharlaError(
            "unauthorized", "This sign-in has expired; sign in again with the temporary password."
        ) from None
    if answer.get("ChallengeName") == "SOFTWARE_TOKEN_MFA":  # a password reset keeps the agent's TOTP
        return {"challenge": "SOFTWARE_TOKEN_MFA", "session": answer["Session"]}
    if "AuthenticationResult" not in answer:
        raise CharlaError("unauthorized", "This sign-in needs a step Charla does not support.")
    return _signed_in(answer["AuthenticationResult"], mfa_used=False)


def _answer_code(email: str, session: str, code: str) -> dict[str, Any]:
    cognito = _cognito()
    try:
        answer = cognito.respond_to_auth_challenge(
            ClientId=_client_id(),
            ChallengeName="SOFTWARE_TOKEN_MFA",
            Session=session,
            ChallengeResponses={"USERNAME": email, "SOFTWARE_TOKEN_MFA_CODE": code},
        )
    except cognito.exceptions.CodeMismatchException:
        raise bad_request("`code` is wrong or has expired; enter the code the app shows now.") from None
    except (
        cognito.exceptions.NotAuthorizedException,
        cognito.exceptions.ExpiredCodeException,
        cognito.exceptions.ResourceNotFoundException,  # moto's answer for an unknown session
        cognito.exceptions.UserNotFoundException,
    ):
        raise CharlaError("unauthorized", "This sign-in has expired; sign in again.") from None
    if "AuthenticationResult" not in answer:
        raise CharlaError("unauthorized", "This sign-in needs a step Charla does not support.")
    return _signed_in(answer["AuthenticationResult"], mfa_used=True)
