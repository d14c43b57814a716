"""Identified visitors: a signed identity is verified and linked to its history; a forged one is neither."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from functions.chat import chats
from functions.core.errors import CharlaError
from functions.models import Visitor
from functions.visitors import tracking, verified
from tests.support.actors import Socket, drain_notices, new_agent, new_visitor, start_chat
from tests.support.admin import add_user, api, body, call, login, pool  # noqa: F401 (fixtures)

EMAIL = "ana.lopez@example.com"


def chat_as(visitor) -> str:
    socket = Socket(visitor)
    chat_id = start_chat(socket)["chat_id"]
    socket.send({"action": "close", "chat_id": chat_id})
    return chat_id


def test_the_signature_is_the_sites_hmac_of_the_email(aws):
    expected = hmac.new(verified.secret().encode(), EMAIL.encode(), hashlib.sha256).hexdigest()
    assert verified.sign(EMAIL) == expected
    verified.forget()
    assert verified.sign(EMAIL) == expected  # the secret is stored once, not made anew


def test_a_signed_identity_is_verified(aws):
    visitor = new_visitor()
    assert verified.identify(visitor, {"name": "Ana", "email": EMAIL, "signature": verified.sign(EMAIL)}) == {
        "verified": True
    }
    stored = Visitor.get(visitor.id)
    assert (stored.name, stored.email, stored.verified_email) == ("Ana", EMAIL, EMAIL)


@pytest.mark.parametrize("signature", [None, "0" * 64, "ab" * 32])
def test_an_unsigned_or_forged_identity_is_unverified(aws, signature):
    visitor = new_visitor()
    payload = {"name": "Ana", "email": EMAIL, **({"signature": signature} if signature else {})}
    assert verified.identify(visitor, payload) == {"verified": False}
    stored = Visitor.get(visitor.id)
    assert stored.name == "Ana" and stored.verified_email is None


def test_a_signature_for_another_email_does_not_verify(aws):
    visitor = new_visitor()
    forged = {"name": "Ana", "email": EMAIL, "signature": verified.sign("someone.else@example.com")}
    assert verified.identify(visitor, forged) == {"verified": False}


def test_only_a_verified_identity_links_earlier_chats(aws):
    Socket(new_agent())
    earlier = new_visitor()
    verified.identify(earlier, {"email": EMAIL, "signature": verified.sign(EMAIL)})
    old_chat = chat_as(earlier)

    impostor = new_visitor()
    verified.identify(impostor, {"name": "Ana", "email": EMAIL})
    profile = chats.visitor_profile(impostor.id)
    assert old_chat not in [c["chat_id"] for c in profile["chats"]]
    assert (profile["visitor"]["verified"], profile["visitor"]["identified"]) == (False, True)

    again = new_visitor()
    verified.identify(again, {"email": EMAIL.upper(), "signature": verified.sign(EMAIL.upper())})
    profile = chats.visitor_profile(again.id)
    assert old_chat in [c["chat_id"] for c in profile["chats"]] and profile["visitor"]["verified"] is True


def test_an_unsigned_identity_after_a_verified_one_drops_the_link(aws):
    visitor = new_visitor()
    verified.identify(visitor, {"email": EMAIL, "signature": verified.sign(EMAIL)})
    verified.identify(visitor, {"email": "other@example.com"})
    assert Visitor.get(visitor.id).verified_email is None


def test_the_visitors_list_shows_the_name_and_badge_at_once(aws):
    agent = Socket(new_agent())
    answer = tracking.page_view({"pv": "p1"}, user_agent=None, country=None, ip=None)
    from functions.core.principals import Principal

    agent.clear()
    verified.identify(Principal("visitor", answer["visitor_id"]), {"name": "Ana", "email": EMAIL})
    drain_notices()  # the next drain, within seconds (functions/realtime/agent_notices.py)
    [frame] = agent.notified("visitor")
    assert (frame["visitor"]["name"], frame["visitor"]["verified"]) == ("Ana", False)


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"email": "not-an-email"},
        {"name": "x" * 101},
        {"email": EMAIL, "signature": "zz"},
        {"email": EMAIL, "signature": 5},
    ],
)
def test_bad_identities_are_refused(aws, payload):
    with pytest.raises(CharlaError) as refused:
        verified.identify(new_visitor(), payload)
    assert refused.value.code == "bad_request"


def test_only_admins_read_the_identity_secret(api, pool):  # noqa: F811
    add_user(pool, "boss@example.com", "Boss", role="admin")
    add_user(pool, "ana@example.com", "Ana")
    admin, agent = login(api, "boss@example.com")["id_token"], login(api, "ana@example.com")["id_token"]
    assert call(api, "GET", "/admin/identity-secret", agent).status_code == 403
    shown = call(api, "GET", "/admin/identity-secret", admin)
    assert shown.status_code == 200 and body(shown)["secret"] == verified.secret()
