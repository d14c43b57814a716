"""Figures, their budget checks, the readable table and the final JSON line."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

KB = 1024  # the asset builds (widget/build.mjs, agent-ui/build.mjs) count KB in 1,024 bytes
MB = 1024 * KB


@dataclass
class Check:
    """One budget line of DESIGN.md. `measured=None` means not measured: it can't fail."""

    label: str
    measured: float | None
    limit: float
    ok_when: str = "<="  # or "=="

    @property
    def ok(self) -> bool | None:
        if self.measured is None:
            return None
        return self.measured == self.limit if self.ok_when == "==" else self.measured <= self.limit


@dataclass
class Figure:
    key: str
    value: Any  # what goes in the JSON; None, or None inside, where not measurable yet
    checks: list[Check] = field(default_factory=list)
    details: list[str] = field(default_factory=list)  # extra lines for the table
    reason: str | None = None  # why the value (or part of it) is null

    @property
    def over_budget(self) -> bool:
        return any(check.ok is False for check in self.checks)


def null(key: str, value: Any, reason: str) -> Figure:
    return Figure(key, value, reason=reason)


def _short(value: Any) -> str:
    text = json.dumps(value, separators=(", ", ": "))
    return text if len(text) <= 100 else text[:97] + "..."


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.3f}".rstrip("0")


def _status(figure: Figure) -> str:
    if figure.over_budget:
        return "OVER"
    if any(check.ok for check in figure.checks):
        return "ok"
    return "null" if figure.reason else "-"


def table(figures: list[Figure], seconds: float) -> str:
    width = max([len(f.key) for f in figures] + [4])
    lines = [f"{'figure'.ljust(width)}  status  value", "-" * (width + 80)]
    for figure in figures:
        lines.append(f"{figure.key.ljust(width)}  {_status(figure):6}  {_short(figure.value)}")
        pad = " " * (width + 10)
        for check in figure.checks:
            verdict = {True: "ok", False: "OVER BUDGET", None: "not measured"}[check.ok]
            shown = "null" if check.measured is None else _number(check.measured)
            op = "=" if check.ok_when == "==" else "≤"
            lines.append(f"{pad}budget: {check.label} = {shown} (must be {op} {_number(check.limit)}): {verdict}")
        for detail in figure.details:
            lines.append(f"{pad}{detail}")
        if figure.reason:
            lines.append(f"{pad}null because: {figure.reason}")
    over = [f.key for f in figures if f.over_budget]
    lines.append("-" * (width + 80))
    lines.append(f"{len(figures)} figures in {seconds:.0f} s; over budget: {', '.join(over) or 'none'}")
    return "\n".join(lines)


def json_line(figures: list[Figure]) -> str:
    return json.dumps({f.key: f.value for f in figures}, separators=(",", ":"))
