"""Pages of a list over REST: the `limit` a caller asks for and the opaque `cursor` that goes on from a page.

A cursor is the last sort key a page read, in URL-safe base64. It is checked against the shape of the
keys the list gives out, so a forged or stale one is a 400 naming `cursor`, never a key the list would
not have made.
"""

from __future__ import annotations

import base64
import binascii
import re

from functions.core.errors import bad_request


def limit(value: object, *, default: int, most: int) -> int:
    """`limit` from a query string: a whole number from 1 to `most`; absent, `default`."""
    if value in (None, ""):
        return default
    if not isinstance(value, str) or not value.isdigit() or not 1 <= int(value) <= most:
        raise bad_request(f"`limit` must be a whole number from 1 to {most}.")
    return int(value)


def encode(key: str | None) -> str | None:
    return base64.urlsafe_b64encode(key.encode()).decode().rstrip("=") if key else None


def decode(value: object, shape: re.Pattern[str]) -> str | None:
    """The key a `cursor` carries; it must have `shape`, the form of the keys this list gives out."""
    if value in (None, ""):
        return None
    try:
        raw = str(value)
        key = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        key = ""
    if not shape.match(key):
        raise bad_request("`cursor` is not one this API gave out; start again without it.")
    return key
