"""The caller's address and country come from what CloudFront sets, never from what the caller sends."""

from __future__ import annotations

import json

import pytest

import app as charla
from functions.core import settings
from functions.models import Connection, Visitor
from functions.realtime import connect_tickets
from tests.conftest import ws_event
from tests.support.actors import new_visitor

SITE = "https://shop.example"


@pytest.fixture
def site(aws):
    """The shop's site is allowed and visitors' addresses are kept whole."""
    settings.save_settings({"allowed_origins": [SITE], "ip_mode": "full"})


def _page_view(api, headers):
    response = api.post(
        "/visitor/pageview",
        body=json.dumps({"event": "view", "pv": "pv1"}),
        headers={"content-type": "application/json", "origin": SITE, **headers},
    )
    assert response.status_code == 200, response.body
    return Visitor.get(json.loads(response.body)["visitor_id"])


def test_the_address_is_cloudfronts_viewer_address_not_the_first_forwarded_entry(site, api):
    visitor = _page_view(
        api,
        {
            "x-forwarded-for": "6.6.6.6, 198.51.100.10",
            "cloudfront-viewer-address": "198.51.100.10:46532",
            "cloudfront-viewer-country": "nl",
        },
    )
    assert (visitor.ip, visitor.country) == ("198.51.100.10", "NL")


def test_an_ipv6_viewer_address_keeps_the_address_without_the_port(site, api):
    visitor = _page_view(api, {"cloudfront-viewer-address": "2001:db8::7:443"})
    assert visitor.ip == "2001:db8::7"


def test_a_country_that_is_not_a_country_code_is_not_recorded(site, api):
    visitor = _page_view(api, {"cloudfront-viewer-country": "<b>"})
    assert visitor.country is None


def test_the_websocket_takes_no_country_from_a_header_the_client_sent(aws):
    visitor = new_visitor()
    event = ws_event("$connect", "c1=", ticket=str(connect_tickets.mint(visitor)["ticket"]))
    event["headers"]["CloudFront-Viewer-Country"] = "KP"  # the WebSocket API is not behind CloudFront
    assert charla.ws_connect(event, None)["statusCode"] == 200
    assert Connection.get("c1=").country is None
