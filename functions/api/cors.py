"""The CORS headers of a route, for the answers Chalice does not build itself.

Chalice adds a `cors=True` route's headers only to the response its view returns; an answer made
by the error middleware (a CharlaError's 400, 401, 403 or 429) never passes through that step.
Without Access-Control-Allow-Origin the browser hides such an answer from a widget on a
customer's site, which then can't tell "sign in again" from "this site is not allowed".
"""

from __future__ import annotations

from typing import Any

from chalice.app import Request, RouteEntry


def route_headers(routes: dict[str, dict[str, RouteEntry]], request: Request | None) -> dict[str, str | list[str]]:
    """The Access-Control-* headers the route serving `request` declares (none if it has no CORS)."""
    if request is None:
        return {}
    context: dict[str, Any] = request.context or {}
    route = routes.get(context.get("resourcePath") or "", {}).get(context.get("httpMethod") or "")
    if route is None or route.cors is None:
        return {}
    return dict(route.cors.get_access_control_headers())
