"""What every REST handler needs: a parsed body, the caller, and query parameters, or a clear 4xx."""

from __future__ import annotations

from typing import Any

from chalice import BadRequestError
from chalice.app import Request

from functions import agents, settings, visitors
from functions.errors import CharlaError, bad_request
from functions.principals import Principal, agent_from_claims


def json_body(request: Request) -> dict[str, Any]:
    try:
        body = request.json_body
    except BadRequestError:
        raise bad_request("The body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise bad_request("The body must be a JSON object (and Content-Type application/json).")
    return body


def check_origin(request: Request) -> None:
    if not settings.origin_allowed(request.headers.get("origin")):
        raise CharlaError("origin_not_allowed", "This website is not allowed to use this chat.")


def visitor(request: Request) -> Principal:
    check_origin(request)
    return visitors.authenticate(request.headers.get("authorization"))


def agent(request: Request) -> Principal:
    """The token was verified by API Gateway's Cognito authorizer; here we add the disabled check."""
    claims = (request.context.get("authorizer") or {}).get("claims") or {}
    if "sub" not in claims:
        raise CharlaError("unauthorized", "Sign in first.")
    principal = agent_from_claims(claims)
    agents.ensure_from_principal(principal, claims.get("email"))
    return principal


def after_param(request: Request) -> int:
    params: Any = request.query_params or {}
    raw = str(params.get("after") or "0")
    if not raw.isdigit() or len(raw) > 12:
        raise bad_request("`after` must be a whole number of 0 or more.")
    return int(raw)
