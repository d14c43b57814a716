"""A sampling profiler for the local stack's processes, every thread included (cProfile and pyinstrument
see only the thread that started them; the stack's work runs in Lambda worker threads and moto's
request threads).

Off unless CHARLA_PROFILE_DIR is set: then each process that calls `start_from_environment(name)`
samples every thread's stack every INTERVAL_S and, at exit, writes `<dir>/<name>-<pid>.txt`: the
functions seen on top of a stack (self) and anywhere on it (inclusive), as shares of all samples of
threads that were busy. A thread waiting in a Python-level wait (threading's `wait`, select, a
socket read) is counted apart, by where. A wait inside C code called from Python (acquiring a lock
with `with`, a socket's sendall, taking the GIL back) shows as the calling Python frame: read
"self" shares as wall time per thread, not as CPU.
"""

from __future__ import annotations

import atexit
import collections
import os
import sys
import threading
import time
from pathlib import Path
from types import FrameType

INTERVAL_S = 0.005
WRITE_EVERY_S = 10.0  # a process killed at the end (a stack stopped with a backlog) keeps its last report
# A thread whose innermost frame is one of these is waiting, not working.
WAITING = {"wait", "select", "poll", "accept", "recv", "recv_into", "readinto", "_wait_for_tstate_lock", "get"}
TOP = 40


def _where(frame: FrameType) -> str:
    code = frame.f_code
    path = code.co_filename
    for marker in ("site-packages/", "/lib/python3", "/functions/", "/infra/", "/tests/"):
        if marker in path:
            path = path[path.index(marker) + 1 :]
            break
    return f"{path}:{code.co_name}"


class Sampler:
    def __init__(self, name: str, folder: Path) -> None:
        self.name, self.folder = name, folder
        self.busy = 0
        self.waiting: collections.Counter[str] = collections.Counter()
        self.own: collections.Counter[str] = collections.Counter()
        self.inclusive: collections.Counter[str] = collections.Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sampler", daemon=True)

    def start(self) -> Sampler:
        self._thread.start()
        atexit.register(self.write)
        return self

    def _run(self) -> None:
        me = threading.get_ident()
        written = time.monotonic()
        while not self._stop.wait(INTERVAL_S):
            if time.monotonic() - written > WRITE_EVERY_S:
                self.write(final=False)
                written = time.monotonic()
            for ident, frame in sys._current_frames().items():
                if ident == me:
                    continue
                top = _where(frame)
                if frame.f_code.co_name in WAITING:
                    self.waiting[top] += 1
                    continue
                self.busy += 1
                self.own[top] += 1
                seen = set()
                walk: FrameType | None = frame
                while walk is not None:
                    seen.add(_where(walk))
                    walk = walk.f_back
                self.inclusive.update(seen)

    def write(self, final: bool = True) -> None:
        if final:
            self._stop.set()
        lines = [f"{self.name}: {self.busy} busy thread samples every {INTERVAL_S * 1000:.0f} ms"]
        for title, counter in (("self", self.own), ("inclusive", self.inclusive)):
            lines.append(f"\n-- {title} (share of busy samples)")
            lines += [f"{n / max(self.busy, 1):6.1%}  {where}" for where, n in counter.most_common(TOP)]
        waited = sum(self.waiting.values())
        lines.append(f"\n-- waiting ({waited} samples), by where")
        lines += [f"{n:8d}  {where}" for where, n in self.waiting.most_common(15)]
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / f"{self.name}-{os.getpid()}.txt").write_text("\n".join(lines) + "\n")


def start_from_environment(name: str) -> Sampler | None:
    folder = os.environ.get("CHARLA_PROFILE_DIR")
    return Sampler(name, Path(folder)).start() if folder else None
