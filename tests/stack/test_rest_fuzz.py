"""The REST API does what docs/openapi.yaml says, whatever it is sent.

Schemathesis generates requests from the document (valid ones, and ones that break it on purpose)
and sends them to the real app behind the local stack's API Gateway, with a demo admin's ID token
for agent and admin routes and a visitor's credentials for visitor routes, so the generator gets
past the authorizer into the handlers. Every response must be something other than a 5xx, carry a
documented status and content type, and match the documented schema. Together the operations send
at least 5,000 requests (marked `fuzz` as well as `stack`: about two minutes of CPU).

Below them, hostile input on every route: JSON nested 3,000 deep and a lone surrogate in each
documented field of every body (400 `bad_json` / `bad_request` naming the field), and an id longer
than any DynamoDB key on every path with a parameter (404).

A difference the run would otherwise keep tripping over goes in KNOWN_MISMATCHES, with a test of
its own below marked xfail until it is fixed, so it is reported once and precisely instead of
drowning the rest. None is open now.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks as general_checks
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi import checks as openapi_checks

from functions.core import settings as org_settings
from infra.local.stack import LocalStack

DOC = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
EXAMPLES_PER_OPERATION = 90
MIN_REQUESTS = 5000

schema = schemathesis.openapi.from_path(DOC).exclude(
    # Signs the demo admin out everywhere: every later agent request would be a 401 and reach nothing.
    path="/agent/me/signout-all",
)

CHECKS = [
    general_checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
]

SENT: list[tuple[str, str, int]] = []  # (method, path template, status) of every request made


# --- known differences between the document and what the deployed API answers ------------------


KNOWN_MISMATCHES: dict[str, Callable] = {}


def _needs_credentials(case) -> bool:
    same_method = case.method.upper() == case.operation.method.upper()
    return same_method and bool(case.operation.definition.raw.get("security"))


def _json(response) -> object:
    try:
        return json.loads(response.content or b"null")
    except ValueError:
        return None


# --- the stack and who calls it -------------------------------------------------------------------


class Credentials:
    """The Authorization header each kind of route needs: a demo admin's ID token, or a visitor's secret."""

    def __init__(self, stack: LocalStack) -> None:
        self.token = stack.id_token(stack.demo_email, stack.demo_password)
        identity = requests.post(stack.api_url + "/visitor/identity", timeout=10).json()
        self.visitor_id = identity["visitor_id"]
        self.visitor = f"Visitor {identity['visitor_id']}:{identity['secret']}"

    @staticmethod
    def keep_mfa_optional() -> None:
        """A generated `require_mfa: true` makes every later agent and admin route a documented 403 `mfa_required`
        that reaches no handler, PATCH /admin/settings included: switch it back off underneath the API."""
        if org_settings.get_fresh()["require_mfa"]:
            org_settings.save_settings({"require_mfa": False})

    def __call__(self, path: str) -> dict[str, str]:
        if path.startswith(("/agent/", "/admin/")):
            return {"Authorization": self.token}
        if path.startswith("/visitor/") and path != "/visitor/identity":
            return {"Authorization": self.visitor}
        return {}


@pytest.fixture(scope="module")
def credentials(stack) -> Credentials:
    return Credentials(stack)


@pytest.mark.fuzz
@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    # The same examples on every run, so a red CI names a change, not a lucky draw (turn it off locally to
    # explore further).
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
def test_every_response_is_documented(case, stack, credentials):
    headers = credentials(case.path)
    # A connection per request: the local stack's aiohttp leaves the body of a CONNECT request unread, to be
    # parsed as the next request on a kept-alive connection (API Gateway never sees CONNECT).
    response = case.call(base_url=stack.api_url, headers=headers, timeout=30)
    SENT.append((case.method, case.path, response.status_code))
    if case.path == "/admin/settings" and response.status_code == 200:
        credentials.keep_mfa_optional()
    if _needs_credentials(case) and "Authorization" not in response.request.headers:
        # Schemathesis's negative mode drops the credentials: nothing may get through without them.
        assert response.status_code == 401, (case.method, case.formatted_path, response.status_code)
    try:
        case.validate_response(response, checks=CHECKS, headers=headers)
    except FailureGroup as group:
        excused = any(known(response, case) for known in KNOWN_MISMATCHES.values())
        if not excused or any(f.title == "Server error" for f in group.exceptions):
            raise


@pytest.mark.fuzz
def test_the_generator_sent_enough_requests():
    """Runs after the generated tests above (pytest keeps file order); alone it has nothing to count."""
    if not SENT:
        pytest.skip("run together with test_every_response_is_documented")
    assert len(SENT) >= MIN_REQUESTS, len(SENT)
    assert not [s for s in SENT if s[2] >= 500]
    # The credentials got the generator past the authorizer into the handlers.
    assert sum(1 for method, path, status in SENT if path.startswith("/agent/") and status != 401) > 100


# --- each known mismatch, on its own -----------------------------------------------------------------


def test_a_missing_agent_token_gets_the_documented_error_body(stack):
    response = requests.get(stack.api_url + "/agent/me", timeout=10)
    assert response.status_code == 401
    assert set(_json(response)) == {"Code", "Message"}


@pytest.mark.parametrize("reserved", ["%3F", "%23", "%3B", "%2F", "%0A"])
def test_a_path_parameter_reaches_the_handler_whole(stack, credentials, reserved):
    # `<a real visitor id><reserved>x` names no visitor: the handler's own 404, not another visitor's profile.
    url = f"{stack.api_url}/agent/visitors/{credentials.visitor_id}{reserved}x"
    response = requests.get(url, headers=credentials("/agent/visitors/"), timeout=10)
    assert (response.status_code, _json(response)) == (404, {"Code": "not_found", "Message": "No such visitor."})


# --- hostile input on every route ---------------------------------------------------------------------

OPERATIONS = [
    (method.upper(), path, op)
    for path, ops in schemathesis.openapi.from_path(DOC).raw_schema["paths"].items()
    for method, op in ops.items()
    if method in ("get", "post", "put", "patch", "delete") and path != "/agent/me/signout-all"
]
BODY_ROUTES = [(method, path) for method, path, op in OPERATIONS if "requestBody" in op]
ID_ROUTES = [(method, path) for method, path, _op in OPERATIONS if "{" in path]
NESTED = {"arrays": "[" * 3000 + "]" * 3000, "objects": '{"a":' * 3000 + "1" + "}" * 3000}


def _fields(op: dict) -> list[str]:
    """The top-level properties a route's body documents."""
    content = op["requestBody"]["content"]
    schema_ = next(iter(content.values()))["schema"]
    if "$ref" in schema_:
        raw = schemathesis.openapi.from_path(DOC).raw_schema
        schema_ = raw["components"]["schemas"][schema_["$ref"].rsplit("/", 1)[1]]
    return sorted(schema_.get("properties") or {}) or ["anything"]


