"""API Gateway for the WebSocket API: $connect/$default/$disconnect events and API Gateway's limits."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web
from aiohttp.http_websocket import WebSocketError

from infra.local import events
from infra.local.invoker import LambdaInvoker

log = logging.getLogger("charla.local.ws")

STAGE = "local"
# API Gateway's limits. aiohttp hands over whole messages, never single frames, so a message
# over 32 KB is treated as an oversized frame (close 1009). That is stricter than AWS for a
# message fragmented into several small frames (AWS allows up to 128 KB) and identical for the
# single-frame messages browsers send.
FRAME_LIMIT = 32 * 1024
MESSAGE_LIMIT = 128 * 1024

Handler = Callable[[Any, Any], Any]


@dataclass
class Connection:
    connection_id: str
    request: web.Request
    source_ip: str
    user_agent: str
    connected_at: float = field(default_factory=time.time)
    last_active_at: float = field(default_factory=time.time)
    # Why it ended, as the $disconnect event reports it; the first cause recorded wins.
    disconnect: tuple[int, str] | None = None
    # Replaced by the real socket once $connect has accepted.
    ws: web.WebSocketResponse = field(default_factory=web.WebSocketResponse)
    closing: asyncio.Task[Any] | None = None

    def ending(self, code: int, reason: str) -> None:
        if self.disconnect is None:
            self.disconnect = (code, reason)


class WebSocketGateway:
    def __init__(
        self,
        handlers: dict[str, tuple[str, Handler]],
        invoker: LambdaInvoker,
        domain_name: str,
        idle_seconds: float,
        max_seconds: float,
    ) -> None:
        """`handlers` maps a route key to (function name, Lambda-style handler)."""
        self._handlers = handlers
        self._invoker = invoker
        self._domain_name = domain_name
        self._idle_seconds = idle_seconds
        self._max_seconds = max_seconds
        self._connections: dict[str, Connection] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    # --- the @connections side ---------------------------------------------------------------

    def get(self, connection_id: str) -> Connection | None:
        conn = self._connections.get(connection_id)
        if conn is None or conn.ws.closed or conn.disconnect is not None:
            return None
        return conn

    def ids(self) -> list[str]:
        return [cid for cid in list(self._connections) if self.get(cid) is not None]

    async def send(self, conn: Connection, data: bytes) -> None:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            await conn.ws.send_bytes(data)
        else:
            await conn.ws.send_str(text)

    def close(self, conn: Connection, code: int, reason: str) -> None:
        """Close from the server side without waiting for the client's closing handshake."""
        conn.ending(code, reason)
        if conn.closing is None:
            conn.closing = self._spawn(conn.ws.close(code=code, message=reason.encode()))

    def drop(self, conn: Connection) -> None:
        """Cut the TCP connection with no closing handshake, as a lost network would."""
        conn.ending(WSCloseCode.ABNORMAL_CLOSURE, "Connection closed abnormally")
        transport = conn.request.transport
        if transport is not None:
            transport.abort()

    async def close_all(self) -> None:
        # The stack is stopping, most often to start again: 1012 (Service Restart) lets the widget and
        # the console retry every few seconds instead of backing off (ui-common/socket.js).
        for conn in list(self._connections.values()):
            self.close(conn, WSCloseCode.SERVICE_RESTART, "Service restart")
        await self.drain()

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait until every socket has ended and its $disconnect has run."""
        deadline = time.monotonic() + timeout
        # A socket's $disconnect is spawned only after its close completes, hence the polling.
        while (self._tasks or self._connections) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)

    # --- the client side ---------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if not web.WebSocketResponse().can_prepare(request).ok:
            return web.Response(status=426, text="Upgrade Required")
        conn = Connection(
            connection_id=events.aws_id(),
            request=request,
            source_ip=request.remote or "127.0.0.1",
            user_agent=request.headers.get("User-Agent", ""),
        )
        refused, protocol = await self._connect(conn)
        if refused is not None:
            return refused
        conn.ws = web.WebSocketResponse(
            # aiohttp refuses a message of exactly max_msg_size bytes; API Gateway allows 32 KB.
            max_msg_size=FRAME_LIMIT + 1,
            # API Gateway negotiates no permessage-deflate.
            compress=False,
            # Pings are frames too and count against the idle timeout, so they're seen here.
            autoping=False,
            # A subprotocol is agreed only when $connect answers with it, as on AWS.
            protocols=(protocol,) if protocol else (),
        )
        await conn.ws.prepare(request)
        self._connections[conn.connection_id] = conn
        watchdog = asyncio.ensure_future(self._watchdog(conn))
        try:
            await self._pump(conn)
        finally:
            watchdog.cancel()
            self._connections.pop(conn.connection_id, None)
            conn.ending(conn.ws.close_code or WSCloseCode.ABNORMAL_CLOSURE, "Connection closed abnormally")
            if conn.closing is not None:
                # Let a server-side close finish its handshake before aiohttp ends the response.
                await asyncio.wait({conn.closing}, timeout=10)
            self._spawn(self._disconnected(conn))
        return conn.ws

    async def _connect(self, conn: Connection) -> tuple[web.StreamResponse | None, str | None]:
        """Run $connect: (the HTTP answer refusing the upgrade, or None; the agreed subprotocol)."""
        route = self._handlers.get("$connect")
        if route is None:
            return None, None
        request = conn.request
        forwarded = [
            ("X-Forwarded-For", conn.source_ip),
            ("X-Forwarded-Port", str(request.url.port or "")),
            ("X-Forwarded-Proto", request.scheme),
        ]
        event = events.ws_connect_event(
            self._context(conn, "$connect", "CONNECT"),
            list(request.headers.items()) + forwarded,
            list(request.query.items()),
        )
        try:
            result = await self._invoker.invoke(route[1], event, route[0]) or {}
        except Exception:
            log.exception("$connect %s raised", conn.connection_id)
            return web.json_response({"message": "Internal server error"}, status=500), None
        status = int(result.get("statusCode", 200))
        headers = result.get("headers") or {}
        if 200 <= status < 300:
            return None, headers.get("Sec-WebSocket-Protocol")
        body = result.get("body")
        refusal = web.Response(status=status, text=body if isinstance(body, str) else "")
        return refusal, None

    async def _pump(self, conn: Connection) -> None:
        ws = conn.ws
        while True:
            msg = await ws.receive()
            if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY, WSMsgType.PING, WSMsgType.PONG):
                conn.last_active_at = time.time()
            if msg.type == WSMsgType.TEXT:
                self._spawn(self._message(conn, msg.data))
            elif msg.type == WSMsgType.BINARY:
                # API Gateway rejects binary frames and disconnects with 1003.
                conn.ending(WSCloseCode.UNSUPPORTED_DATA, "Binary frames are not supported")
                await ws.close(code=WSCloseCode.UNSUPPORTED_DATA)
            elif msg.type == WSMsgType.PING:
                await ws.pong(msg.data)
            elif msg.type == WSMsgType.CLOSE:
                conn.ending(int(msg.data), msg.extra or "")
            elif msg.type == WSMsgType.ERROR:
                error = msg.data
                if isinstance(error, WebSocketError) and error.code == WSCloseCode.MESSAGE_TOO_BIG:
                    conn.ending(WSCloseCode.MESSAGE_TOO_BIG, "Message too big")
                else:
                    conn.ending(WSCloseCode.ABNORMAL_CLOSURE, "Connection closed abnormally")
            if ws.closed or msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
                return

    async def _watchdog(self, conn: Connection) -> None:
        while True:
            now = time.time()
            idle_end = conn.last_active_at + self._idle_seconds
            life_end = conn.connected_at + self._max_seconds
            if now >= min(idle_end, life_end):
                self.close(conn, WSCloseCode.GOING_AWAY, "Going away")
                return
            await asyncio.sleep(min(idle_end, life_end) - now)

    async def _message(self, conn: Connection, body: str) -> None:
        route = self._handlers.get("$default")
        if route is None:
            return
        event = events.ws_message_event(self._context(conn, "$default", "MESSAGE"), body)
        try:
            await self._invoker.invoke(route[1], event, route[0])
        except Exception:
            log.exception("$default %s raised", conn.connection_id)
            # What API Gateway sends when the integration fails; the connection stays open.
            error = {
                "message": "Internal server error",
                "connectionId": conn.connection_id,
                "requestId": event["requestContext"]["requestId"],
            }
            if self.get(conn.connection_id) is not None:
                try:
                    await conn.ws.send_str(json.dumps(error))
                except ConnectionError:
                    pass

    async def _disconnected(self, conn: Connection) -> None:
        route = self._handlers.get("$disconnect")
        if route is None:
            return
        code, reason = conn.disconnect or (WSCloseCode.ABNORMAL_CLOSURE, "")
        event = events.ws_disconnect_event(
            self._context(conn, "$disconnect", "DISCONNECT"),
            host=self._domain_name,
            source_ip=conn.source_ip,
            status_code=int(code),
            reason=reason,
        )
        try:
            await self._invoker.invoke(route[1], event, route[0])
        except Exception:
            log.exception("$disconnect %s raised", conn.connection_id)

    def _context(self, conn: Connection, route_key: str, event_type: str) -> dict[str, Any]:
        return events.ws_request_context(
            route_key=route_key,
            event_type=event_type,
            connection_id=conn.connection_id,
            connected_at=conn.connected_at,
            domain_name=self._domain_name,
            stage=STAGE,
            source_ip=conn.source_ip,
            user_agent=conn.user_agent,
        )

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task
