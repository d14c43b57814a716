"""The wait a queued visitor is told (`eta_s`) follows how fast the queue really moves.

A scripted rush, on a controlled clock: two agents with one slot each, every chat handled for
exactly HANDLED_S and then closed by its agent (the real close, which frees the slot and routes the
queue's head). Every `queue` frame a visitor is told must be within FACTOR of the wait that then
really followed, from the moment it was told.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine

from functions.chat import queue_eta
from functions.core import clock, settings
from functions.models import Agent, Chat
from tests.support.actors import Socket, new_agent, new_visitor, start_chat

HANDLED_S = 90
FACTOR = 1.5
T0 = datetime(2026, 11, 23, 9, 0, 0, tzinfo=UTC)


def at(seconds: float) -> time_machine.travel:
    return time_machine.travel(T0 + timedelta(seconds=seconds), tick=False)


def test_in_a_rush_every_wait_told_is_within_a_factor_of_the_real_wait(aws):
    settings.save_settings({"max_chats_per_agent": 1})
    told: dict[str, list[tuple[datetime, int, int]]] = {}  # chat id -> (when, position, eta_s)
    visitors: dict[str, Socket] = {}

    def hear() -> None:
        for chat_id, socket in visitors.items():
            for frame in socket.of_type("queue"):
                told.setdefault(chat_id, []).append((clock.now(), frame["position"], frame["eta_s"]))
            socket.clear()

    def arrive(n: int) -> str:
        socket = Socket(new_visitor(f"v{n}"))
        chat_id = start_chat(socket)["chat_id"]
        visitors[chat_id] = socket
        return chat_id

    with at(0):
        ana, ben = Socket(new_agent("Ana")), Socket(new_agent("Ben"))
        arrive(0)  # Ana's, assigned at once
    with at(45):
        arrive(1)  # Ben's: the two slots now turn over 45 s apart
    rush = []
    for n in range(2, 10):
        with at(46 + n / 100):
            rush.append(arrive(n))
            hear()
    # Nothing measured yet: each place is worth the default over the two slots.
    assert [told[c][0][1:] for c in rush[:3]] == [(1, 60), (2, 120), (3, 180)]
    late = None
    for step in range(1, 10):
        moment = 45 + step * HANDLED_S / 2  # Ana at 90, 180, ...; Ben at 135, 225, ...
        agent = ana if step % 2 else ben
        with at(moment):
            (chat_id,) = Agent.get(agent.principal.id).chat_ids
            agent.send({"action": "close", "chat_id": chat_id})
            hear()
            if step == 3:
                late = arrive(10)  # joins a queue whose pace is now measured
                hear()
    assert late is not None and told[late][0][1] == 6
    chats = {chat_id: Chat.get(chat_id) for chat_id in told}
    assert all(chat.assigned_at for chat in chats.values())  # the script ran every chat through
    for chat_id, frames in told.items():
        assigned = clock.parse(chats[chat_id].assigned_at)
        for when, position, eta in frames:
            waited = (assigned - when).total_seconds()
            assert waited / FACTOR <= eta <= waited * FACTOR, (chat_id, position, eta, waited)
    # The pace learned is the handling time of one chat in one slot.
    assert abs(queue_eta.seconds_per_place() * 2 - HANDLED_S) <= 2


def test_the_wait_told_is_shared_among_the_agents_accepting_now(aws):
    settings.save_settings({"max_chats_per_agent": 1})
    ana, ben = Socket(new_agent("Ana")), Socket(new_agent("Ben"))
    start_chat(Socket(new_visitor()))
    start_chat(Socket(new_visitor()))
    waiting = [Socket(new_visitor()) for _ in range(3)]
    for socket in waiting:
        start_chat(socket)
    last = waiting[-1]

    def told() -> list[tuple[int, int]]:
        return [(q["position"], q["eta_s"]) for q in last.send({"action": "hello"}) if q["type"] == "queue"]

    # Nothing measured yet: the default per chat and slot, over the two agents' slots.
    assert told() == [(3, 3 * queue_eta.DEFAULT_SLOT_S / 2)]
    ben.send({"action": "set_status", "accepting": False})
    assert told() == [(3, 3 * queue_eta.DEFAULT_SLOT_S)]
    # Nobody accepting: the queue moves when one agent comes back, so the estimate is for one.
    ana.send({"action": "set_status", "accepting": False})
    assert told() == [(3, 3 * queue_eta.DEFAULT_SLOT_S)]


def test_a_queue_that_waited_for_an_agent_to_come_back_does_not_make_the_team_look_slow(aws):
    settings.save_settings({"max_chats_per_agent": 1})
    with at(0):
        ana = Socket(new_agent("Ana"))
        start_chat(Socket(new_visitor()))
        waiting = [Socket(new_visitor()) for _ in range(3)]
    for n, socket in enumerate(waiting):
        with at(1 + n):
            start_chat(socket)
    with at(2):
        ana.send({"action": "set_status", "accepting": False})  # off to lunch
    with at(3600):
        ana.send({"action": "close", "chat_id": next(iter(Agent.get(ana.principal.id).chat_ids))})
    with at(3700):
        ana.send({"action": "set_status", "accepting": True})  # back: takes the head at once
    with at(3790):
        ana.send({"action": "close", "chat_id": next(iter(Agent.get(ana.principal.id).chat_ids))})
        # Only the 90 s of that chat are learned, not the hour nobody was taking chats.
        assert queue_eta.seconds_per_place() == 90
        frames = [q for q in waiting[-1].send({"action": "hello"}) if q["type"] == "queue"]
        assert [(q["position"], q["eta_s"]) for q in frames] == [(1, 90)]
