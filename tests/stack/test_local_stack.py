"""The local stack behaves like API Gateway, Cognito's authorizer and EventBridge.

Most tests serve a small stand-in Chalice app (written to a temp dir) so each gateway behaviour
can be provoked on purpose; the last test runs the real app.py through the stack.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import boto3
import jwt
import moto
import pytest
from botocore.httpsession import URLLib3Session
from cryptography.hazmat.primitives.asymmetric import rsa

import infra.local.management
from infra.local.scheduler import interval_seconds
from infra.local.stack import LocalStack
from tests.support.polling import wait_for
from tests.support.stack_http import request

FAKE_APP = """
import json
import os

import boto3
from chalice import Chalice, CognitoUserPoolAuthorizer, Rate, Response

app = Chalice(app_name="fakeapp")
app.experimental_feature_flags.update(["WEBSOCKETS"])
CALLS = []
cognito = CognitoUserPoolAuthorizer("pool", provider_arns=[os.environ["COGNITO_USER_POOL_ARN"]])


_clients = []


def _management():
    if not _clients:
        _clients.append(boto3.session.Session().client(
            "apigatewaymanagementapi", endpoint_url=os.environ["WS_MANAGEMENT_URL"]
        ))
    return _clients[0]


@app.route("/public")
def public():
    CALLS.append(("rest", "/public"))
    return {"ok": True, "query": app.current_request.query_params}


@app.route("/things/{thing_id}")
def thing(thing_id):
    CALLS.append(("rest", "/things/{thing_id}"))
    query = app.current_request.query_params or {}
    return {"thing_id": thing_id, "query": {name: query.getlist(name) for name in query}}


@app.route("/things/{thing_id}/parts")
def parts(thing_id):
    CALLS.append(("rest", "/things/{thing_id}/parts"))
    return {"parts_of": thing_id}


@app.route("/private", authorizer=cognito)
def private():
    CALLS.append(("rest", "/private"))
    return {"claims": app.current_request.context["authorizer"]["claims"]}


@app.on_ws_connect()
def connect(event):
    data = event.to_dict()
    CALLS.append(("connect", data))
    ticket = (data.get("queryStringParameters") or {}).get("ticket")
    if ticket == "deny":
        return Response({"message": "Forbidden"}, status_code=403)
    if ticket == "boom":
        raise RuntimeError("connect failed")
    return None


@app.on_ws_message()
def message(event):
    CALLS.append(("message", event.to_dict()))
    body = json.loads(event.body)
    if body.get("action") == "boom":
        raise RuntimeError("boom")
    if body.get("action") == "echo":
        data = json.dumps({"echo": body.get("text")}).encode()
        _management().post_to_connection(ConnectionId=event.connection_id, Data=data)


@app.on_ws_disconnect()
def disconnect(event):
    CALLS.append(("disconnect", event.to_dict()))


@app.schedule(Rate(1, unit=Rate.MINUTES))
def tick(event):
    CALLS.append(("tick", event.to_dict()))
    return "ticked"
"""


class RecordingAppData:
    """Stands in for functions/: records what the stack asks the app to set up."""

    def __init__(self) -> None:
        self.tables_created = 0
        self.profiles: list[dict[str, Any]] = []
        self.settings: list[dict[str, Any]] = []
        self.resets = 0

    def create_tables(self) -> None:
        self.tables_created += 1

    def ensure_profile(self, **profile: Any) -> None:
        self.profiles.append(profile)

    def save_settings(self, settings: dict[str, Any]) -> None:
        self.settings.append(settings)

    def reset_clients(self) -> None:
        self.resets += 1


@pytest.fixture(scope="module")
def site_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A repo-like root with a built widget but no built console, plus the stand-in app."""
    root = tmp_path_factory.mktemp("root")
    (root / "widget" / "dist").mkdir(parents=True)
    (root / "widget" / "dist" / "loader.js").write_text("console.log('loader');\n")
    (root / "widget" / "dist" / "lang").mkdir()
    (root / "widget" / "dist" / "lang" / "es.js").write_text("Charla._lang('es', []);\n")
    (root / "stack_fake_app.py").write_text(FAKE_APP)
    sys.path.insert(0, str(root))
    yield root
    sys.path.remove(str(root))


def _start(root: Path, **kwargs: Any) -> tuple[LocalStack, RecordingAppData]:
    data = RecordingAppData()
    stack = LocalStack(port=0, app_module="stack_fake_app", app_data=data, root=root, **kwargs)
    stack.start()
    return stack, data


