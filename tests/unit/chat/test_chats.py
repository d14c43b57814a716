"""A chat's start and end: pre-chat rules, rating, transcript by email, the visitor's history."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3
import pytest
import time_machine

from functions.chat import chats, transcripts
from functions.core import settings
from functions.models import Chat, Visitor
from tests.support import outbox
from tests.support.actors import Socket, new_agent, new_visitor, start_chat


def _errors(frames):
    return [f["code"] for f in frames if f["type"] == "error"]


@pytest.fixture
def agent(aws):
    return Socket(new_agent("Ana"))


def test_in_name_and_email_mode_both_are_required_and_the_email_is_checked(agent):
    settings.save_settings({"prechat": "name_email"})
    visitor = Socket(new_visitor())
    assert _errors(visitor.send({"action": "start_chat"})) == ["bad_request"]
    bad = visitor.send({"action": "start_chat", "name": "Vera", "email": "vera@"})
    assert _errors(bad) == ["bad_request"] and "email" in bad[0]["message"]
    chat = start_chat(visitor, name="Vera", email="vera@example.com")
    assert (chat["visitor"]["name"], chat["visitor"]["email"]) == ("Vera", "vera@example.com")


def test_control_characters_in_a_name_never_reach_the_chat(agent):
    visitor = Socket(new_visitor())
    chat = start_chat(visitor, name="Vera\r\nBcc: all@example.com")
    assert chat["visitor"]["name"] == "Vera  Bcc: all@example.com"


def test_starting_twice_joins_the_same_chat(agent):
    visitor = Socket(new_visitor())
    first = start_chat(visitor)
    second = start_chat(Socket(visitor.principal))
    assert first["chat_id"] == second["chat_id"]


def test_the_page_and_browser_the_visitor_reports_reach_the_agents_info_panel(agent):
    visitor = Socket(new_visitor())
    context = {
        "url": "https://shop.example/cart",
        "title": "Cart",
        "referrer": "https://search.example/",
        "language": "es-ES",
        "timezone": "Europe/Madrid",
    }
    chat = start_chat(visitor, context=context)
    profile = chats.visitor_profile(chat["visitor"]["id"])
    shown = profile["visitor"]
    assert (shown["current_url"], shown["current_title"], shown["language"], shown["timezone"]) == (
        "https://shop.example/cart",
        "Cart",
        "es-ES",
        "Europe/Madrid",
    )
    assert shown["user_agent"] == "pytest"
    assert [c["chat_id"] for c in profile["chats"]] == [chat["chat_id"]]


def test_a_malformed_context_is_refused(agent):
    visitor = Socket(new_visitor())
    assert _errors(visitor.send({"action": "start_chat", "context": "https://x"})) == ["bad_request"]
    assert _errors(visitor.send({"action": "start_chat", "context": {"url": 5}})) == ["bad_request"]


def test_the_visitors_previous_chats_are_listed_newest_first(agent):
    visitor = Socket(new_visitor())
    first = start_chat(visitor)
    visitor.send({"action": "close", "chat_id": first["chat_id"]})
    second = start_chat(visitor)
    history = chats.visitor_profile(visitor.principal.id)["chats"]
    assert [c["chat_id"] for c in history] == [second["chat_id"], first["chat_id"]]
    assert Visitor.get(visitor.principal.id).open_chat_id == second["chat_id"]


def test_the_visitor_rates_the_chat_and_the_agent_sees_it(agent):
    visitor = Socket(new_visitor())
    chat_id = start_chat(visitor)["chat_id"]
    visitor.send({"action": "close", "chat_id": chat_id})
    agent.clear()
    frames = visitor.send({"action": "rate", "chat_id": chat_id, "rating": "good", "comment": "Quick!"})
    assert frames[-1]["chat"]["rating"] == "good"
    assert agent.of_type("chat")[-1]["chat"]["rating"] == "good"
    assert Chat.get(chat_id).rating_comment == "Quick!"


def test_a_rating_must_be_good_or_bad_and_only_the_visitor_rates(agent):
    visitor = Socket(new_visitor())
    chat_id = start_chat(visitor)["chat_id"]
    assert _errors(visitor.send({"action": "rate", "chat_id": chat_id, "rating": "5 stars"})) == ["bad_request"]
    assert _errors(agent.send({"action": "rate", "chat_id": chat_id, "rating": "good"})) == ["forbidden"]
    other = Socket(new_visitor())
    assert _errors(other.send({"action": "rate", "chat_id": chat_id, "rating": "bad"})) == ["not_found"]


def test_the_transcript_is_emailed_to_the_visitor_through_ses(agent):
    settings.save_settings({"support_email": "support@charla.test"})
    boto3.client("ses", region_name="us-east-1").verify_domain_identity(Domain="charla.test")
    visitor = Socket(new_visitor())
    chat = start_chat(visitor, name="Vera", email="vera@example.com")
    visitor.send({"action": "send", "chat_id": chat["chat_id"], "client_msg_id": "a", "text": "where is it?"})
    agent.send({"action": "send", "chat_id": chat["chat_id"], "client_msg_id": "b", "text": "on its way"})
    frames = visitor.send({"action": "transcript", "chat_id": chat["chat_id"]})
    assert frames[-1] == {"type": "transcript_sent", "chat_id": chat["chat_id"], "email": "vera@example.com"}
    sent = _sent_mail()
    assert sent["destination"]["ToAddresses"] == ["vera@example.com"]
    assert "Vera: where is it?" in sent["body"] and "Ana: on its way" in sent["body"]


def test_a_mailed_transcript_shows_times_in_the_visitors_time_zone(agent):
    settings.save_settings({"support_email": "support@charla.test"})
    boto3.client("ses", region_name="us-east-1").verify_domain_identity(Domain="charla.test")
    visitor = Socket(new_visitor())
    with time_machine.travel(datetime(2026, 7, 1, 22, 30, tzinfo=UTC), tick=False):
        context = {"timezone": "America/Argentina/Buenos_Aires"}
        chat = start_chat(visitor, name="Vera", email="vera@example.com", context=context)
        visitor.send({"action": "send", "chat_id": chat["chat_id"], "client_msg_id": "a", "text": "hola"})
    visitor.send({"action": "transcript", "chat_id": chat["chat_id"]})
    body = _sent_mail()["body"]
    assert "2026-07-01 19:30 (America/Argentina/Buenos_Aires)" in body and "[19:30] Vera: hola" in body


@pytest.mark.parametrize("zone", ["../../etc/passwd", "Europe/Madrid\n", "<b>", "/etc/localtime", 7])
def test_a_time_zone_that_is_no_iana_name_is_refused_naming_the_field(agent, zone):
    frames = Socket(new_visitor()).send({"action": "start_chat", "context": {"timezone": zone}})
    assert _errors(frames) == ["bad_request"] and "context.timezone" in frames[-1]["message"]


def test_another_visitor_cannot_have_the_transcript_sent_to_them(agent):
    visitor = Socket(new_visitor())
    chat_id = start_chat(visitor)["chat_id"]
    thief = Socket(new_visitor())
    frames = thief.send({"action": "transcript", "chat_id": chat_id, "email": "thief@example.com"})
    assert _errors(frames) == ["not_found"]


def _mail_ready() -> None:
    settings.save_settings({"support_email": "support@charla.test"})
    boto3.client("ses", region_name="us-east-1").verify_domain_identity(Domain="charla.test")


def _recipients() -> list[str]:
    return [to for m in outbox.sent() for to in m.destinations["ToAddresses"]]


def test_a_transcript_never_goes_to_an_address_typed_into_the_frame(agent):
    _mail_ready()
    visitor = Socket(new_visitor())
    chat_id = start_chat(visitor, name="Vera", email="vera@example.com")["chat_id"]
    frames = visitor.send({"action": "transcript", "chat_id": chat_id, "email": "victim@target.example"})
    assert _errors(frames) == ["bad_request"] and "email" in frames[-1]["message"]
    # The chat's own address, typed again in another case, is still that address.
    frames = visitor.send({"action": "transcript", "chat_id": chat_id, "email": "Vera@Example.com"})
    assert frames[-1] == {"type": "transcript_sent", "chat_id": chat_id, "email": "vera@example.com"}
    assert _recipients() == ["vera@example.com"]


def test_a_chat_without_an_address_of_its_own_mails_nobody(agent):
    _mail_ready()
    visitor = Socket(new_visitor())
    chat_id = start_chat(visitor)["chat_id"]
    for frame in ({"email": "victim@target.example"}, {}):
        frames = visitor.send({"action": "transcript", "chat_id": chat_id, **frame})
        assert _errors(frames) == ["no_email"]
    assert _recipients() == []


def test_a_verified_identity_email_is_the_chats_address(agent):
    from functions.visitors import verified

    _mail_ready()
    visitor = Socket(new_visitor())
    verified.identify(visitor.principal, {"email": "ana@example.com", "signature": verified.sign("ana@example.com")})
    chat_id = start_chat(visitor)["chat_id"]
    frames = visitor.send({"action": "transcript", "chat_id": chat_id})
    assert frames[-1] == {"type": "transcript_sent", "chat_id": chat_id, "email": "ana@example.com"}


@pytest.mark.parametrize("closed", [False, True])
def test_a_chat_has_its_transcript_mailed_a_few_times_at_most(agent, closed):
    _mail_ready()
    visitor = Socket(new_visitor())
    chat_id = start_chat(visitor, email="vera@example.com")["chat_id"]
    if closed:
        visitor.send({"action": "close", "chat_id": chat_id})
    answers = [visitor.send({"action": "transcript", "chat_id": chat_id})[-1] for _ in range(25)]
    assert [a["type"] for a in answers[: transcripts.PER_CHAT]] == ["transcript_sent"] * transcripts.PER_CHAT
    refused = answers[transcripts.PER_CHAT :]
    assert {(a.get("code"), a.get("retriable")) for a in refused} == {("limit_reached", False)}
    assert len(_recipients()) == transcripts.PER_CHAT


def test_a_visitor_has_a_few_transcripts_a_day_over_all_their_chats(agent):
    _mail_ready()
    visitor = Socket(new_visitor())
    sent = 0
    with time_machine.travel(datetime(2026, 11, 22, 10, 0, tzinfo=UTC), tick=False):
        for _chat in range(4):
            chat_id = start_chat(visitor, email="vera@example.com")["chat_id"]
            for _ in range(transcripts.PER_CHAT):
                answer = visitor.send({"action": "transcript", "chat_id": chat_id})[-1]
                sent += answer["type"] == "transcript_sent"
            visitor.send({"action": "close", "chat_id": chat_id})
        assert sent == transcripts.PER_VISITOR_DAY
        assert answer["code"] == "limit_reached"
    with time_machine.travel(datetime(2026, 11, 23, 10, 0, tzinfo=UTC), tick=False):
        chat_id = start_chat(visitor, email="vera@example.com")["chat_id"]
        assert visitor.send({"action": "transcript", "chat_id": chat_id})[-1]["type"] == "transcript_sent"
    assert len(_recipients()) == transcripts.PER_VISITOR_DAY + 1


def _sent_mail() -> dict:
    message = outbox.sent()[-1]
    return json.loads(json.dumps({"destination": message.destinations, "body": message.body}))
