"""Proactive greetings: an agent's greeting answered into a chat with that agent; rules and their cap."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from chalice.test import Client

import app as charla
from functions.core import settings, shards
from functions.core.errors import CharlaError
from functions.core.principals import Principal
from functions.models import Chat, Visitor
from functions.realtime import visitor_frames
from functions.team import agents
from functions.visitors import greetings, tracking
from tests.support.actors import Socket, new_agent

RULE = {"url_contains": "/pricing", "after_seconds": 10, "message": "Questions about plans?", "max_times": 2}


def browsing() -> tuple[Principal, Socket]:
    """A visitor on the site, tracked, with the widget's idle socket open."""
    answer = tracking.page_view({"pv": "pv1", "url": "https://shop.example/"}, user_agent=None, country=None, ip=None)
    visitor = Principal("visitor", answer["visitor_id"])
    return visitor, Socket(visitor)


def test_an_agent_greets_a_visitor_and_the_widget_gets_it(aws):
    ana = new_agent("Ana")
    visitor, socket = browsing()
    sent = greetings.send(ana, visitor.id, {"text": "Hi! Looking for a city bike?"})
    [frame] = socket.of_type("greeting")
    # The visitor sees the agent's name and an alias, never the agent's id.
    alias = visitor_frames.alias(sent["greeting_id"], ana.id)
    assert frame == {
        "type": "greeting",
        "greeting_id": sent["greeting_id"],
        "from": {"id": alias, "name": "Ana"},
        "text": "Hi! Looking for a city bike?",
    }
    assert sent["delivered"] is True


def test_answering_starts_a_chat_with_that_agent_even_when_not_accepting_and_at_capacity(aws):
    settings.save_settings({"max_chats_per_agent": 1})
    Socket(new_agent("Ben"))  # accepting, free: routing would pick him
    ana = new_agent("Ana", accepting=False)
    Socket(ana)
    agents.set_accepting(ana.id, False)
    visitor, socket = browsing()
    sent = greetings.send(ana, visitor.id, {"text": "Hi! Need help?"})
    chat = [f for f in socket.send({"action": "start_chat", "greeting_id": sent["greeting_id"]}) if f["type"] == "chat"]
    chat = chat[-1]["chat"]
    stored = Chat.get(chat["chat_id"])
    assert (chat["status"], stored.assignee_id) == ("active", ana.id)
    assert shards.is_key("unanswered", stored.unanswered_pk)  # the greeting is not the agent's answer to the visitor
    first = socket.send({"action": "resume", "chat_id": chat["chat_id"], "after_seq": 0})[-1]["messages"][0]
    assert (first["sender"], first["text"]) == ("system", "Ana: Hi! Need help?")
    assert Visitor.get(visitor.id).greeting is None  # used up


def test_a_greeting_works_once_and_only_for_its_visitor(aws):
    ana = new_agent("Ana")
    Socket(ana)
    visitor, _ = browsing()
    other, _ = browsing()
    sent = greetings.send(ana, visitor.id, {"text": "Hello"})
    assert greetings.opener(other, sent["greeting_id"], None) is None
    assert greetings.opener(visitor, "g_forged", None) is None
    assert greetings.opener(visitor, sent["greeting_id"], None).agent_id == ana.id
    assert greetings.opener(visitor, sent["greeting_id"], None) is None


def test_if_the_greeting_agent_left_the_chat_is_routed_as_usual(aws):
    ben = new_agent("Ben")
    Socket(ben)
    ana = new_agent("Ana")
    ana_socket = Socket(ana)
    visitor, socket = browsing()
    sent = greetings.send(ana, visitor.id, {"text": "Hello"})
    ana_socket.close()
    frames = socket.send({"action": "start_chat", "greeting_id": sent["greeting_id"]})
    chat_id = [f["chat"]["chat_id"] for f in frames if f["type"] == "chat"][-1]
    assert Chat.get(chat_id).assignee_id == ben.id


def test_a_greeting_for_someone_who_left_is_refused(aws, monkeypatch):
    from functions.core import clock

    ana = new_agent("Ana")
    visitor, _ = browsing()
    later = clock.epoch() + tracking.ONLINE_S + 1
    monkeypatch.setattr(clock, "epoch", lambda: later)
    with pytest.raises(CharlaError) as refused:
        greetings.send(ana, visitor.id, {"text": "Hello"})
    assert refused.value.code == "conflict"