@pytest.fixture(scope="module")
def stack(site_root: Path) -> Iterator[LocalStack]:
    started, _ = _start(site_root)
    yield started
    started.stop()


def calls(stack: LocalStack, kind: str) -> list[Any]:
    app: Any = stack.app
    return [payload for name, payload in list(app.CALLS) if name == kind]


def management(stack: LocalStack) -> Any:
    return boto3.session.Session().client(
        "apigatewaymanagementapi",
        endpoint_url=stack.management_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 30))


# --- static files -------------------------------------------------------------------------------

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self' ws: wss:; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


def test_demo_page_embeds_the_one_line_snippet_under_a_csp(stack: LocalStack) -> None:
    status, headers, body = request("GET", stack.demo_url + "/")
    page = body.decode()
    assert status == 200
    snippet = f'<script async src="{stack.base_url}/widget/loader.js"></script>'
    assert snippet in [line.strip() for line in page.splitlines()]
    assert page.count("<script") == 1
    assert headers["X-Content-Type-Options"] == "nosniff"
    csp = headers["Content-Security-Policy"]
    assert "object-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    status, headers, _ = request("GET", stack.demo_url + "/demo/site.css")
    assert status == 200 and headers["Content-Type"].startswith("text/css")


def test_the_demo_site_has_an_origin_of_its_own_and_the_main_port_leads_there(stack: LocalStack) -> None:
    assert stack.demo_url != stack.base_url
    status, headers, _ = request("GET", stack.base_url + "/?p=bikes")
    assert status == 302 and headers["Location"] == stack.demo_url + "/?p=bikes"
    status, _, _ = request("GET", stack.demo_url + "/agent/")
    assert status == 404  # the console stays on the API's origin


def test_built_assets_are_served_and_missing_ones_say_how_to_build(stack: LocalStack, site_root: Path) -> None:
    status, headers, body = request("GET", stack.base_url + "/widget/loader.js")
    assert status == 200 and b"loader" in body
    assert headers["Content-Type"].startswith("text/javascript")
    assert headers["Access-Control-Allow-Origin"] == "*"  # fetched from customers' sites
    assert headers["X-Content-Type-Options"] == "nosniff"
    # The widget's language files, in their folder, are served the same way.
    status, headers, body = request("GET", stack.base_url + "/widget/lang/es.js")
    assert status == 200 and b"_lang('es'" in body
    assert headers["Content-Type"].startswith("text/javascript") and headers["X-Content-Type-Options"] == "nosniff"
    assert request("GET", stack.base_url + "/widget/nope.js")[0] == 404
    assert request("GET", stack.base_url + "/widget/%2e%2e/stack_fake_app.py")[0] == 404

    status, headers, body = request("GET", stack.base_url + "/agent/")
    assert status == 503 and b"npm run build" in body
    assert str(site_root) not in body.decode()

    agent_dist = site_root / "agent-ui" / "dist"
    agent_dist.mkdir(parents=True)
    (agent_dist / "index.html").write_text("<!doctype html><title>Console</title>")
    (agent_dist / "app.js").write_text("export {};")
    status, headers, body = request("GET", stack.base_url + "/agent/")
    assert status == 200 and b"Console" in body
    # The console's policy adds only the local object store, where presigned uploads go (S3 on AWS).
    store = stack.moto_url
    expected = CSP.replace("ws: wss:;", f"ws: wss: {store};").replace("data:;", f"data: {store};")
    assert headers["Content-Security-Policy"] == expected
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert request("GET", stack.base_url + "/agent/chats/42")[2] == body  # client-side routes
    assert request("GET", stack.base_url + "/agent/app.js")[0] == 200
    status, headers, _ = request("GET", stack.base_url + "/agent")
    assert status == 301 and headers["Location"] == "/agent/"


def test_runtime_json_points_at_this_stack(stack: LocalStack) -> None:
    for path in ("/widget/runtime.json", "/agent/runtime.json"):
        status, _, body = request("GET", stack.base_url + path)
        assert status == 200
        assert json.loads(body) == {"api": stack.base_url + "/api", "ws": stack.ws_url}


# --- REST and the Cognito authorizer ---------------------------------------------------------------


