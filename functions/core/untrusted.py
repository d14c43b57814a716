"""Untrusted input: the rules every REST body, query string, path parameter and WebSocket frame obeys.

JSON from outside is parsed here and nowhere else, so that the answer to hostile input is the same
on every route and action: a 400 (an `error` frame on the WebSocket) naming what was wrong, never
a crash.

- Nesting: Python's parser recurses, and JSON nested a few thousand deep raises `RecursionError`
  (Chalice's `json_body` lets it through as a 500). DynamoDB stores documents at most 32 levels
  deep, and nothing Charla accepts needs more than a few, so deeper JSON is refused as `bad_json`.
- Lone surrogates (`"\\ud800"`) are valid JSON escapes but no text: they fail only later, when a
  store or a mail encodes them. They are refused up front as `bad_request`, naming the field.
- Ids: DynamoDB keys are at most 2,048 bytes (partition) and 1,024 bytes (sort), and a longer one
  is a `ValidationException` on every read and write, not a miss ("Partition keys and sort keys",
  https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html). Every id
  Charla issues is far shorter than `MAX_ID`, so a longer one names nothing: `not_found`, checked
  before any key is built from it.
"""

from __future__ import annotations

import json
from typing import Any

from functions.core.errors import CharlaError, bad_request, not_found

MAX_DEPTH = 32
# Characters. Ids Charla issues are at most 64; at 4 bytes a character, 128 fit a 1,024-byte sort
# key, with room for the prefixes some keys add ("visitor#<id>", "agent#<id>").
MAX_ID = 128


def parse_json(raw: str | bytes | None, *, what: str = "The body") -> Any:
    """The JSON value in `raw`, or `bad_json` (not JSON, or nested too deep) or `bad_request` (a lone surrogate)."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise CharlaError("bad_json", f"{what} is not UTF-8 text.") from None
    try:
        value = json.loads(raw or "")
    except RecursionError:
        raise too_deep(what) from None
    except (ValueError, TypeError):
        raise CharlaError("bad_json", f"{what} is not valid JSON.") from None
    check_value(value, what=what)
    return value


def too_deep(what: str = "The body") -> CharlaError:
    return CharlaError("bad_json", f"{what} nests JSON more than {MAX_DEPTH} levels deep.")


def check_value(value: Any, *, what: str = "The body") -> None:
    """Walks a parsed value without recursion: no deeper than MAX_DEPTH, and only encodable text."""
    pending: list[tuple[Any, str, int]] = [(value, "", 0)]
    while pending:
        item, path, depth = pending.pop()
        if isinstance(item, str):
            check_text(item, path or what)
        elif isinstance(item, dict | list):
            if depth >= MAX_DEPTH:
                raise too_deep(what)
            entries = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in entries:
                if isinstance(key, str):
                    check_text(key, f"A key in `{path}`" if path else f"A key in {what.lower()}")
                    name = f"{path}.{key}" if path else key
                else:
                    name = f"{path}[{key}]"
                pending.append((child, name, depth + 1))


def check_text(value: str, name: str) -> None:
    """Refuses text that no store can hold: a lone surrogate (from a `\\ud800` escape)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise bad_request(f"{_quoted(name)} holds characters that are not Unicode text (a lone surrogate).") from None


def text(value: object, name: str, limit: int, *, required: bool = False) -> str | None:
    """An optional (or required) text field: a string of at most `limit` characters, never cut to fit."""
    if value is None or (value == "" and not required):
        if required:
            raise bad_request(f"`{name}` is required.")
        return None
    if not isinstance(value, str):
        raise bad_request(f"`{name}` must be text.")
    check_text(value, name)
    if len(value) > limit:
        raise CharlaError("too_long", f"`{name}` is limited to {limit} characters.")
    if required and not value.strip():
        raise bad_request(f"`{name}` must not be empty.")
    return value


def key_id(value: object, name: str, what: str) -> str:
    """An id about to become (part of) a DynamoDB key: text of at most MAX_ID characters, or it names nothing."""
    if not isinstance(value, str):
        raise bad_request(f"`{name}` must be text.")
    check_text(value, name)
    if not value or len(value) > MAX_ID:
        raise not_found(what)
    return value


def _quoted(name: str) -> str:
    if name[:1].isupper():  # already a phrase ("The body", "A key in `context`")
        return name
    return f"`{name[:64]}…`" if len(name) > 64 else f"`{name}`"
