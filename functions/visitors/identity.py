"""Visitor identities: a random id plus a secret, of which only a hash is stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from pynamodb.expressions.update import Action

from functions.core import clock, untrusted
from functions.core.errors import CharlaError, bad_request
from functions.core.principals import Principal
from functions.models import Connection, Visitor
from functions.visitors import limits, names, privacy

SCHEME = "Visitor "


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_visitor_id() -> str:
    return "v_" + secrets.token_urlsafe(12)


def create_identity(visitor_id: str | None = None, **attributes: Any) -> dict[str, str]:
    """`attributes` are stored with the new item (a first page view: functions/visitors/tracking.py), in one write.

    A new identity is anonymous, so it expires after the retention period unless it chats or writes.
    """
    visitor_id = visitor_id or new_visitor_id()
    secret = secrets.token_urlsafe(24)
    attributes.setdefault("expires_at", privacy.retention_expiry())
    Visitor(visitor_id, secret_hash=_hash(secret), created_at=clock.now_iso(), **attributes).save(
        condition=Visitor.visitor_id.does_not_exist()
    )
    return {"visitor_id": visitor_id, "secret": secret}


def new_identity(address: str | None) -> dict[str, str]:
    """POST /visitor/identity: a new identity for a caller at `address`, within the per-address limit."""
    limits.hit("identity", address)
    return create_identity()


def email_proven(visitor_id: str | None, email: str | None) -> bool:
    """Has this visitor proved they receive mail at `email`: a site-signed identity, or a mailed code?

    Typing an address into a form proves nothing, so what arrives from that address by mail is
    shown to the visitor only once this holds (functions/helpdesk/tickets.py, functions/helpdesk/attachments.py).
    """
    if not visitor_id or not email:
        return False
    try:
        visitor = Visitor.get(visitor_id, consistent_read=True)
    except Visitor.DoesNotExist:
        return False
    address = email.lower()
    return visitor.verified_email == address or address in (visitor.confirmed_emails or set())


def secret_matches(visitor: Visitor, secret: str) -> bool:
    return hmac.compare_digest(visitor.secret_hash, _hash(secret))


def authenticate(header: str | None) -> Principal:
    """Checks `Authorization: Visitor <id>:<secret>`; every failure looks the same."""
    unauthorized = CharlaError("unauthorized", "Missing or invalid visitor credentials.")
    if not header or not header.startswith(SCHEME) or ":" not in header:
        raise unauthorized
    visitor_id, _, secret = header[len(SCHEME) :].strip().partition(":")
    if not visitor_id or not secret or len(visitor_id) > 64 or len(secret) > 128:
        raise unauthorized
    try:
        visitor = Visitor.get(visitor_id)
    except Visitor.DoesNotExist:
        raise unauthorized from None
    if not secret_matches(visitor, secret) or privacy.expired(visitor):
        raise unauthorized
    return Principal(kind="visitor", id=visitor_id, name=visitor.name)


_CONTEXT_LIMITS = {"url": 2000, "title": 300, "referrer": 2000, "language": 35, "timezone": 64}


def record_context(visitor_id: str, context: object, row: Connection) -> None:
    """Keeps what the widget reports about the visitor's page and browser, for the agent's info panel."""
    if context is None:
        context = {}
    if not isinstance(context, dict):
        raise bad_request("`context` must be an object.")
    values: dict[str, str] = {}
    for key, limit in _CONTEXT_LIMITS.items():
        value = untrusted.text(context.get(key), f"context.{key}", limit)
        if value is not None:
            values[key] = value
    if values.get("timezone") and not clock.ZONE_NAME.fullmatch(values["timezone"]):
        raise bad_request("`context.timezone` must be an IANA time zone name such as Europe/Madrid.")
    for key in ("url", "referrer"):
        if values.get(key):
            values[key] = privacy.clean_url(values[key]) or ""
    actions: list[Action] = [
        Visitor.current_url.set(values["url"]) if "url" in values else Visitor.current_url.remove(),
        Visitor.current_title.set(values["title"]) if "title" in values else Visitor.current_title.remove(),
    ]
    for key, attribute in (
        ("referrer", Visitor.referrer),
        ("language", Visitor.language),
        ("timezone", Visitor.timezone),
    ):
        if key in values:
            actions.append(attribute.set(values[key]))
    if row.user_agent:
        actions.append(Visitor.user_agent.set(row.user_agent))
    if row.country:
        actions.append(Visitor.country.set(row.country))
    Visitor(visitor_id).update(actions=actions, condition=Visitor.visitor_id.exists())


def view(visitor: Visitor) -> dict[str, object]:
    return {
        "id": visitor.visitor_id,
        "name": visitor.name,
        **names.fields(visitor.visitor_id),
        "email": visitor.email,
        "visits": int(visitor.visits),
        "current_url": visitor.current_url,
        "current_title": visitor.current_title,
        "referrer": visitor.referrer,
        "language": visitor.language,
        "timezone": visitor.timezone,
        "user_agent": visitor.user_agent,
        "country": visitor.country,
        "created_at": visitor.created_at,
    }