def test_rest_routes_are_served_under_api(stack: LocalStack) -> None:
    status, headers, body = request("GET", stack.api_url + "/public?x=1")
    assert status == 200 and json.loads(body) == {"ok": True, "query": {"x": "1"}}
    assert headers["Content-Type"] == "application/json"
    status, _, body = request("GET", stack.api_url + "/nowhere")
    assert status == 403 and b"Missing Authentication Token" in body


@pytest.mark.parametrize(
    ("sent", "received"),
    [
        ("a%2Fparts", "a/parts"),  # not /things/a/parts
        ("a%3Fx=1", "a?x=1"),  # not a query
        ("a%23b", "a#b"),  # not a fragment
        ("a%3Bb", "a;b"),  # not URL params
        ("a;b", "a;b"),
        ("a%0Ab", "a\nb"),  # still under /api
        ("a%252F", "a%2F"),  # decoded once
        ("%C3%A9%20", "é "),
    ],
)
def test_a_path_parameter_is_routed_encoded_and_handed_over_decoded(
    stack: LocalStack, sent: str, received: str
) -> None:
    # API Gateway routes on the path as sent, splitting on its real slashes, and decodes each parameter;
    # the query string is decoded once too (a%2526b is a%26b).
    status, _, body = request("GET", f"{stack.api_url}/things/{sent}?q=1&q=a%2526b&r=x%3Dy")
    assert status == 200, body
    assert json.loads(body) == {"thing_id": received, "query": {"q": ["1", "a%26b"], "r": ["x=y"]}}
    assert json.loads(request("GET", f"{stack.api_url}/things/{sent}/parts/")[2]) == {"parts_of": received}


def test_a_valid_id_token_reaches_the_app_with_api_gateway_claims(stack: LocalStack) -> None:
    token = stack.id_token(stack.demo_email, stack.demo_password)
    for header in (token, f"Bearer {token}"):
        status, _, body = request("GET", stack.api_url + "/private", {"Authorization": header})
        assert status == 200, body
        claims = json.loads(body)["claims"]
        assert claims["cognito:groups"] == "admin"
        assert claims["sub"] == stack.demo_agent_id
        assert claims["email"] == stack.demo_email
        assert claims["token_use"] == "id"
        assert claims["exp"].endswith(time.strftime("%Y", time.gmtime())) and "UTC" in claims["exp"]


def _moto_signing_key() -> Any:
    path = Path(moto.__file__).parent / "cognitoidp" / "resources" / "jwks-private.json.gz"
    return jwt.PyJWK(json.loads(gzip.decompress(path.read_bytes()))).key


