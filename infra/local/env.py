"""Process environment changes that can be undone, so a test's stack leaves no trace behind."""

from __future__ import annotations

import os
from collections.abc import Mapping

_UNSET = object()


class EnvOverlay:
    def __init__(self) -> None:
        self._saved: dict[str, object] = {}

    def set(self, values: Mapping[str, str | None]) -> None:
        """Set (or, for None, remove) variables, remembering each one's first previous value."""
        for key, value in values.items():
            self._saved.setdefault(key, os.environ.get(key, _UNSET))
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    def remember(self, *keys: str) -> None:
        """Restore these on `restore()` too: something else (an import) may change them."""
        for key in keys:
            self._saved.setdefault(key, os.environ.get(key, _UNSET))

    def restore(self) -> None:
        for key, value in self._saved.items():
            if value is _UNSET:
                os.environ.pop(key, None)
            else:
                os.environ[key] = str(value)
        self._saved.clear()
