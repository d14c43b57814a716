"""`python -m tests.bench [--only key1,key2]`: measure, print a table, then the JSON as the last line.

Exit status: 0 when every measured figure is within its budget, 1 when one is over (or a
measurement failed), 2 for a bad command line. A null figure (a feature not built yet) never fails.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

from tests.bench.report import Figure, json_line, null, table

# Key -> the value it has when it can't be measured, in the JSON's order (the issue's).
KEYS: dict[str, Any] = {
    "ddb_calls_per_message": {"chats_10": None, "chats_2000": None, "file_message": None},
    "items_read_per_message": {"charla": None, "scan_fanout": None, "connections": 2000},
    "file_bytes_through_lambda": {"read": None, "file": 256 * 1024},
    "scan_calls": None,
    "sweep_items_read": {"history_0": None, "history_50000": None},
    "cold_import_ms": {"app": None, "baseline": None, "ratio": None},
    "package_zip_bytes": {"total": None, "without_sdk": None},
    "widget_gz_bytes": {"loader": None, "total": None},
    "console_gz_bytes": None,
    "host_page_load_delay_ms": None,
    "host_page_blocking_ms": None,
    "e2e": {"chats": 100, "p50_ms": None, "p99_ms": None, "lost": None, "duplicated": None},
    "e2e_200": {"chats": 200, "p50_ms": None, "p99_ms": None, "lost": None, "duplicated": None},
    "posts_per_anonymous_request": {
        "size_10": None,
        "size_200": None,
        "agents_1000": None,
        "drain_posts_per_agent_socket": None,
    },
    "partition_heat": {"scale": 1000, "peak_wcu_per_key": None, "peak_rcu_per_key": None, "hottest": None},
    "routing_burst": {"visitors": 100, "agents": 5, "slots": 125, "queued_after_1s": None, "p99_assign_ms": None},
    "archive_search": {"chats": 20000, "search_items_read": None, "search_ms": None, "list_items_read": None},
}
# Module (or "module:function", else its run()) -> the keys it returns, in the order they run: the
# timing-sensitive ones first, before this process has grown moto state and threads.
RUNNERS: dict[str, tuple[str, ...]] = {
    "cold_import": ("cold_import_ms",),
    "page_load": ("host_page_load_delay_ms", "host_page_blocking_ms"),
    "asset_sizes": ("widget_gz_bytes", "console_gz_bytes"),
    "package_size": ("package_zip_bytes",),
    # The local stack's timings next, while this process is small: after the modules that run moto in
    # this process (and leave it tens of thousands of items), e2e measured p99 109 ms and 1.4 s on a
    # quiet machine, against 16-39 ms before them. Not straight after the page loads either: run
    # there, e2e measured p50 5 s twice, as if Chromium were still winding down.
    "e2e": ("e2e",),
    "e2e:run_200": ("e2e_200",),
    "routing_burst": ("routing_burst",),
    "message_cost": ("ddb_calls_per_message", "items_read_per_message", "file_bytes_through_lambda"),
    "session": ("scan_calls",),
    "sweep_cost": ("sweep_items_read",),
    "anonymous_posts": ("posts_per_anonymous_request",),
    "partition_heat": ("partition_heat",),
    "archive_search": ("archive_search",),
}


def _parse(argv: list[str]) -> list[str]:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--only", help=f"comma-separated keys, of: {', '.join(KEYS)}")
    args = parser.parse_args(argv)
    if not args.only:
        return list(KEYS)
    wanted = [k.strip() for k in args.only.split(",") if k.strip()]
    unknown = [k for k in wanted if k not in KEYS]
    if unknown:
        parser.error(f"unknown key(s): {', '.join(unknown)}; known: {', '.join(KEYS)}")
    return wanted


def _run(module: str, keys: tuple[str, ...]) -> tuple[list[Figure], bool]:
    """Runs one module; a crash becomes null figures with the error as the reason, and a failure."""
    started = time.perf_counter()
    print(f"… {', '.join(keys)}", file=sys.stderr, flush=True)
    try:
        name, _, function = module.partition(":")
        runner: Callable[[], list[Figure]] = getattr(importlib.import_module(f"tests.bench.{name}"), function or "run")
        figures = runner()
        failed = False
    except Exception as error:
        traceback.print_exc(file=sys.stderr)
        figures = [null(k, KEYS[k], f"the measurement failed: {error!r}") for k in keys]
        failed = True
    print(f"  {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    return figures, failed


def main(argv: list[str]) -> int:
    wanted = _parse(argv)
    started = time.perf_counter()
    figures: dict[str, Figure] = {}
    failed = False
    for module, keys in RUNNERS.items():
        if any(k in wanted for k in keys):
            produced, crashed = _run(module, keys)
            failed |= crashed
            figures.update((f.key, f) for f in produced)
    ordered = [figures[k] for k in KEYS if k in wanted]
    print(table(ordered, time.perf_counter() - started))
    print(json_line(ordered), flush=True)
    return 1 if failed or any(f.over_budget for f in ordered) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
