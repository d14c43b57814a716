"""Canned responses: each agent keeps their own, admins keep the shared ones."""

from __future__ import annotations

import pytest

from functions.chat import canned
from functions.core.errors import CharlaError
from tests.support.actors import Socket, new_agent, new_visitor


def test_an_agent_sees_their_own_responses_before_the_shared_ones(aws):
    admin, ana = new_agent("Root", role="admin"), new_agent("Ana")
    canned.save(admin, "hello", {"text": "Hello from the team", "shared": True})
    canned.save(admin, "refund", {"text": "Refunds take 5 days", "shared": True})
    canned.save(ana, "hello", {"text": "Hi, Ana here!"})
    listed = canned.list_for(ana)
    assert [(c["shortcut"], c["text"], c["shared"]) for c in listed] == [
        ("hello", "Hi, Ana here!", False),
        ("refund", "Refunds take 5 days", True),
    ]
    assert [c["text"] for c in canned.list_for(new_agent("Ben"))] == ["Hello from the team", "Refunds take 5 days"]


def test_only_admins_manage_shared_responses(aws):
    ana = new_agent("Ana")
    with pytest.raises(CharlaError) as refused:
        canned.save(ana, "hello", {"text": "Hi", "shared": True})
    assert refused.value.code == "forbidden"


@pytest.mark.parametrize(
    ("shortcut", "body"),
    [
        ("Hello", {"text": "x"}),
        ("has space", {"text": "x"}),
        ("ok", {"text": ""}),
        ("ok", {"text": "x" * 2001}),
        ("ok", {"text": "x", "shared": "yes"}),
        ("x" * 33, {"text": "x"}),
    ],
)
def test_bad_responses_are_refused_with_a_reason(aws, shortcut, body):
    with pytest.raises(CharlaError) as refused:
        canned.save(new_agent(), shortcut, body)
    assert refused.value.code == "bad_request" and refused.value.message


def test_deleting_removes_only_the_callers_response(aws):
    ana, ben = new_agent("Ana"), new_agent("Ben")
    canned.save(ana, "bye", {"text": "Bye!"})
    with pytest.raises(CharlaError):
        canned.delete(ben, "bye", shared=False)
    canned.delete(ana, "bye", shared=False)
    assert canned.list_for(ana) == []


def test_a_shared_response_reaches_signed_in_agents_at_once(aws):
    admin, ana = new_agent("Root", role="admin"), new_agent("Ana")
    ana_socket, visitor_socket = Socket(ana), Socket(new_visitor("Vi"))
    canned.save(admin, "refund", {"text": "Refunds take 5 days", "shared": True})
    assert ana_socket.of_type("canned") == [
        {"type": "canned", "canned": {"shortcut": "refund", "text": "Refunds take 5 days", "shared": True}}
    ]
    canned.delete(admin, "refund", shared=True)
    assert ana_socket.of_type("canned")[-1] == {
        "type": "canned",
        "canned": {"shortcut": "refund", "shared": True},
        "deleted": True,
    }
    canned.save(ana, "mine", {"text": "Only mine"})  # an agent's own response is nobody else's news
    assert len(ana_socket.of_type("canned")) == 2
    assert visitor_socket.of_type("canned") == []
