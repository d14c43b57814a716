"""Visitor identities: a random id plus a secret, of which only a hash is stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from functions import clock
from functions.errors import CharlaError
from functions.models import Visitor
from functions.principals import Principal

SCHEME = "Visitor "


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_identity() -> dict[str, str]:
    visitor_id = "v_" + secrets.token_urlsafe(12)
    secret = secrets.token_urlsafe(24)
    Visitor(visitor_id, secret_hash=_hash(secret), created_at=clock.now_iso()).save(
        condition=Visitor.visitor_id.does_not_exist()
    )
    return {"visitor_id": visitor_id, "secret": secret}


def authenticate(header: str | None) -> Principal:
    """Checks `Authorization: Visitor <id>:<secret>`; every failure looks the same."""
    unauthorized = CharlaError("unauthorized", "Missing or invalid visitor credentials.")
    if not header or not header.startswith(SCHEME) or ":" not in header:
        raise unauthorized
    visitor_id, _, secret = header[len(SCHEME):].strip().partition(":")
    if not visitor_id or not secret or len(visitor_id) > 64 or len(secret) > 128:
        raise unauthorized
    try:
        visitor = Visitor.get(visitor_id)
    except Visitor.DoesNotExist:
        raise unauthorized from None
    if not hmac.compare_digest(visitor.secret_hash, _hash(secret)):
        raise unauthorized
    return Principal(kind="visitor", id=visitor_id, name=visitor.name)
