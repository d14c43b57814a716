"""Numbered progress lines, so an operator always sees which step a deploy is in."""

from __future__ import annotations

import sys
from typing import TextIO


class Progress:
    def __init__(self, total: int, out: TextIO | None = None) -> None:
        self.total = total
        self.done = 0
        self.out = out or sys.stdout

    def step(self, title: str) -> None:
        self.done += 1
        print(f"[{self.done}/{self.total}] {title}", file=self.out, flush=True)

    def detail(self, text: str) -> None:
        print(f"      {text}", file=self.out, flush=True)
