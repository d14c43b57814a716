"""$connect and $disconnect: tickets are single-use and short-lived, and a refusal writes nothing."""

from __future__ import annotations

from datetime import timedelta

import time_machine

import app as charla
from functions.core import settings, shards
from functions.models import Agent, Connection
from functions.realtime import connect_tickets, connections
from tests.conftest import ws_event
from tests.support.actors import Socket, new_agent, new_visitor


def _connect(ticket: str | None, connection_id: str = "c1=", origin: str | None = "http://127.0.0.1:8000"):
    return charla.ws_connect(ws_event("$connect", connection_id, ticket=ticket, origin=origin), None)


def _rows() -> list[str]:
    return connections.live_connection_ids()


def test_a_valid_ticket_opens_a_connection_bound_to_its_owner(aws):
    visitor = new_visitor()
    ticket = str(connect_tickets.mint(visitor)["ticket"])
    assert _connect(ticket)["statusCode"] == 200
    row = Connection.get("c1=")
    # The address is kept as the `ip_mode` setting says: truncated to its /24 by default.
    assert (row.kind, row.subject_id, row.source_ip) == ("visitor", visitor.id, "203.0.113.0")


def test_connect_without_a_ticket_is_refused_and_writes_nothing(aws):
    assert _connect(None)["statusCode"] == 401
    assert _rows() == []


def test_a_forged_ticket_is_refused(aws):
    assert _connect("not-a-ticket-anyone-minted")["statusCode"] == 401
    assert _rows() == []


def test_a_ticket_works_once(aws):
    ticket = str(connect_tickets.mint(new_visitor())["ticket"])
    assert _connect(ticket, "first=")["statusCode"] == 200
    assert _connect(ticket, "second=")["statusCode"] == 401
    assert _rows() == ["first="]


def test_an_expired_ticket_is_refused_even_before_ttl_deletes_it(aws):
    ticket = str(connect_tickets.mint(new_visitor())["ticket"])
    with time_machine.travel(timedelta(seconds=61)):
        assert _connect(ticket)["statusCode"] == 401
    assert _rows() == []


def test_a_visitor_from_a_foreign_origin_is_refused(aws):
    settings.save_settings({"allowed_origins": ["https://shop.example"]})
    ticket = str(connect_tickets.mint(new_visitor())["ticket"])
    assert _connect(ticket, origin="https://evil.example")["statusCode"] == 403
    assert _rows() == []
    ticket = str(connect_tickets.mint(new_visitor())["ticket"])
    assert _connect(ticket, origin="https://shop.example")["statusCode"] == 200


def test_agent_presence_follows_connections(aws):
    agent = new_agent(accepting=True)
    tab1, tab2 = Socket(agent), Socket(agent)
    assert shards.is_key("routable", Agent.get(agent.id).routable_pk)
    tab1.close()
    assert Agent.get(agent.id).online_conns == 1
    tab2.close()
    stored = Agent.get(agent.id)
    assert (stored.online_conns, stored.routable_pk) == (0, None)
    assert _rows() == []


def test_a_disconnect_delivered_twice_is_harmless(aws):
    agent = new_agent()
    socket = Socket(agent)
    socket.close()
    socket.close()
    assert Agent.get(agent.id).online_conns == 0