def _claims(stack: LocalStack, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": f"https://cognito-idp.us-east-1.amazonaws.com/{stack.user_pool_id}",
        "sub": stack.demo_agent_id,
        "aud": stack.client_id,
        "token_use": "id",
        "iat": now,
        "exp": now + 3600,
        "email": stack.demo_email,
        "cognito:groups": ["admin"],
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _forge(claims: dict[str, Any], key: Any = None, alg: str = "RS256") -> str:
    return jwt.encode(claims, key if key is not None else _moto_signing_key(), algorithm=alg, headers={"kid": "dummy"})


def test_bad_tokens_get_401_without_invoking_the_app(stack: LocalStack) -> None:
    # A control: moto's own key with good claims passes, so each refusal below is for its one flaw.
    assert request("GET", stack.api_url + "/private", {"Authorization": _forge(_claims(stack))})[0] == 200

    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    good = stack.id_token(stack.demo_email, stack.demo_password)
    head, payload, signature = good.split(".")
    tampered_payload = jwt.utils.base64url_encode(
        json.dumps({**jwt.decode(good, options={"verify_signature": False}), "cognito:groups": ["x"]}).encode()
    ).decode()
    bad_tokens = {
        "forged signature": _forge(_claims(stack), key=other_key),
        "tampered payload": f"{head}.{tampered_payload}.{signature}",
        "expired": _forge(_claims(stack, iat=int(time.time()) - 7200, exp=int(time.time()) - 60)),
        "wrong audience": _forge(_claims(stack, aud="someone-else")),
        "wrong issuer": _forge(_claims(stack, iss="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_x")),
        "access token": _forge(_claims(stack, token_use="access", aud=None, client_id=stack.client_id)),
        "no exp": _forge(_claims(stack, exp=None)),
        "alg none": jwt.encode(_claims(stack), "", algorithm="none"),
        "garbage": "not-a-jwt",
    }
    before = len(calls(stack, "rest"))
    for flaw, token in bad_tokens.items():
        status, headers, body = request("GET", stack.api_url + "/private", {"Authorization": token})
        assert status == 401, flaw
        assert json.loads(body) == {"Code": "unauthorized", "Message": "Unauthorized"}, flaw
        assert headers["x-amzn-ErrorType"] == "UnauthorizedException"
    status, _, _ = request("GET", stack.api_url + "/private")
    assert status == 401
    assert len(calls(stack, "rest")) == before


# --- WebSocket ----------------------------------------------------------------------------------


async def _open(stack: LocalStack, session: aiohttp.ClientSession, ticket: str = "ok") -> Any:
    return await session.ws_connect(
        f"{stack.ws_url}?ticket={ticket}", headers={"Origin": stack.base_url}, autoclose=False
    )


async def _connection_id(stack: LocalStack, known: set[str]) -> str:
    for _ in range(250):
        fresh = set(stack.connection_ids()) - known
        if fresh:
            return fresh.pop()
        await asyncio.sleep(0.02)
    raise AssertionError("no new connection")


def _disconnect_of(stack: LocalStack, connection_id: str) -> dict[str, Any]:
    def find() -> Any:
        for event in calls(stack, "disconnect"):
            if event["requestContext"]["connectionId"] == connection_id:
                return event
        return None

    return wait_for(find)


def test_connect_event_has_the_api_gateway_shape(stack: LocalStack) -> None:
    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            ws = await _open(stack, session, ticket="t-123")
            await ws.close()

    run(scenario())
    event = calls(stack, "connect")[-1]
    context = event["requestContext"]
    assert event["queryStringParameters"] == {"ticket": "t-123"}
    assert event["multiValueQueryStringParameters"] == {"ticket": ["t-123"]}
    assert event["headers"]["Origin"] == stack.base_url
    assert event["multiValueHeaders"]["Origin"] == [stack.base_url]
    assert event["isBase64Encoded"] is False
    assert context["routeKey"] == "$connect" and context["eventType"] == "CONNECT"
    assert context["messageDirection"] == "IN" and context["stage"] == "local"
    assert context["apiId"] == "local" and context["domainName"] == f"127.0.0.1:{stack.port}"
    assert len(context["connectionId"]) == 16 and context["connectionId"].endswith("=")
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert isinstance(context["connectedAt"], int) and isinstance(context["requestTimeEpoch"], int)
    assert context["requestId"]


def test_connect_refusal_propagates_the_status(stack: LocalStack) -> None:
    async def scenario(ticket: str) -> int:
        async with aiohttp.ClientSession() as session:
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await _open(stack, session, ticket=ticket)
            return refused.value.status

    before = set(stack.connection_ids())
    assert run(scenario("deny")) == 403
    assert run(scenario("boom")) == 500
    assert set(stack.connection_ids()) == before
    refused = {event["requestContext"]["connectionId"] for event in calls(stack, "connect")[-2:]}
    time.sleep(0.2)
    assert not refused & {event["requestContext"]["connectionId"] for event in calls(stack, "disconnect")}
    assert request("GET", stack.base_url + "/ws")[0] == 426


def test_messages_reach_default_and_the_app_can_post_back(stack: LocalStack) -> None:
    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            known = set(stack.connection_ids())
            ws = await _open(stack, session)
            connection_id = await _connection_id(stack, known)
            await ws.send_str(json.dumps({"action": "echo", "text": "héllo"}))
            reply = await ws.receive(timeout=5)
            assert json.loads(reply.data) == {"echo": "héllo"}
            event = [e for e in calls(stack, "message") if e["requestContext"]["connectionId"] == connection_id][-1]
            assert event["requestContext"]["routeKey"] == "$default"
            assert event["requestContext"]["eventType"] == "MESSAGE"
            assert event["requestContext"]["messageId"]
            await ws.close(code=4001, message=b"bye")
            disconnect = await asyncio.to_thread(_disconnect_of, stack, connection_id)
            assert disconnect["requestContext"]["eventType"] == "DISCONNECT"
            assert disconnect["requestContext"]["disconnectStatusCode"] == 4001
            assert disconnect["requestContext"]["disconnectReason"] == "bye"

    run(scenario())


def test_a_failing_handler_answers_internal_server_error_and_keeps_the_socket(stack: LocalStack) -> None:
    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            ws = await _open(stack, session)
            await ws.send_str(json.dumps({"action": "boom"}))
            error = json.loads((await ws.receive(timeout=5)).data)
            assert error["message"] == "Internal server error"
            assert error["connectionId"] and error["requestId"]
            await ws.send_str(json.dumps({"action": "echo", "text": "still here"}))
            assert json.loads((await ws.receive(timeout=5)).data) == {"echo": "still here"}
            await ws.close()

    run(scenario())


@pytest.mark.parametrize("in_process", [True, False], ids=["in-process", "over-http"])
def test_management_api_delivers_to_live_sockets_and_answers_gone_otherwise(
    stack: LocalStack, in_process: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app's clients reach the API in process (no HTTP request); anyone else over HTTP; both alike."""
    client = management(stack)
    if not in_process:
        client.meta.events.unregister("before-send", infra.local.management._before_send)
    sent_over_http: list[str] = []
    send = URLLib3Session.send

    def counting_send(session: URLLib3Session, request: Any) -> Any:
        sent_over_http.append(request.url)
        return send(session, request)

    monkeypatch.setattr(URLLib3Session, "send", counting_send)

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            known = set(stack.connection_ids())
            ws = await _open(stack, session)
            connection_id = await _connection_id(stack, known)
            await asyncio.to_thread(client.post_to_connection, ConnectionId=connection_id, Data=b'{"type":"pong"}')
            assert json.loads((await ws.receive(timeout=5)).data) == {"type": "pong"}
            info = await asyncio.to_thread(client.get_connection, ConnectionId=connection_id)
            assert info["Identity"]["SourceIp"] == "127.0.0.1"
            assert info["ConnectedAt"] <= info["LastActiveAt"]

            with pytest.raises(client.exceptions.PayloadTooLargeException):
                await asyncio.to_thread(client.post_to_connection, ConnectionId=connection_id, Data=b"x" * 140_000)

            await asyncio.to_thread(client.delete_connection, ConnectionId=connection_id)
            closed = await ws.receive(timeout=5)
            assert closed.type == aiohttp.WSMsgType.CLOSE
            await ws.close()
            await asyncio.to_thread(_disconnect_of, stack, connection_id)
            with pytest.raises(client.exceptions.GoneException):
                await asyncio.to_thread(client.post_to_connection, ConnectionId=connection_id, Data=b"late")

    run(scenario())
    for call in (
        lambda: client.post_to_connection(ConnectionId="NoSuchConnId0A=", Data=b"x"),
        lambda: client.get_connection(ConnectionId="NoSuchConnId0A="),
        lambda: client.delete_connection(ConnectionId="NoSuchConnId0A="),
    ):
        with pytest.raises(client.exceptions.GoneException) as gone:
            call()
        assert gone.value.response["ResponseMetadata"]["HTTPStatusCode"] == 410
    assert bool(sent_over_http) is not in_process


def test_an_oversized_frame_closes_with_1009(stack: LocalStack) -> None:
    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            known = set(stack.connection_ids())
            ws = await _open(stack, session)
            connection_id = await _connection_id(stack, known)
            await ws.send_str("x" * (32 * 1024 + 1))
            closed = await ws.receive(timeout=5)
            assert closed.type == aiohttp.WSMsgType.CLOSE and closed.data == 1009
            await ws.close()
            event = await asyncio.to_thread(_disconnect_of, stack, connection_id)
            assert event["requestContext"]["disconnectStatusCode"] == 1009

    run(scenario())


def test_a_frame_of_exactly_32_kb_passes(stack: LocalStack) -> None:
    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            ws = await _open(stack, session)
            text = "y" * (32 * 1024 - len('{"action":"echo","text":""}'))
            await ws.send_str(json.dumps({"action": "echo", "text": text}, separators=(",", ":")))
            assert json.loads((await ws.receive(timeout=5)).data) == {"echo": text}
            await ws.close()

    run(scenario())


def test_a_binary_frame_closes_with_1003(stack: LocalStack) -> None:
    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            ws = await _open(stack, session)
            await ws.send_bytes(b"\x00\x01")
            closed = await ws.receive(timeout=5)
            assert closed.type == aiohttp.WSMsgType.CLOSE and closed.data == 1003
            await ws.close()

    run(scenario())


def test_a_dropped_connection_fires_disconnect_and_becomes_gone(stack: LocalStack) -> None:
    client = management(stack)

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            known = set(stack.connection_ids())
            ws = await _open(stack, session)
            connection_id = await _connection_id(stack, known)
            assert connection_id in json.loads(request("GET", stack.base_url + "/_local/connections")[2])
            assert request("POST", f"{stack.base_url}/_local/connections/{connection_id}/drop")[0] == 204
            message = await ws.receive(timeout=5)
            assert message.type in (
                aiohttp.WSMsgType.CLOSED,
                aiohttp.WSMsgType.CLOSE,
                aiohttp.WSMsgType.ERROR,
            )
            assert message.type != aiohttp.WSMsgType.CLOSE or message.data == 1006
            event = await asyncio.to_thread(_disconnect_of, stack, connection_id)
            assert event["requestContext"]["disconnectStatusCode"] == 1006
            assert connection_id not in stack.connection_ids()
            with pytest.raises(client.exceptions.GoneException):
                await asyncio.to_thread(client.post_to_connection, ConnectionId=connection_id, Data=b"x")
            assert stack.drop_connection(connection_id) is False

    run(scenario())


def test_idle_and_lifetime_limits_close_the_socket(site_root: Path) -> None:
    for kwargs in ({"idle_seconds": 0.6}, {"idle_seconds": 60, "max_seconds": 0.8}):
        limited, _ = _start(site_root, **kwargs)
        busy = "max_seconds" in kwargs
        try:

            async def scenario(stack: LocalStack = limited, busy: bool = busy) -> float:
                async with aiohttp.ClientSession() as session:
                    known = set(stack.connection_ids())
                    ws = await _open(stack, session)
                    connection_id = await _connection_id(stack, known)
                    opened = time.monotonic()
                    if busy:
                        for _ in range(4):  # activity does not extend the lifetime
                            await asyncio.sleep(0.15)
                            await ws.send_str('{"action":"noop"}')
                    closed = await ws.receive(timeout=5)
                    assert closed.type == aiohttp.WSMsgType.CLOSE and closed.data == 1001
                    await ws.close()
                    event = await asyncio.to_thread(_disconnect_of, stack, connection_id)
                    assert event["requestContext"]["disconnectStatusCode"] == 1001
                    return time.monotonic() - opened

            elapsed = run(scenario())
            assert 0.4 < elapsed < 3
        finally:
            limited.stop()


# --- scheduler, setup and teardown --------------------------------------------------------------


def test_rate_schedules_are_found_and_run_with_a_scheduled_event(stack: LocalStack) -> None:
    assert interval_seconds("rate(5 minutes)") == 300
    assert interval_seconds("rate(1 hour)") == 3600
    assert interval_seconds("cron(0 12 * * ? *)") is None
    assert stack.schedule_names() == ["tick"]
    assert stack.run_schedule("tick") == "ticked"
    event = calls(stack, "tick")[-1]
    assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events"
    assert event["resources"][0].endswith(":rule/fakeapp-local-tick")
    assert request("POST", stack.base_url + "/_local/schedules/tick")[0] == 204


def test_stop_restores_the_environment(site_root: Path) -> None:
    os.environ["WS_MANAGEMENT_URL"] = "https://before.example/test"
    os.environ.pop("CHARLA_STAGE", None)
    before = dict(os.environ)
    started, data = _start(site_root)
    assert os.environ["WS_MANAGEMENT_URL"] == started.management_url
    assert os.environ["AWS_ENDPOINT_URL_DYNAMODB"] == started.moto_url
    assert os.environ["AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER"] == started.moto_url
    assert os.environ["CHARLA_TABLE_PREFIX"] == "charla-local"
    assert data.tables_created == 1
    assert data.profiles == [
        {
            "agent_id": started.demo_agent_id,
            "email": "admin@charla.local",
            "name": "Demo Admin",
            "role": "admin",
            "accepting": True,
        }
    ]
    assert data.settings == [
        {
            "allowed_origins": [
                started.demo_url,
                f"http://localhost:{started.demo_port}",
                started.base_url,
                f"http://localhost:{started.port}",
            ],
            "support_email": "support@charla.local",
        }
    ]
    agent_id = started.create_agent("ana@example.com", "Passw0rd!x", "Ana")
    assert data.profiles[-1]["agent_id"] == agent_id and data.profiles[-1]["role"] == "agent"
    claims = jwt.decode(started.id_token("ana@example.com", "Passw0rd!x"), options={"verify_signature": False})
    assert claims["cognito:groups"] == ["agent"] and claims["sub"] == agent_id
    started.stop()
    assert dict(os.environ) == before
    assert data.resets >= 2
    del os.environ["WS_MANAGEMENT_URL"]


# --- the real app -----------------------------------------------------------------------------------


@pytest.mark.skipif(not (Path(__file__).parents[2] / "app.py").exists(), reason="app.py not written yet")
def test_the_real_app_runs_through_the_stack() -> None:
    with LocalStack(port=0) as real:
        status, _, body = request("GET", real.api_url + "/health")
        assert (status, json.loads(body)) == (200, {"ok": True})
        token = real.id_token(real.demo_email, real.demo_password)
        status, _, body = request("GET", real.api_url + "/agent/me", {"Authorization": token})
        assert status == 200, body
        assert request("GET", real.api_url + "/agent/me", {"Authorization": token[:-4] + "AAAA"})[0] == 401
        status, _, body = request("POST", real.api_url + "/agent/ws-ticket", {"Authorization": token})
        assert status == 201, body
        ticket = json.loads(body)["ticket"]

        async def scenario() -> None:
            async with aiohttp.ClientSession() as session:
                ws = await session.ws_connect(f"{real.ws_url}?ticket={ticket}", headers={"Origin": real.base_url})
                await ws.send_str(json.dumps({"action": "ping"}))
                assert json.loads((await ws.receive(timeout=10)).data)["type"] == "pong"
                await ws.close()
            async with aiohttp.ClientSession() as session:
                with pytest.raises(aiohttp.WSServerHandshakeError) as refused:  # the ticket is single-use
                    await session.ws_connect(f"{real.ws_url}?ticket={ticket}")
                assert refused.value.status == 401

        run(scenario())
        for name in real.schedule_names():
            real.run_schedule(name)


@pytest.mark.skipif(not (Path(__file__).parents[2] / "app.py").exists(), reason="app.py not written yet")
def test_moto_in_its_own_process_serves_the_app_and_the_outbox_and_stops_with_the_stack() -> None:
    # As `make run` and the e2e benchmark start it.
    with LocalStack(port=0, moto_process=True, ses_production_access=True) as real:
        token = real.id_token(real.demo_email, real.demo_password)  # Cognito, in moto's process
        status, _, body = request("GET", real.api_url + "/agent/me", {"Authorization": token})
        assert status == 200 and json.loads(body)["email"] == real.demo_email  # DynamoDB, likewise
        boto3.client("ses", region_name="us-east-1").send_email(
            Source="support@charla.local",
            Destination={"ToAddresses": ["vera@example.com"]},
            Message={"Subject": {"Data": "Sent from the stack"}, "Body": {"Text": {"Data": "hola"}}},
        )
        status, _, body = request("GET", real.base_url + "/_local/outbox.json")
        assert status == 200
        assert [(m["subject"], m["to"]) for m in json.loads(body)["messages"]] == [
            ("Sent from the stack", ["vera@example.com"])
        ]
        moto_url = real.moto_url
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(moto_url + "/moto-api/", timeout=5)


def test_local_tools_answer_loopback_names_only(stack: LocalStack) -> None:
    """A page that points its own name at 127.0.0.1 (DNS rebinding) can't read the stack's tools."""
    port = stack.port
    tools = [
        ("GET", "/_local/outbox.json"),
        ("GET", "/_local/outbox"),
        ("GET", "/_local/connections"),
        ("POST", "/_local/schedules/tick"),
        ("POST", "/_local/connections/nobody=/drop"),
    ]
    for host in (
        f"evil.example:{port}",
        "evil.example",
        f"127.0.0.1.nip.io:{port}",
        f"localhost.evil.example:{port}",
        f"10.0.0.5:{port}",
        f"[::2]:{port}",
        "localhost:80@evil.example",
        "",
    ):
        for method, path in tools:
            status, _, body = request(method, stack.base_url + path, headers={"Host": host})
            assert status == 403, (host, path, status)
            assert b"localhost only" in body
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}", "LOCALHOST", "127.0.0.1"):
        assert request("GET", stack.base_url + "/_local/outbox.json", headers={"Host": host})[0] == 200, host
        assert request("GET", stack.base_url + "/_local/connections", headers={"Host": host})[0] == 200, host
    # Only the tools are held to loopback names: the check lets every other path through.
    status, _, body = request("GET", stack.api_url + "/public", headers={"Host": f"evil.example:{port}"})
    assert status != 403 and b"localhost only" not in body
