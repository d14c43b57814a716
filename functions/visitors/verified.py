"""Identified visitors: a site passes its signed-in user's name and email through the widget.

The site proves the email is its user's with `signature` = hex HMAC-SHA256 of the email (exactly as
passed), keyed with the organisation's identity secret, computed on the site's server. A matching
signature sets the visitor's `verified_email`, and only a verified email links the visitor to the
earlier chats of other visitor ids with that email (the agent's visitor panel). An unsigned or
forged identity is stored and shown as "unverified", and never linked to anyone's history.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError
from pynamodb.expressions.update import Action

from functions.core import aws, clock
from functions.core.errors import CharlaError, bad_request
from functions.core.principals import Principal
from functions.models import Chat, Settings, Visitor
from functions.visitors import tracking

_SECRET_ITEM = "identity-secret"  # its own settings item: not cached with, nor shown among, the settings
LINKED_VISITORS = 10  # other visitor ids of a verified email whose chats join the history
_SIGNATURE = re.compile(r"^[0-9a-fA-F]{64}$")
_cache: dict[str, str] = {}


@aws.on_reset
def forget() -> None:
    _cache.clear()


def secret() -> str:
    """The organisation's identity secret, created on first use (a conditional write settles a race)."""
    if "secret" not in _cache:
        try:
            value = str(Settings.get(_SECRET_ITEM, consistent_read=True).values["secret"])
        except DoesNotExist:
            value = secrets.token_hex(32)
            try:
                Settings(_SECRET_ITEM, values={"secret": value}, updated_at=clock.now_iso()).save(
                    condition=Settings.name.does_not_exist()
                )
            except PutError:
                value = str(Settings.get(_SECRET_ITEM, consistent_read=True).values["secret"])
        _cache["secret"] = value
    return _cache["secret"]


def sign(email: str) -> str:
    """What the site's server computes: hex HMAC-SHA256(secret, email)."""
    return hmac.new(secret().encode(), email.encode(), hashlib.sha256).hexdigest()


def identify(principal: Principal, body: dict[str, Any]) -> dict[str, bool]:
    """POST /visitor/identify: stores the name and email, verified or not."""
    from functions.chat import chats  # the same name and email rules as the pre-chat form (chats imports us)

    if principal.kind != "visitor":
        raise CharlaError("forbidden", "Only visitors identify themselves.")
    name, email = chats._clean_name(body.get("name")), chats.clean_email(body.get("email"))
    signature = body.get("signature")
    if not name and not email:
        raise bad_request("Give a `name`, an `email`, or both.")
    if signature is not None and (not isinstance(signature, str) or not _SIGNATURE.match(signature)):
        raise bad_request("`signature` must be a hex HMAC-SHA256 (64 characters).")
    verified = bool(email and signature and hmac.compare_digest(sign(email), signature.lower()))
    actions: list[Action] = [
        Visitor.identified_at.set(clock.now_iso()),
        # An unverified identity must not keep an earlier verified email, and with it the history.
        Visitor.verified_email.set(email.lower()) if verified and email else Visitor.verified_email.remove(),
    ]
    if name:
        actions.append(Visitor.name.set(name))
    if email:
        actions.append(Visitor.email.set(email))
    visitor = Visitor(principal.id)
    visitor.update(actions=actions, condition=Visitor.visitor_id.exists())
    if tracking.is_online(visitor):
        tracking.announce(visitor)  # the Visitors list shows the name (and its badge) at once
    return {"verified": verified}


def badge(visitor: Visitor) -> dict[str, bool]:
    """For the agent's visitor panel: was the identity signed by the site?"""
    return {"verified": bool(visitor.verified_email), "identified": bool(visitor.identified_at)}


def history(visitor: Visitor, limit: int) -> list[Chat]:
    """The visitor's chats, newest first; for a verified email, with those of its other visitor ids."""
    found = list(Chat.visitor_index.query(visitor.visitor_id, scan_index_forward=False, limit=limit))
    if not visitor.verified_email:
        return found
    others = Visitor.verified_index.query(visitor.verified_email, scan_index_forward=False, limit=LINKED_VISITORS + 1)
    for other in others:
        if other.visitor_id != visitor.visitor_id:
            found += Chat.visitor_index.query(other.visitor_id, scan_index_forward=False, limit=limit)
    return sorted(found, key=lambda c: c.created_at, reverse=True)[:limit]
