"""What a visitor is called where they gave no name: "Visitor 4821", the same number every time.

The number is derived from the visitor id alone (a hash, not stored), so every place that names a
visitor (the chat object, the Visitors list, the info panel, tickets made from chats) tells the same
visitor apart the same way, in old chats as in new ones. Four digits keep it readable:
two visitors share a number about once in 9,000 pairs, which the country and the chat's page and
first message are there to resolve. The console builds its own words around `number` ("Visitante
4821"); server-side text (ticket requester and subject) uses `label`, in English like the rest of it.
"""

from __future__ import annotations

import hashlib

NUMBERS = 9000  # 1000-9999: always four digits, never a leading zero
WORD = "Visitor"


def number(visitor_id: str) -> str:
    digest = hashlib.sha256(visitor_id.encode()).digest()
    return str(1000 + int.from_bytes(digest[:8], "big") % NUMBERS)


def label(visitor_id: str) -> str:
    return f"{WORD} {number(visitor_id)}"


def display(name: str | None, visitor_id: str, country: str | None = None) -> str:
    """The visitor's own name when they gave one; else their label, with the country code when known."""
    if name:
        return name
    return f"{label(visitor_id)} ({country})" if country else label(visitor_id)


def fields(visitor_id: str) -> dict[str, str]:
    """What every visitor object the console receives carries besides `name` (and `country`)."""
    return {"label": label(visitor_id), "number": number(visitor_id)}
