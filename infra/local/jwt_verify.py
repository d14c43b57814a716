"""Verify Cognito JWTs the way API Gateway's Cognito authorizer does.

chalice.local only base64-decodes the token, so a forged or expired token would reach the app
locally while AWS answers 401. This checks the RS256 signature against the pool's JWKS, expiry,
issuer, token_use and audience.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from typing import Any

import jwt
from jwt import PyJWKSet


class TokenRejected(Exception):
    """The token would get 401 Unauthorized from API Gateway."""


def _fetch_json(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


class CognitoJwtVerifier:
    # Refetch the JWKS for an unknown kid at most this often (key rotation on AWS).
    _REFETCH_SECONDS = 30.0

    def __init__(
        self,
        *,
        region: str,
        pool_id: str,
        client_id: str,
        jwks_url: str,
        fetch: Callable[[str], dict[str, Any]] = _fetch_json,
    ) -> None:
        self.pool_id = pool_id
        self.client_id = client_id
        self.issuer = f"https://cognito-idp.{region}.amazonaws.com/{pool_id}"
        self._jwks_url = jwks_url
        self._fetch = fetch
        self._keys: PyJWKSet | None = None
        self._fetched_at = 0.0
        self._lock = threading.Lock()

    def verify(self, token: str, scopes: Sequence[str] = ()) -> dict[str, Any]:
        """Return the token's claims, or raise TokenRejected.

        Without scopes API Gateway wants an ID token for this pool's app client; with scopes it
        wants an access token carrying one of them.
        """
        token = token.strip()
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        try:
            header = jwt.get_unverified_header(token)
            key = self._key(str(header.get("kid", "")))
            claims = jwt.decode(
                token,
                key=key,
                algorithms=["RS256"],
                issuer=self.issuer,
                audience=None if scopes else self.client_id,
                options={"require": ["exp", "iat", "iss", "token_use"], "verify_aud": not scopes},
            )
        except jwt.PyJWTError as error:
            raise TokenRejected(str(error)) from error
        if scopes:
            granted = set(str(claims.get("scope", "")).split())
            if claims.get("token_use") != "access" or claims.get("client_id") != self.client_id:
                raise TokenRejected("an access token of the app client is required")
            if not granted.intersection(scopes):
                raise TokenRejected("the token has none of the required scopes")
        elif claims.get("token_use") != "id":
            raise TokenRejected("token_use must be id")
        return claims

    def _key(self, kid: str) -> Any:
        with self._lock:
            if self._keys is None or (
                kid not in self._kids() and time.monotonic() - self._fetched_at > self._REFETCH_SECONDS
            ):
                self._keys = PyJWKSet.from_dict(self._fetch(self._jwks_url))
                self._fetched_at = time.monotonic()
            for candidate in self._keys.keys:
                if candidate.key_id == kid:
                    return candidate.key
        raise TokenRejected(f"unknown signing key {kid!r}")

    def _kids(self) -> set[str]:
        return {str(key.key_id) for key in self._keys.keys} if self._keys else set()
