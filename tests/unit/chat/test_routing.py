"""Routing: least busy first, round-robin on ties, capacity, the FIFO queue, one winner per race."""

from __future__ import annotations

import threading

from functions.chat import routing
from functions.core import settings
from functions.core.errors import CharlaError
from functions.models import Agent, Chat
from tests.support.actors import Socket, drain_notices, new_agent, new_visitor, start_chat


def _start(name: str = "V") -> tuple[Socket, dict]:
    socket = Socket(new_visitor(name))
    return socket, start_chat(socket)


def test_with_nobody_accepting_the_visitor_is_told_the_team_is_away(aws):
    Socket(new_agent(accepting=False))
    visitor = Socket(new_visitor())
    frames = visitor.send({"action": "start_chat"})
    assert [(f["type"], f["code"]) for f in frames] == [("error", "offline")]
    assert routing.queued() == []


def test_an_accepting_agent_without_a_connection_gets_no_chats(aws):
    new_agent(accepting=True)  # accepting, but never connected
    visitor = Socket(new_visitor())
    assert [f.get("code") for f in visitor.send({"action": "start_chat"})] == ["offline"]


def test_the_least_busy_agent_gets_the_next_chat_and_ties_go_round_robin(aws):
    ana, ben = new_agent("Ana"), new_agent("Ben")
    Socket(ana), Socket(ben)
    owners = [Chat.get(_start(f"v{i}")[1]["chat_id"]).assignee_id for i in range(4)]
    # Both start at 0: whoever waited longest first, then alternate as loads stay level.
    assert sorted(owners[:2]) == sorted([ana.id, ben.id])
    assert owners[2] == owners[0] and owners[3] == owners[1]
    counts = {a.agent_id: a.active_count for a in (Agent.get(ana.id), Agent.get(ben.id))}
    assert counts == {ana.id: 2, ben.id: 2}


def test_when_every_agent_is_full_visitors_queue_in_order_and_see_their_position(aws):
    settings.save_settings({"max_chats_per_agent": 1})
    agent = new_agent("Ana")
    agent_socket = Socket(agent)
    _first, chat1 = _start("first")
    second, chat2 = _start("second")
    third, chat3 = _start("third")
    assert (chat1["status"], chat2["status"], chat3["status"]) == ("active", "queued", "queued")
    assert [q["position"] for q in second.of_type("queue")][-1] == 1
    assert [q["position"] for q in third.of_type("queue")][-1] == 2
    assert [c.chat_id for c in routing.queued()] == [chat2["chat_id"], chat3["chat_id"]]
    # Freeing the slot assigns the oldest waiting chat, and the next visitor moves up.
    third.clear()
    agent_socket.send({"action": "close", "chat_id": chat1["chat_id"]})
    assert Chat.get(chat2["chat_id"]).assignee_id == agent.id
    assert Chat.get(chat3["chat_id"]).status == "queued"
    assert [q["position"] for q in third.of_type("queue")] == [1]


def test_an_agent_who_starts_accepting_takes_the_oldest_waiting_chat(aws):
    settings.save_settings({"max_chats_per_agent": 1})
    busy = new_agent("Busy")
    Socket(busy)
    _start("first")
    _v, waiting = _start("waiting")
    late = new_agent("Late", accepting=False)
    late_socket = Socket(late)
    late_socket.send({"action": "set_status", "accepting": True})
    assert Chat.get(waiting["chat_id"]).assignee_id == late.id
    assert Agent.get(late.id).accepting is True


def test_status_persists_across_connections(aws):
    agent = new_agent(accepting=True)
    socket = Socket(agent)
    socket.send({"action": "set_status", "accepting": False})
    socket.close()
    again = Socket(agent)
    welcome = again.send({"action": "hello"})[0]
    assert welcome["me"]["accepting"] is False


def test_an_accept_race_has_exactly_one_winner(aws):
    settings.save_settings({"max_chats_per_agent": 1})
    Socket(new_agent("Full"))
    _start("first")
    _v, waiting = _start("waiting")
    rivals = [new_agent(f"R{i}", accepting=False) for i in range(5)]
    outcomes: list[str] = []
    barrier = threading.Barrier(len(rivals))

    def accept(principal):
        barrier.wait()
        try:
            routing.accept(principal, waiting["chat_id"])
            outcomes.append("won")
        except CharlaError as error:
            outcomes.append(error.code)

    threads = [threading.Thread(target=accept, args=(r,)) for r in rivals]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["already_taken"] * 4 + ["won"]
    chat = Chat.get(waiting["chat_id"])
    assert len(chat.agent_ids) == 1
    assert sum(Agent.get(r.id).active_count for r in rivals) == 1


