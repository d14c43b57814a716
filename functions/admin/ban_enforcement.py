"""Banning: recording a ban (functions/admin/bans.py) and cutting the banned visitor off at once.

A banned visitor's open chat ends and their open sockets close; new connections and REST calls are
refused by the checks in sessions.connect and rest.visitor().
"""

from __future__ import annotations

import ipaddress
from typing import Any

from pynamodb.exceptions import DoesNotExist

from functions.admin import bans
from functions.chat import access, chats
from functions.core import lines, settings
from functions.core.errors import CharlaError
from functions.core.principals import Principal
from functions.models import Ban, Connection, Visitor
from functions.realtime import connections
from functions.team import revocation
from functions.visitors import privacy

_CLOSED_NOTE = lines.line("closed")


def ban(admin: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """An admin bans a visitor id or an address range."""
    kind, target = bans.parse_target(body)
    reason, hours = bans.parse_reason(body.get("reason")), bans.parse_hours(body.get("hours"))
    if kind == "visitor":
        try:
            Visitor.get(target)
        except DoesNotExist:
            raise CharlaError("not_found", "No such visitor.") from None
    record = bans.add(admin, kind, target, reason, hours)
    enforce(record, admin)
    return bans.view(record)


def ban_from_chat(principal: Principal, chat_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """An agent in the chat (or any admin) bans the chat's visitor."""
    if not principal.is_agent:
        raise CharlaError("forbidden", "Only agents ban visitors.")
    chat = access.chat_for_read(principal, chat_id) if principal.is_admin else access.chat_for_write(principal, chat_id)
    reason, hours = bans.parse_reason(body.get("reason")), bans.parse_hours(body.get("hours"))
    record = bans.add(principal, "visitor", chat.visitor_id, reason, hours, chat_id=chat.chat_id)
    enforce(record, principal)
    return bans.view(record)


def enforce(record: Ban, by: Principal) -> int:
    """Ends the banned visitors' open chats and closes their sockets; returns how many were cut off."""
    if record.kind == "visitor":
        return _cut_off(record.target, by.key)
    return _enforce_networks([ipaddress.ip_network(record.target)], by.key)


def sweep_address_bans() -> int:
    """For the minute sweep: closes sockets opened from a banned range before every instance knew.

    Range bans are checked against a list cached for up to 60 s per instance, so a visitor could
    reconnect through an instance that has not seen the ban yet. Costs nothing without range bans.
    """
    networks = [ipaddress.ip_network(b.target) for b in bans.address_bans()]
    return _enforce_networks(networks, "system") if networks else 0


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _enforce_networks(networks: list[Network], closed_by: str) -> int:
    """Cuts off visitors connected from `networks`.

    Connections store the address as the `ip_mode` setting allows (functions/visitors/privacy.py): by
    default only its /24 (IPv4) or /48 (IPv6). A stored network inside a banned one is certainly
    banned: chat ended, sockets closed. One that only overlaps it may or may not be: its sockets are
    closed without ending anything, and the reconnect meets the exact check on the real address.
    """
    certain, maybe = _connected_from(networks)
    for connection_id in maybe:
        revocation.close_connection(connection_id)
    return sum(_cut_off(visitor_id, closed_by) for visitor_id in certain)


def _connected_from(networks: list[Network]) -> tuple[list[str], list[str]]:
    """(visitor ids certainly in `networks`, connection ids possibly in them)."""
    # Rare and admin-made (or once a minute while range bans exist): reads the live connections (a
    # Query of live_index, and BatchGet for their addresses) to find who is connected from a range.
    exact = settings.get_settings().get("ip_mode") == "full"
    certain: set[str] = set()
    maybe: list[str] = []
    ids = connections.live_connection_ids()
    for row in Connection.batch_get(ids) if ids else []:
        if row.kind != "visitor" or not row.source_ip:
            continue
        try:
            address = ipaddress.ip_address(row.source_ip)
        except ValueError:
            continue
        prefix = address.max_prefixlen if exact else privacy.TRUNCATED_PREFIX[address.version]
        stored = ipaddress.ip_network(f"{address}/{prefix}", strict=False)
        same_family = [n for n in networks if n.version == stored.version]
        if any(stored.subnet_of(n) for n in same_family):  # type: ignore[arg-type]
            certain.add(row.subject_id)
        elif any(stored.overlaps(n) for n in same_family):
            maybe.append(row.connection_id)
    return sorted(certain), maybe


def _cut_off(visitor_id: str, closed_by: str) -> int:
    chat = chats.open_chat_of_visitor(visitor_id)
    if chat is not None:
        # First, while the sockets are open: the widget shows the chat as closed, not as a dropped line.
        chats.end(chat, closed_by=closed_by, note=_CLOSED_NOTE)
    return len(revocation.close_connections(Principal("visitor", visitor_id)))
