"""The console's ticket list: filter by status and assignee, search by requester and subject.

Newest first with an opaque cursor, and never a Scan. Each filter picks the index that answers it
(docs/data-model.md, patterns 23-25 and the ticket rows after them):

- a status: `status_index`; with an assignee, `assignee_status_index` (`<agent>#<status>`);
- no status: the same indexes for open, pending and solved, merged (spam stays out of default lists);
- a requester email: `requester_index`, the other filters applied to that requester's tickets;
- subject words: `ticket-terms` postings of the longest word, checked against the current subject;
- a tag: a FilterExpression on the same index reads, each still one Query of the page's size, so a page
  may hold fewer tickets than asked for and the cursor goes on from the last ticket read.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pynamodb.expressions.condition import Condition

from functions.core import paging, text
from functions.core.errors import bad_request
from functions.core.principals import Principal
from functions.helpdesk import search_terms, tickets
from functions.models import Ticket, TicketTerm
from functions.tags import catalog

DEFAULT_LIMIT = 25
MAX_LIMIT = 100
_SLACK = 2  # extra items per index read, so equal timestamps at a page boundary are not lost
_SEARCH_BATCH = 50
_SEARCH_ROUNDS = 5  # a rare match costs at most this many reads per page; the cursor goes on from there
_CURSOR = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z#[0-9A-Z]{10}$")

Source = Callable[[str | None, int], list[Ticket]]


def list_tickets(principal: Principal, params: dict[str, Any]) -> dict[str, Any]:
    status = _status(params.get("status"))
    statuses = [status] if status else list(tickets.LISTED)
    assignee = _assignee(principal, params.get("assignee"))
    requester = _requester(params.get("requester"))
    cursor = paging.decode(params.get("cursor"), _CURSOR)
    limit = paging.limit(params.get("limit"), default=DEFAULT_LIMIT, most=MAX_LIMIT)
    query = (params.get("q") or "").strip()
    tag = catalog.check_filter(params.get("tag"))

    if query and tickets.REF.match(query.lstrip("#").upper()):
        by_ref = _by_ref(query.lstrip("#").upper())
        return by_ref if not tag else {**by_ref, "tickets": [t for t in by_ref["tickets"] if tag in t["tags"]]}
    if query:
        found, next_key = _search(query, statuses, assignee, requester, cursor, limit, tag)
    elif tag:
        found, next_key = _tagged(_reads(statuses, assignee, requester), tag, cursor, limit)
    else:
        found, next_key = _merged(_sources(statuses, assignee, requester), cursor, limit)
    return {"tickets": [tickets.view(t) for t in found], "next_cursor": paging.encode(next_key)}


Read = tuple[Any, str, Condition | None]  # an index, its hash key, a filter


def _reads(statuses: list[str], assignee: str | None, requester: str | None) -> list[Read]:
    if requester:
        condition: Condition = Ticket.status.is_in(*statuses)
        if assignee:
            condition = condition & (Ticket.assignee_id == assignee)
        return [(Ticket.requester_index, requester, condition)]
    if assignee:
        return [(Ticket.assignee_status_index, f"{assignee}#{s}", None) for s in statuses]
    return [(Ticket.status_index, s, None) for s in statuses]


def _sources(statuses: list[str], assignee: str | None, requester: str | None) -> list[Source]:
    return [_source(*read) for read in _reads(statuses, assignee, requester)]


def _tagged(reads: list[Read], tag: str, cursor: str | None, limit: int) -> tuple[list[Ticket], str | None]:
    """Newest first across the index partitions, keeping tickets with `tag`: each partition is read once
    per page, by one Query of `limit` + slack items, as without the filter; the filter only drops items.

    A partition whose Query stopped early is known only down to the last item it read (its frontier), so
    the page ends at the highest frontier, and the next page starts there.
    """
    fetched: list[Ticket] = []
    frontier: str | None = None
    for index, hash_key, condition in reads:
        tagged = Ticket.tags.contains(tag)
        found, last = _one_page(index, hash_key, tagged & condition if condition else tagged, cursor, limit + _SLACK)
        fetched += found
        if last is not None and (frontier is None or last > frontier):
            frontier = last
    fresh = sorted(
        (
            t
            for t in fetched
            if (cursor is None or search_terms.sort_key(t) < cursor)
            and (frontier is None or search_terms.sort_key(t) >= frontier)
        ),
        key=search_terms.sort_key,
        reverse=True,
    )
    page = fresh[:limit]
    if len(fresh) > limit:
        return page, search_terms.sort_key(page[-1])
    return page, frontier


def _one_page(
    index: Any, hash_key: str, condition: Condition, cursor: str | None, count: int
) -> tuple[list[Ticket], str | None]:
    """One Query of `count` items (before the filter) and the sort key of the last item it read, if it
    stopped before the partition's end; PynamoDB alone would read on until `count` items passed the filter."""
    key_condition = Ticket.created_at <= cursor.split("#", 1)[0] if cursor else None
    results = index.query(
        hash_key, key_condition, filter_condition=condition, scan_index_forward=False, page_size=count
    )
    page = next(results.page_iter)
    last = results.page_iter.last_evaluated_key
    found = [Ticket.from_raw_data(item) for item in page.get("Items", [])]
    return found, f"{last['created_at']['S']}#{last['ticket_id']['S']}" if last else None


