"""Runs the app's @app.schedule functions, which moto's EventBridge never fires."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalice.app import Chalice, Rate, ScheduledEventConfig

from infra.local import events
from infra.local.invoker import LambdaInvoker

log = logging.getLogger("charla.local.scheduler")

_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_RATE = re.compile(r"^rate\((\d+)\s+(minute|hour|day)s?\)$", re.IGNORECASE)


@dataclass(frozen=True)
class Schedule:
    name: str
    interval: float
    handler: Callable[[Any, Any], Any]


def interval_seconds(expression: Any) -> float | None:
    """Seconds between runs for a rate expression; None for cron, which isn't run here."""
    if isinstance(expression, Rate):
        expression = expression.to_string()
    match = _RATE.match(str(expression).strip())
    if not match:
        return None
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()]


def schedules(app: Chalice, module: Any) -> list[Schedule]:
    found = []
    for source in app.event_sources:
        if not isinstance(source, ScheduledEventConfig):
            continue
        interval = interval_seconds(source.schedule_expression)
        if interval is None:
            log.warning("%s: only rate() schedules run locally; use run_schedule()", source.name)
        # The wrapped handler (event, context) is what the decorator returned.
        handler = app.handler_map.get(source.name) or getattr(module, source.name)
        found.append(Schedule(source.name, interval or 0.0, handler))
    return found


class Scheduler:
    def __init__(self, schedules: list[Schedule], invoker: LambdaInvoker, rule_prefix: str, region: str):
        self._schedules = {schedule.name: schedule for schedule in schedules}
        self._invoker = invoker
        self._rule_prefix = rule_prefix
        self._region = region
        self._tasks: list[asyncio.Task[None]] = []

    def names(self) -> list[str]:
        return list(self._schedules)

    def start(self) -> None:
        for schedule in self._schedules.values():
            if schedule.interval > 0:
                self._tasks.append(asyncio.ensure_future(self._every(schedule)))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    async def run(self, name: str) -> Any:
        """Invoke one schedule now, as EventBridge would; exceptions propagate to the caller."""
        schedule = self._schedules[name]
        event = events.scheduled_event(f"{self._rule_prefix}-{name}", self._region)
        return await self._invoker.invoke(schedule.handler, event, name)

    async def _every(self, schedule: Schedule) -> None:
        # EventBridge's first run comes one interval after the rule is created.
        while True:
            await asyncio.sleep(schedule.interval)
            try:
                await self.run(schedule.name)
            except Exception:
                log.exception("scheduled %s raised", schedule.name)
