"""REST calls through the Chalice app as API Gateway's proxy integration delivers them.

The session benchmark uses these to reach every REST route the way a deployed Lambda is reached,
Cognito authorizer claims included, without an HTTP server in between.
"""

from __future__ import annotations

import json
from typing import Any


def rest(
    path: str,
    method: str = "GET",
    *,
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    claims: dict[str, str] | None = None,
    body: Any = None,
    query: dict[str, str] | None = None,
) -> Any:
    """An API Gateway proxy event for `path` (a route pattern), run through the Chalice app."""
    import app as charla

    context: dict[str, Any] = {"resourcePath": path, "httpMethod": method, "stage": "api", "apiId": "abc123"}
    if claims is not None:
        context["authorizer"] = {"claims": claims}
    concrete = path
    for name, value in (params or {}).items():
        concrete = concrete.replace("{" + name + "}", value)
    event = {
        "resource": path,
        "path": concrete,
        "httpMethod": method,
        "headers": {"Origin": "http://127.0.0.1:8000", "Content-Type": "application/json", **(headers or {})},
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": params or None,
        "stageVariables": None,
        "requestContext": context,
        "body": None if body is None else json.dumps(body),
        "isBase64Encoded": False,
    }
    response = charla.app(event, None)
    if response["statusCode"] >= 400:
        raise RuntimeError(f"{method} {path}: {response['statusCode']} {response.get('body')}")
    text = response.get("body") or ""
    try:
        return json.loads(text) if text else {}
    except ValueError:
        return text  # a CSV or other non-JSON answer


def claims(principal: Any) -> dict[str, str]:
    """Claims as API Gateway's Cognito authorizer hands them over (every value a string)."""
    return {
        "sub": principal.id,
        "email": f"{principal.id}@example.com",
        "name": principal.name,
        "cognito:groups": principal.role or "agent",
    }
