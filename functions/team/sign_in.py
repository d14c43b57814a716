"""Agent sign-in through the Cognito user pool. Charla itself never sees a stored password."""

from __future__ import annotations

import os
from typing import Any

from functions.core import aws
from functions.core.errors import CharlaError, bad_request

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
    if answer.get("ChallengeName") == "NEW_PASSWORD_REQUIRED":
        return {"challenge": "NEW_PASSWORD_REQUIRED", "session": answer["Session"]}
    if "AuthenticationResult" not in answer:
        raise CharlaError("unauthorized", "This sign-in needs a step Charla does not support.")
    return _tokens(answer["AuthenticationResult"])


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
    """First sign-in of an invited agent: the temporary password is exchanged for their own."""
    email, session = _text(body, "email"), _text(body, "session", limit=8192)
    if len(session) < 20:  # Cognito's own minimum; anything shorter never came from /auth/login
        raise bad_request("`session` must be the `session` that /auth/login returned.")
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
        raise bad_request(str(error.response["Error"].get("Message") or "The new password is too weak.")) from None
    except cognito.exceptions.InvalidParameterException:
        raise bad_request("The new password does not meet the password policy.") from None
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
    if "AuthenticationResult" not in answer:
        raise CharlaError("unauthorized", "This sign-in needs a step Charla does not support.")
    return _tokens(answer["AuthenticationResult"])
