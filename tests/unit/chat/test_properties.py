"""The chat core's promises, checked against random sequences of what people and networks do.

Hypothesis drives visitors and agents through the real WebSocket handlers: connecting, dropping
(a clean `$disconnect` or a socket API Gateway calls Gone), reconnecting and resuming, sending
(with resends of the same `client_msg_id` and duplicate Lambda invocations), several agents
accepting one chat, transfers and closes. After every step it checks what people rely on:

- every acknowledged message is stored exactly once, under the seq its ack named;
- each connection sees seqs strictly increasing, and after a resync a client has every message
  from 1 to the chat's last seq, with no gaps and no duplicates;
- a chat has at most one assignee, and the agents' own records agree with the chat's;
- the queue is FIFO: the queue index lists waiting chats in the order they started waiting.

Every example starts from empty tables (one moto account per test, truncated per example).
"""

from __future__ import annotations

import itertools
import json
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

import app as charla
from functions.chat import routing
from functions.core import settings
from functions.core.principals import Principal
from functions.models import ALL_MODELS, Agent, Chat, Message, Visitor
from functions.realtime import push
from functions.team import agents as charla_agents
from tests.conftest import ws_event
from tests.support.actors import Socket, new_visitor

MAX_AGENTS = 3
MAX_VISITORS = 5
MAX_LIVE_SOCKETS = 8
# What a client may be told when it acts on a chat that moved on meanwhile; never `retry`, since
# no fault is injected here and `retry` would have the client resend forever.
EXPECTED_REFUSALS = {"not_found", "conflict", "already_taken", "offline", "forbidden"}

_msg_ids = itertools.count(1)


# --- the world the machine runs in ------------------------------------------------------------


def _management_backend():
    from moto.apigatewaymanagementapi.models import apigatewaymanagementapi_backends

    return apigatewaymanagementapi_backends["123456789012"]["us-east-1"]


def _take_frames(connection_id: str) -> list[dict[str, Any]]:
    """Frames posted to a connection since the last call, decoded from moto's raw buffer."""
    connection = _management_backend().connections.get(quote(connection_id, safe=""))
    if connection is None or not connection.data:
        return []
    data, connection.data = connection.data.decode(), b""
    frames, decoder, index = [], json.JSONDecoder(), 0
    while index < len(data):
        frame, index = decoder.raw_decode(data, index)
        frames.append(frame)
    return frames


def _truncate_everything() -> None:
    """A fresh account per example, without paying for creating every table and index again."""
    for model in ALL_MODELS:
        with model.batch_write() as batch:
            for item in model.scan():
                batch.delete(item)
    settings.forget()
    _management_backend().connections.clear()


class Client:
    """One browser tab: its socket, and the transcript it shows for each chat it knows of."""

    def __init__(self, principal: Principal, shown: dict[str, dict[int, dict]] | None = None) -> None:
        self.principal = principal
        self.shown: dict[str, dict[int, dict]] = shown if shown is not None else {}
        self.last_live: dict[str, int] = {}  # per chat, the last seq this connection was sent
        self.socket = Socket(principal)
        assert self.socket.status == 200

    @property
    def connection_id(self) -> str:
        return self.socket.connection_id

    def __repr__(self) -> str:
        return f"<{self.principal.kind} {self.principal.id} on {self.connection_id}>"

    def absorb(self, frames: list[dict[str, Any]]) -> None:
        for frame in frames:
            kind = frame.get("type")
            if kind == "message":
                message = frame["message"]
                self._live(frame["chat_id"], message["seq"])
                self._show(frame["chat_id"], message)
            elif kind == "ack" and not frame["duplicate"]:
                self._live(frame["chat_id"], frame["seq"])
                self._show(frame["chat_id"], {"seq": frame["seq"], "client_msg_id": frame["client_msg_id"]})
            elif kind == "chat":
                self.shown.setdefault(frame["chat"]["chat_id"], {})
            elif kind == "welcome":
                for chat in frame["chats"]:
                    self.shown.setdefault(chat["chat_id"], {})

    def _live(self, chat_id: str, seq: int) -> None:
        # One connection is never sent a seq twice, nor an older one after a newer one.
        assert seq > self.last_live.get(chat_id, 0), (self, chat_id, seq, self.last_live)
        self.last_live[chat_id] = seq

    def _show(self, chat_id: str, message: dict) -> None:
        known = self.shown.setdefault(chat_id, {}).get(message["seq"])
        if known is not None:
            shared = set(known) & set(message)
            assert {k: known[k] for k in shared} == {k: message[k] for k in shared}, (known, message)
            message = {**known, **message}
        self.shown[chat_id][message["seq"]] = message

    def contiguous(self, chat_id: str) -> int:
        """The widget's and console's `lastSeq`: everything up to here is on screen."""
        seq = 0
        while seq + 1 in self.shown.get(chat_id, {}):
            seq += 1
        return seq


