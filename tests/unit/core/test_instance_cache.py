from __future__ import annotations

import time

from functions.core import instance_cache
from functions.core.instance_cache import InstanceCache


def test_a_value_is_loaded_once_a_minute(monkeypatch):
    loads: list[int] = []
    cache = InstanceCache(lambda: loads.append(1) or len(loads))
    assert [cache.get() for _ in range(5)] == [1, 1, 1, 1, 1]
    later = time.monotonic() + instance_cache.SECONDS + 1
    monkeypatch.setattr(instance_cache.time, "monotonic", lambda: later)
    assert cache.get() == 2


def test_forget_makes_the_next_read_load_again():
    values = iter(["before the save", "after the save"])
    cache = InstanceCache(lambda: next(values))
    assert cache.get() == "before the save"
    cache.forget()
    assert cache.get() == "after the save"


def test_a_read_that_began_before_a_save_does_not_hide_the_save():
    # Two handler threads in one instance: one is reading while the other saves and forgets.
    values = iter(["read before the save", "after the save"])

    def load() -> str:
        value = next(values)
        if value == "read before the save":
            cache.forget()  # the save lands while this read is in flight
        return value

    cache = InstanceCache(load)
    assert cache.get() == "read before the save"  # the reader keeps what it read...
    assert cache.get() == "after the save"  # ...but did not cache it over the save
