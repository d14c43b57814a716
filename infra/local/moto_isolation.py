"""Gives moto's DynamoDB the per-request isolation real DynamoDB has.

moto runs requests on several threads without locking. A failed TransactWriteItems restores a deep
copy of the tables taken before it started, silently undoing writes other threads made meanwhile,
and a conditional write can interleave between its check and its write. DynamoDB never does either,
so every write-path call of the backend is serialised here.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

from moto.dynamodb.models import DynamoDBBackend

_LOCK = threading.RLock()
_METHODS = (
    "put_item",
    "update_item",
    "delete_item",
    "transact_write_items",
    "batch_write_item",
    # Reads too: a failed transaction writes and then rolls back, which no reader may observe.
    "get_item",
    "query",
)


def install() -> None:
    for name in _METHODS:
        original = getattr(DynamoDBBackend, name, None)
        if original is None or getattr(original, "_charla_isolated", False):
            continue

        @functools.wraps(original)
        def isolated(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            with _LOCK:
                return _original(self, *args, **kwargs)

        isolated._charla_isolated = True  # type: ignore[attr-defined]
        setattr(DynamoDBBackend, name, isolated)
