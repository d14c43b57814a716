"""The every-minute sweep: stale connections are forgotten, fresh ones are kept."""

from __future__ import annotations

from datetime import timedelta

import time_machine

import app as charla
from functions.models import Agent, Connection
from tests.actors import Socket, new_agent

SCHEDULED_EVENT = {
    "version": "0",
    "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2026-11-22T12:00:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:events:us-east-1:123456789012:rule/charla-dev-sweep"],
    "detail": {},
}


def test_connections_silent_past_the_idle_limit_are_removed_with_their_presence(aws):
    agent = new_agent()
    with time_machine.travel(timedelta(minutes=-20)):
        stale = Socket(agent)
    fresh = Socket(agent)
    result = charla.sweep(SCHEDULED_EVENT, None)
    assert result == {"stale_connections": 1}
    assert [r.connection_id for r in Connection.live_index.query("live")] == [fresh.connection_id]
    assert Agent.get(agent.id).online_conns == 1
    del stale


def test_a_ping_keeps_a_quiet_connection_alive(aws):
    agent = new_agent()
    with time_machine.travel(timedelta(minutes=-20)):
        socket = Socket(agent)
    socket.send({"action": "ping"})
    assert charla.sweep(SCHEDULED_EVENT, None) == {"stale_connections": 0}