@pytest.mark.parametrize(
    ("who", "body", "code"),
    [
        ("visitor", {"text": "hi"}, "forbidden"),
        ("agent", {"text": ""}, "bad_request"),
        ("agent", {"text": "x" * 501}, "bad_request"),
        ("agent", {}, "bad_request"),
    ],
)
def test_bad_greetings_are_refused(aws, who, body, code):
    visitor, _ = browsing()
    sender = visitor if who == "visitor" else new_agent()
    with pytest.raises(CharlaError) as refused:
        greetings.send(sender, visitor.id, body)
    assert refused.value.code == code


def test_rules_reach_the_widget_with_stable_ids(aws):
    settings.save_settings({"greetings": [RULE]})
    with Client(charla.app) as client:
        public = json.loads(client.http.get("/widget/settings").body)
    [rule] = public["greetings"]
    assert rule == {"id": greetings.rule_id(RULE), **RULE}
    assert greetings.rule_id({**RULE, "max_times": 5}) == rule["id"]
    assert greetings.rule_id({**RULE, "message": "Other"}) != rule["id"]


def test_a_rule_is_shown_at_most_its_max_times(aws):
    settings.save_settings({"greetings": [RULE]})
    visitor, _ = browsing()
    rule_id = greetings.rule_id(RULE)
    answers = [greetings.shown(visitor, rule_id)["show"] for _ in range(4)]
    assert answers == [True, True, False, False]
    assert greetings.shown(browsing()[0], rule_id)["show"] is True  # the cap is per visitor


def test_the_cap_holds_when_tabs_ask_at_once(aws):
    settings.save_settings({"greetings": [RULE]})
    visitor, _ = browsing()
    rule_id = greetings.rule_id(RULE)
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: greetings.shown(visitor, rule_id)["show"], range(8)))
    assert answers.count(True) == RULE["max_times"]
    assert int(Visitor.get(visitor.id).greetings_shown[rule_id]) == RULE["max_times"]


def test_a_visitor_from_before_greetings_gets_a_counter(aws):
    settings.save_settings({"greetings": [RULE]})
    visitor, _ = browsing()
    Visitor(visitor.id).update(actions=[Visitor.greetings_shown.remove()])
    rule_id = greetings.rule_id(RULE)
    assert [greetings.shown(visitor, rule_id)["show"] for _ in range(3)] == [True, True, False]


def test_an_unknown_rule_is_not_found_and_answering_a_rule_opens_with_its_message(aws):
    settings.save_settings({"greetings": [RULE]})
    visitor, socket = browsing()
    with pytest.raises(CharlaError) as refused:
        greetings.shown(visitor, "nope")
    assert refused.value.code == "not_found"
    Socket(new_agent())
    chat = [
        f
        for f in socket.send({"action": "start_chat", "greeting_rule": greetings.rule_id(RULE)})
        if f["type"] == "chat"
    ][-1]["chat"]
    first = socket.send({"action": "resume", "chat_id": chat["chat_id"], "after_seq": 0})[-1]["messages"][0]
    assert first["text"] == RULE["message"]


def test_a_visitor_without_a_socket_gets_the_greeting_with_their_next_page_view(aws):
    ana = new_agent("Ana")
    answer = tracking.page_view({"pv": "pv1"}, user_agent=None, country=None, ip=None)
    sent = greetings.send(ana, answer["visitor_id"], {"text": "Hello!"})
    assert sent["delivered"] is False
    creds = {"visitor_id": answer["visitor_id"], "secret": answer["secret"]}
    later = tracking.page_view({"pv": "pv2", **creds}, user_agent=None, country=None, ip=None)
    assert later["greeting"]["greeting_id"] == sent["greeting_id"] and later["greeting"]["text"] == "Hello!"


def test_a_greeting_refused_while_the_socket_was_connecting_comes_with_its_welcome(aws, gone):
    ana = new_agent("Ana")
    visitor, socket = browsing()
    assert [f["greeting"] for f in socket.send({"action": "hello"}) if f["type"] == "welcome"] == [None]
    set.add(gone, socket.connection_id)  # still inside $connect: API Gateway answers Gone, the row stays
    sent = greetings.send(ana, visitor.id, {"text": "Hi! Looking for a city bike?"})
    assert socket.of_type("greeting") == []
    gone.discard(socket.connection_id)  # the upgrade completes and the widget says hello
    [welcome] = [f for f in socket.send({"action": "hello"}) if f["type"] == "welcome"]
    assert welcome["greeting"] == {
        "type": "greeting",
        "greeting_id": sent["greeting_id"],
        "from": {"id": visitor_frames.alias(sent["greeting_id"], ana.id), "name": "Ana"},
        "text": "Hi! Looking for a city bike?",
    }
