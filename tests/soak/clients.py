"""Reconnecting visitor and agent clients for the soak run (docs/protocol.md).

Each client keeps the seqs it has seen per chat. After a drop it backs off, mints a new ticket over
REST, sends `hello`, then `resume`s each chat from the last seq it holds without a gap, paging
through `next_after`. A visitor also resends every message not yet acked, with the same
client_msg_id, so the server's idempotency (not the client) decides whether it is stored.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

BACKOFF_START_S = 0.5
BACKOFF_MAX_S = 30.0
RESUME_TIMEOUT_S = 15.0


@dataclass
class Ledger:
    sent: dict[str, float] = field(default_factory=dict)  # client_msg_id -> first send (perf_counter)
    chat_of: dict[str, str] = field(default_factory=dict)  # client_msg_id -> chat_id
    acked: dict[str, int] = field(default_factory=dict)  # client_msg_id -> seq
    live: dict[str, float] = field(default_factory=dict)  # client_msg_id -> agent's first live frame
    recovered: set[str] = field(default_factory=set)  # first reached the agent through resume
    live_repeats: int = 0  # a live `message` frame for a seq the agent already held
    resent: int = 0  # sends repeated after a drop or a retriable error
    duplicate_acks: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    reconnects: dict[str, int] = field(default_factory=lambda: {"visitor": 0, "agent": 0})
    failed_reconnects: int = 0
    unknown_connection: int = 0  # `unauthorized` on a socket that was open: the client reconnects
    unknown_details: list[str] = field(default_factory=list)


async def post(session: aiohttp.ClientSession, url: str, **kwargs: Any) -> dict[str, Any]:
    async with session.post(url, **kwargs) as response:
        body = await response.json(content_type=None)
        if response.status >= 300:
            raise RuntimeError(f"POST {url}: {response.status} {body}")
        return body


def contiguous(seen: set[int]) -> int:
    """The highest seq n such that 1..n have all been seen."""
    n = 0
    while n + 1 in seen:
        n += 1
    return n


class Client:
    kind = "client"

    def __init__(self, session: aiohttp.ClientSession, info: dict[str, Any], ledger: Ledger) -> None:
        self.session, self.info, self.ledger = session, info, ledger
        self.api = info["base_url"] + "/api"
        self.origin = {"Origin": info["base_url"]}
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.connected = asyncio.Event()
        self.welcome = asyncio.Event()
        self.stopping = False
        self.seen: dict[str, dict[int, dict[str, Any]]] = {}  # chat_id -> seq -> message
        self.waiters: dict[str, asyncio.Future[dict[str, Any]]] = {}  # chat_id -> pending resume answer
        self.task: asyncio.Task[None] | None = None
        self.connected_at = 0.0
        self.live_keys: set[str] = set()  # client_msg_ids first seen in a live `message` frame

    # --- to override ---------------------------------------------------------------------------

    async def ticket(self) -> str:
        raise NotImplementedError

    async def on_frame(self, frame: dict[str, Any]) -> None:
        pass

    async def after_hello(self, first: bool) -> None:
        pass

    def on_message(self, message: dict[str, Any], live: bool) -> None:
        pass

    # --- connection ----------------------------------------------------------------------------

    async def start(self) -> None:
        await self._connect(first=True)
        self.task = asyncio.create_task(self._run())

    async def _connect(self, first: bool) -> None:
        ticket = await self.ticket()
        ws = await self.session.ws_connect(
            f"{self.info['ws_url']}?ticket={ticket}", headers=self.origin, heartbeat=None
        )
        self.ws = ws
        self.welcome.clear()
        self._reader = asyncio.create_task(self._read(ws))
        self.connected_at = time.perf_counter()
        await self.send({"action": "hello"})
        welcome = asyncio.create_task(self.welcome.wait())
        await asyncio.wait({welcome, self._reader}, timeout=20, return_when=asyncio.FIRST_COMPLETED)
        welcome.cancel()
        if not self.welcome.is_set():
            raise ConnectionError("no welcome")
        self.connected.set()
        await self.after_hello(first)

    async def _run(self) -> None:
        while not self.stopping:
            await self._reader
            self.connected.clear()
            if self.stopping:
                return
            delay = BACKOFF_START_S
            while not self.stopping:
                await asyncio.sleep(delay * random.uniform(0.5, 1.0))
                try:
                    await self._connect(first=False)
                    self.ledger.reconnects[self.kind] += 1
                    break
                except Exception:
                    self.ledger.failed_reconnects += 1
                    if self.ws is not None:
                        await self.ws.close()
                    delay = min(delay * 2, BACKOFF_MAX_S)

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for msg in ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue
            frame = json.loads(msg.data)
            kind = frame.get("type")
            if kind == "welcome":
                self.me = frame["me"]
                self.welcome.set()
                await self.on_frame(frame)
            elif kind == "message":
                self._saw(frame["message"], live=True)
            elif kind == "messages":
                for message in frame["messages"]:
                    self._saw(message, live=False)
                waiter = self.waiters.pop(frame["chat_id"], None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(frame)
            elif kind == "error" and frame.get("code") == "unauthorized":
                # The server no longer knows this socket: reconnect, as the message says.
                self.ledger.unknown_connection += 1
                since = time.perf_counter() - self.connected_at
                self.ledger.unknown_details.append(f"{self.kind} {frame.get('action')} {since:.1f} s after connecting")
                asyncio.create_task(ws.close())
            elif kind == "error" and frame.get("action") == "resume" and frame.get("chat_id") in self.waiters:
                waiter = self.waiters.pop(frame["chat_id"])
                if not waiter.done():
                    waiter.set_exception(RuntimeError(f"resume: {frame}"))
            else:
                await self.on_frame(frame)
        for waiter in self.waiters.values():
            if not waiter.done():
                waiter.set_exception(ConnectionError("socket closed"))
        self.waiters.clear()

    def _saw(self, message: dict[str, Any], live: bool) -> None:
        chat = self.seen.setdefault(message["chat_id"], {})
        if message["seq"] in chat:
            if live:
                self.ledger.live_repeats += self.kind == "agent"
            return
        chat[message["seq"]] = message
        if live and message.get("client_msg_id"):
            self.live_keys.add(message["client_msg_id"])
        self.on_message(message, live)

    async def send(self, frame: dict[str, Any]) -> bool:
        ws = self.ws
        if ws is None or ws.closed:
            return False
        try:
            await ws.send_str(json.dumps(frame))
            return True
        except (ConnectionError, RuntimeError):
            return False

    async def resume(self, chat_id: str, after: int | None = None) -> list[dict[str, Any]]:
        """Everything after `after` (default: the last seq held without a gap), paging through next_after."""
        cursor = contiguous(set(self.seen.get(chat_id, {}))) if after is None else after
        pages: list[dict[str, Any]] = []
        attempts = 0
        while True:
            future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
            self.waiters[chat_id] = future
            try:
                if not await self.send({"action": "resume", "chat_id": chat_id, "after_seq": cursor}):
                    raise ConnectionError("not connected")
                frame = await asyncio.wait_for(future, RESUME_TIMEOUT_S)
            except (ConnectionError, RuntimeError, TimeoutError):
                self.waiters.pop(chat_id, None)
                attempts += 1
                if attempts > 20 or self.stopping:
                    raise
                await asyncio.sleep(1.0)
                await self.connected.wait()
                continue
            pages.extend(frame["messages"])
            if frame["next_after"] is None:
                return pages
            cursor = frame["next_after"]

    async def close(self) -> None:
        self.stopping = True
        if self.ws is not None:
            await self.ws.close()
        if self.task is not None:
            await asyncio.gather(self.task, return_exceptions=True)


class Agent(Client):
    kind = "agent"

    def __init__(
        self, session: aiohttp.ClientSession, info: dict[str, Any], ledger: Ledger, credentials: dict[str, str]
    ) -> None:
        super().__init__(session, info, ledger)
        self.credentials = credentials
        self.token: str | None = None
        self.chats: set[str] = set()  # the chats this agent takes part in
        self.pending: dict[str, dict[str, Any]] = {}  # the agent's own sends, until acked

    async def ticket(self) -> str:
        for attempt in range(2):
            if self.token is None or attempt:
                self.token = (await post(self.session, self.api + "/auth/login", json=self.credentials))["id_token"]
            try:
                answer = await post(
                    self.session, self.api + "/agent/ws-ticket", json={}, headers={"Authorization": self.token}
                )
                return answer["ticket"]
            except RuntimeError:
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _note_chat(self, chat: dict[str, Any]) -> None:
        mine = chat.get("assignee_id") == self.me["id"] or any(
            a.get("id") == self.me["id"] for a in chat.get("agents") or []
        )
        if mine:
            self.chats.add(chat["chat_id"])

    async def on_frame(self, frame: dict[str, Any]) -> None:
        if frame.get("type") == "welcome":
            for chat in frame.get("chats") or []:
                self._note_chat(chat)
        elif frame.get("type") == "chat":
            self._note_chat(frame["chat"])
        elif frame.get("type") == "ack":
            self.pending.pop(frame["client_msg_id"], None)
        elif frame.get("type") == "error":
            original = self.pending.get(frame.get("client_msg_id") or "")
            if frame.get("retriable") and original is not None:
                self.ledger.resent += 1
                await asyncio.sleep(0.2)
                await self.send(original)
            elif frame.get("code") != "already_taken":
                self.ledger.errors.append(frame)

    async def say(self, chat_id: str, key: str, text: str) -> None:
        """A message to a chat, kept until acked and resent on a retriable error."""
        frame = {"action": "send", "chat_id": chat_id, "client_msg_id": key, "text": text}
        self.pending[key] = frame
        await self.send(frame)

    async def after_hello(self, first: bool) -> None:
        if not first:
            asyncio.create_task(self._catch_up())

    async def _catch_up(self) -> None:
        for chat_id in list(self.chats):
            try:
                await self.resume(chat_id)
            except Exception:
                return  # dropped again; the next reconnect catches up

    def on_message(self, message: dict[str, Any], live: bool) -> None:
        key = message.get("client_msg_id")
        if message.get("sender") != "visitor" or not key:
            return
        if live:
            if key not in self.ledger.live and key not in self.ledger.recovered:
                self.ledger.live[key] = time.perf_counter()
        elif key not in self.ledger.live:
            self.ledger.recovered.add(key)


class Visitor(Client):
    kind = "visitor"

    def __init__(
        self,
        session: aiohttp.ClientSession,
        info: dict[str, Any],
        ledger: Ledger,
        number: int,
        *,
        tab_of: Visitor | None = None,
    ) -> None:
        super().__init__(session, info, ledger)
        self.number = number
        self.tab_of = tab_of  # a second tab of this visitor: it listens, and starts nothing
        self.closed = asyncio.Event()
        self.auth: dict[str, str] | None = None
        self.chat_id: str | None = None
        self.assignee: str | None = None
        self.active = asyncio.Event()
        self.pending: dict[str, dict[str, Any]] = {}  # client_msg_id -> frame, until acked
        self.count = 0

    async def ticket(self) -> str:
        if self.auth is None and self.tab_of is not None:
            self.auth = self.tab_of.auth
        if self.auth is None:
            identity = await post(self.session, self.api + "/visitor/identity", json={}, headers=self.origin)
            self.auth = {**self.origin, "Authorization": f"Visitor {identity['visitor_id']}:{identity['secret']}"}
        return (await post(self.session, self.api + "/visitor/ws-ticket", json={}, headers=self.auth))["ticket"]

    async def after_hello(self, first: bool) -> None:
        if first and self.tab_of is None:
            await self.send({"action": "start_chat", "name": f"Soak visitor {self.number}"})
        else:
            asyncio.create_task(self._catch_up())

    async def _catch_up(self) -> None:
        for frame in list(self.pending.values()):
            self.ledger.resent += 1
            await self.send(frame)
        if self.chat_id:
            try:
                await self.resume(self.chat_id)
            except Exception:
                return

    async def on_frame(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "chat":
            chat = frame["chat"]
            self.chat_id = chat["chat_id"]
            if chat["status"] == "active":
                self.assignee = chat.get("assignee_id")
                self.active.set()
            elif chat["status"] == "closed":
                self.closed.set()
        elif kind == "welcome":
            for chat in frame.get("chats") or []:
                if chat.get("status") != "closed":
                    self.chat_id = chat["chat_id"]
        elif kind == "ack":
            self.pending.pop(frame["client_msg_id"], None)
            self.ledger.acked.setdefault(frame["client_msg_id"], frame["seq"])
            self.ledger.duplicate_acks += bool(frame.get("duplicate"))
        elif kind == "error":
            original = self.pending.get(frame.get("client_msg_id") or "")
            if frame.get("retriable") and original is not None:
                self.ledger.resent += 1
                await asyncio.sleep(0.2)
                await self.send(original)
            elif frame.get("retriable") and frame.get("action") in ("start_chat", "close"):
                # What the widget does with `retry`: the same action again, after a pause.
                self.ledger.resent += 1
                await asyncio.sleep(0.2)
                again = {"action": frame["action"]}
                if frame["action"] == "close":
                    again["chat_id"] = frame.get("chat_id") or self.chat_id or ""
                await self.send(again)
            else:
                self.ledger.errors.append(frame)

    async def close_chat(self) -> None:
        if self.chat_id:
            await self.send({"action": "close", "chat_id": self.chat_id})

    async def say(self) -> None:
        """One new message, with a client_msg_id unique to the run; kept until acked."""
        assert self.chat_id is not None
        key = f"soak-v{self.number}-{self.count}"
        self.count += 1
        frame = {
            "action": "send",
            "chat_id": self.chat_id,
            "client_msg_id": key,
            "text": f"Soak message {self.count} from visitor {self.number}",
        }
        self.pending[key] = frame
        self.ledger.sent[key] = time.perf_counter()
        self.ledger.chat_of[key] = self.chat_id
        await self.send(frame)  # if the socket is down, the reconnect resends it
