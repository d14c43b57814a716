"""Anonymous visitors a team can tell apart: "Visitor 5428", the same everywhere they appear."""

from __future__ import annotations

import pytest

from functions.chat import chats
from functions.core.principals import Principal
from functions.helpdesk import from_chat, tickets
from functions.models import Visitor
from functions.visitors import identity, names, tracking
from tests.support import desk
from tests.support.actors import Socket, new_agent, start_chat

# Fixed ids, so the numbers are known: they come from the id alone, the same on every deployment.
ONE, TWO = "v_anonymous_one", "v_anonymous_two"


@pytest.fixture
def helpdesk(aws, monkeypatch):
    desk.prepare(monkeypatch)


def anonymous(visitor_id: str, country: str | None = None) -> Principal:
    """A visitor who gave no name; with `country`, one whose page view came through CloudFront from there."""
    creds = identity.create_identity(visitor_id)
    if country:
        tracking.page_view(
            {**creds, "pv": "pv1", "url": "https://shop.example/"}, user_agent=None, country=country, ip=None
        )
    return Principal("visitor", visitor_id, None)


def test_the_number_comes_from_the_visitor_id_alone():
    assert (names.label(ONE), names.label(TWO)) == ("Visitor 5428", "Visitor 4045")
    assert names.number(ONE) == names.number(ONE) == "5428"
    assert names.display("Vera", ONE, "DE") == "Vera"
    assert names.display(None, ONE, "DE") == "Visitor 5428 (DE)"


def test_two_anonymous_chats_and_their_tickets_name_their_visitors_apart(helpdesk):
    agent = new_agent("Ana")
    Socket(agent)
    first = start_chat(Socket(anonymous(ONE, country="de")), context={"url": "https://shop.example/"})
    second = start_chat(Socket(anonymous(TWO)))
    assert first["visitor"] == {
        "id": ONE,
        "name": None,
        "email": None,
        "label": "Visitor 5428",
        "number": "5428",
        "country": "DE",
    }
    assert (second["visitor"]["name"], second["visitor"]["label"], second["visitor"]["country"]) == (
        None,
        "Visitor 4045",
        None,
    )

    # The console's Visitors list and info panel carry the same number.
    profile = chats.visitor_profile(ONE)
    row = tracking.row(Visitor.get(ONE))
    assert {profile["visitor"]["label"], profile["chats"][0]["visitor"]["label"], row["label"]} == {"Visitor 5428"}

    made = [from_chat.create(agent, chat["chat_id"], {})[0] for chat in (first, second)]
    views = [tickets.view(ticket) for ticket in made]
    assert [(v["subject"], v["requester"]["name"]) for v in views] == [
        ("Chat with Visitor 5428 (DE)", "Visitor 5428"),
        ("Chat with Visitor 4045", "Visitor 4045"),
    ]


def test_a_visitor_who_gave_a_name_keeps_it_and_still_has_a_number(helpdesk):
    agent = new_agent("Ana")
    Socket(agent)
    identity.create_identity("v_named")
    chat = start_chat(Socket(Principal("visitor", "v_named", None)), name="Vera")
    assert (chat["visitor"]["name"], chat["visitor"]["label"]) == ("Vera", "Visitor 6944")
    ticket, _ = from_chat.create(agent, chat["chat_id"], {})
    assert (ticket.subject, ticket.requester_name) == ("Chat with Vera", "Vera")
