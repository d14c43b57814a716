"""A blocking WebSocket client for tests through the local stack: connect with a ticket, send, wait."""

from __future__ import annotations

import asyncio
import json
import queue
import threading
import urllib.request
from collections.abc import Callable
from typing import Any

import aiohttp


def rest(method: str, url: str, body: dict | None = None, headers: dict | None = None) -> dict[str, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"{}")


OPEN: list[Client] = []


def close_all() -> None:
    while OPEN:
        OPEN.pop().close()


class Client:
    """One socket, driven from a private event loop so tests can stay synchronous."""

    def __init__(self, ws_url: str, ticket: str, origin: str) -> None:
        OPEN.append(self)
        self.frames: queue.Queue[dict[str, Any]] = queue.Queue()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._socket = self._run(self._open(f"{ws_url}?ticket={ticket}", origin))

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=15)

    async def _open(self, url: str, origin: str) -> aiohttp.ClientWebSocketResponse:
        self._session = aiohttp.ClientSession()
        socket = await self._session.ws_connect(url, headers={"Origin": origin})
        self._loop.create_task(self._read(socket))
        return socket

    async def _read(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        async for message in socket:
            if message.type == aiohttp.WSMsgType.TEXT:
                self.frames.put(json.loads(message.data))

    def send(self, frame: dict[str, Any]) -> None:
        self._run(self._socket.send_str(json.dumps(frame)))

    def wait_for(self, kind: str, where: Callable[[dict[str, Any]], bool] | None = None,
                 timeout: float = 10) -> dict[str, Any]:
        """The next frame of this type that `where` accepts; other frames are skipped."""
        while True:
            frame = self.frames.get(timeout=timeout)
            if frame.get("type") == kind and (where is None or where(frame)):
                return frame

    def close(self) -> None:
        async def shut() -> None:
            await self._socket.close()
            await self._session.close()

        self._run(shut())
        self._loop.call_soon_threadsafe(self._loop.stop)


def visitor(stack: Any) -> Client:
    identity = rest("POST", f"{stack.api_url}/visitor/identity", headers={"Origin": stack.base_url})
    auth = {"Authorization": f"Visitor {identity['visitor_id']}:{identity['secret']}", "Origin": stack.base_url}
    ticket = rest("POST", f"{stack.api_url}/visitor/ws-ticket", headers=auth)["ticket"]
    client = Client(stack.ws_url, ticket, stack.base_url)
    client.send({"action": "hello"})
    client.wait_for("welcome")
    return client


def agent(stack: Any, email: str, password: str) -> Client:
    token = stack.id_token(email, password)
    ticket = rest("POST", f"{stack.api_url}/agent/ws-ticket", headers={"Authorization": token})["ticket"]
    client = Client(stack.ws_url, ticket, stack.base_url)
    client.send({"action": "hello"})
    client.wait_for("welcome")
    return client
