"""Where moto's Cognito is laxer than AWS's, the local stack makes it as strict (sign-out, attributes, TOTP).

Each gap, and what AWS does instead:

- **RevokeToken** is missing from moto. AWS revokes the refresh token and every access token it
  issued; other sign-ins are untouched (docs.aws.amazon.com/cognito/latest/developerguide/
  token-revocation.html). ID tokens stay valid to a plain JWT check, as on AWS.
- **WriteAttributes.** moto lets UpdateUserAttributes (the user's own access token) write any
  attribute. AWS refuses an attribute the app client may not write, with NotAuthorizedException
  "A client attempted to write unauthorized attribute" (aws/aws-sdk-js#1319). Admin calls are not
  limited by the app client, on AWS as here.
- **TOTP.** moto hands every user the same secret and accepts any code unless an environment
  variable is set, and then checks it against that one shared secret. AWS gives each
  AssociateSoftwareToken a new secret, turns it on only when VerifySoftwareToken gets a code from it,
  and answers a wrong code with EnableSoftwareTokenMFAException (VerifySoftwareToken) or
  CodeMismatchException (the SOFTWARE_TOKEN_MFA challenge).

install() patches moto's classes in this process; the stack calls it in whichever process serves moto,
and the unit tests' pool fixture calls it for mock_aws.
"""

from __future__ import annotations

import base64
import functools
import json
import secrets
from typing import Any

from cryptography.hazmat.primitives.twofactor import InvalidToken
from moto.cognitoidp import models
from moto.cognitoidp.exceptions import CodeMismatchException, NotAuthorizedError
from moto.cognitoidp.responses import CognitoIdpResponse
from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult, EmptyResult

# A code from the step before or after is accepted too: phones' clocks drift.
VALID_WINDOW = 1


class EnableSoftwareTokenMfaError(JsonRESTError):
    def __init__(self, message: str) -> None:
        super().__init__(error_type="EnableSoftwareTokenMFAException", message=message)


def _claims(token: str) -> dict[str, Any]:
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}
    return claims if isinstance(claims, dict) else {}


# --- RevokeToken ----------------------------------------------------------------------------------


def revoke_token(self: models.CognitoIdpBackend, token: str, client_id: str) -> None:
    for pool in self.user_pools.values():
        if client_id not in pool.clients:
            continue
        issued = pool.refresh_tokens.get(token)
        if not issued or issued[0] != client_id:
            return  # unknown, revoked already, or another client's: nothing to revoke
        _, username, origin_jti = issued
        pool.refresh_tokens[token] = None
        for access_token, (_, owner) in list(pool.access_tokens.items()):
            if owner == username and _claims(access_token).get("origin_jti") == origin_jti:
                pool.access_tokens.pop(access_token)
        return
    raise models.ResourceNotFoundError(client_id)


def _revoke_token_response(self: CognitoIdpResponse) -> ActionResult:
    client_id = self._get_param("ClientId")
    backend = self._get_region_agnostic_backend()._find_backend_for_clientid(client_id)
    revoke_token(backend, self._get_param("Token"), client_id)
    return EmptyResult()


# --- WriteAttributes ------------------------------------------------------------------------------


def _writable(original: Any) -> Any:
    @functools.wraps(original)
    def update_user_attributes(self: models.CognitoIdpBackend, access_token: str, attributes: Any) -> None:
        for pool in self.user_pools.values():
            if access_token in pool.access_tokens:
                client_id, _ = pool.access_tokens[access_token]
                client = pool.clients.get(client_id)
                allowed = client.extended_config.get("WriteAttributes") if client else None
                if allowed is not None and any(a.get("Name") not in allowed for a in attributes):
                    raise NotAuthorizedError("A client attempted to write unauthorized attribute")
                break
        return original(self, access_token, attributes)

    update_user_attributes._charla_strict = True  # type: ignore[attr-defined]
    return update_user_attributes


# --- TOTP -----------------------------------------------------------------------------------------


def _user(backend: models.CognitoIdpBackend, access_token: str | None, session: str | None) -> Any:
    if session:
        if session not in backend.sessions:
            raise NotAuthorizedError("Invalid session for the user.")
        username, pool = backend.sessions[session]
        return backend.admin_get_user(pool.id, username)
    for pool in backend.user_pools.values():
        if access_token and access_token in pool.access_tokens:
            _, username = pool.access_tokens[access_token]
            return backend.admin_get_user(pool.id, username)
    raise NotAuthorizedError("Invalid Access Token")


def _code_fits(secret: str | None, code: str | None) -> bool:
    if not secret or not isinstance(code, str):
        return False
    try:
        models.verify_totp(models.cognito_totp(secret), code.encode(), valid_window=VALID_WINDOW)
    except (InvalidToken, ValueError):
        return False
    return True


def associate_software_token(self: models.CognitoIdpBackend, access_token: str, session: str) -> dict[str, str]:
    user = _user(self, access_token, session)
    # 160 random bits in base32, as RFC 4226 recommends and authenticator apps expect.
    secret = base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")
    user.charla_totp_pending = secret
    answer = {"SecretCode": secret}
    if session:
        answer["Session"] = session
    return answer


def verify_software_token(
    self: models.CognitoIdpBackend, access_token: str, session: str, user_code: str, friendly_device_name: str
) -> dict[str, str]:
    user = _user(self, access_token, session)
    pending = getattr(user, "charla_totp_pending", None)
    if not pending:
        raise models.InvalidParameterException("User has not associated a software token.")
    if not _code_fits(pending, user_code):
        raise EnableSoftwareTokenMfaError("Code mismatch")
    user.charla_totp_secret, user.charla_totp_pending = pending, None
    user.token_verified = True
    answer = {"Status": "SUCCESS"}
    if session:
        answer["Session"] = session
    return answer


def _checked_challenge(original: Any) -> Any:
    @functools.wraps(original)
    def respond_to_auth_challenge(
        self: models.CognitoIdpBackend,
        session: str,
        client_id: str,
        challenge_name: str,
        challenge_responses: dict[str, str],
    ) -> dict[str, Any]:
        if challenge_name == "SOFTWARE_TOKEN_MFA" and session in self.sessions:
            username, pool = self.sessions[session]
            user = self.admin_get_user(pool.id, username)
            if not _code_fits(
                getattr(user, "charla_totp_secret", None), (challenge_responses or {}).get("SOFTWARE_TOKEN_MFA_CODE")
            ):
                raise CodeMismatchException("Invalid code received for user")
        return original(self, session, client_id, challenge_name, challenge_responses)

    respond_to_auth_challenge._charla_strict = True  # type: ignore[attr-defined]
    return respond_to_auth_challenge


def install() -> None:
    backend = models.CognitoIdpBackend
    if getattr(backend.update_user_attributes, "_charla_strict", False):
        return
    # moto's own check of codes, against its one shared secret, is replaced by the per-user one above.
    models.get_cognito_idp_user_pool_enable_totp = lambda: False  # type: ignore[assignment]
    backend.revoke_token = revoke_token  # type: ignore[attr-defined]
    CognitoIdpResponse.revoke_token = _revoke_token_response  # type: ignore[attr-defined]
    backend.update_user_attributes = _writable(backend.update_user_attributes)  # type: ignore[method-assign]
    backend.associate_software_token = associate_software_token  # type: ignore[method-assign]
    backend.verify_software_token = verify_software_token  # type: ignore[method-assign]
    backend.respond_to_auth_challenge = _checked_challenge(  # type: ignore[method-assign]
        backend.respond_to_auth_challenge
    )
