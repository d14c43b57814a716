"""Counting DynamoDB calls and items read with botocore event hooks.

Charla's DynamoDB traffic leaves through several botocore clients: one per PynamoDB model
connection (each thread gets its own session, hence its own client), `functions.core.aws`'s transaction
connection, and plain boto3 clients. Hooking `Session.create_client` catches every one of them
whatever session made it, so a call can't slip past the count the way it could if we hooked only
the clients we know of. Hooks carry a `unique_id`, so a client is never counted twice.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import botocore.session

_BEFORE_ID = "charla-bench-before"
_AFTER_ID = "charla-bench-after"


def items_read(operation: str, parsed: dict[str, Any]) -> int:
    """Items a read examined, as DynamoDB bills them: scanned items for Query and Scan."""
    if operation == "GetItem":
        return 1 if parsed.get("Item") else 0
    if operation in ("Query", "Scan"):
        # ScannedCount is what was read before any filter; a COUNT query has no Items but has this.
        return int(parsed.get("ScannedCount", parsed.get("Count", 0)))
    if operation == "BatchGetItem":
        return sum(len(rows) for rows in (parsed.get("Responses") or {}).values())
    if operation == "TransactGetItems":
        return sum(1 for row in parsed.get("Responses") or () if row.get("Item"))
    return 0  # writes: their condition checks are billed as writes, not reads


@dataclass
class Window:
    """What happened between `start` and `stop` of one `DynamoCounter.window()`."""

    calls: Counter[str] = field(default_factory=Counter)  # DynamoDB operation -> calls
    items_read: int = 0
    posts: int = 0  # post_to_connection calls (the fan-out)
    s3_calls: Counter[str] = field(default_factory=Counter)  # S3 operation -> calls
    s3_bytes_in: int = 0  # object bytes S3 handed to the code (GetObject bodies): a file's bytes would show here

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    def breakdown(self) -> str:
        return " + ".join(f"{op}×{n}" for op, n in sorted(self.calls.items())) or "none"


class DynamoCounter:
    """Installs the hooks for its lifetime; `window()` collects what one piece of work did."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._current: Window | None = None
        self._original: Any = None
        self.clients = 0  # DynamoDB clients hooked, for the sanity check

    def install(self) -> DynamoCounter:
        original = botocore.session.Session.create_client
        counter = self

        def create_client(session: botocore.session.Session, *args: Any, **kwargs: Any) -> Any:
            client = original(session, *args, **kwargs)
            counter.hook(client)
            return client

        self._original = original
        botocore.session.Session.create_client = create_client  # type: ignore[method-assign]
        return self

    def uninstall(self) -> None:
        if self._original is not None:
            botocore.session.Session.create_client = self._original  # type: ignore[method-assign]
            self._original = None

    def __enter__(self) -> DynamoCounter:
        return self.install()

    def __exit__(self, *exc: object) -> None:
        self.uninstall()

    def hook(self, client: Any) -> None:
        """Also usable on a client created before `install()`."""
        service = client.meta.service_model.service_name
        events = client.meta.events
        if service == "dynamodb":
            events.register("before-call.dynamodb", self._before, unique_id=_BEFORE_ID)
            events.register("after-call.dynamodb", self._after, unique_id=_AFTER_ID)
            self.clients += 1
        elif service == "apigatewaymanagementapi":
            events.register("before-call.apigatewaymanagementapi.PostToConnection", self._post, unique_id=_BEFORE_ID)
        elif service == "s3":
            events.register("after-call.s3", self._s3, unique_id=_AFTER_ID)

    @contextmanager
    def window(self) -> Iterator[Window]:
        window = Window()
        with self._lock:
            self._current = window
        try:
            yield window
        finally:
            with self._lock:
                self._current = None

    def _before(self, model: Any, **_: Any) -> None:
        with self._lock:
            if self._current is not None:
                self._current.calls[model.name] += 1

    def _after(self, model: Any, parsed: dict[str, Any], **_: Any) -> None:
        with self._lock:
            if self._current is not None:
                self._current.items_read += items_read(model.name, parsed)

    def _s3(self, model: Any, parsed: dict[str, Any], **_: Any) -> None:
        with self._lock:
            if self._current is not None:
                self._current.s3_calls[model.name] += 1
                if model.name == "GetObject":
                    self._current.s3_bytes_in += int(parsed.get("ContentLength") or 0)

    def _post(self, **_: Any) -> None:
        with self._lock:
            if self._current is not None:
                self._current.posts += 1