def _fill(path: str, ident: str) -> str:
    out, rest = "", path
    while "{" in rest:
        head, _, tail = rest.partition("{")
        out += head + ident
        rest = tail.partition("}")[2]
    return out + rest


def test_the_hostile_routes_were_found():
    assert len(BODY_ROUTES) >= 20 and ("POST", "/auth/login") in BODY_ROUTES and len(ID_ROUTES) >= 20


@pytest.mark.parametrize("shape", sorted(NESTED))
@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
def test_json_nested_3000_deep_is_a_400_on_every_route_that_reads_a_body(stack, credentials, method, path, shape):
    response = requests.request(
        method,
        stack.api_url + _fill(path, "x1"),
        data=NESTED[shape],
        headers={**credentials(path), "Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 400, (method, path, response.status_code, response.text[:200])
    assert _json(response)["Code"] == "bad_json"


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
def test_a_lone_surrogate_in_any_field_is_a_400_naming_the_field(stack, credentials, method, path):
    op = next(o for m, p, o in OPERATIONS if (m, p) == (method, path))
    for field in _fields(op):
        response = requests.request(
            method,
            stack.api_url + _fill(path, "x1"),
            data=f'{{"{field}": "a\\ud800b"}}',
            headers={**credentials(path), "Content-Type": "application/json"},
            timeout=30,
        )
        assert response.status_code == 400, (method, path, field, response.status_code, response.text[:200])
        body = _json(response)
        assert body["Code"] == "bad_request" and f"`{field}`" in body["Message"], response.text
        assert body.get("Field") == field, response.text  # what a client labels in its own language


@pytest.mark.parametrize(("method", "path"), ID_ROUTES)
def test_an_id_longer_than_any_key_is_a_404_not_a_500(stack, credentials, method, path):
    # 2,100 characters: over DynamoDB's 2,048-byte partition key (and 1,024-byte sort key) limit,
    # which the local stack enforces on reads as DynamoDB does.
    response = requests.request(
        method,
        stack.api_url + _fill(path, "v" * 2100),
        json={},
        headers=credentials(path),
        timeout=30,
    )
    assert response.status_code == 404, (method, path, response.status_code, response.text[:200])
    assert _json(response)["Code"] == "not_found"
