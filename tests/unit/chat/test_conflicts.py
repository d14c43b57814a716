"""DynamoDB's transaction conflicts, which moto never raises, injected by the fault mode (infra/local/faults.py).

A single write to an item an in-flight transaction holds fails with `TransactionConflictException`, and a
contended transaction is cancelled with `TransactionConflict`; botocore retries neither. Each test injects
one and checks what a visitor or an agent notices: the action happens after a retry, or, when the
conflict outlasts the retries, the client gets a `retry` error frame and nothing is half-written.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from functions.models import Agent, Chat
from tests.support.actors import Socket, a_chat, new_agent, new_visitor

CHATS = Chat.Meta.table_name
AGENTS = Agent.Meta.table_name


def _chat(faults):
    """The chat, in fault mode."""
    return a_chat()


def _errors(frames):
    return [f for f in frames if f["type"] == "error"]


def test_a_visitors_second_tab_gets_live_messages_when_joining_the_chat_conflicts(faults):
    visitor, agent, chat_id = _chat(faults)
    faults.once("ddb_conflict", operation="UpdateItem", table=CHATS)

    second_tab = Socket(visitor.principal)

    assert second_tab.status == 200
    agent.send({"action": "send", "chat_id": chat_id, "client_msg_id": "r1", "text": "Hello both tabs"})
    assert [f["message"]["text"] for f in second_tab.of_type("message")] == ["Hello both tabs"]
    assert faults.injected["ddb_conflict"] == 1


def test_a_tab_whose_join_keeps_conflicting_is_refused_and_joins_when_it_reconnects(faults):
    visitor, agent, chat_id = _chat(faults)
    faults.once("ddb_conflict", operation="UpdateItem", table=CHATS, times=50)

    refused = Socket(visitor.principal)

    assert refused.status == 503  # not an open socket that would never hear the chat
    faults.clear()
    again = Socket(visitor.principal)
    assert again.status == 200
    agent.send({"action": "send", "chat_id": chat_id, "client_msg_id": "r1", "text": "Hi"})
    assert [f["message"]["text"] for f in again.of_type("message")] == ["Hi"]
    assert refused.connection_id not in (Chat.get(chat_id).visitor_conns or set())


def test_closing_a_chat_whose_write_conflicts_closes_it(faults):
    visitor, agent, chat_id = _chat(faults)
    faults.once("ddb_conflict", operation="UpdateItem", table=CHATS)

    visitor.send({"action": "close", "chat_id": chat_id})

    assert Chat.get(chat_id).status == "closed"
    assert [f["chat"]["status"] for f in agent.of_type("chat")][-1:] == ["closed"]
    assert Agent.get(agent.principal.id).active_count == 0


def test_a_close_that_keeps_conflicting_answers_retry_and_leaves_the_chat_whole(faults):
    visitor, agent, chat_id = _chat(faults)
    faults.once("ddb_conflict", operation="UpdateItem", table=CHATS, times=50)

    frames = visitor.send({"action": "close", "chat_id": chat_id})

    [error] = _errors(frames)
    assert (error["code"], error["retriable"], error["action"], error["chat_id"]) == ("retry", True, "close", chat_id)
    assert Chat.get(chat_id).status == "active"
    assert Agent.get(agent.principal.id).active_count == 1
    faults.clear()
    visitor.send({"action": "close", "chat_id": chat_id})
    assert Chat.get(chat_id).status == "closed"


def test_an_agent_whose_last_socket_closes_during_a_conflict_gets_no_more_chats(faults):
    agent = Socket(new_agent("Ana"))
    faults.once("ddb_conflict", operation="UpdateItem", table=AGENTS)

    agent.close()

    visitor = Socket(new_visitor("Vera"))
    frames = visitor.send({"action": "start_chat"})
    assert [(f["type"], f.get("code")) for f in frames if f["type"] == "error"] == [("error", "offline")]
    assert Agent.get(agent.principal.id).routable_pk is None


def test_a_chat_start_whose_assignment_conflicts_on_the_chat_is_assigned(faults):
    agent = Socket(new_agent("Ana"))
    visitor = Socket(new_visitor("Vera"))
    faults.once("ddb_conflict", operation="TransactWriteItems", item=0)  # [chat, agent]: the chat item

    frames = visitor.send({"action": "start_chat"})

    assert not _errors(frames)
    [chat] = [f["chat"] for f in frames if f["type"] == "chat"]
    assert chat["status"] == "active"
    assert Chat.get(chat["chat_id"]).assignee_id == agent.principal.id
    assert Agent.get(agent.principal.id).active_count == 1
    assert faults.injected["ddb_conflict"] == 1


def test_a_chat_start_whose_assignment_keeps_conflicting_answers_retry_and_stays_queued(faults):
    agent = Socket(new_agent("Ana"))
    visitor = Socket(new_visitor("Vera"))
    faults.once("ddb_conflict", operation="TransactWriteItems", item=0, times=50)

    frames = visitor.send({"action": "start_chat"})

    [error] = _errors(frames)
    assert (error["code"], error["retriable"]) == ("retry", True)
    faults.clear()
    [chat] = [f["chat"] for f in visitor.send({"action": "start_chat"}) if f["type"] == "chat"]
    assert Agent.get(agent.principal.id).active_count == (1 if chat["status"] == "active" else 0)


# --- a property, with faults on ------------------------------------------------------------------

RATES = {"ddb_conflict": 0.1, "ddb_throttle": 0.05, "post_429": 0.05, "post_500": 0.05}
RETRIES = 12  # what a client does with `retry`: the same thing again


def _until_done(socket: Socket, frame: dict) -> list[dict]:
    """Sends a frame again while the answer is a retriable error, as the widget and console do."""
    for _ in range(RETRIES):
        frames = socket.send(frame)
        errors = _errors(frames)
        if not errors or not all(e["retriable"] for e in errors):
            return frames
    raise AssertionError(f"still `retry` after {RETRIES} attempts: {frame}")


def _open(principal) -> Socket:
    for _ in range(RETRIES):
        socket = Socket(principal)
        if socket.status == 200:
            return socket
        assert socket.status == 503, socket.status  # refused while contended: the client reconnects
    raise AssertionError("never connected")


@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    seed=st.integers(0, 2**32 - 1),
    steps=st.lists(st.sampled_from(["tab", "close_tab", "send", "reply", "agent_tab", "agent_leaves"]), max_size=10),
)
def test_with_faults_on_what_was_answered_happened_and_nothing_is_left_half_done(faults, seed, steps):
    from infra.local.faults import paused

    with paused():
        agent_principal, visitor_principal = new_agent("Ana"), new_visitor("Vera")
    faults.rates.update(RATES)
    faults._random.seed(seed)
    agent_tabs = [_open(agent_principal)]
    tabs = [_open(visitor_principal)]
    [chat] = [f["chat"] for f in _until_done(tabs[0], {"action": "start_chat"}) if f["type"] == "chat"]
    chat_id = chat["chat_id"]
    acked: dict[str, int] = {}
    for n, step in enumerate(steps):
        if step == "tab":
            tabs.append(_open(visitor_principal))
        elif step == "close_tab" and len(tabs) > 1:
            tabs.pop(0).close()
        elif step in ("send", "reply"):
            socket = tabs[-1] if step == "send" else agent_tabs[-1]
            frames = _until_done(socket, {"action": "send", "chat_id": chat_id, "client_msg_id": f"m{n}", "text": "hi"})
            [ack] = [f for f in frames if f["type"] == "ack"]
            acked[f"m{n}"] = ack["seq"]
        elif step == "agent_tab":
            agent_tabs.append(_open(agent_principal))
        elif step == "agent_leaves" and len(agent_tabs) > 1:
            agent_tabs.pop(0).close()
        with paused():
            stored = Chat.get(chat_id, consistent_read=True)
            # Every open tab is in the chat's fan-out lists: it hears the chat's live messages.
            assert {t.connection_id for t in tabs} <= set(stored.visitor_conns or ())
            if stored.status == "active":
                assert {t.connection_id for t in agent_tabs} <= set(stored.agent_conns or ())

    _until_done(tabs[-1], {"action": "close", "chat_id": chat_id})
    for socket in [*tabs, *agent_tabs]:
        socket.close()

    with paused():
        from functions.models import Message

        stored_keys = [m.client_msg_id for m in Message.query(chat_id, consistent_read=True) if m.client_msg_id]
        assert sorted(stored_keys) == sorted(acked)  # every acknowledged message, once
        assert Chat.get(chat_id, consistent_read=True).status == "closed"  # a close that was answered happened
        agent = Agent.get(agent_principal.id, consistent_read=True)
        assert (agent.active_count, agent.online_conns, agent.routable_pk) == (0, 0, None)
