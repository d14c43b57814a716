"""Identified visitors: a site passes its signed-in user's name and email through the widget.

The site proves the email is its user's with `signature` = hex HMAC-SHA256 of the email (exactly as
passed), keyed with the organisation's identity secret, computed on the site's server. A matching
signature sets the visitor's `verified_email`, and only a verified email links the visitor to the
earlier chats of other visitor ids with that email (the agent's visitor panel). An unsigned or
forged identity is stored and shown as "unverified", and never linked to anyone's history.

A visitor whose site does not sign identities proves an address another way: the requester address
of one of their tickets is mailed a confirmation code (a signed token naming the visitor, the address
and an expiry), and the visitor sends it back with their own credentials. Only then do entries that
arrived by mail from that address show in the visitor's ticket (functions/helpdesk/tickets.py). The code is
bound to the visitor who asked: someone who merely reads it can't use it from another identity.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import secrets
from typing import Any

from botocore.exceptions import ClientError
from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.update import Action

from functions.core import aws, clock, data, mail
from functions.core.errors import CharlaError, bad_request
from functions.core.principals import Principal
from functions.helpdesk import tickets
from functions.models import Chat, Settings, Ticket, Visitor
from functions.visitors import identity, tracking

log = logging.getLogger(__name__)

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
            item = Settings(_SECRET_ITEM, values={"secret": value}, updated_at=clock.now_iso())
            if not data.conditional(lambda: item.save(condition=Settings.name.does_not_exist())):
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


# --- proving an address by a mailed code ---------------------------------------------------------

CONFIRMATION_TTL_S = 24 * 3600
MAX_CONFIRMATIONS = 3  # codes mailed per ticket, ever: Charla mails a typed address only a few times
MAX_TOKEN = 1000
_PURPOSE = b"charla email confirmation\n"  # keeps these MACs apart from identity signatures of bare emails


def _mac(payload: str) -> str:
    return hmac.new(secret().encode(), _PURPOSE + payload.encode(), hashlib.sha256).hexdigest()


def confirmation_token(visitor_id: str, email: str, expires: int) -> str:
    payload = base64.urlsafe_b64encode(json.dumps([visitor_id, email.lower(), expires]).encode()).decode()
    return f"{payload.rstrip('=')}.{_mac(payload.rstrip('='))}"


def send_confirmation(principal: Principal, ticket_id: str) -> dict[str, Any]:
    """POST /visitor/tickets/{id}/email-confirmation: mails a code to the ticket's requester address."""
    ticket = tickets.for_visitor(principal, ticket_id)
    if not ticket.requester_email:
        raise CharlaError("bad_request", "This ticket has no email address to confirm.")
    if identity.email_proven(principal.id, ticket.requester_email):
        return {"sent": False, "email_confirmed": True}
    counted = data.conditional(
        lambda: Ticket(ticket.ticket_id).update(
            actions=[Ticket.confirmations_sent.add(1)],
            condition=Ticket.confirmations_sent.does_not_exist() | (Ticket.confirmations_sent < MAX_CONFIRMATIONS),
        )
    )
    if not counted:
        raise CharlaError("rate_limited", f"At most {MAX_CONFIRMATIONS} confirmation codes are sent for a ticket.")
    token = confirmation_token(principal.id, ticket.requester_email, clock.epoch() + CONFIRMATION_TTL_S)
    body = (
        "Someone using the chat on our website asked to read the replies that reach us from this address"
        f" (ticket [#{ticket.ticket_id}]).\n\nIf that was you, give this confirmation code where you asked"
        f" for it, within 24 hours:\n\n{token}\n\nIf it wasn't you, ignore this mail and give the code to"
        " nobody: without it, nothing that you send us is shown to anyone else.\n"
    )
    try:
        mail.send(ticket.requester_email, f"Confirm your email address [#{ticket.ticket_id}]", body)
    except ClientError as error:
        log.warning("could not mail a confirmation code for %s: %s", ticket.ticket_id, error)
        raise CharlaError("retry", "Could not send the confirmation mail; try again later.", retriable=True) from None
    return {"sent": True, "email_confirmed": False, "expires_in": CONFIRMATION_TTL_S}


def confirm_email(principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """POST /visitor/email-confirmation: the mailed code, sent back by the visitor it names."""
    if principal.kind != "visitor":
        raise CharlaError("forbidden", "Only visitors confirm an email address.")
    token = body.get("token")
    invalid = CharlaError("bad_request", "`token` is not a valid or current confirmation code.")
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN or not token.isascii():
        raise invalid
    payload, _, mac = token.strip().partition(".")
    if not hmac.compare_digest(_mac(payload).encode(), mac.lower().encode("ascii", "replace")):
        raise invalid
    try:
        visitor_id, email, expires = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, TypeError):
        raise invalid from None
    if visitor_id != principal.id or not isinstance(expires, int) or expires < clock.epoch():
        raise invalid
    Visitor(principal.id).update(
        actions=[Visitor.confirmed_emails.add({str(email)})], condition=Visitor.visitor_id.exists()
    )
    return {"email": email, "email_confirmed": True}
