"""Visitor tracking: what a page view writes (and costs), presence and its expiry, the online list."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from chalice.test import Client

import app as charla
from functions.admin import bans
from functions.core import aws as charla_aws
from functions.core import clock, settings, shards
from functions.models import Visitor
from functions.visitors import tracking, verified
from tests.support.actors import Socket, drain_notices, new_agent

WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
PAGE = {
    "url": "https://shop.example/bikes?id=7",
    "title": "Bikes",
    "referrer": "https://search.example/",
    "language": "es-ES",
    "timezone": "Europe/Madrid",
}


@pytest.fixture
def calls(aws):
    """Every DynamoDB operation the app makes (all models share one client)."""
    seen: list[str] = []
    charla_aws.dynamodb_connection().client.meta.events.register(
        "before-call.dynamodb", lambda model, **_: seen.append(model.name)
    )
    return seen


def view(creds=None, pv="pv1", event="view", **extra):
    body = {**PAGE, "pv": pv, "event": event, **(creds or {}), **extra}
    return tracking.page_view(
        body, user_agent="Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0", country="es", ip="203.0.113.77"
    )


def creds_of(answer):
    return {"visitor_id": answer["visitor_id"], "secret": answer["secret"]}


def shift_clock(monkeypatch, seconds):
    later = clock.now() + timedelta(seconds=seconds)
    monkeypatch.setattr(clock, "now", lambda: later)
    monkeypatch.setattr(clock, "epoch", lambda: int(later.timestamp()))


def test_a_first_page_view_creates_the_visitor_in_one_write(calls):
    verified.secret()  # created once per deployment; the per-address counters' keys use it
    calls.clear()
    answer = view()
    assert answer["visitor_id"].startswith("v_") and answer["secret"]
    # One conditional ADD on the address's counter (functions/visitors/limits.py), one PutItem of the visitor.
    assert [c for c in calls if c in WRITES] == ["UpdateItem", "PutItem"]
    visitor = Visitor.get(answer["visitor_id"])
    assert (visitor.current_url, visitor.current_title, visitor.country, visitor.ip) == (
        "https://shop.example/bikes",
        "Bikes",
        "ES",
        "203.0.113.0",
    )  # no query: functions/visitors/privacy.py
    assert tracking.is_online(visitor) and int(visitor.visits) == 1


def test_a_page_view_costs_two_writes_shown_and_left_and_one_more_when_agents_are_told(calls, monkeypatch):
    creds = creds_of(view())
    Socket(new_agent())  # an agent is watching: the fan-out is reads and posts, and one counting write
    bans.active()  # the ban list is cached per instance, as the settings are
    view(creds, pv="pv2")  # the window's second push: agents have had their share of this visitor
    calls.clear()
    view(creds, pv="pv3", url="https://shop.example/cart")
    view(creds, pv="pv3", event="leave", seconds=42)
    assert [c for c in calls if c in WRITES] == ["UpdateItem", "UpdateItem"]
    # Reads per event: the visitor (credentials) and a ban check; no fan-out, so no Query of connections.
    assert calls.count("Scan") == 0 and calls.count("Query") == 0 and len(calls) - 2 <= 2 * 3
    shift_clock(monkeypatch, tracking.ANNOUNCE_WINDOW_S)
    calls.clear()
    view(creds, pv="pv4", url="https://shop.example/checkout")  # a new window: agents are told again
    # Telling them is one queued notice (functions/realtime/agent_notices.py), not a Query and posts.
    assert [c for c in calls if c in WRITES] == ["UpdateItem", "UpdateItem"] and calls.count("Query") == 0


def test_agents_see_each_page_change_live(aws, monkeypatch):
    agent = Socket(new_agent())
    creds = creds_of(view())
    agent.clear()
    view(creds, pv="pv2", url="https://shop.example/checkout", title="Checkout")
    assert agent.frames() == []  # queued for the drain, which runs within seconds
    drain_notices()
    [frame] = agent.notified("visitor")
    row = frame["visitor"]
    assert (row["id"], row["url"], row["title"], row["chat_state"], row["online"]) == (
        creds["visitor_id"],
        "https://shop.example/checkout",
        "Checkout",
        "browsing",
        True,
    )
    # When the line was read, so a console that re-read its list meanwhile keeps the newer line.
    shift_clock(monkeypatch, 1)
    [fresh] = [v for v in tracking.online() if v["id"] == creds["visitor_id"]]
    assert row["as_of"] < fresh["as_of"] == clock.now_iso()


def test_a_flood_of_page_views_reaches_agents_a_couple_of_times_per_window(aws, monkeypatch):
    agents = [Socket(new_agent(f"Agent {n}")) for n in range(3)]
    creds = creds_of(view())
    for n in range(150):
        view(creds, pv=f"f{n}", url=f"https://shop.example/p{n}")
    # At most ANNOUNCE_MAX notices were queued, and the drain keeps the newest: one line per agent.
    assert drain_notices()["notices"] == 1
    assert [len(a.notified("visitor")) for a in agents] == [1] * 3
    # The next window tells agents the page the visitor is on now.
    shift_clock(monkeypatch, tracking.ANNOUNCE_WINDOW_S)
    view(creds, pv="last", url="https://shop.example/checkout")
    drain_notices()
    assert [a.notified("visitor")[-1]["visitor"]["url"] for a in agents] == ["https://shop.example/checkout"] * 3
    assert [len(a.of_type("notices")) for a in agents] == [2] * 3


def test_beats_and_leaves_push_nothing_to_agents(aws):
    agent = Socket(new_agent())
    creds = creds_of(view())
    drain_notices()  # the first view's notice
    agent.clear()
    view(creds, event="beat", seconds=10)
    view(creds, event="leave", seconds=12)
    drain_notices()
    assert agent.frames() == []


def test_a_new_visit_is_counted_after_30_minutes_without_a_page_view(aws, monkeypatch):
    creds = creds_of(view())
    view(creds, pv="pv2")
    assert int(Visitor.get(creds["visitor_id"]).visits) == 1
    shift_clock(monkeypatch, 31 * 60)
    view(creds, pv="pv3")
    view(creds, pv="pv4")
    visitor = Visitor.get(creds["visitor_id"])
    assert int(visitor.visits) == 2 and visitor.visit_started_at <= visitor.page_started_at


def test_the_online_list_is_one_query_per_index_shard_and_drops_who_left(calls, monkeypatch):
    staying, leaving = creds_of(view()), creds_of(view())
    view(leaving, pv="pv1", event="leave", seconds=3)
    shards.read_count()  # the instance's once-a-minute read of the recorded shard count
    calls.clear()
    listed = {row["id"] for row in tracking.online()}
    assert calls == ["Query"] * shards.count()
    assert listed == {staying["visitor_id"], leaving["visitor_id"]}  # within the grace after leaving
    shift_clock(monkeypatch, tracking.LEAVE_GRACE_S + 1)
    assert {row["id"] for row in tracking.online()} == {staying["visitor_id"]}
    shift_clock(monkeypatch, tracking.ONLINE_S + 1)
    assert tracking.online() == []  # presence expired without anyone writing


def test_a_late_leave_from_the_previous_page_does_not_end_the_current_one(aws):
    creds = creds_of(view(pv="first"))
    view(creds, pv="second", url="https://shop.example/next")
    view(creds, pv="first", event="leave", seconds=9)  # the beacon arrived after the next page's view
    visitor = Visitor.get(creds["visitor_id"])
    assert visitor.page_view_id == "second" and visitor.online_until > clock.epoch() + tracking.LEAVE_GRACE_S


def test_a_beat_keeps_a_long_page_view_online(aws, monkeypatch):
    creds = creds_of(view())
    shift_clock(monkeypatch, tracking.BEAT_S)
    view(creds, event="beat", seconds=tracking.BEAT_S)
    shift_clock(monkeypatch, tracking.ONLINE_S - tracking.BEAT_S + 60)  # past the view's own presence
    assert [row["page_seconds"] for row in tracking.online()] == [tracking.BEAT_S]


def test_the_chat_state_comes_from_the_open_chat(aws):
    from tests.support.actors import start_chat

    Socket(new_agent())
    creds = creds_of(view())
    from functions.core.principals import Principal

    socket = Socket(Principal("visitor", creds["visitor_id"]))
    start_chat(socket)
    assert [row["chat_state"] for row in tracking.online()] == ["chatting"]


def test_with_tracking_off_nothing_is_written(calls):
    creds = creds_of(view())
    settings.save_settings({"tracking": False})
    calls.clear()
    assert view() is None and view(creds, pv="pv2") is None and view(creds, event="leave") is None
    assert [c for c in calls if c in WRITES] == []


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"pv": "x" * 33}, "bad_request"),
        ({"pv": "ok", "event": "jump"}, "bad_request"),
        ({"pv": "ok", "url": 7}, "bad_request"),
        ({"pv": "ok", "url": "https://shop.example/" + "x" * 2000}, "too_long"),  # refused, not cut
        ({"pv": "ok", "title": "t" * 301}, "too_long"),
        ({"pv": "ok", "event": "beat"}, "unauthorized"),
        ({"pv": "ok", "event": "leave", "visitor_id": "v_nobody", "secret": "s"}, "unauthorized"),
    ],
)
def test_bad_page_views_are_refused(aws, body, code):
    from functions.core.errors import CharlaError

    with pytest.raises(CharlaError) as refused:
        tracking.page_view(body, user_agent=None, country=None, ip=None)
    assert refused.value.code == code


def test_the_route_takes_a_text_plain_beacon_and_says_204_when_tracking_is_off(aws):
    beacon = {"content-type": "text/plain;charset=UTF-8"}
    with Client(charla.app) as client:
        body = json.dumps({**PAGE, "pv": "pv1"})
        sent = client.http.post("/visitor/pageview", body=body, headers=beacon)
        assert sent.status_code == 200 and json.loads(sent.body)["secret"]
        assert client.http.post("/visitor/pageview", body="[1]", headers=beacon).status_code == 400
        settings.save_settings({"tracking": False})
        off = client.http.post("/visitor/pageview", body=body, headers=beacon)
        assert off.status_code == 204 and off.body == b""
