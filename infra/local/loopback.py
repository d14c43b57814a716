"""The stack's own tools under `/_local/` (sent mail, live connections, schedules) answer loopback names only.

A page the developer opens elsewhere can point a name it controls at 127.0.0.1 (DNS rebinding) and
then read `/_local/outbox` as a same-origin page: the request reaches the stack, but its Host
header carries the attacker's name. Only the names and addresses that are loopback by definition
pass: `localhost`, `127.0.0.1` and `[::1]`, with or without a port.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})
PREFIX = "/_local"


def is_loopback_host(host: str | None) -> bool:
    """True for a Host header naming a loopback name or address (any port, any case)."""
    if not host:
        return False
    host = host.strip().lower()
    if host.startswith("["):
        name, _, rest = host.partition("]")
        name += "]"
        port = rest[1:] if rest.startswith(":") else None
        if rest and port is None:
            return False
    else:
        name, _, port = host.partition(":")
        port = port or None
    if port is not None and not port.isdigit():
        return False
    return name in LOOPBACK_HOSTS


def is_local_tool(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


@web.middleware
async def loopback_only(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    if is_local_tool(request.path) and not is_loopback_host(request.headers.get("Host")):
        return web.json_response({"message": "The local stack's tools answer on localhost only."}, status=403)
    return await handler(request)
