"""The every-minute sweep, driven with controlled time: each part changes exactly what is due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine

import app as charla
from functions.chat import routing
from functions.core import aws as charla_aws
from functions.core import settings, sweep_gate
from functions.core.instance_cache import as_instance
from functions.core.principals import Principal
from functions.models import Agent, Chat, Message, Ticket
from functions.realtime import connections
from functions.visitors import identity
from infra.local.events import scheduled_event
from tests.support import desk
from tests.support.actors import Socket, drain_notices, new_agent, new_visitor, start_chat

SCHEDULED_EVENT = scheduled_event("charla-dev-sweep", "us-east-1")  # as EventBridge sends it


def sweep(after: timedelta = timedelta(0)) -> dict[str, int]:
    with time_machine.travel(after):
        return charla.sweep(SCHEDULED_EVENT, None)


def test_connections_silent_past_the_idle_limit_are_removed_with_their_presence(aws):
    agent = new_agent()
    with time_machine.travel(timedelta(minutes=-20)):
        Socket(agent)
    fresh = Socket(agent)
    assert sweep()["stale_connections"] == 1
    assert connections.live_connection_ids() == [fresh.connection_id]
    assert Agent.get(agent.id).online_conns == 1


def test_a_ping_keeps_a_quiet_connection_alive(aws):
    agent = new_agent()
    with time_machine.travel(timedelta(minutes=-20)):
        socket = Socket(agent)
    socket.send({"action": "ping"})
    assert sweep()["stale_connections"] == 0


def test_an_unanswered_chat_moves_to_another_agent_and_the_conversation_carries_on(aws):
    ana = Socket(new_agent("Ana"))
    visitor = Socket(new_visitor("Vera"))
    chat_id = start_chat(visitor)["chat_id"]
    visitor.send({"action": "send", "chat_id": chat_id, "client_msg_id": "m1", "text": "hello?"})
    ben = Socket(new_agent("Ben"))
    assert sweep(timedelta(seconds=60))["unanswered_chats"] == 0  # not yet due
    ana.clear()
    visitor.clear()
    assert sweep(timedelta(seconds=121))["unanswered_chats"] == 1
    chat = Chat.get(chat_id)
    assert (chat.assignee_id, chat.agent_ids) == (ben.principal.id, {ben.principal.id})
    # The first agent is told, and the transcript carries on in the same chat.
    assert ana.of_type("chat")[-1]["chat"]["assignee_id"] == ben.principal.id
    note = "Ana did not answer within 120 s and no longer gets new chats; Ben takes over."
    assert [(m.text, m.audience) for m in Message.query(chat_id)] == [("hello?", None), (note, "agents")]
    # The visitor hears only who they now talk to; the routing line reaches them as a bare seq.
    assert [a["name"] for a in visitor.of_type("chat")[-1]["chat"]["agents"]] == ["Ben"]
    assert "did not answer" not in str(visitor.frames())
    assert [f["message"]["kind"] for f in visitor.of_type("message")] == ["hidden"]
    visitor.send({"action": "send", "chat_id": chat_id, "client_msg_id": "m2", "text": "still here"})
    assert [m.seq for m in Message.query(chat_id)] == [1, 2, 3]


def test_an_agent_who_misses_a_chat_is_switched_to_not_accepting_and_told_why(aws):
    ana = Socket(new_agent("Ana"))
    chat_id = start_chat(Socket(new_visitor("Vera")))["chat_id"]
    Socket(new_agent("Ben"))
    ana.clear()
    sweep(timedelta(seconds=121))
    assert ana.of_type("status") == [
        {"type": "status", "accepting": False, "online": True, "reason": "missed_chat", "chat_id": chat_id}
    ]
    stored = Agent.get(ana.principal.id)
    assert (stored.accepting, stored.routable_pk) == (False, None)
    # So the next visitor goes to someone who is there.
    assert Chat.get(start_chat(Socket(new_visitor("Next")))["chat_id"]).assignee_id != ana.principal.id


def test_with_nobody_else_free_the_agent_who_missed_keeps_the_chat_and_stops_getting_new_ones(aws):
    ana = Socket(new_agent("Ana"))
    visitor = Socket(new_visitor())
    chat_id = start_chat(visitor)["chat_id"]
    visitor.clear()
    assert sweep(timedelta(seconds=121))["unanswered_chats"] == 0
    assert Chat.get(chat_id).assignee_id == ana.principal.id
    assert Agent.get(ana.principal.id).accepting is False
    lines = [(m.text, m.audience) for m in Message.query(chat_id)]
    assert lines == [("Ana did not answer within 120 s and no longer gets new chats.", "agents")]
    assert "did not answer" not in str(visitor.frames())
    sweep(timedelta(seconds=200))  # still unanswered: nothing more is said
    assert len(list(Message.query(chat_id))) == 1


def test_an_answered_chat_stays_with_its_agent(aws):
    ana = Socket(new_agent("Ana"))
    visitor = Socket(new_visitor())
    chat_id = start_chat(visitor)["chat_id"]
    ana.send({"action": "send", "chat_id": chat_id, "client_msg_id": "r", "text": "Hi!"})
    Socket(new_agent("Ben"))
    assert sweep(timedelta(minutes=5))["unanswered_chats"] == 0
    assert Chat.get(chat_id).assignee_id == ana.principal.id


def test_with_nobody_else_free_an_unanswered_chat_stays_put(aws):
    ana = Socket(new_agent("Ana"))
    chat_id = start_chat(Socket(new_visitor()))["chat_id"]
    assert sweep(timedelta(minutes=5))["unanswered_chats"] == 0
    assert Chat.get(chat_id).assignee_id == ana.principal.id


def test_a_long_wait_in_the_queue_offers_the_offline_form_once(aws):
    settings.save_settings({"max_chats_per_agent": 1})
    Socket(new_agent())
    start_chat(Socket(new_visitor()))
    waiting = Socket(new_visitor())
    chat_id = start_chat(waiting)["chat_id"]
    assert sweep(timedelta(minutes=4))["long_waits"] == 0
    waiting.clear()
    assert sweep(timedelta(minutes=6))["long_waits"] == 1
    assert waiting.of_type("offer_offline") == [{"type": "offer_offline", "chat_id": chat_id, "waited_min": 5}]
    assert sweep(timedelta(minutes=7))["long_waits"] == 0
    assert Chat.get(chat_id).status == "queued"  # the visitor may still choose to wait


def test_an_idle_chat_closes_with_a_note_to_both_sides(aws):
    ana = Socket(new_agent("Ana"))
    visitor = Socket(new_visitor())
    chat_id = start_chat(visitor)["chat_id"]
    ana.send({"action": "send", "chat_id": chat_id, "client_msg_id": "r", "text": "Anything else?"})
    with time_machine.travel(timedelta(minutes=25)):  # both pages still open: their sockets ping
        ana.send({"action": "ping"})
        visitor.send({"action": "ping"})
    assert sweep(timedelta(minutes=29))["idle_chats"] == 0
    visitor.clear()
    ana.clear()
    assert sweep(timedelta(minutes=31))["idle_chats"] == 1
    note = "The chat closed after 30 minutes without messages."
    assert [f["message"]["text"] for f in visitor.of_type("message")] == [note]
    assert [f["message"]["text"] for f in ana.of_type("message")] == [note]
    assert Chat.get(chat_id).status == "closed"
    assert Agent.get(ana.principal.id).active_count == 0


def test_the_sweep_reads_only_due_chats_however_long_the_history(aws):
    agent = Socket(new_agent("Ana"))
    for _ in range(30):
        visitor = Socket(new_visitor())
        chat_id = start_chat(visitor)["chat_id"]
        visitor.send({"action": "close", "chat_id": chat_id})
        visitor.close()
    agent.close()
    reads: list[int] = []

    def count(**kwargs):
        reads.append(kwargs["parsed"].get("Count", 0))

    from functions.core import aws as charla_aws

    events = charla_aws.dynamodb_connection().client.meta.events
    events.register("after-call.dynamodb.Query", count)
    try:
        sweep(timedelta(hours=2))
    finally:
        events.unregister("after-call.dynamodb.Query", count)
    # Thirty closed chats in history, none due: the sweep's queries return nothing at all.
    assert sum(reads) == 0


def test_chats_already_offered_the_form_are_not_read_again(aws):
    settings.save_settings({"max_chats_per_agent": 1})
    agent = Socket(new_agent())
    first = start_chat(Socket(new_visitor()))["chat_id"]
    # Answered, so the agent is not stopped for a missed chat and the team stays available.
    agent.send({"action": "send", "chat_id": first, "client_msg_id": "hi", "text": "Hello!"})
    for _ in range(3):
        start_chat(Socket(new_visitor()))
    assert sweep(timedelta(minutes=6))["long_waits"] == 3
    late = Socket(new_visitor())
    with time_machine.travel(timedelta(minutes=6)):
        late_chat = start_chat(late)["chat_id"]
    late.clear()
    # Only the newly due chat is offered; the three already offered are no longer in the index.
    assert sweep(timedelta(minutes=12))["long_waits"] == 1
    assert [f["chat_id"] for f in late.of_type("offer_offline")] == [late_chat]


def test_the_sweep_assigns_a_waiting_chat_when_a_slot_is_free(aws):
    settings.save_settings({"max_chats_per_agent": 1})
    ana = Socket(new_agent("Ana"))
    first = start_chat(Socket(new_visitor()))
    waiting = start_chat(Socket(new_visitor()))
    # A slot frees without any event that drains the queue (an admin raised the limit).
    settings.save_settings({"max_chats_per_agent": 2})
    assert sweep()["queue_assigned"] == 1
    assert Chat.get(waiting["chat_id"]).assignee_id == ana.principal.id
    assert first["status"] == "active"


def test_leaving_a_message_from_the_offer_takes_the_chat_out_of_the_queue(aws, api):
    settings.save_settings({"max_chats_per_agent": 1})
    ana = Socket(new_agent("Ana"))
    first = start_chat(Socket(new_visitor()))["chat_id"]
    # Answered, so the agent is not stopped for a missed chat and the team stays available.
    ana.send({"action": "send", "chat_id": first, "client_msg_id": "hi", "text": "Hello!"})
    minted = identity.create_identity()
    leaving = Socket(Principal("visitor", minted["visitor_id"]))
    chat_id = start_chat(leaving)["chat_id"]
    leaving.send({"action": "send", "chat_id": chat_id, "client_msg_id": "q", "text": "Do you ship to Chile?"})
    staying = Socket(new_visitor())
    waiting_id = start_chat(staying)["chat_id"]
    assert [f["position"] for f in staying.of_type("queue")] == [2]
    assert sweep(timedelta(minutes=6))["long_waits"] == 2
    fields = {"name": "Lena", "email": "lena@example.com", "message": "Do you ship to Chile?"}
    rest, headers = desk.Rest(api), desk.visitor_headers(minted)
    assert rest.call("POST", "/visitor/offline", {"fields": fields, "chat_id": 7}, headers)[0] == 400
    assert rest.call("POST", "/visitor/offline", {"fields": fields, "chat_id": waiting_id}, headers)[0] == 404
    assert Chat.get(chat_id).status == "queued"  # a refused form changes nothing
    drain_notices()
    for socket in (ana, leaving, staying):
        socket.clear()

    with time_machine.travel(timedelta(minutes=7)):
        status, ticket = rest.call("POST", "/visitor/offline", {"fields": fields, "chat_id": chat_id}, headers)
        assert status == 201
        drain_notices()

    # The chat ended as if the visitor had left the queue, and keeps the link to their ticket.
    assert [f["chat"]["status"] for f in leaving.of_type("chat")] == ["closed"]
    assert [f["message"]["text"] for f in leaving.of_type("message")] == [
        "The visitor left a message instead of waiting."
    ]
    assert Chat.get(chat_id).ticket_id == ticket["ticket_id"]
    assert Ticket.get(ticket["ticket_id"]).chat_id == chat_id
    # Its place is free: the visitor behind moves up, and every console's queue drops it.
    assert [f["position"] for f in staying.of_type("queue")] == [1]
    assert [c.chat_id for c in routing.queued()] == [waiting_id]
    assert [(c["chat"]["chat_id"], c["chat"]["status"]) for c in ana.notified("chat")] == [(chat_id, "closed")]
    # When a slot frees, the visitor who kept waiting gets it; the one who left never does.
    ana.send({"action": "close", "chat_id": first})
    assert Chat.get(waiting_id).assignee_id == ana.principal.id
    assert Chat.get(chat_id).status == "closed" and Chat.get(chat_id).agent_ids is None


def test_a_message_left_after_an_agent_took_the_chat_leaves_the_chat_with_them(aws, api):
    ana = Socket(new_agent("Ana"))
    minted = identity.create_identity()
    visitor = Socket(Principal("visitor", minted["visitor_id"]))
    chat_id = start_chat(visitor)["chat_id"]  # Ana took it while the visitor was still filling in the form
    fields = {"name": "Lena", "email": "lena@example.com", "message": "Do you ship to Chile?"}
    status, ticket = desk.Rest(api).call(
        "POST", "/visitor/offline", {"fields": fields, "chat_id": chat_id}, desk.visitor_headers(minted)
    )
    assert status == 201 and Ticket.get(ticket["ticket_id"]).chat_id == chat_id
    chat = Chat.get(chat_id)
    assert (chat.status, chat.assignee_id, chat.ticket_id) == ("active", ana.principal.id, None)


# --- the gate: while nobody chats, one read a minute; never a chat or connection missed ------------------


def at(start: datetime, minutes: float) -> time_machine.travel:
    return time_machine.travel(start + timedelta(minutes=minutes), tick=False)


def run_sweep() -> dict[str, int]:
    return charla.sweep(SCHEDULED_EVENT, None)


def test_an_idle_installation_is_swept_with_one_eventually_consistent_read(aws):
    start = datetime.now(UTC)
    with at(start, 0):
        full = run_sweep()  # a new installation: the whole sweep, which finds nothing and records it
    calls: list[tuple[str, object]] = []

    def record(params: dict, model: object, **kwargs: object) -> None:
        calls.append((model.name, params.get("ConsistentRead")))  # type: ignore[attr-defined]

    events = charla_aws.dynamodb_connection().client.meta.events
    events.register("before-parameter-build.dynamodb", record)
    try:
        with at(start, 1):
            done = run_sweep()
    finally:
        events.unregister("before-parameter-build.dynamodb", record)
    assert [(name, bool(consistent)) for name, consistent in calls] == [("GetItem", False)]  # half a read unit
    assert done == dict.fromkeys(full, 0)  # the same answer, every part at 0


def test_a_chat_started_on_an_idle_installation_is_swept_in_time(aws):
    start = datetime.now(UTC)
    with at(start, 0):
        Socket(new_agent()).close()
    with at(start, 6):
        run_sweep()
    with at(start, 7):
        assert sweep_gate.read().idle
        assert set(run_sweep().values()) == {0}
    with at(start, 8):
        Socket(new_agent("Ana"))
        Socket(new_agent("Ben"))
        visitor = Socket(new_visitor())
        announced = sweep_gate.read().count
        with as_instance(object()):  # an instance that has announced nothing yet
            chat_id = start_chat(visitor)["chat_id"]
        assert sweep_gate.read().count == announced + 1  # the chat announces itself as well
        first = Chat.get(chat_id).assignee_id
    with at(start, 10.5):
        assert run_sweep()["unanswered_chats"] == 1  # nobody answered: the other agent takes it
    assert Chat.get(chat_id).assignee_id not in (None, first)


def test_a_connection_its_instance_did_not_announce_keeps_the_sweep_going(aws):
    """An instance announces work at most once a minute: the sweep must still find what it did not announce."""
    start = datetime.now(UTC)
    with at(start, 0):
        Socket(new_visitor()).close()
    with at(start, 0.5):
        Socket(new_visitor())  # silent from now on, and never closed
    assert sweep_gate.read().count == 1
    with at(start, 6):
        run_sweep()
        assert not sweep_gate.read().idle
    with at(start, 12):
        assert run_sweep()["stale_connections"] == 1
    with at(start, 18):
        run_sweep()
        assert sweep_gate.read().idle  # nothing left: idle again


def test_an_open_chat_without_any_connection_keeps_the_sweep_going(aws):
    start = datetime.now(UTC)
    with at(start, 0):
        ana = Socket(new_agent("Ana"))
        visitor = Socket(new_visitor())
        chat_id = start_chat(visitor)["chat_id"]
        visitor.close()  # the visitor left; the chat stays open for a while, in case they come back
        ana.close()
    with at(start, 6):
        run_sweep()
        assert not sweep_gate.read().idle
    with at(start, 11):
        assert run_sweep()["abandoned_chats"] == 1
    assert Chat.get(chat_id).status == "closed"
