"""Sharded index keys: readers answer what the unsharded index answered, in its order, whatever the
shard count, and keep finding items written under an earlier count or before sharding."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
import time_machine

import app as charla
from functions.chat import routing
from functions.core import settings, shards
from functions.models import LIVE, QUEUE, Chat, Connection
from functions.realtime import connections
from functions.visitors import tracking
from infra.local.events import scheduled_event
from tests.support.actors import Socket, new_agent, new_visitor, start_chat

SCHEDULED_EVENT = scheduled_event("charla-dev-sweep", "us-east-1")
PAGE = {"pv": "pv1", "event": "view", "url": "https://shop.example/"}


def use_shards(monkeypatch: pytest.MonkeyPatch, count: int | str) -> None:
    monkeypatch.setenv(shards.ENV, str(count))


def sweep(after: timedelta = timedelta(0)) -> dict[str, int]:
    with time_machine.travel(after):
        return charla.sweep(SCHEDULED_EVENT, None)


def queue_chats(count: int) -> list[str]:
    """Chats started one after another while the only agent is busy: all of them wait."""
    return [start_chat(Socket(new_visitor(f"v{i}")))["chat_id"] for i in range(count)]


def busy_agent() -> None:
    settings.save_settings({"max_chats_per_agent": 1})
    Socket(new_agent("Ana"))
    start_chat(Socket(new_visitor("first")))  # takes Ana's only slot


def test_a_shard_is_a_stable_hash_of_the_id_and_spreads_ids_evenly(monkeypatch):
    use_shards(monkeypatch, 8)
    assert shards.key(QUEUE, "chat-1") == shards.key(QUEUE, "chat-1")
    assert {shards.key(QUEUE, f"c{i}") for i in range(200)} == {"queue", *(f"queue#{k}" for k in range(1, 8))}
    spread = Counter(shards.shard_of(f"c_{i}", 8) for i in range(8000))
    assert max(spread.values()) < 1.1 * 1000 and min(spread.values()) > 0.9 * 1000
    use_shards(monkeypatch, 1)
    assert shards.key(QUEUE, "chat-1") == "queue"  # one shard is exactly the unsharded key


@pytest.mark.parametrize("count", [1, 3, 8])
def test_the_queue_is_oldest_first_with_exact_positions_whatever_the_shard_count(aws, monkeypatch, count):
    use_shards(monkeypatch, count)
    busy_agent()
    queued = queue_chats(9)
    assert [c.chat_id for c in routing.queued()] == queued
    assert [c.chat_id for c in routing.queued(4)] == queued[:4]  # the limit cuts the merged order
    assert routing.next_queued().chat_id == queued[0]
    assert [routing.queue_ahead_of(Chat.get(c)) for c in queued] == list(range(9))
    assert [Chat.get(c).queue_pk for c in queued] == [shards.key(QUEUE, c) for c in queued]


def test_sweeps_find_due_items_in_every_shard(aws, monkeypatch):
    use_shards(monkeypatch, 8)
    agent = new_agent("Ana")
    with time_machine.travel(timedelta(minutes=-20)):
        stale = [Socket(agent) for _ in range(12)]
    fresh = Socket(agent)
    assert len({Connection.get(s.connection_id).live_pk for s in stale}) > 1  # spread, not in one shard
    assert sweep()["stale_connections"] == 12
    assert connections.live_connection_ids() == [fresh.connection_id]
    assert connections.agent_connection_ids() == [fresh.connection_id]

    settings.save_settings({"max_chats_per_agent": 10})
    chat_ids = [start_chat(Socket(new_visitor(f"v{i}")))["chat_id"] for i in range(6)]
    assert {Chat.get(c).status for c in chat_ids} == {"active"}
    assert sweep(timedelta(minutes=29))["idle_chats"] == 0
    assert sweep(timedelta(minutes=32))["idle_chats"] == 6
    assert {Chat.get(c).status for c in chat_ids} == {"closed"}


@pytest.mark.parametrize("count", [1, 8])
def test_the_online_list_is_newest_first_and_cut_at_its_limit_whatever_the_shard_count(aws, monkeypatch, count):
    use_shards(monkeypatch, count)
    seen = []
    for i in range(10):
        with time_machine.travel(timedelta(seconds=-100 + 5 * i)):  # each visitor seen 5 s after the previous
            answer = tracking.page_view(PAGE, user_agent=None, country=None, ip="203.0.113.7")
        seen.append(answer["visitor_id"])
    newest_first = seen[::-1]
    assert [row["id"] for row in tracking.online()] == newest_first
    assert [row["id"] for row in tracking.online(limit=3)] == newest_first[:3]


def test_a_larger_shard_count_still_reads_what_was_written_before_sharding(aws, monkeypatch):
    use_shards(monkeypatch, 1)  # as every install was before sharding: the bare `queue` key
    busy_agent()
    before = queue_chats(3)
    assert {Chat.get(c).queue_pk for c in before} == {"queue"}
    use_shards(monkeypatch, 8)
    after = queue_chats(4)
    assert [c.chat_id for c in routing.queued()] == before + after
    assert [routing.queue_ahead_of(Chat.get(c)) for c in before + after] == list(range(7))


def test_a_lowered_shard_count_still_reads_the_shards_of_the_larger_one(aws, monkeypatch):
    use_shards(monkeypatch, 12)
    agent = new_agent("Ana")
    sockets = [Socket(agent)]
    while shards.shard_of(sockets[-1].connection_id, 12) < 8:  # until one sits beyond the default's 8 shards
        sockets.append(Socket(agent))
    ids = sorted(s.connection_id for s in sockets)
    assert sorted(connections.live_connection_ids()) == ids  # a reader under 12 records 12 as the largest count

    use_shards(monkeypatch, 2)
    assert len(shards.keys(LIVE)) == 12
    assert sorted(connections.live_connection_ids()) == ids
    shards.forget()  # a new instance reads the recorded count from the table
    assert sorted(connections.live_connection_ids()) == ids
    newer = Socket(agent)
    assert Connection.get(newer.connection_id).live_pk in {"live", "live#1"}
    assert sorted(connections.live_connection_ids()) == sorted([*ids, newer.connection_id])


def test_a_bad_shard_count_is_refused_by_name(monkeypatch):
    for bad in ("0", "65", "eight", "-1"):
        use_shards(monkeypatch, bad)
        with pytest.raises(RuntimeError, match=shards.ENV):
            shards.count()
