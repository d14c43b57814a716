"""GET /agent/archive and its CSV through the app's REST routes: who may read them and what they say."""

from __future__ import annotations

import pytest

from tests.support.actors import a_chat
from tests.support.admin import body, call, signed_in


@pytest.fixture
def archived(aws):
    visitor, agent, chat_id = a_chat()
    visitor.send({"action": "send", "chat_id": chat_id, "client_msg_id": "m1", "text": "¿Y mi envío?"})
    visitor.send({"action": "close", "chat_id": chat_id})
    return chat_id


def test_agents_search_the_archive_and_see_the_matching_line(api, pool, archived):
    token = signed_in(api, pool, "ana@example.com", "Ana")
    answer = call(api, "GET", "/agent/archive?q=ENVIO", token)
    assert answer.status_code == 200
    found = body(answer)["chats"]
    assert [(c["chat_id"], c["status"], c["match"]) for c in found] == [(archived, "closed", "Vera: ¿Y mi envío?")]


def test_signed_out_callers_are_refused(api, pool, archived):
    # Visitors' credentials are refused by the real authorizer: tests/stack/test_authz_matrix.py.
    assert call(api, "GET", "/agent/archive").status_code == 401
    assert call(api, "GET", "/agent/archive/csv").status_code == 401


def test_the_csv_is_for_admins_only(api, pool, archived):
    agent = signed_in(api, pool, "ana@example.com", "Ana")
    admin = signed_in(api, pool, "root@example.com", "Root", role="admin")
    assert call(api, "GET", "/agent/archive/csv", agent).status_code == 403
    answer = call(api, "GET", "/agent/archive/csv?q=envio", admin)
    headers = {k.lower(): v for k, v in answer.headers.items()}
    assert answer.status_code == 200 and headers["content-type"].startswith("text/csv")
    text = answer.body.decode() if isinstance(answer.body, bytes) else answer.body
    assert text.splitlines()[0].startswith("chat_id,status") and archived in text


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=lost", "status"),
        ("from=2026-02-30", "from"),
        ("cursor=zzz", "cursor"),
        ("limit=0", "limit"),
        ("to=9999-12-31", "to"),  # the calendar's last day: a day after it would overflow
        ("from=0001-01-01", "from"),
    ],
)
def test_a_bad_filter_is_a_400_naming_its_field(api, pool, query, field):
    token = signed_in(api, pool, "ana@example.com", "Ana")
    answer = call(api, "GET", f"/agent/archive?{query}", token)
    assert answer.status_code == 400 and body(answer)["Field"] == field
