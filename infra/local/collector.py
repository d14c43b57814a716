"""Fewer full garbage collections in the local stack's long-running processes.

A full collection walks every object the process holds, and moto holds every stored item as
Python objects. Measured in the e2e benchmark's moto process (infra/local/moto_process.py): a full
collection every 5-9 s, each pausing every request for 90-270 ms, longer as data piled up. That is
an artifact of the fake; DynamoDB has no such pause. Young objects are still collected as usual.
"""

from __future__ import annotations

import gc

# Full collections happen after this many middle-generation ones (Python's default is 10).
FULL_EVERY = 10_000


def fewer_full_collections() -> None:
    gc.freeze()  # what is loaded by now (modules, moto's service models) lives as long as the process
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_EVERY)
