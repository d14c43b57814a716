"""Shared fixtures: moto-backed AWS for unit tests, and API Gateway-shaped events."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from urllib.parse import quote

# Before anything imports botocore: tests never reach a real AWS account.
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_SESSION_TOKEN="testing",
    AWS_REGION="us-east-1",
    AWS_DEFAULT_REGION="us-east-1",
)

import pytest  # noqa: E402
from moto import mock_aws  # noqa: E402

from functions.chat import messages
from functions.core import aws as charla_aws  # noqa: E402
from functions.realtime import connections
from functions.visitors import limits  # noqa: E402
from infra.local import moto_isolation, moto_key_limits, moto_speedups, s3_post_policy, ses_sandbox  # noqa: E402
from tests.support import fresh_account  # noqa: E402

# The tests run on moto as the local stack runs it.
moto_isolation.install()
moto_speedups.install()
s3_post_policy.install()
moto_key_limits.install()  # as strict as DynamoDB: an over-long key is a ValidationException
ses_sandbox.install()
fresh_account.share_service_descriptions()  # each test's new clients skip re-parsing botocore's JSON
fresh_account.share_cognito_signing_key()  # each test's new user pool skips re-importing moto's one key

# The admin tests' fixtures (api, pool, closed), shared by several packages' tests.
pytest_plugins = ["tests.support.admin"]

MANAGEMENT_URL = "https://abc123.execute-api.us-east-1.amazonaws.com/test"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch):
    """A fresh moto account with every Charla table, and a management API that records frames."""
    for name in list(os.environ):
        if name.startswith("AWS_ENDPOINT_URL"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("WS_MANAGEMENT_URL", MANAGEMENT_URL)
    # Most tests mail example.com addresses, as an account with SES production access may; the
    # sandbox's own tests switch it off (tests/unit/core/test_mail_sandbox.py).
    monkeypatch.setenv(ses_sandbox.PRODUCTION_ACCESS_VARIABLE, "1")
    # Unit tests push hundreds of frames through one connection in a burst to set a scene; the
    # rate-limit tests put the real limits back.
    monkeypatch.setattr(connections, "RATE_LIMIT", 100_000)
    monkeypatch.setattr(messages, "VISITOR_LIMIT", 100_000)
    monkeypatch.setattr(connections, "MAX_VISITOR_TABS", 100_000)
    # Every unit-test caller comes from one address; tests/unit/visitors/test_limits.py puts the real limits back.
    monkeypatch.setattr(limits, "RULES", {k: replace(r, limit=100_000) for k, r in limits.RULES.items()})
    monkeypatch.setattr(limits, "MAX_QUEUED", 100_000)
    with mock_aws():
        charla_aws.reset()
        fresh_account.create_tables()  # as tables.create_all() would, from a copy made once per process
        # Team-wide notices wait here until a test drains them (tests/support/actors.py: drain_notices).
        queue = charla_aws.client("sqs").create_queue(QueueName="charla-agent-notices")
        monkeypatch.setenv("AGENT_NOTICE_QUEUE_URL", queue["QueueUrl"])
        yield
    charla_aws.reset()


@pytest.fixture
def faults(aws, monkeypatch: pytest.MonkeyPatch):
    """Fault mode (infra/local/faults.py) on the app's AWS clients: rates from CHARLA_FAULTS if set, none
    otherwise; a test scripts its own with `faults.once(...)` or sets `faults.rates`. botocore's backoff
    is zeroed: a test is about whether a retry happens, not how long it waits."""
    import botocore.retries.standard

    from infra.local import faults as fault_mode

    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)
    fault_mode.install()
    charla_aws.reset()  # clients made from now on carry the hook
    injector = fault_mode.from_environment(os.environ) or fault_mode.Faults()
    fault_mode.activate(injector)
    try:
        yield injector
    finally:
        fault_mode.uninstall()
        charla_aws.reset()


def sent_frames(connection_id: str) -> list[dict]:
    """Frames posted to a connection through moto's management API, which appends raw bytes."""
    from moto.apigatewaymanagementapi.models import apigatewaymanagementapi_backends

    backend = apigatewaymanagementapi_backends["123456789012"]["us-east-1"]
    # moto keys connections by the URL-encoded id ("abc=" arrives as "abc%3D").
    data = backend.connections[quote(connection_id, safe="")].data.decode()
    frames, decoder, index = [], json.JSONDecoder(), 0
    while index < len(data):
        frame, index = decoder.raw_decode(data, index)
        frames.append(frame)
    return frames


