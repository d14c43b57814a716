"""Single-use tickets for `$connect`, because browsers can't set headers on a WebSocket."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from pynamodb.exceptions import DeleteError

from functions.core import clock, data
from functions.core.errors import CharlaError
from functions.core.principals import Principal
from functions.models import Agent, ConnectTicket
from functions.realtime import connections

TTL_SECONDS = 60


def _hash(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()


def mint(principal: Principal) -> dict[str, object]:
    connections.check_room_for_a_tab(principal)
    ticket = secrets.token_urlsafe(32)
    ConnectTicket(
        _hash(ticket),
        kind=principal.kind,
        subject_id=principal.id,
        name=principal.name,
        role=principal.role,
        access_version=_access_version(principal),  # checked against the profile at $connect
        expires_at=clock.now() + timedelta(seconds=TTL_SECONDS),
    ).save()
    return {"ticket": ticket, "expires_in": TTL_SECONDS}


def _access_version(principal: Principal) -> int | None:
    """The version the caller's profile was read under (rest.agent sets it), or else the current one."""
    if not principal.is_agent or principal.access_version is not None:
        return principal.access_version
    try:
        return int(Agent.get(principal.id, consistent_read=True).access_version or 0)
    except Agent.DoesNotExist:
        return None


def consume(ticket: str | None) -> Principal:
    """Deletes the ticket conditionally, so of two connects racing with one ticket exactly one wins."""
    refused = CharlaError("unauthorized", "Missing, expired or already used connect ticket.")
    if not ticket or len(ticket) > 128:
        raise refused
    try:
        response = data.table(ConnectTicket).delete_item(
            _hash(ticket),
            condition=ConnectTicket.ticket_hash.exists(),
            return_values="ALL_OLD",
        )
    except DeleteError as error:
        if error.cause_response_code == data.CONDITION_FAILED:
            raise refused from None
        raise
    item = ConnectTicket.from_raw_data(response["Attributes"])
    # DynamoDB's TTL deletes lazily, so an expired ticket may still be found here.
    if item.expires_at < clock.now():
        raise refused
    version = None if item.access_version is None else int(item.access_version)
    return Principal(kind=item.kind, id=item.subject_id, name=item.name, role=item.role, access_version=version)


def minted_before_revocation(agent: Agent, holder: Principal) -> bool:
    """True when an agent's ticket predates their last sign-out everywhere, disable or role change.

    Versions, not times: a ticket minted a millisecond before the revocation is refused, one minted
    after it is not, whatever the clocks say (functions/team/revocation.py moves the version on).
    """
    return int(holder.access_version or 0) != int(agent.access_version or 0)
