"""Runs Lambda handlers off the event loop, several at once, as Lambda would.

Handlers make blocking boto3 calls, some of them back into this very server (the @connections
API), so they must never run on the loop that serves those calls.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from chalice.local import LambdaContext

# API Gateway gives up on an integration after 29 s; Lambda's own limit is what the context reports.
_MAX_RUNTIME_MS = 900_000


class LambdaInvoker:
    def __init__(self, app_name: str, stage: str, concurrency: int | None = None) -> None:
        self._prefix = f"{app_name}-{stage}"
        workers = concurrency or int(os.environ.get("CHARLA_LAMBDA_CONCURRENCY", "32"))
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lambda")

    @property
    def concurrency(self) -> int:
        return int(self._pool._max_workers)

    def context(self, function_name: str) -> LambdaContext:
        return LambdaContext(
            function_name=f"{self._prefix}-{function_name}",
            memory_size=512,
            max_runtime_ms=_MAX_RUNTIME_MS,
        )

    async def invoke(self, handler: Callable[[Any, Any], Any], event: dict[str, Any], function_name: str) -> Any:
        loop = asyncio.get_running_loop()
        context = self.context(function_name)
        return await loop.run_in_executor(self._pool, handler, event, context)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
