"""A visitor's open tabs are capped, so the per-connection frame limit also bounds each visitor."""

from __future__ import annotations

import json

import pytest

import app as charla
from functions.core.principals import Principal
from functions.realtime import connections
from functions.visitors import identity
from tests.conftest import ws_event
from tests.support.actors import Socket, new_agent, new_visitor


@pytest.fixture(autouse=True)
def three_tabs(aws, monkeypatch):
    monkeypatch.setattr(connections, "MAX_VISITOR_TABS", 3)


def _ticket(api, identity):
    auth = {"authorization": f"Visitor {identity['visitor_id']}:{identity['secret']}"}
    response = api.post("/visitor/ws-ticket", body="{}", headers={"content-type": "application/json", **auth})
    return response.status_code, json.loads(response.body)


def test_a_visitor_with_too_many_tabs_gets_no_ticket_until_one_closes(api):
    minted = identity.create_identity()
    tabs = [Socket(Principal("visitor", minted["visitor_id"], None)) for _ in range(3)]
    assert [tab.status for tab in tabs] == [200, 200, 200]
    status, body = _ticket(api, minted)
    assert (status, body["Code"]) == (429, "rate_limited") and "3 tabs" in body["Message"]
    assert _ticket(api, identity.create_identity())[0] == 201  # another visitor is unaffected
    tabs[0].close()
    assert _ticket(api, minted)[0] == 201


def test_tickets_minted_ahead_cannot_open_more_tabs_than_the_cap(api):
    minted = identity.create_identity()
    visitor = Principal("visitor", minted["visitor_id"], None)
    tickets = [_ticket(api, minted)[1]["ticket"] for _ in range(4)]  # all minted with no tab open
    statuses = [
        charla.ws_connect(ws_event("$connect", f"ahead{n}=", ticket=ticket), None)["statusCode"]
        for n, ticket in enumerate(tickets)
    ]
    assert statuses == [200, 200, 200, 429]
    assert len(connections.connection_ids(visitor)) == 3  # the refused one left no row


def test_agents_are_not_capped(api):
    agent = new_agent("Ana")
    assert [Socket(agent).status for _ in range(4)] == [200] * 4
    assert Socket(new_visitor()).status == 200
