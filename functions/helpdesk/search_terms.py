"""Subject search without a Scan: each subject word is a `ticket-terms` item keyed by the word.

A search queries the postings of one word, newest first, and keeps the tickets whose current subject
holds every word asked for; a posting left behind by an edited title is filtered out the same way.
Words match whole, ignoring case and accents ("Factura" finds "factura" and "FACTURÁ").
"""

from __future__ import annotations

import re
import unicodedata

from functions.models import Ticket, TicketTerm

MAX_TERMS = 20  # per subject: with the ticket and its entries this stays within one transaction
MAX_TERM = 40
_WORD = re.compile(r"\w+")


def terms(text: str) -> list[str]:
    """Distinct normalised words of at least two characters, in order of appearance."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    found: list[str] = []
    for word in _WORD.findall(plain):
        word = word[:MAX_TERM]
        if len(word) >= 2 and word not in found:
            found.append(word)
    return found[:MAX_TERMS]


def sort_key(ticket: Ticket) -> str:
    return f"{ticket.created_at}#{ticket.ticket_id}"


def items(ticket: Ticket, subject: str | None = None) -> list[TicketTerm]:
    key = sort_key(ticket)
    return [TicketTerm(term, key, ticket_id=ticket.ticket_id) for term in terms(subject or ticket.subject)]


def matches(ticket: Ticket, wanted: list[str]) -> bool:
    have = set(terms(ticket.subject))
    return all(word in have for word in wanted)
