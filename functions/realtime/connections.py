"""Connection rows: who each live WebSocket belongs to, and how to find a principal's connections."""

from __future__ import annotations

from datetime import timedelta

from pynamodb.exceptions import DeleteError, DoesNotExist, UpdateError
from pynamodb.expressions.operand import Path

from functions.core import clock, data, shards, sweep_gate
from functions.core.errors import CharlaError
from functions.core.principals import Principal
from functions.models import AGENT, LIVE, Connection
from functions.visitors import privacy

# API Gateway closes a connection after 2 hours; TTL is the backstop for a missed $disconnect.
CONNECTION_TTL = timedelta(hours=2, minutes=10)


def register(
    connection_id: str,
    principal: Principal,
    source_ip: str | None,
    user_agent: str | None = None,
    country: str | None = None,
) -> Connection:
    sweep_gate.work_coming()  # a live connection: the sweep must look at it
    now = clock.now_iso()
    row = Connection(
        connection_id,
        principal_id=principal.key,
        kind=principal.kind,
        subject_id=principal.id,
        name=principal.name,
        role=principal.role,
        source_ip=privacy.stored_ip(source_ip),  # as the admin's `ip_mode` allows
        user_agent=(user_agent or "")[:300] or None,
        country=(country or "")[:2] or None,
        connected_at=now,
        last_seen=now,
        live_pk=shards.key(LIVE, connection_id),
        agent_pk=shards.key(AGENT, connection_id) if principal.is_agent else None,
        expires_at=clock.now() + CONNECTION_TTL,
    )
    row.save()
    return row


# Frames per connection per window. Typing with sneak peek sends about 2 a second; 30 in 10 s
# leaves room for that plus messages, and stops a flood after a second or two.
RATE_WINDOW_S = 10
RATE_LIMIT = 30
# Each connection has its own frame allowance, so capping a visitor's open tabs caps what one
# visitor can send in all. A tab closed without `$disconnect` counts until the stale sweep.
MAX_VISITOR_TABS = 20


def get_counting(connection_id: str) -> tuple[Connection, int]:
    """Reads a connection and counts this frame in the current window, in the same single call.

    The counter lives on the connection row in an attribute named after the window, so the call
    that identifies the sender also meters it: a message still costs three DynamoDB calls. The
    previous window's counter is dropped as the next one starts; a counter left behind by a pause
    is at most a few bytes, and the row goes when the connection does.
    """
    window = clock.epoch() // RATE_WINDOW_S
    try:
        response = data.table(Connection).update_item(
            connection_id,
            actions=[Path(f"rate_{window}").add(1), Path(f"rate_{window - 1}").remove()],
            condition=Connection.connection_id.exists(),
            return_values="ALL_NEW",
        )
    except UpdateError as error:
        if error.cause_response_code == data.CONDITION_FAILED:
            raise CharlaError("unauthorized", "Unknown connection; reconnect with a new ticket.") from None
        raise
    attributes = response["Attributes"]
    row = Connection.from_raw_data(attributes)
    if row.expires_at < clock.now():
        raise CharlaError("unauthorized", "This connection has expired; reconnect.")
    return row, int(attributes[f"rate_{window}"]["N"])


def principal_of(row: Connection) -> Principal:
    return Principal(kind=row.kind, id=row.subject_id, name=row.name, role=row.role)


# API Gateway answers Gone for a socket whose $connect is still running; such a row is new, not dead.
OPENING_GRACE_S = 10


def remove(connection_id: str, *, unless_opening: bool = False) -> Connection | None:
    """Deletes the row and returns what it was, or None if it is gone already (or still opening)."""
    condition = Connection.connection_id.exists()
    if unless_opening:
        condition &= Connection.connected_at < clock.iso_ago(OPENING_GRACE_S)
    try:
        response = data.table(Connection).delete_item(connection_id, condition=condition, return_values="ALL_OLD")
    except DeleteError as error:
        if error.cause_response_code == data.CONDITION_FAILED:
            return None
        raise
    return Connection.from_raw_data(response["Attributes"])


def is_opening(connection_id: str) -> bool:
    """True while the row is younger than the grace period; asked only after a Gone."""
    try:
        row = Connection.get(connection_id, consistent_read=True)
    except DoesNotExist:
        return False
    return row.connected_at >= clock.iso_ago(OPENING_GRACE_S)


def touch(connection_id: str) -> None:
    Connection(connection_id).update(
        actions=[Connection.last_seen.set(clock.now_iso())],
        condition=Connection.connection_id.exists(),
    )


def check_room_for_a_tab(principal: Principal) -> None:
    """Asked when a visitor asks for a connect ticket: one Query, never on the message path."""
    if principal.kind != "visitor":
        return
    open_tabs = Connection.principal_index.query(principal.key, limit=MAX_VISITOR_TABS)
    if sum(1 for _ in open_tabs) >= MAX_VISITOR_TABS:
        raise CharlaError(
            "rate_limited", f"At most {MAX_VISITOR_TABS} tabs can chat at once; close one and retry.", retriable=True
        )


def connection_ids(principal: Principal) -> list[str]:
    return [row.connection_id for row in Connection.principal_index.query(principal.key)]


def agent_connection_ids() -> list[str]:
    """Every agent's live connections: the queue and team-wide notices go to all of them."""
    rows = shards.merged(lambda key, _page: Connection.agent_index.query(key), AGENT, lambda row: row.connected_at)
    return [row.connection_id for row in rows]


def live_connection_ids() -> list[str]:
    """Every live connection, oldest ping first (rare: range bans)."""
    rows = shards.merged(lambda key, _page: Connection.live_index.query(key), LIVE, lambda row: row.last_seen)
    return [row.connection_id for row in rows]