def test_a_losing_accept_over_websocket_gets_already_taken(aws):
    settings.save_settings({"max_chats_per_agent": 1})
    Socket(new_agent("Full"))
    _start("first")
    _v, waiting = _start("waiting")
    a, b = Socket(new_agent("A", accepting=False)), Socket(new_agent("B", accepting=False))
    a.send({"action": "accept", "chat_id": waiting["chat_id"]})
    frames = b.send({"action": "accept", "chat_id": waiting["chat_id"]})
    assert [f["code"] for f in frames if f["type"] == "error"] == ["already_taken"]
    assert Chat.get(waiting["chat_id"]).agent_ids == {a.principal.id}


def _queue_of(n: int) -> list[tuple[Socket, dict]]:
    """An agent with one slot, taken, and `n` visitors waiting behind it."""
    settings.save_settings({"max_chats_per_agent": 1})
    agent = Socket(new_agent("Ana"))
    first = _start("first")
    waiting = [_start(f"w{i}") for i in range(n)]
    assert {chat["status"] for _socket, chat in waiting} == {"queued"}
    return [(agent, first[1])] + waiting


def test_a_queued_visitors_hello_tells_the_caller_alone_its_position(aws):
    (_agent, _first), *waiting = _queue_of(12)
    caller, chat = waiting[4]
    for socket, _chat in waiting:
        socket.clear()
    for _ in range(10):
        frames = caller.send({"action": "hello"})
        assert [(f["type"], f.get("position")) for f in frames] == [("welcome", None), ("queue", 5)]
        assert frames[1]["chat_id"] == chat["chat_id"]
    assert [s.frames() for s, _ in waiting if s is not caller] == [[]] * 11


def test_when_the_queue_moves_its_head_hears_at_most_every_few_seconds_and_the_sweep_tells_all(aws):
    from datetime import UTC, datetime

    import time_machine

    from functions.chat import chats, sweeps

    (agent, first), *waiting = _queue_of(chats.QUEUE_NOTICE_HEAD + 4)
    with time_machine.travel(datetime(2026, 11, 22, 12, 0, 0, tzinfo=UTC), tick=False):
        for socket, _chat in waiting:
            socket.clear()
        agent.send({"action": "close", "chat_id": first["chat_id"]})  # the head is assigned; all move up
        heard = [[q["position"] for q in s.of_type("queue")] for s, _ in waiting[1:]]
        head = chats.QUEUE_NOTICE_HEAD
        assert heard == [[n] for n in range(1, head + 1)] + [[]] * 3
        # A visitor leaving the queue moments later moves the others again, but posts nothing more.
        for socket, _chat in waiting:
            socket.clear()
        leaver, left = waiting[1]
        leaver.send({"action": "close", "chat_id": left["chat_id"]})
        assert [s.frames() for s, _ in waiting[2:]] == [[]] * (len(waiting) - 2)
    with time_machine.travel(datetime(2026, 11, 22, 12, 1, 0, tzinfo=UTC), tick=False):
        sweeps.waiting_chats()
        assert [[q["position"] for q in s.of_type("queue")] for s, _ in waiting[2:]] == [
            [n] for n in range(1, len(waiting) - 1)
        ]


def test_a_queued_chats_card_carries_its_first_message_and_page_to_every_agent(aws):
    settings.save_settings({"max_chats_per_agent": 1})
    ana = Socket(new_agent("Ana"))
    _start("first")
    idle = Socket(new_agent("Idle", accepting=False))
    waiting = Socket(new_visitor("Wes"))
    context = {"url": "https://shop.example/shipping", "title": "Shipping"}
    chat = start_chat(waiting, context=context)
    assert chat["status"] == "queued" and chat["first_message"] is None
    assert chat["page"] == {"url": "https://shop.example/shipping", "title": "Shipping"}
    ana.clear()
    idle.clear()
    for n, text in enumerate(["Do you ship to Chile?", "And to Peru?"]):
        waiting.send({"action": "send", "chat_id": chat["chat_id"], "client_msg_id": f"m{n}", "text": text})
    # Agents outside a queued chat get no messages of it, so its card is updated once, by the first,
    # among the team-wide notices (functions/realtime/agent_notices.py).
    drain_notices()
    for agent in (ana, idle):
        cards = [f["chat"] for f in agent.notified("chat") if f["chat"]["chat_id"] == chat["chat_id"]]
        assert [c["first_message"] for c in cards] == ["Do you ship to Chile?"]
        assert agent.of_type("message") == []
