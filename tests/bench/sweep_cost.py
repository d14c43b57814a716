"""sweep_items_read: items one run of the scheduled sweep reads, with and without a long history.

Each run of `sweep` (functions/chat/sweeps.py) queries sparse indexes for what is due: chats queued
past the queue timeout, chats unanswered or idle too long, connections silent past the idle
limit. Here 100 chats have waited past the queue timeout and 100 connections have gone stale;
the history is 50,000 closed chats plus 50,000 messages, which a sweep that scanned, or queried
a non-sparse index, would wade through. Each side runs in a fresh moto account, so the second
sees exactly the same due work as the first and nothing left over from it.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from tests.bench.ddb import Window
from tests.bench.moto_env import SCHEDULED_EVENT, charla_on_moto
from tests.bench.report import Check, Figure

DUE = 100
HISTORY = 50_000
SILENT = timedelta(minutes=20)  # past the sweep's 11-minute cut-off for connections
WAITED = timedelta(minutes=10)  # past the default 5-minute queue timeout, short of the idle one


def _sweep(history: int) -> tuple[Window, dict[str, Any], float]:
    import app as charla
    from tests.bench import seed

    with charla_on_moto() as counter:
        started = time.perf_counter()
        if history:
            seed.history(history)
        seeding_s = time.perf_counter() - started
        seed.queued_chats("due", DUE, WAITED)
        seed.stale_connections("stale", DUE, SILENT)
        with counter.window() as window:
            result = charla.sweep(SCHEDULED_EVENT, None)
    for part in ("long_waits", "stale_connections"):
        if part in result and result[part] != DUE:
            raise RuntimeError(f"the sweep's {part} should have handled {DUE}: {result}")
    return window, result, seeding_s


def run() -> list[Figure]:
    empty, result, _ = _sweep(0)
    full, _, seeding_s = _sweep(HISTORY)
    reads = {"history_0": empty.items_read, f"history_{HISTORY}": full.items_read}
    ratio = full.items_read / max(empty.items_read, 1)
    return [
        Figure(
            "sweep_items_read",
            reads,
            checks=[Check("ratio", round(ratio, 3), 1.05)],
            details=[
                f"due: {DUE} chats queued {WAITED.seconds // 60} min, {DUE} connections silent "
                f"{SILENT.seconds // 60} min; sweep returned {result}",
                f"one sweep, no history: {empty.breakdown()}; with history: {full.breakdown()}",
                f"history: {HISTORY:,} closed chats + {HISTORY:,} messages, written with BatchWriteItem "
                f"in {seeding_s:.1f} s",
            ],
        )
    ]
