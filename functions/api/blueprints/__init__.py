"""The REST routes, one Chalice blueprint per capability. Each handler parses, calls one function in its
capability's package and shapes the answer; `app.py` registers them all."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import chalice

from functions.core import data


class Blueprint(chalice.Blueprint):
    """A Chalice blueprint whose views answer a DynamoDB conflict or throttle that outlasted the retries
    with `retry` (503), as the WebSocket side does, instead of Chalice's 500.

    Chalice turns any exception a view raises into a 500 before the app's middleware sees it, except
    its `ChaliceUnhandledError` (which `CharlaError` is), so the translation happens around each view.
    """

    def route(self, path: str, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        register = super().route(path, **kwargs)

        def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(view)
            def answered(*args: Any, **view_kwargs: Any) -> Any:
                try:
                    return view(*args, **view_kwargs)
                except Exception as error:
                    busy = data.as_busy(error)
                    if busy is None:
                        raise
                    raise busy from error

            register(answered)
            return view

        return decorator
