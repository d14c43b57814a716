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

# An address mail came from, or that stored mail is looked up by (a ticket list's requester filter, an
# erasure request): a local part and a domain without spaces, nothing more. Looser than EMAIL, which is an
# address Charla sends to, so that no address Charla has stored is refused when someone looks it up.
MAIL_ADDRESS = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}$")
# What ends or quotes an address inside a mail header.
_HEADER_SYNTAX = frozenset('<>"')

# Control characters. Free text keeps its line breaks and tabs; a one-line value (a name, a subject, a
# mail header) keeps none, because it ends up in headers, tokens and notifications.
_FREE_TEXT_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_LINE_CONTROLS = re.compile(r"[\x00-\x1f\x7f]")
_SPACES = re.compile(r"\s+")


def is_email(value: object) -> bool:
    """An address Charla can mail: the pattern, the length, and only printable characters (no lone surrogates)."""
    return isinstance(value, str) and len(value) <= EMAIL_MAX and value.isprintable() and EMAIL.match(value) is not None


def is_mail_address(value: object, *, in_headers: bool = False) -> bool:
    """An address mail came from or is filed under (MAIL_ADDRESS). `in_headers`: one Charla will also write
    into a mail header (a reply's `To`), so it may not hold the characters that end or quote an address there.
    """
    if not isinstance(value, str) or MAIL_ADDRESS.match(value) is None:
        return False
    return not (in_headers and not _HEADER_SYNTAX.isdisjoint(value))


def without_controls(value: str) -> str:
    """Multi-line text as sent, without control characters other than line breaks and tabs."""
    return _FREE_TEXT_CONTROLS.sub("", value)


def free_text(value: str) -> str:
    """Text without control characters other than line breaks and tabs, stripped."""
    return without_controls(value).strip()


def one_line(value: str, limit: int | None = None) -> str:
    """Text on one line: each control character (line breaks included) becomes a space. With a `limit`, also
    each run of spaces becomes one and the result is cut to `limit` characters: subjects, names and labels.
    """
    line = _LINE_CONTROLS.sub(" ", value).strip()
    if limit is None:
        return line
    return _SPACES.sub(" ", line)[:limit]


def excerpt(value: str, limit: int) -> str:
    """`value` on one line, cut to at most `limit` characters at a word boundary, with "…" when cut.

    A single word longer than the limit is cut inside it: some scripts write no spaces at all.
    """
    line = _SPACES.sub(" ", one_line(value))
    if len(line) <= limit:
        return line
    head = line[: limit - 1]
    space = head.rfind(" ")
    if space > limit // 2:
        head = head[:space]
    return head.rstrip(" ,;:.-") + "…"


def reject_unknown_fields(sent: Iterable[object], allowed: Iterable[str]) -> None:
    """A request naming a field Charla doesn't know is refused, so a typo never passes silently."""
    unknown = sorted(str(name)[:32] for name in set(sent) - set(allowed))
    if unknown:
        raise bad_request(f"Unknown fields: {', '.join(unknown)}.")
