"""The one REST caller for a local stack: real HTTP to its API, as the console, a widget or a script sends it.

An error status is an answer, not an exception, and redirects are not followed: a test sees what the
stack said. Tests of the app in this process (no stack) call it through Chalice's test client instead:
the `api` fixture and `call` in tests/support/admin.py.
"""

from __future__ import annotations

import functools
import http.client
import json
import urllib.error
import urllib.request
from email.message import Message
from typing import Any


class FromAddress(urllib.request.HTTPHandler):
    """Plain HTTP from a chosen local address. Charla limits anonymous callers per address, so a test
    that plays many visitors gives each its own: all of 127.0.0.0/8 is this machine on Linux."""

    def __init__(self, source: str) -> None:
        super().__init__()
        self._source = source

    def http_open(self, req: urllib.request.Request) -> Any:
        return self.do_open(functools.partial(http.client.HTTPConnection, source_address=(self._source, 0)), req)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def request(
    method: str,
    url: str,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    *,
    source: str | None = None,
    timeout: float = 20,
) -> tuple[int, Message, bytes]:
    """One HTTP exchange: (status, headers, raw body). `source`: the local address to call from."""
    handlers: list[Any] = [_NoRedirect()] + ([FromAddress(source)] if source else [])
    opener = urllib.request.build_opener(*handlers)
    try:
        with opener.open(
            urllib.request.Request(url, data=body, method=method, headers=headers or {}), timeout=timeout
        ) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def exchange(
    stack: Any,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    *,
    token: str | None = None,
    source: str | None = None,
) -> tuple[int, Message, Any]:
    """A JSON call to the stack's API: (status, headers, decoded body or None).

    It comes from the stack's own site (its Origin, which every stack allows), as the console's and the
    demo page's calls do; `token` is the Authorization header (an ID token, or "Visitor id:secret");
    `headers` add to or override these."""
    all_headers = {"Origin": stack.base_url}
    if body is not None:
        all_headers["Content-Type"] = "application/json"
    if token:
        all_headers["Authorization"] = token
    all_headers.update(headers or {})
    data = (body if isinstance(body, bytes) else json.dumps(body).encode()) if body is not None else None
    status, answer_headers, raw = request(method, stack.api_url + path, all_headers, data, source=source)
    return status, answer_headers, json.loads(raw) if raw else None


def call(
    stack: Any, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None, **options: Any
) -> tuple[int, Any]:
    """`exchange` without the answer's headers: (status, decoded body or None)."""
    status, _, decoded = exchange(stack, method, path, body, headers, **options)
    return status, decoded


def ok(stack: Any, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None, **kw: Any) -> Any:
    """A call that must succeed (2xx): its decoded body."""
    status, decoded = call(stack, method, path, body, headers, **kw)
    assert 200 <= status < 300, (method, path, status, decoded)
    return decoded
