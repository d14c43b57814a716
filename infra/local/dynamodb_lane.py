"""A second door into moto's process, for DynamoDB's JSON calls alone: aiohttp's HTTP server on an event
loop of its own, handing each request straight to moto's DynamoDB handler.

The benchmark that drives the local stack hardest (e2e: 100 messages a second, 3 DynamoDB calls each)
spent 2.6 ms of moto's process CPU per call, of which moto's DynamoDB work was 1.1 ms (the same requests
replayed into moto's WSGI app). The rest was werkzeug's development server (a thread per connection,
headers parsed by `email.parser`), then Flask's request context, routing and CORS hooks, none of which a
DynamoDB call needs: it is always `POST /` with a JSON body and an `X-Amz-Target` naming the operation.
aiohttp parses HTTP in C and keeps connections alive; every DynamoDB call is serialised under
`moto_isolation`'s lock anyway, so answering on the loop's one thread loses no concurrency.

What moto answers is unchanged: the request reaches the same `DynamoHandler.dispatch` (with every patch
of `moto_server.install_patches`) as a werkzeug request of moto's own class, and its status, headers and
body go back as they are. Any other request is refused with 404, so a client pointed here by mistake
fails loudly; a body that is not a JSON object gets DynamoDB's 400 SerializationException, where
moto would fail with a 500.
"""

from __future__ import annotations

import asyncio
import io
import json
import threading
from typing import Any

from aiohttp import web
from botocore.exceptions import ClientError
from moto.dynamodb.responses import DynamoHandler
from moto.moto_server.werkzeug_app import BackendRequest

TARGET_PREFIX = "DynamoDB_20120810."
CONTENT_TYPE = "application/x-amz-json-1.0"


def _json_object(body: bytes) -> bool:
    try:
        return isinstance(json.loads(body.decode("utf-8")), dict)
    except (UnicodeDecodeError, ValueError):
        return False


def _environ(request: web.Request, body: bytes, host: str, port: int) -> dict[str, Any]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": request.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": request.path,
        "QUERY_STRING": request.query_string,
        "SERVER_NAME": host,
        "SERVER_PORT": str(port),
        "SERVER_PROTOCOL": f"HTTP/{request.version.major}.{request.version.minor}",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "CONTENT_LENGTH": str(len(body)),
    }
    for name, value in request.headers.items():
        key = name.upper().replace("-", "_")
        if key == "CONTENT_TYPE":
            environ[key] = value
        elif key != "CONTENT_LENGTH":
            environ[f"HTTP_{key}"] = value
    return environ


class DynamoDBLane:
    """`start()` binds a port and serves on a daemon thread; `port` is where."""

    def __init__(self, host: str) -> None:
        self._host = host
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="dynamodb-lane", daemon=True)

    def start(self) -> DynamoDBLane:
        self._thread.start()
        self._ready.wait(30)
        if not self.port:
            raise RuntimeError("the DynamoDB lane did not start")
        return self

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._bind())
        self._ready.set()
        self._loop.run_forever()

    async def _bind(self) -> None:
        app = web.Application(client_max_size=16 * 1024 * 1024)  # DynamoDB's own request limit
        app.router.add_route("*", "/{tail:.*}", self._answer)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def _answer(self, request: web.Request) -> web.Response:
        if not request.headers.get("X-Amz-Target", "").startswith(TARGET_PREFIX):
            return web.Response(status=404, text="This port serves DynamoDB's JSON API only.")
        body = await request.read()
        if not _json_object(body):
            # What DynamoDB answers a body that is not a JSON object (botocore never sends one).
            error = {"__type": "com.amazon.coral.service#SerializationException", "message": "Malformed request"}
            return web.json_response(error, status=400, content_type=CONTENT_TYPE)
        moto_request = BackendRequest(_environ(request, body, self._host, self.port))
        try:
            status, headers, content = DynamoHandler.dispatch(
                moto_request, moto_request.raw_url, dict(moto_request.headers)
            )
        except ClientError as error:  # as moto's own WSGI wrapper answers it
            status, headers, content = 400, {}, error.response["Error"]["Message"]
        answer = web.Response(status=int(status), body=content.encode() if isinstance(content, str) else content)
        for name, value in headers.items():
            if name.lower() not in ("status", "content-length", "server", "date"):
                answer.headers[name] = str(value)
        return answer
