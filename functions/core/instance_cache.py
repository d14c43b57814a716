"""A value a Lambda instance keeps for at most a minute: settings, bans and webhooks.

The minute is what lets an admin's change reach every instance without a redeploy. Each instance
has its own copy: on AWS an instance is a process; where one process plays several instances (the
local stack's REST gateway), `as_instance` names the one a thread is serving, so one instance's
save leaves the others' copies as stale as they would be on AWS, while a save made outside any of
them (a script, a test: the process itself) reaches every copy, as a redeploy would. The generation count matters
where several threads share one instance: a read that began before a save must not put what it
read back into the cache, or the save would go unseen for a minute.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Generic, TypeVar

T = TypeVar("T")

SECONDS = 60

# The process is one instance unless a caller says which instance it is serving.
PROCESS: object = object()
_serving: ContextVar[object] = ContextVar("charla_instance", default=PROCESS)


@contextmanager
def as_instance(instance: object) -> Iterator[None]:
    """Run the block as `instance`: the caches it reads and fills are that instance's."""
    token = _serving.set(instance)
    try:
        yield
    finally:
        _serving.reset(token)


def serving() -> object:
    """The instance this thread is serving (PROCESS unless `as_instance` named one)."""
    return _serving.get()


class _Copy(Generic[T]):
    def __init__(self) -> None:
        self.value: T | None = None
        self.loaded_at = 0.0
        self.generation = 0


class InstanceCache(Generic[T]):
    def __init__(self, load: Callable[[], T], seconds: float = SECONDS) -> None:
        self._load = load
        self.seconds = seconds
        self._copies: dict[object, _Copy[T]] = {}
        self._lock = threading.Lock()

    def _copy(self) -> _Copy[T]:
        instance = _serving.get()
        copy = self._copies.get(instance)
        if copy is None:
            copy = self._copies.setdefault(instance, _Copy())
        return copy

    def get(self) -> T:
        with self._lock:
            copy = self._copy()
            value, generation = copy.value, copy.generation
            if value is not None and time.monotonic() - copy.loaded_at <= self.seconds:
                return value
        value = self._load()
        with self._lock:
            if copy.generation == generation:
                copy.value, copy.loaded_at = value, time.monotonic()
        return value

    def forget(self) -> None:
        """Drop this instance's copy; outside any named instance (on AWS: always), every copy."""
        with self._lock:
            every = _serving.get() is PROCESS
            copies = list(self._copies.values()) if every else [self._copy()]
            for copy in copies:
                copy.value = None
                copy.generation += 1
