"""The API Gateway management API (@connections) the app posts to, with AWS's 410 Gone.

moto's own apigatewaymanagementapi accepts any connection id, so the app's Gone handling would
never run locally; here a closed or unknown connection answers exactly as AWS does.

It is served over HTTP, and also in process: the Lambda handlers run in this process, and a post
sent over loopback HTTP cost the stack's one interpreter a urllib3 round trip and an aiohttp request
for every frame pushed (two per chat message). `serve_in_process` adds a botocore `before-send` hook
(as `faults.py` does) that answers a request for this API from the same code, on the gateway's
event loop, and hands botocore the same status, headers and body. botocore still builds, signs and
parses every call, applies its retry policy, and raises GoneException from the 410, so the app's
code runs exactly as it does against AWS; only the socket between the two is skipped.
"""

from __future__ import annotations

import asyncio
import json
import urllib.parse
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSCloseCode, web
from botocore import handlers
from botocore.awsrequest import AWSResponse

from infra.local.faults import RawBody
from infra.local.websocket import MESSAGE_LIMIT, STAGE, WebSocketGateway

PREFIX = f"/_ws_mgmt/{STAGE}"


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _error(status: int, error_type: str, message: str) -> web.Response:
    # botocore reads the error code from this header and the message from the body.
    return web.Response(
        status=status,
        text=json.dumps({"message": message}),
        content_type="application/json",
        headers={"x-amzn-ErrorType": error_type},
    )


def _gone() -> web.Response:
    return _error(410, "GoneException", "")


class ManagementApi:
    def __init__(self, gateway: WebSocketGateway) -> None:
        self._gateway = gateway

    def routes(self) -> list[web.RouteDef]:
        path = PREFIX + "/@connections/{connection_id}"
        return [
            web.post(path, self.post),
            web.get(path, self.get),
            web.delete(path, self.delete),
        ]

    async def post(self, request: web.Request) -> web.Response:
        return await self._post(request.match_info["connection_id"], await request.read())

    async def get(self, request: web.Request) -> web.Response:
        return await self._get(request.match_info["connection_id"])

    async def delete(self, request: web.Request) -> web.Response:
        return await self._delete(request.match_info["connection_id"])

    async def answer(self, method: str, connection_id: str, data: bytes) -> web.Response:
        if method == "POST":
            return await self._post(connection_id, data)
        if method == "GET":
            return await self._get(connection_id)
        if method == "DELETE":
            return await self._delete(connection_id)
        return _error(405, "MethodNotAllowedException", "Method not allowed")

    async def _post(self, connection_id: str, data: bytes) -> web.Response:
        if len(data) > MESSAGE_LIMIT:
            return _error(413, "PayloadTooLargeException", "Request entity too large")
        conn = self._gateway.get(connection_id)
        if conn is None:
            return _gone()
        try:
            await self._gateway.send(conn, data)
        except ConnectionError:
            return _gone()
        return web.Response(status=200)

    async def _get(self, connection_id: str) -> web.Response:
        conn = self._gateway.get(connection_id)
        if conn is None:
            return _gone()
        # The wire names are camelCase; botocore maps them to ConnectedAt, Identity, LastActiveAt.
        return web.json_response(
            {
                "connectedAt": _iso(conn.connected_at),
                "identity": {"sourceIp": conn.source_ip, "userAgent": conn.user_agent},
                "lastActiveAt": _iso(conn.last_active_at),
            }
        )

    async def _delete(self, connection_id: str) -> web.Response:
        conn = self._gateway.get(connection_id)
        if conn is None:
            return _gone()
        self._gateway.close(conn, WSCloseCode.OK, "")
        return web.Response(status=204)


# Management URL -> the API answering it and the event loop it runs on.
_served: dict[str, tuple[ManagementApi, asyncio.AbstractEventLoop]] = {}
ANSWER_TIMEOUT_S = 30.0


def _before_send(request: Any, **_kwargs: Any) -> AWSResponse | None:
    for url, (api, loop) in list(_served.items()):
        if not request.url.startswith(url + "/"):
            continue
        try:
            if asyncio.get_running_loop() is loop:
                return None  # called on the gateway's own loop, which must not wait on itself: HTTP
        except RuntimeError:
            pass  # no loop on this thread, as in a Lambda worker
        path = urllib.parse.unquote(urllib.parse.urlsplit(request.url[len(url) :]).path)
        prefix = "/@connections/"
        if not path.startswith(prefix):
            return None
        body = request.body or b""
        data = body if isinstance(body, bytes) else body.encode() if isinstance(body, str) else body.read()
        answering = api.answer(request.method, path[len(prefix) :], data)
        response = asyncio.run_coroutine_threadsafe(answering, loop).result(ANSWER_TIMEOUT_S)
        headers = {name: value for name, value in response.headers.items()}
        content = response.body if isinstance(response.body, (bytes, bytearray)) else b""
        return AWSResponse(request.url, response.status, headers, RawBody(bytes(content)))
    return None


def serve_in_process(url: str, api: ManagementApi, loop: asyncio.AbstractEventLoop) -> None:
    """Answers the app's calls to `url` in process, for every botocore client made from now on."""
    _served[url] = (api, loop)
    if not any(spec[1] is _before_send for spec in handlers.BUILTIN_HANDLERS):
        handlers.BUILTIN_HANDLERS.append(("before-send", _before_send))  # after fault mode's hook, which goes first


def stop_serving_in_process(url: str) -> None:
    _served.pop(url, None)
    if not _served:
        handlers.BUILTIN_HANDLERS[:] = [spec for spec in handlers.BUILTIN_HANDLERS if spec[1] is not _before_send]
