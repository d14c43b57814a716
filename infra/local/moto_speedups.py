"""Takes work out of moto that gives the same answer every time, so the local stack keeps up.

Measured with py-spy on the e2e benchmark's moto process (100 messages/s): moto spent about a fifth
of its time in its generic, shape-walking response serializer, and a little in finding the
backend for each request by listing its own package directory. Neither is Charla's work.

- A DynamoDB item operation's result is already the wire form (attribute-value maps of strings,
  lists and numbers), so it is written with `json.dumps`. Anything else, and every error, still
  goes through moto's serializer.
- The backend for a host is looked up once.
"""

from __future__ import annotations

import base64
import functools
import json
from typing import Any

from moto import backends
from moto.core.responses import ActionResult
from moto.dynamodb.responses import DynamoHandler
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

from infra.local import require_patched_moto

ITEM_OPERATIONS = frozenset(
    {
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactGetItems",
        "TransactWriteItems",
    }
)
CONTENT_TYPE = "application/x-amz-json-1.0"


def _wire(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _wire(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_wire(item) for item in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def _fast_serialized(original: Any) -> Any:
    @functools.wraps(original)
    def serialized(self: DynamoHandler, action_result: ActionResult) -> Any:
        result = action_result.result
        if isinstance(result, dict) and self._get_action() in ITEM_OPERATIONS:
            try:
                body = json.dumps(_wire(result))
            except (TypeError, ValueError):
                return original(self, action_result)
            return 200, {**self.response_headers, "Content-Type": CONTENT_TYPE}, body
        return original(self, action_result)

    serialized._charla_fast = True  # type: ignore[attr-defined]
    return serialized


def _remembered(lookup: Any) -> Any:
    found: dict[str | None, Any] = {}

    @functools.wraps(lookup)
    def get_backend_for_host(self: DomainDispatcherApplication, host: str | None) -> Any:
        if host not in found:  # called under the dispatcher's own lock
            found[host] = lookup(self, host)
        return found[host]

    return get_backend_for_host


def install() -> None:
    require_patched_moto()
    if getattr(DynamoHandler.serialized, "_charla_fast", False):
        return
    DynamoHandler.serialized = _fast_serialized(DynamoHandler.serialized)  # type: ignore[method-assign]
    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules  # type: ignore[assignment]
    DomainDispatcherApplication.get_backend_for_host = _remembered(  # type: ignore[method-assign]
        DomainDispatcherApplication.get_backend_for_host
    )
