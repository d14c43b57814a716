"""What every REST handler needs: a parsed body, the caller, and query parameters, or a clear 4xx."""

from __future__ import annotations

import ipaddress
from typing import Any

from chalice.app import Request

from functions.admin import bans
from functions.core import settings, untrusted
from functions.core.errors import CharlaError, bad_request
from functions.core.principals import Principal, agent_from_claims, with_profile
from functions.team import agents, members, mfa, revocation
from functions.visitors import identity

# What each path parameter names, for the 404 an id that cannot exist gets.
_PATH_THINGS = {
    "chat_id": "chat",
    "visitor_id": "visitor",
    "ticket_id": "ticket",
    "attachment_id": "attachment",
    "agent_id": "agent",
    "ban_id": "ban",
    "webhook_id": "webhook",
    "rule_id": "greeting",
    "shortcut": "canned response",
    "tag_id": "tag",
}


def json_body(request: Request) -> dict[str, Any]:
    # Parsed by the one parser for untrusted JSON, not Chalice's `json_body` (which lets a
    # RecursionError from deeply nested JSON through as a 500).
    body = untrusted.parse_json(request.raw_body)
    if not isinstance(body, dict):
        raise bad_request("The body must be a JSON object (and Content-Type application/json).")
    return body


def check_request(request: Request) -> None:
    """Before any handler: a body is JSON, path parameters and query strings hold text, and ids could exist.

    Every route that reads a body reads JSON, so a hostile body gets the same 400 on all of them,
    whatever the handler would have checked first.
    """
    if request.raw_body:
        untrusted.parse_json(request.raw_body)
    params: Any = request.query_params or {}
    for name in params:
        untrusted.check_text(name, "A query parameter name")
        for value in params.getlist(name):
            untrusted.check_text(value, name)
    for name, value in (request.uri_params or {}).items():
        untrusted.key_id(value, name, _PATH_THINGS.get(name, name.removesuffix("_id")))


def check_origin(request: Request) -> None:
    if not settings.origin_allowed(request.headers.get("origin")):
        raise CharlaError("origin_not_allowed", "This website is not allowed to use this chat.")
    # Every visitor-facing route starts here, so banned addresses are refused here too (cached list).
    bans.check(None, source_ip(request))


# Behind CloudFront, API Gateway's `sourceIp` is taken from X-Forwarded-For, whose first entries the
# caller writes (re:Post, "What does the X-Forwarded-For note in the docs mean"). CloudFront-Viewer-Address
# is set by CloudFront itself from the viewer's connection, "IP:port", and reaches the origin when the
# origin request policy includes it, as Managed-AllViewerExceptHostHeader does (CloudFront Developer
# Guide, "Add CloudFront request headers" and "Use managed origin request policies").
VIEWER_ADDRESS = "cloudfront-viewer-address"
VIEWER_COUNTRY = "cloudfront-viewer-country"


def source_ip(request: Request) -> str | None:
    """The viewer's address: CloudFront's own header, else the gateway's `sourceIp` (no CloudFront)."""
    viewer = _address(request.headers.get(VIEWER_ADDRESS))
    return viewer or (request.context.get("identity") or {}).get("sourceIp")


def viewer_country(request: Request) -> str | None:
    """The viewer's country code, from the header CloudFront sets from its own geolocation."""
    country = str(request.headers.get(VIEWER_COUNTRY) or "").strip().upper()
    return country if len(country) == 2 and country.isascii() and country.isalpha() else None


def _address(value: str | None) -> str | None:
    # "198.51.100.10:46532", or an IPv6 address followed by ":port".
    host = str(value or "").strip().rpartition(":")[0].strip("[]")
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


def visitor(request: Request) -> Principal:
    check_origin(request)
    principal = identity.authenticate(request.headers.get("authorization"))
    bans.check(principal.id, None)  # a banned visitor id (the address was checked above)
    return principal


def agent(request: Request, *, mfa_setup: bool = False) -> Principal:
    """The token was verified by API Gateway's Cognito authorizer; here we add the disabled check.

    `mfa_setup` marks the few routes an agent may call while an admin requires TOTP they lack.
    """
    claims = (request.context.get("authorizer") or {}).get("claims") or {}
    if "sub" not in claims:
        raise CharlaError("unauthorized", "Sign in first.")
    principal = agent_from_claims(claims)
    profile = agents.ensure_from_principal(principal, claims.get("email"))
    # API Gateway accepts an ID token until it expires; sign-ins before a revocation end here.
    if revocation.token_revoked(profile, claims):
        raise CharlaError("unauthorized", "This session has ended; sign in again.")
    if not mfa_setup:
        mfa.check(profile)
    # Name and role as the profile says now: the token's groups outlive a demotion by up to an hour.
    return with_profile(principal, profile)


def admin(request: Request) -> Principal:
    """The caller, who must be an admin now: the profile decides, whatever the token still says."""
    principal = agent(request)
    members.require_admin(principal)
    return principal


def query(request: Request) -> dict[str, str]:
    """The query string's parameters; API Gateway gives None when there are none."""
    return dict(request.query_params or {})


def after_param(request: Request) -> int:
    raw = str(query(request).get("after") or "0")
    if not raw.isdigit() or len(raw) > 12:
        raise bad_request("`after` must be a whole number of 0 or more.")
    return int(raw)
