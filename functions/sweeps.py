"""The every-minute sweep. Each part queries a sparse index for what is due, never the history."""

from __future__ import annotations

from functions import clock, notify
from functions.models import LIVE, Connection

# Clients ping every 4 minutes; two missed pings and API Gateway's 10-minute idle cut-off
# mean the connection is dead even if its $disconnect never arrived.
STALE_AFTER_S = 11 * 60
PAGE = 100


def stale_connections() -> int:
    """Forgets connections silent for longer than API Gateway would keep them open."""
    cutoff = clock.iso_ago(STALE_AFTER_S)
    stale = [
        row.connection_id
        for row in Connection.live_index.query(LIVE, Connection.last_seen < cutoff, limit=PAGE)
    ]
    notify.forget(stale)
    return len(stale)


def run() -> dict[str, int]:
    return {"stale_connections": stale_connections()}
