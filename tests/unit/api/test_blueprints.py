"""A DynamoDB conflict that outlasts every retry answers REST callers `retry` (503), never a 500."""

from __future__ import annotations

import json

from functions.models import Agent
from tests.support.admin import add_user, call, login


def test_a_write_that_keeps_conflicting_answers_retry_and_a_retry_then_succeeds(api, pool, faults):
    add_user(pool, "ana@example.com")
    token = login(api, "ana@example.com")["id_token"]
    faults.once("ddb_conflict", operation="UpdateItem", table=Agent.Meta.table_name, times=20)

    refused = call(api, "PATCH", "/agent/me", token, {"name": "Ana María"})

    assert refused.status_code == 503
    assert json.loads(refused.body)["Code"] == "retry"
    faults.clear()
    again = call(api, "PATCH", "/agent/me", token, {"name": "Ana María"})
    assert again.status_code == 200 and json.loads(again.body)["name"] == "Ana María"
