"""Routing under a rush: visitors who start at the same moment are all answered at once while agents
have free slots, each chat by exactly one agent, and no agent over capacity.

The starters are threads that pass a barrier together and send `start_chat` through the real
WebSocket handler, so they race on the same least-busy agent exactly as concurrent Lambdas do.
"""

from __future__ import annotations

import threading
from typing import Any

from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from functions.core import settings
from functions.models import ALL_MODELS, Agent, Chat
from tests.support.actors import Socket, new_agent, new_visitor, start_chat


def _fresh_tables() -> None:
    for model in ALL_MODELS:
        with model.batch_write() as batch:
            for item in model.scan():
                batch.delete(item)
    settings.forget()


def _rush(visitors: list[Socket]) -> list[dict[str, Any]]:
    """Every visitor sends `start_chat` at once; returns the chats they were told about."""
    barrier = threading.Barrier(len(visitors))
    told: list[dict[str, Any]] = [{} for _ in visitors]

    def start(n: int) -> None:
        barrier.wait()
        frames = visitors[n].send({"action": "start_chat"})
        told[n] = next((f["chat"] for f in reversed(frames) if f["type"] == "chat"), {"error": frames})

    threads = [threading.Thread(target=start, args=(n,)) for n in range(len(visitors))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return told


def _check_books(agent_ids: list[str], capacity: int) -> dict[str, int]:
    """The agents' own records agree with the chats', and nobody is over capacity."""
    held: dict[str, int] = {}
    for agent_id in agent_ids:
        agent = Agent.get(agent_id, consistent_read=True)
        assert int(agent.active_count) <= capacity
        assert int(agent.active_count) == len(agent.chat_ids or ())
        for chat_id in agent.chat_ids or ():
            chat = Chat.get(chat_id, consistent_read=True)
            assert chat.status == "active" and chat.assignee_id == agent_id and chat.agent_ids == {agent_id}
        held[agent_id] = int(agent.active_count)
    return held


@hypothesis_settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(agents=st.integers(1, 3), capacity=st.integers(1, 4), visitors=st.integers(2, 9))
def test_concurrent_starters_fill_every_free_slot_once_and_never_more(aws, agents, capacity, visitors):
    _fresh_tables()
    settings.save_settings({"max_chats_per_agent": capacity})
    team = [new_agent(f"A{n}") for n in range(agents)]
    for principal in team:
        Socket(principal)
    sockets = [Socket(new_visitor(f"V{n}")) for n in range(visitors)]

    told = _rush(sockets)

    assert all("chat_id" in chat for chat in told), told
    active = [c for c in told if c["status"] == "active"]
    queued = [c for c in told if c["status"] == "queued"]
    # Free slots are used before anyone queues: a chat waits only when every agent is full.
    assert len(active) == min(visitors, agents * capacity)
    assert len(queued) == visitors - len(active)
    held = _check_books([p.id for p in team], capacity)
    assert sum(held.values()) == len(active)
    assert len({c["chat_id"] for c in told}) == visitors


def test_ten_visitors_at_once_with_two_free_agents_are_all_answered(aws):
    """The rush of the issue: two agents with 8 slots each, 10 visitors in the same instant."""
    settings.save_settings({"max_chats_per_agent": 8})
    team = [new_agent("Ana"), new_agent("Ben")]
    for principal in team:
        Socket(principal)
    told = _rush([Socket(new_visitor(f"V{n}")) for n in range(10)])
    assert [c["status"] for c in told] == ["active"] * 10
    held = _check_books([p.id for p in team], 8)
    assert sorted(held.values()) == [5, 5]  # least busy first keeps the two level


def _fill_one_slot() -> tuple[Socket, Socket, dict[str, Any], dict[str, Any]]:
    """An agent with one slot, taken, and one visitor waiting behind it."""
    settings.save_settings({"max_chats_per_agent": 1})
    agent = Socket(new_agent("Ana"))
    first_visitor = Socket(new_visitor("first"))
    first = start_chat(first_visitor)
    waiting = start_chat(Socket(new_visitor("waiting")))
    assert (first["status"], waiting["status"]) == ("active", "queued")
    return agent, first_visitor, first, waiting


def test_a_chat_closing_hands_its_slot_to_the_oldest_waiting_chat_at_once(aws):
    agent, _visitor, first, waiting = _fill_one_slot()
    agent.send({"action": "close", "chat_id": first["chat_id"]})
    assert Chat.get(waiting["chat_id"]).status == "active"


def test_an_agent_connecting_takes_the_waiting_chats_at_once(aws):
    agent, _visitor, _first, waiting = _fill_one_slot()
    newcomer = Socket(new_agent("Ben"))  # accepting, and now connected
    welcome = next(f for f in newcomer.send({"action": "hello"}) if f["type"] == "welcome")
    mine = [c for c in welcome["chats"] if c["assignee_id"] == newcomer.principal.id]
    assert [c["chat_id"] for c in mine] == [waiting["chat_id"]]
    assert agent.principal.id not in (Chat.get(waiting["chat_id"]).agent_ids or ())