def _source(index: Any, hash_key: str, condition: Condition | None = None) -> Source:
    def fetch(cursor: str | None, count: int) -> list[Ticket]:
        key_condition = Ticket.created_at <= cursor.split("#", 1)[0] if cursor else None
        return list(
            index.query(hash_key, key_condition, filter_condition=condition, scan_index_forward=False, limit=count)
        )

    return fetch


def _merged(sources: list[Source], cursor: str | None, limit: int) -> tuple[list[Ticket], str | None]:
    """Newest first across several index partitions, each read at most once per page."""
    fetched: list[Ticket] = []
    more = False
    for fetch in sources:
        batch = fetch(cursor, limit + _SLACK)
        more = more or len(batch) >= limit + _SLACK
        fetched += batch
    fresh = sorted(
        (t for t in fetched if cursor is None or search_terms.sort_key(t) < cursor),
        key=search_terms.sort_key,
        reverse=True,
    )
    page = fresh[:limit]
    more = more or len(fresh) > limit
    return page, (search_terms.sort_key(page[-1]) if more and page else None)


def _search(
    query: str,
    statuses: list[str],
    assignee: str | None,
    requester: str | None,
    cursor: str | None,
    limit: int,
    tag: str | None = None,
) -> tuple[list[Ticket], str | None]:
    words = search_terms.terms(query)
    if not words:
        raise bad_request("`q` needs a word of at least two letters or digits.")
    driver = max(words, key=len)  # the longest word is likely the rarest: fewest postings to read
    page: list[Ticket] = []
    position = cursor
    for _ in range(_SEARCH_ROUNDS):
        key_condition = TicketTerm.sort_key < position if position else None
        postings = list(TicketTerm.query(driver, key_condition, scan_index_forward=False, limit=_SEARCH_BATCH))
        found = {t.ticket_id: t for t in Ticket.batch_get({p.ticket_id for p in postings})} if postings else {}
        for posting in postings:
            position = posting.sort_key
            ticket = found.get(posting.ticket_id)
            if (
                ticket
                and _wanted(ticket, words, statuses, assignee, requester)
                and (not tag or tag in (ticket.tags or ()))
            ):
                page.append(ticket)
                if len(page) == limit:
                    return page, position
        if len(postings) < _SEARCH_BATCH:
            return page, None
    return page, position


def _wanted(ticket: Ticket, words: list[str], statuses: list[str], assignee: str | None, requester: str | None) -> bool:
    return (
        ticket.status in statuses
        and (assignee is None or ticket.assignee_id == assignee)
        and (requester is None or ticket.requester_email == requester)
        and search_terms.matches(ticket, words)
    )


def _by_ref(ref: str) -> dict[str, Any]:
    try:
        return {"tickets": [tickets.view(Ticket.get(ref))], "next_cursor": None}
    except Ticket.DoesNotExist:
        return {"tickets": [], "next_cursor": None}


# --- parameters --------------------------------------------------------------------------------


def _status(value: object) -> str | None:
    if value in (None, ""):
        return None
    if value not in tickets.STATUSES:
        raise bad_request("`status` must be one of open, pending, solved, spam.")
    return str(value)


def _assignee(principal: Principal, value: object) -> str | None:
    if value in (None, ""):
        return None
    if value == "me":
        return principal.id
    if not isinstance(value, str) or len(value) > 128 or "#" in value:
        raise bad_request("`assignee` must be `me` or an agent id.")
    return value


def _requester(value: object) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not text.is_mail_address(value.strip()):
        raise bad_request("`requester` must be an email address.")
    return value.strip().lower()
