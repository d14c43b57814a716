"""Error answers on the widget's routes carry the route's CORS headers, as its successes do.

A widget runs on a customer's site: without Access-Control-Allow-Origin the browser hides the
answer, so the widget could not react to a 400, 401, 403 or 429 at all.
"""

from __future__ import annotations

import json

import pytest

from functions.core import settings
from tests.support.admin import call

SITE = "https://shop.example"


@pytest.fixture(autouse=True)
def site_allowed(aws):
    settings.save_settings({"allowed_origins": [SITE]})


def _post(api, path, body, headers=None):
    return call(api, "POST", path, payload=body, **{"origin": SITE, **(headers or {})})


def _assert_cors(response):
    assert response.headers.get("Access-Control-Allow-Origin") == "*"
    assert "Authorization" in response.headers.get("Access-Control-Allow-Headers", "")


def test_a_stale_identity_gets_a_401_the_widget_can_read(api):
    response = _post(api, "/visitor/ws-ticket", "{}", {"authorization": "Visitor v-nobody:wrong"})
    assert response.status_code == 401
    _assert_cors(response)


def test_a_site_not_allowed_gets_a_403_the_widget_can_read(api):
    response = _post(api, "/visitor/identity", "{}", {"origin": "https://elsewhere.example"})
    assert response.status_code == 403 and json.loads(response.body)["Code"] == "origin_not_allowed"
    _assert_cors(response)


def _identity(api):
    identity = json.loads(_post(api, "/visitor/identity", "{}").body)
    return {"authorization": f"Visitor {identity['visitor_id']}:{identity['secret']}"}


def test_a_bad_body_gets_a_400_the_widget_can_read(api):
    response = _post(api, "/visitor/offline", "[1]", _identity(api))
    assert response.status_code == 400
    _assert_cors(response)


def test_a_rate_limited_offline_form_gets_a_429_the_widget_can_read(api):
    auth = _identity(api)
    form = json.dumps({"fields": {"name": "Ann", "email": "ann@example.com", "message": "Hello?"}})
    statuses = [_post(api, "/visitor/offline", form, auth) for _ in range(8)]
    limited = [response for response in statuses if response.status_code == 429]
    assert limited, [response.status_code for response in statuses]
    _assert_cors(limited[0])


def test_agent_routes_stay_without_cors(api):
    response = api.get("/agent/chats")
    assert response.status_code == 401
    assert "Access-Control-Allow-Origin" not in response.headers
