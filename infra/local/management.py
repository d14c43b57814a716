"""The API Gateway management API (@connections) the app posts to, with AWS's 410 Gone.

moto's own apigatewaymanagementapi accepts any connection id, so the app's Gone handling would
never run locally; here a closed or unknown connection answers exactly as AWS does.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from aiohttp import WSCloseCode, web

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
        data = await request.read()
        if len(data) > MESSAGE_LIMIT:
            return _error(413, "PayloadTooLargeException", "Request entity too large")
        conn = self._gateway.get(request.match_info["connection_id"])
        if conn is None:
            return _gone()
        try:
            await self._gateway.send(conn, data)
        except ConnectionError:
            return _gone()
        return web.Response(status=200)

    async def get(self, request: web.Request) -> web.Response:
        conn = self._gateway.get(request.match_info["connection_id"])
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

    async def delete(self, request: web.Request) -> web.Response:
        conn = self._gateway.get(request.match_info["connection_id"])
        if conn is None:
            return _gone()
        self._gateway.close(conn, WSCloseCode.OK, "")
        return web.Response(status=204)
