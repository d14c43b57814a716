"""Team-wide notices: anonymous requests only queue them; one drain posts one frame per agent connection."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import time_machine

from functions.core import settings
from functions.helpdesk import offline_form
from functions.realtime import agent_notices
from functions.visitors import tracking
from tests.conftest import sent_frames
from tests.support.actors import Socket, drain_notices, new_agent, new_visitor, start_chat

# The notices below were queued on 2 December 2026 at 10:00; they are drained a minute later.
DRAINED_AT = datetime(2026, 12, 2, 10, 1, tzinfo=UTC)

FORM = {"fields": {"name": "Vera", "email": "vera@example.com", "message": "My order never came."}}


def _first_view(pv: str = "p1") -> dict:
    return tracking.page_view({"pv": pv, "url": "https://shop.example/"}, user_agent=None, country=None, ip=None)


def _subject(frame: dict) -> tuple[str, str]:
    kind = frame["type"]
    return kind, frame[kind]["id" if kind == "visitor" else f"{kind}_id"]


def test_anonymous_requests_post_nothing_to_agents_and_one_drain_posts_one_frame_per_agent_socket(aws):
    settings.save_settings({"max_chats_per_agent": 1})
    consoles = [Socket(new_agent(f"Agent {n}")) for n in range(5)]
    for n in range(5):  # every agent's only slot is taken, so the next chat queues
        start_chat(Socket(new_visitor(f"Served {n}")))
    drain_notices()
    for console in consoles:
        console.clear()

    visitor = _first_view()  # a new visitor's first page view
    queued = start_chat(Socket(new_visitor("Late")))  # a chat joining the queue
    ticket = offline_form.submit(new_visitor("Writer"), FORM)  # a visitor's ticket
    assert queued["status"] == "queued"
    assert [console.frames() for console in consoles] == [[]] * 5

    assert drain_notices() == {"notices": 3, "posts": 5}
    for console in consoles:
        [frame] = console.frames()
        assert frame["type"] == "notices"
        assert [_subject(f) for f in frame["frames"]] == [
            ("visitor", visitor["visitor_id"]),
            ("chat", queued["chat_id"]),
            ("ticket", ticket.ticket_id),
        ]


def test_the_newest_notice_per_subject_wins_whatever_order_the_queue_delivers(aws):
    console = Socket(new_agent())
    older = {"subject": "visitor:v_1", "at": "2026-12-02T10:00:00.000Z", "frame": {"type": "visitor", "n": 1}}
    newer = {"subject": "visitor:v_1", "at": "2026-12-02T10:00:01.000Z", "frame": {"type": "visitor", "n": 2}}
    other = {"subject": "ticket:t_1", "at": "2026-12-02T10:00:00.500Z", "frame": {"type": "ticket", "n": 3}}
    with time_machine.travel(DRAINED_AT):
        agent_notices.drain([json.dumps(newer), json.dumps(other), json.dumps(older)])
    [frame] = console.frames()
    assert frame["frames"] == [{"type": "ticket", "n": 3}, {"type": "visitor", "n": 2}]


def test_a_chats_own_agents_are_not_told_twice_and_unreadable_records_are_dropped(aws):
    mine, other = Socket(new_agent("Mine")), Socket(new_agent("Other"))
    notice = {
        "subject": "chat:c_1",
        "at": "2026-12-02T10:00:00.000Z",
        "frame": {"type": "chat", "chat": {"chat_id": "c_1"}},
        "exclude": [mine.connection_id],
    }
    with time_machine.travel(DRAINED_AT):
        counts = agent_notices.drain(["not json", json.dumps({"subject": 1}), json.dumps(notice)])
    assert counts == {"notices": 1, "posts": 1}
    assert mine.frames() == [] and other.notified("chat") == [notice["frame"]]


def test_a_flood_of_distinct_subjects_still_makes_one_frame_within_the_message_limit(aws):
    console = Socket(new_agent())
    bodies = [
        json.dumps(
            {
                "subject": f"visitor:v_{n}",
                "at": f"2026-12-02T10:00:{n // 1000:02d}.{n % 1000:03d}Z",
                "frame": {"type": "visitor", "visitor": {"id": f"v_{n}", "title": "x" * 2000}},
            }
        )
        for n in range(1000)
    ]
    with time_machine.travel(DRAINED_AT):
        agent_notices.drain(bodies)
    [frame] = sent_frames(console.connection_id)
    assert len(json.dumps(frame, separators=(",", ":"))) <= agent_notices.MAX_FRAME_BYTES
    ids = [f["visitor"]["id"] for f in frame["frames"]]
    assert ids[-1] == "v_999" and len(ids) > 10  # the newest are kept


def test_without_a_queue_a_notice_is_logged_and_the_request_still_succeeds(aws, monkeypatch, caplog):
    monkeypatch.delenv("AGENT_NOTICE_QUEUE_URL")
    assert _first_view()["visitor_id"]
    assert "AGENT_NOTICE_QUEUE_URL is not set" in caplog.text


def test_a_notice_older_than_five_minutes_is_dropped_not_posted(aws):
    console = Socket(new_agent())
    stale = {"subject": "visitor:v_1", "at": "2026-12-02T09:55:59.000Z", "frame": {"type": "visitor", "n": 1}}
    fresh = {"subject": "visitor:v_2", "at": "2026-12-02T09:56:01.000Z", "frame": {"type": "visitor", "n": 2}}
    with time_machine.travel(DRAINED_AT):
        counts = agent_notices.drain([json.dumps(stale), json.dumps(fresh)])
    assert counts == {"notices": 1, "posts": 1}
    [frame] = console.frames()
    assert frame["frames"] == [{"type": "visitor", "n": 2}]