class ChatCore(RuleBasedStateMachine):
    gone: set[str] = set()  # connection ids API Gateway answers 410 Gone for (set by the test)

    def __init__(self) -> None:
        super().__init__()
        _truncate_everything()
        self.gone.clear()
        self.agents: list[Principal] = []
        self.visitors: list[Principal] = []
        self.live: list[Client] = []
        self.dropped: list[Client] = []
        self.sent: list[tuple[Principal, str, str, str]] = []  # (sender, chat_id, client_msg_id, text)
        self.acked: dict[tuple[str, str], tuple[int, str]] = {}  # (chat_id, client_msg_id) -> (seq, text)
        self.chat_order: list[str] = []  # every chat, in the order it started
        self.queue_order: list[str] = []  # chats in the order they started waiting (never leave this list)
        self.chats: list[Chat] = []  # the chats table as read after the last step
        self.waiting: list[str] = []  # the queue index as read after the last step

    # --- plumbing ---

    def act(self, client: Client, frame: dict[str, Any] | str) -> list[dict[str, Any]]:
        """Sends one frame as API Gateway would, and delivers what every live tab was sent."""
        body = frame if isinstance(frame, str) else json.dumps(frame)
        charla.ws_message(ws_event("$default", client.connection_id, body=body), None)
        return self.deliver(client)

    def deliver(self, sender: Client | None = None) -> list[dict[str, Any]]:
        mine: list[dict[str, Any]] = []
        for client in self.live:
            frames = _take_frames(client.connection_id)
            client.absorb(frames)
            if client is sender:
                mine = frames
        for client in self.dropped:
            _take_frames(client.connection_id)  # a dead socket shows nothing
        return mine

    def connect(self, principal: Principal, shown: dict | None = None) -> Client:
        client = Client(principal, shown)
        self.live.append(client)
        self.act(client, {"action": "hello"})  # what the widget and the console send first
        return client

    def clients_of(self, principal: Principal) -> list[Client]:
        return [c for c in self.live if c.principal == principal]

    def refusals(self, frames: list[dict[str, Any]]) -> list[str]:
        codes = [f["code"] for f in frames if f["type"] == "error"]
        assert set(codes) <= EXPECTED_REFUSALS, frames
        return codes

    def resync(self, client: Client) -> None:
        """Resumes every chat the tab shows from its `lastSeq`, and checks it now has all of it."""
        for chat_id in sorted(client.shown, key=self.chat_order.index):
            after = client.contiguous(chat_id)
            while True:
                frames = self.act(client, {"action": "resume", "chat_id": chat_id, "after_seq": after})
                [page] = [f for f in frames if f["type"] in ("messages", "error")]
                assert page["type"] == "messages", (client, chat_id, page)
                seqs = [m["seq"] for m in page["messages"]]
                assert seqs == list(range(after + 1, after + 1 + len(seqs))), (after, seqs)
                for message in page["messages"]:
                    client._show(chat_id, message)
                if page["next_after"] is None:
                    break
                after = page["next_after"]
            last_seq = int(Chat.get(chat_id, consistent_read=True).last_seq)
            assert sorted(client.shown[chat_id]) == list(range(1, last_seq + 1)), (client, chat_id)

    # --- people arrive and leave ---

    @initialize(capacity=st.sampled_from([1, 2]), agents=st.integers(1, 2), visitors=st.integers(1, 3))
    def the_team_opens_and_visitors_start_chats(self, capacity: int, agents: int, visitors: int) -> None:
        # A small capacity makes the queue and manual accepts part of most examples.
        settings.save_settings({"max_chats_per_agent": capacity})
        for _ in range(agents):
            self.an_agent_signs_in()
        for _ in range(visitors):
            self.a_visitor_arrives()

    @precondition(lambda self: len(self.agents) < MAX_AGENTS and len(self.live) < MAX_LIVE_SOCKETS)
    @rule()
    def an_agent_signs_in(self) -> None:
        # Ids that are the same in every replay of an example: Hypothesis replays to shrink, and routing
        # breaks ties between equally busy agents by their index order.
        number = len(self.agents) + 1
        charla_agents.ensure_profile(f"agent{number}", f"agent{number}@example.com", f"Agent{number}", accepting=True)
        agent = Principal("agent", f"agent{number}", f"Agent{number}", "agent")
        self.agents.append(agent)
        self.connect(agent)

    @precondition(lambda self: len(self.visitors) < MAX_VISITORS and len(self.live) < MAX_LIVE_SOCKETS)
    @rule()
    def a_visitor_arrives(self) -> None:
        """A new visitor opens the widget and starts a chat, which is what most of them come for."""
        visitor = new_visitor(f"Visitor{len(self.visitors) + 1}")
        self.visitors.append(visitor)
        self.start_chat(self.connect(visitor))

    @precondition(lambda self: (self.agents or self.visitors) and len(self.live) < MAX_LIVE_SOCKETS)
    @rule(data=st.data())
    def someone_opens_another_tab(self, data: st.DataObject) -> None:
        self.connect(data.draw(st.sampled_from(self.agents + self.visitors)))

    @precondition(lambda self: self.live)
    @rule(data=st.data(), how=st.sampled_from(["disconnect", "gone"]))
    def a_socket_drops(self, data: st.DataObject, how: str) -> None:
        client = data.draw(st.sampled_from(self.live))
        self.live.remove(client)
        self.dropped.append(client)
        if how == "disconnect":
            client.socket.close()
        else:  # no $disconnect arrives; API Gateway answers Gone at the next post
            self.gone.add(client.connection_id)

    @precondition(lambda self: self.dropped and len(self.live) < MAX_LIVE_SOCKETS)
    @rule(data=st.data())
    def a_dropped_tab_reconnects_and_resumes(self, data: st.DataObject) -> None:
        old = data.draw(st.sampled_from(self.dropped))
        self.dropped.remove(old)
        client = self.connect(old.principal, shown=old.shown)  # the tab keeps what it showed
        self.resync(client)

    @precondition(lambda self: self.live)
    @rule(data=st.data())
    def a_tab_resyncs(self, data: st.DataObject) -> None:
        self.resync(data.draw(st.sampled_from(self.live)))

    @precondition(lambda self: any(c.principal.kind == "agent" for c in self.live))
    @rule(data=st.data(), accepting=st.booleans())
    def an_agent_changes_status(self, data: st.DataObject, accepting: bool) -> None:
        client = data.draw(st.sampled_from([c for c in self.live if c.principal.kind == "agent"]))
        self.refusals(self.act(client, {"action": "set_status", "accepting": accepting}))

    # --- chats ---

    @precondition(lambda self: any(c.principal.kind == "visitor" for c in self.live))
    @rule(data=st.data())
    def a_visitor_starts_a_chat(self, data: st.DataObject) -> None:
        self.start_chat(data.draw(st.sampled_from([c for c in self.live if c.principal.kind == "visitor"])))

    def start_chat(self, client: Client) -> None:
        known = set(c.chat_id for c in Chat.visitor_index.query(client.principal.id))
        frames = self.act(client, {"action": "start_chat"})
        if self.refusals(frames):
            return
        chat_id = Visitor.get(client.principal.id).open_chat_id
        if chat_id not in known:
            self.chat_order.append(chat_id)
            if Chat.get(chat_id, consistent_read=True).status == "queued":
                self.queue_order.append(chat_id)

    @precondition(lambda self: self.live)
    @rule(data=st.data(), text=st.text(min_size=1, max_size=12).filter(str.strip))
    def someone_sends(self, data: st.DataObject, text: str) -> None:
        client = data.draw(st.sampled_from(self.live))
        chats = self.writable_chats(client.principal)
        if not chats:
            return
        chat_id = data.draw(st.sampled_from(chats))
        self.send(client, chat_id, f"m{next(_msg_ids)}", text)

    @precondition(lambda self: self.sent and self.live)
    @rule(data=st.data())
    def a_send_is_resent(self, data: st.DataObject) -> None:
        """The ack was lost, so the client sends the same frame again (from any of its tabs)."""
        sender, chat_id, client_msg_id, text = data.draw(st.sampled_from(self.sent))
        tabs = self.clients_of(sender)
        if tabs:
            self.send(data.draw(st.sampled_from(tabs)), chat_id, client_msg_id, text)

    @precondition(lambda self: self.live)
    @rule(data=st.data(), text=st.text(min_size=1, max_size=12).filter(str.strip))
    def a_send_is_invoked_twice(self, data: st.DataObject, text: str) -> None:
        """API Gateway and Lambda deliver at least once: the same frame reaches the handler twice."""
        client = data.draw(st.sampled_from(self.live))
        chats = self.writable_chats(client.principal)
        if not chats:
            return
        chat_id = data.draw(st.sampled_from(chats))
        client_msg_id = f"m{next(_msg_ids)}"
        first = self.send(client, chat_id, client_msg_id, text)
        second = self.send(client, chat_id, client_msg_id, text)
        if first is not None:
            assert second == (first[0], True)

    @precondition(lambda self: self.waiting and any(c.principal.kind == "agent" for c in self.live))
    @rule(data=st.data())
    def several_agents_accept_the_same_chat(self, data: st.DataObject) -> None:
        chat_id = data.draw(st.sampled_from(self.waiting))
        agent_tabs = [c for c in self.live if c.principal.kind == "agent"]
        tabs = data.draw(st.lists(st.sampled_from(agent_tabs), min_size=1, max_size=3))
        outcomes = [self.refusals(self.act(tab, {"action": "accept", "chat_id": chat_id})) for tab in tabs]
        winners = [tab for tab, refused in zip(tabs, outcomes, strict=True) if not refused]
        assert len(winners) == 1, (tabs, outcomes)
        assert all(refused == ["already_taken"] for refused in outcomes if refused), outcomes
        assert Chat.get(chat_id, consistent_read=True).assignee_id == winners[0].principal.id

    @precondition(lambda self: len(self.agents) > 1)
    @rule(data=st.data())
    def an_agent_transfers_a_chat(self, data: st.DataObject) -> None:
        active = [c for c in self.in_order(self.chats) if c.status == "active"]
        active = [c for c in active if self.clients_of(self.principal(c.assignee_id))]
        if not active:
            return
        chat = data.draw(st.sampled_from(active))
        client = data.draw(st.sampled_from(self.clients_of(self.principal(chat.assignee_id))))
        target = data.draw(st.sampled_from([a for a in self.agents if a.id != chat.assignee_id]))
        frames = self.act(client, {"action": "transfer", "chat_id": chat.chat_id, "to_agent_id": target.id})
        if not self.refusals(frames):
            assert Chat.get(chat.chat_id, consistent_read=True).assignee_id == target.id

    @precondition(lambda self: self.live)
    @rule(data=st.data())
    def someone_closes_a_chat(self, data: st.DataObject) -> None:
        client = data.draw(st.sampled_from(self.live))
        chats = self.writable_chats(client.principal)
        if not chats:
            return
        chat_id = data.draw(st.sampled_from(chats))
        assert self.refusals(self.act(client, {"action": "close", "chat_id": chat_id})) == []
        assert Chat.get(chat_id, consistent_read=True).status == "closed"

    # --- helpers on the model ---

    def principal(self, agent_id: str | None) -> Principal:
        return next((a for a in self.agents if a.id == agent_id), Principal("agent", "nobody"))

    def in_order(self, chats: list[Chat]) -> list[Chat]:
        """Chats in the order they started: chat ids are random, and choices must replay the same."""
        return sorted(chats, key=lambda c: self.chat_order.index(c.chat_id))

    def writable_chats(self, principal: Principal) -> list[str]:
        """Open chats the principal takes part in."""
        if principal.kind == "visitor":
            mine = [c for c in self.chats if c.visitor_id == principal.id]
        else:
            mine = [c for c in self.chats if principal.id in (c.agent_ids or ())]
        return [c.chat_id for c in self.in_order(mine) if c.status != "closed"]

    def send(self, client: Client, chat_id: str, client_msg_id: str, text: str) -> tuple[int, bool] | None:
        """Sends a message; returns (seq, duplicate) from the ack, or None if it was refused."""
        frame = {"action": "send", "chat_id": chat_id, "client_msg_id": client_msg_id, "text": text}
        frames = self.act(client, frame)
        if (client.principal, chat_id, client_msg_id, text) not in self.sent:
            self.sent.append((client.principal, chat_id, client_msg_id, text))
        acks = [f for f in frames if f["type"] == "ack"]
        if not acks:
            self.refusals(frames)
            return None
        [ack] = acks
        earlier = self.acked.get((chat_id, client_msg_id))
        if earlier is not None:
            # A resend never stores again: it is answered with the original seq.
            assert (ack["seq"], ack["duplicate"]) == (earlier[0], True), (ack, earlier)
        else:
            assert ack["duplicate"] is False, ack
            self.acked[(chat_id, client_msg_id)] = (ack["seq"], text)
        return ack["seq"], ack["duplicate"]

    # --- invariants ---

    @invariant()
    def the_promises_hold(self) -> None:
        # One read of the tables per step, shared by the checks and by the next step's choices.
        self.chats = list(Chat.scan(consistent_read=True))  # test code: the app itself never scans
        self.waiting = [c.chat_id for c in routing.queued()]
        self.every_acknowledged_message_is_stored_exactly_once()
        self.a_chat_has_at_most_one_assignee_and_the_agents_agree()
        self.the_queue_is_first_in_first_out()

    def every_acknowledged_message_is_stored_exactly_once(self) -> None:
        acked_chats = {chat_id for chat_id, _ in self.acked}
        for chat in self.chats:
            if chat.chat_id not in acked_chats:
                continue
            stored = list(Message.query(chat.chat_id, consistent_read=True))
            # Seqs are gapless and unique, and each acknowledged client_msg_id is there once.
            assert [int(m.seq) for m in stored] == list(range(1, int(chat.last_seq) + 1))
            by_id: dict[str, list[tuple[int, str]]] = {}
            for message in stored:
                if message.client_msg_id:
                    by_id.setdefault(message.client_msg_id, []).append((int(message.seq), message.text))
            for (chat_id, client_msg_id), acked in self.acked.items():
                if chat_id == chat.chat_id:
                    assert by_id.get(client_msg_id) == [acked], (chat_id, client_msg_id, by_id.get(client_msg_id))

    def a_chat_has_at_most_one_assignee_and_the_agents_agree(self) -> None:
        holders: dict[str, set[str]] = {}
        for agent in Agent.scan(consistent_read=True):
            # An agent's load is the chats they hold: routing's capacity check depends on it.
            assert int(agent.active_count) == len(agent.chat_ids or ()), agent.attribute_values
            for chat_id in agent.chat_ids or ():
                holders.setdefault(chat_id, set()).add(agent.agent_id)
        for chat in self.chats:
            if chat.status == "active":
                assert chat.assignee_id in (chat.agent_ids or set()), chat.attribute_values
                assert holders.get(chat.chat_id, set()) == set(chat.agent_ids), (chat.attribute_values, holders)
            else:
                assert chat.status == "closed" or chat.assignee_id is None, chat.attribute_values
                assert chat.chat_id not in holders, (chat.attribute_values, holders)

    def the_queue_is_first_in_first_out(self) -> None:
        waiting = {c.chat_id for c in self.chats if c.status == "queued"}
        assert set(self.waiting) == waiting
        assert self.waiting == [c for c in self.queue_order if c in waiting]

    def teardown(self) -> None:
        for client in list(self.live):
            self.resync(client)


@pytest.fixture
def gone(monkeypatch):
    """API Gateway answers 410 Gone for connection ids in this set, as it does for dead sockets."""
    client = push._client()
    real_post = client.post_to_connection

    def post(ConnectionId, Data):  # noqa: N803 - botocore's parameter names
        if ConnectionId in ChatCore.gone:
            raise client.exceptions.GoneException(
                {"Error": {"Code": "GoneException", "Message": "Gone"}}, "PostToConnection"
            )
        return real_post(ConnectionId=ConnectionId, Data=Data)

    monkeypatch.setattr(client, "post_to_connection", post)
    return ChatCore.gone


def test_the_chat_core_keeps_its_promises(aws, gone):
    run_state_machine_as_test(
        ChatCore,
        settings=hypothesis_settings(
            max_examples=25,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
