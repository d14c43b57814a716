"""Signing out everywhere while an assignment transaction holds the agent's item (DynamoDB's
`TransactionConflictException`, injected by the fault mode): the stamp that refuses old tokens is
retried, not taken for "no such profile"."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from functions.models import Agent
from tests.support.admin import add_user, call, login


def test_signing_out_everywhere_during_a_conflict_still_refuses_the_old_tokens(api, pool, closed, faults):
    add_user(pool, "ana@example.com")
    laptop = login(api, "ana@example.com")
    faults.once("ddb_conflict", operation="UpdateItem", table=Agent.Meta.table_name)

    with time_machine.travel(timedelta(seconds=2)):
        assert call(api, "POST", "/agent/me/signout-all", laptop["id_token"]).status_code == 204
        assert faults.injected["ddb_conflict"] == 1
        assert call(api, "GET", "/agent/me", laptop["id_token"]).status_code == 401
