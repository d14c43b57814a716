"""A blocking WebSocket client for tests through the local stack: connect with a ticket, send, wait."""

from __future__ import annotations

import asyncio
import json
import queue
import threading
from collections.abc import Callable
from typing import Any

import aiohttp

from tests.support import stack_http

OPEN: list[Client] = []


def close_all() -> None:
    while OPEN:
        OPEN.pop().close()


class Client:
    """One socket, driven from a private event loop so tests can stay synchronous."""

    def __init__(self, ws_url: str, ticket: str, origin: str, source: str | None = None) -> None:
        OPEN.append(self)
        self._source = source  # the local address to connect from (see stack_http.FromAddress)
        self.frames: queue.Queue[dict[str, Any]] = queue.Queue()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._socket = self._run(self._open(f"{ws_url}?ticket={ticket}", origin))

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=15)

    async def _open(self, url: str, origin: str) -> aiohttp.ClientWebSocketResponse:
        connector = aiohttp.TCPConnector(local_addr=(self._source, 0)) if self._source else None
        self._session = aiohttp.ClientSession(connector=connector)
        socket = await self._session.ws_connect(url, headers={"Origin": origin})
        self._loop.create_task(self._read(socket))
        return socket

    async def _read(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        async for message in socket:
            if message.type == aiohttp.WSMsgType.TEXT:
                self.frames.put(json.loads(message.data))

    def send(self, frame: dict[str, Any]) -> None:
        self._run(self._socket.send_str(json.dumps(frame)))

    def wait_for(
        self, kind: str, where: Callable[[dict[str, Any]], bool] | None = None, timeout: float = 10
    ) -> dict[str, Any]:
        """The next frame of this type that `where` accepts; other frames are skipped."""
        while True:
            frame = self.frames.get(timeout=timeout)
            if frame.get("type") == kind and (where is None or where(frame)):
                return frame

    @property
    def close_code(self) -> int | None:
        """The code the server closed the socket with; None while it is open."""
        return self._socket.close_code

    def wait_closed(self, timeout: float = 10) -> None:
        async def closed() -> None:
            while not self._socket.closed:
                await asyncio.sleep(0.05)

        self._run(asyncio.wait_for(closed(), timeout))

    def close(self) -> None:
        async def shut() -> None:
            await self._socket.close()
            await self._session.close()

        self._run(shut())
        self._loop.call_soon_threadsafe(self._loop.stop)


def visitor(stack: Any, source: str | None = None) -> Client:
    identity = stack_http.ok(stack, "POST", "/visitor/identity", source=source)
    auth = f"Visitor {identity['visitor_id']}:{identity['secret']}"
    ticket = stack_http.ok(stack, "POST", "/visitor/ws-ticket", token=auth, source=source)["ticket"]
    client = Client(stack.ws_url, ticket, stack.base_url, source)
    client.send({"action": "hello"})
    client.wait_for("welcome")
    return client


def agent(stack: Any, email: str, password: str) -> Client:
    token = stack.id_token(email, password)
    ticket = stack_http.ok(stack, "POST", "/agent/ws-ticket", token=token)["ticket"]
    client = Client(stack.ws_url, ticket, stack.base_url)
    client.send({"action": "hello"})
    client.wait_for("welcome")
    return client


def chat_with_a_message(stack: Any, auth: dict[str, str], text: str) -> str:
    """With the agent of `auth` online, a visitor starts a chat and sends `text`: the chat's id, once
    the message is acknowledged (so stored)."""

    async def chat() -> str:
        async with aiohttp.ClientSession() as session:
            origin = {"Origin": stack.base_url}
            agent_ticket = stack_http.call(stack, "POST", "/agent/ws-ticket", headers=auth)[1]["ticket"]
            agent = await session.ws_connect(f"{stack.ws_url}?ticket={agent_ticket}", headers=origin)
            identity = stack_http.call(stack, "POST", "/visitor/identity")[1]
            visitor = {"Authorization": f"Visitor {identity['visitor_id']}:{identity['secret']}"}
            ticket = stack_http.call(stack, "POST", "/visitor/ws-ticket", headers=visitor)[1]["ticket"]
            socket = await session.ws_connect(f"{stack.ws_url}?ticket={ticket}", headers=origin)
            await socket.send_str(json.dumps({"action": "start_chat", "name": "Carl", "email": "carl@example.com"}))
            chat_id = ""
            while not chat_id:
                frame = json.loads((await socket.receive(timeout=10)).data)
                if frame.get("type") == "chat":
                    chat_id = frame["chat"]["chat_id"]
            await socket.send_str(
                json.dumps({"action": "send", "chat_id": chat_id, "client_msg_id": "m1", "text": text})
            )
            while True:
                frame = json.loads((await socket.receive(timeout=10)).data)
                if frame.get("type") == "ack" and frame["client_msg_id"] == "m1":
                    break
            await socket.close()
            await agent.close()
            return chat_id

    return asyncio.run(chat())