def clear_frames(connection_id: str) -> None:
    from moto.apigatewaymanagementapi.models import apigatewaymanagementapi_backends

    backend = apigatewaymanagementapi_backends["123456789012"]["us-east-1"]
    backend.connections[quote(connection_id, safe="")].data = b""


def ws_event(
    route: str,
    connection_id: str,
    *,
    body: str | None = None,
    ticket: str | None = None,
    origin: str | None = "http://127.0.0.1:8000",
    source_ip: str = "203.0.113.9",
) -> dict:
    """The event API Gateway sends a WebSocket Lambda integration, trimmed of unused fields."""
    event_type = {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(route, "MESSAGE")
    event: dict = {
        "requestContext": {
            "routeKey": route,
            "eventType": event_type,
            "messageDirection": "IN",
            "stage": "test",
            "connectionId": connection_id,
            "apiId": "abc123",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "requestId": "req-" + connection_id,
            "requestTimeEpoch": 1_700_000_000_000,
            "connectedAt": 1_700_000_000_000,
            "identity": {"sourceIp": source_ip, "userAgent": "pytest"},
        },
        "isBase64Encoded": False,
    }
    if route == "$connect":
        event["headers"] = {"Origin": origin} if origin else {}
        event["queryStringParameters"] = {"ticket": ticket} if ticket else None
    if body is not None:
        event["body"] = body
    return event


class DeadSockets(set):
    """Connection ids API Gateway will answer Gone for. A socket that died had been open a while,
    so its row is aged past the grace a socket still inside $connect gets."""

    def add(self, connection_id: str) -> None:  # type: ignore[override]
        from functions.core import clock
        from functions.models import Connection

        Connection(connection_id).update(actions=[Connection.connected_at.set(clock.iso_ago(60))])
        super().add(connection_id)


@pytest.fixture
def gone(monkeypatch):
    """Makes API Gateway answer 410 Gone for the given connection ids, as it does for dead sockets."""
    from functions.realtime import push

    dead = DeadSockets()
    client = push._client()
    real_post = client.post_to_connection

    def post(ConnectionId, Data):  # noqa: N803 - botocore's parameter names
        if ConnectionId in dead:
            raise client.exceptions.GoneException(
                {"Error": {"Code": "GoneException", "Message": "Gone"}}, "PostToConnection"
            )
        return real_post(ConnectionId=ConnectionId, Data=Data)

    monkeypatch.setattr(client, "post_to_connection", post)
    return dead


# Shared by the tests through the local stack and the browser tests; a module needing a different
# stack (other settings, a fresh one per test) defines its own fixture of the same name.
@pytest.fixture(scope="module")
def stack():
    from infra.local.stack import LocalStack

    with LocalStack(port=0, ses_production_access=True) as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    from tests.support.browser import chromium

    with chromium() as launched:
        yield launched


_FOLDER_MARKERS = {"stack": ("stack",), "browser": ("stack", "browser")}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The folder sets the marker: tests/stack/ runs through the local stack, tests/browser/ drives Chromium too."""
    tests = os.path.dirname(__file__)
    for item in items:
        folder = os.path.relpath(str(item.path), tests).split(os.sep)[0]
        for marker in _FOLDER_MARKERS.get(folder, ()):
            item.add_marker(marker)
