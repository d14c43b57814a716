"""Gives moto's DynamoDB the per-request isolation real DynamoDB has, at a cost that doesn't grow.

moto runs requests on several threads without locking. A failed TransactWriteItems restores a deep
copy of the tables taken before it started, silently undoing writes other threads made meanwhile,
and a conditional write can interleave between its check and its write. DynamoDB never does either,
so every call of the backend is serialised here.

moto's rollback also deep-copies every table a transaction touches, so each message got slower as
history grew (7 ms with empty tables, 160 ms at 6,000 messages), and under the lock that stalled the
whole local stack. Here a transaction keeps copies of only the items it names, and restores those.
"""

from __future__ import annotations

import copy
import functools
import threading
from typing import Any

from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table

from infra.local import require_patched_moto

_LOCK = threading.RLock()
_METHODS = (
    "put_item",
    "update_item",
    "delete_item",
    "batch_write_item",
    # Reads too: a transaction writes before it may roll back, which no reader may observe.
    "get_item",
    "query",
)


class _TablesAreNotCopied:
    """Stands in for the `copy` module inside moto's DynamoDB backend: whole tables pass through."""

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


def _isolated(original: Any) -> Any:
    @functools.wraps(original)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            return original(self, *args, **kwargs)

    call._charla_isolated = True  # type: ignore[attr-defined]
    return call


def _touched(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """(table, hash, range, copy of the item or None) for every item the transaction names."""
    before = []
    for entry in transact_items:
        operation = next(iter(entry.values()))
        table = backend.get_table(operation["TableName"])
        if "Key" in operation:
            key = operation["Key"]
        else:
            attrs = operation["Item"]
            key = {table.hash_key_attr: attrs[table.hash_key_attr]}
            if table.range_key_attr:
                key[table.range_key_attr] = attrs[table.range_key_attr]
        hash_value, range_value = backend.get_keys_value(table, key)
        item = table.get_item(hash_value, range_value)
        before.append((table, hash_value, range_value, copy.deepcopy(item) if item else None))
    return before


def _restore(before: list[tuple[Any, ...]]) -> None:
    for table, hash_value, range_value, item in reversed(before):
        if range_value is None:
            if item is None:
                table.items.pop(hash_value, None)
            else:
                table.items[hash_value] = item
        elif item is None:
            table.items.get(hash_value, {}).pop(range_value, None)
        else:
            table.items[hash_value][range_value] = item


def _transact(original: Any) -> Any:
    @functools.wraps(original)
    def call(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> Any:
        with _LOCK:
            try:
                before = _touched(self, transact_items)
            except Exception:
                return original(self, transact_items)  # let moto report the bad request its own way
            try:
                return original(self, transact_items)
            except Exception:
                _restore(before)
                raise

    call._charla_isolated = True  # type: ignore[attr-defined]
    return call


def install() -> None:
    require_patched_moto()
    if getattr(DynamoDBBackend.transact_write_items, "_charla_isolated", False):
        return
    for name in _METHODS:
        setattr(DynamoDBBackend, name, _isolated(getattr(DynamoDBBackend, name)))
    DynamoDBBackend.transact_write_items = _transact(DynamoDBBackend.transact_write_items)  # type: ignore[method-assign]
    dynamodb_models.copy = _TablesAreNotCopied()  # type: ignore[assignment]
