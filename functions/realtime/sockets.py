"""WebSocket `$connect` and `$disconnect`: binding an identity to a connection, and undoing it."""

from __future__ import annotations

import logging
from typing import Any

from pynamodb.exceptions import DoesNotExist

from functions.admin import bans
from functions.chat import chats, presence, supervision
from functions.core import settings
from functions.core.errors import CharlaError
from functions.core.principals import with_profile
from functions.models import Agent, Visitor
from functions.realtime import connect_tickets, connections
from functions.team import agents

log = logging.getLogger(__name__)


def connect(event: dict[str, Any]) -> int:
    """Returns the HTTP status API Gateway answers the upgrade with; only 200 opens the socket."""
    context = event["requestContext"]
    connection_id = context["connectionId"]
    query = event.get("queryStringParameters") or {}
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    try:
        principal = connect_tickets.consume(query.get("ticket"))
    except CharlaError:
        return 401
    if principal.kind == "visitor" and not settings.origin_allowed(headers.get("origin")):
        return 403
    identity = context.get("identity") or {}
    # Banned visitors and addresses (functions/admin/bans.py): refused before anything is written.
    if principal.kind == "visitor" and bans.refusal(principal.id, identity.get("sourceIp")) is not None:
        return 403
    if principal.kind == "visitor":
        try:  # checked at minting too; here as well, or tickets minted ahead would pass the cap
            connections.check_room_for_a_tab(principal)
        except CharlaError:
            return 429
    agent = None
    if principal.is_agent:
        try:
            agent = Agent.get(principal.id, consistent_read=True)
        except DoesNotExist:
            return 401
        if agent.disabled or connect_tickets.minted_before_revocation(agent, principal):
            return 401
        principal = with_profile(principal, agent)  # the connection row keeps the role the profile gives
    connections.register(
        connection_id,
        principal,
        identity.get("sourceIp"),
        identity.get("userAgent") or headers.get("user-agent"),
        # The WebSocket API is reached directly, not through CloudFront: a country header here is
        # whatever the client sent, so the country comes from REST page views only.
        None,
    )
    try:
        if agent is not None:
            if agents.connected(agent.agent_id, principal.access_version) is None:
                connections.remove(connection_id)  # revoked or re-roled since the check above
                return 401
            for chat_id in agent.chat_ids or ():
                chats.attach(chat_id, principal, connection_id)
        else:
            visitor = Visitor.get(principal.id)
            if visitor.open_chat_id:
                chats.attach(visitor.open_chat_id, principal, connection_id)
                presence.visitor_socket_opened(visitor.open_chat_id)
    except CharlaError as error:
        if error.code != "retry":
            raise
        # Still contended after the retries: refuse the upgrade (the client reconnects with a new ticket)
        # rather than open a socket that would miss the chat's live messages.
        try:
            disconnect(connection_id)
        except CharlaError:
            log.warning("could not undo refused connection %s; Gone handling forgets it", connection_id)
        return 503
    return 200


def disconnect(connection_id: str) -> None:
    """Best effort: Gone handling, the stale-connection sweep and TTL are the backstops."""
    row = connections.remove(connection_id)
    if row is None:
        return
    principal = connections.principal_of(row)
    supervision.disconnected(row)
    if principal.is_agent:
        agent = agents.disconnected(principal.id)
        chat_ids = (agent.chat_ids if agent else None) or set()
    else:
        chat = chats.open_chat_of_visitor(principal.id)
        chat_ids = {chat.chat_id} if chat else set()
    for chat_id in chat_ids:
        chats.detach(chat_id, principal, connection_id)
        if not principal.is_agent:
            presence.visitor_socket_closed(chat_id)
