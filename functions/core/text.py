"""The text rules every capability shares: what an email address is, which characters a text may keep,
and which fields a request may send. Each rule has this one home, so two checks of the same input can't
disagree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from functions.core.errors import bad_request

# Local part, domain and a top-level label of two or more letters: what a mail to the visitor or agent
# needs. widget/src/widget.js mirrors it; tests/unit/ui/test_client_limits.py ties the two together.
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s.]{2,63}$")
EMAIL_MAX = 254

# Control characters. Free text keeps its line breaks and tabs; a one-line value (a name, a subject, a
# mail header) keeps none, because it ends up in headers, tokens and notifications.
_FREE_TEXT_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_LINE_CONTROLS = re.compile(r"[\x00-\x1f\x7f]")


def is_email(value: object) -> bool:
    """An address Charla can mail: the pattern, the length, and only printable characters (no lone surrogates)."""
    return isinstance(value, str) and len(value) <= EMAIL_MAX and value.isprintable() and EMAIL.match(value) is not None


def free_text(value: str) -> str:
    """Text without control characters other than line breaks and tabs, stripped."""
    return _FREE_TEXT_CONTROLS.sub("", value).strip()


def one_line(value: str) -> str:
    """Text on one line: each control character (line breaks included) becomes a space."""
    return _LINE_CONTROLS.sub(" ", value).strip()


def reject_unknown_fields(sent: Iterable[object], allowed: Iterable[str]) -> None:
    """A request naming a field Charla doesn't know is refused, so a typo never passes silently."""
    unknown = sorted(str(name)[:32] for name in set(sent) - set(allowed))
    if unknown:
        raise bad_request(f"Unknown fields: {', '.join(unknown)}.")
