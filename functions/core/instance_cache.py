"""A value a Lambda instance keeps for at most a minute: settings, bans and webhooks.

The minute is what lets an admin's change reach every instance without a redeploy. The generation
count matters where several threads share one instance, as in the local stack: a read that began
before a save must not put what it read back into the cache, or the save would go unseen for a minute.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")

SECONDS = 60


class InstanceCache(Generic[T]):
    def __init__(self, load: Callable[[], T], seconds: float = SECONDS) -> None:
        self._load = load
        self.seconds = seconds
        self._value: T | None = None
        self._loaded_at = 0.0
        self._generation = 0
        self._lock = threading.Lock()

    def get(self) -> T:
        with self._lock:
            value, generation = self._value, self._generation
            if value is not None and time.monotonic() - self._loaded_at <= self.seconds:
                return value
        value = self._load()
        with self._lock:
            if self._generation == generation:
                self._value, self._loaded_at = value, time.monotonic()
        return value

    def forget(self) -> None:
        with self._lock:
            self._value = None
            self._generation += 1
