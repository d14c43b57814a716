"""Helpdesk tickets: creating them, their timeline, and edits that never overwrite each other silently.

A timeline entry is appended the way a chat message is: one transaction bumps the ticket's `last_seq`
on the condition that it is unchanged and puts the entry if absent, so seqs have no gaps and no
repeats. Title, status and assignee edits are conditional on the `version` the editor saw; so is
every status change, whoever makes it, so a stale edit gets a clear conflict instead of winning.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from functions.admin import webhooks
from functions.core import aws, clock, data, text
from functions.core.errors import CharlaError, bad_request
from functions.core.principals import Principal
from functions.helpdesk import search_terms
from functions.models import Ticket, TicketEvent
from functions.realtime import agent_notices
from functions.visitors import identity

log = logging.getLogger(__name__)

STATUSES = ("open", "pending", "solved", "spam")
LISTED = ("open", "pending", "solved")  # what the default lists show: everything but spam
SOURCES = ("chat", "offline_form", "email")
MAX_SUBJECT = 200
MAX_TEXT = 20_000
PAGE_SIZE = 100
# Ticket references: no 0/O or 1/I, so one read aloud or retyped from a subject line still matches.
REF_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
REF_LENGTH = 10
REF = re.compile(rf"^[{REF_ALPHABET}]{{{REF_LENGTH}}}$")
# Each lost race means someone else's entry went in, so a writer among N concurrent ones retries < N times.
_ATTEMPTS = 25


class Conflict(Exception):
    """The transaction failed on a condition other than the ticket's `last_seq` (a caller's extra item)."""


@dataclass
class Entry:
    """A timeline entry to append; `ts` defaults to now (a chat's transcript keeps its own times)."""

    kind: str  # message | note | status | update
    author: str  # requester | agent | system
    body: str | None = None
    author_id: str | None = None
    author_name: str | None = None
    data: dict[str, Any] | None = None
    ts: str | None = None


@dataclass
class Appended:
    ticket: Ticket
    events: list[TicketEvent] = field(default_factory=list)


# --- ids and text ------------------------------------------------------------------------------


def new_ref() -> str:
    return "".join(secrets.choice(REF_ALPHABET) for _ in range(REF_LENGTH))


def ref_from(seed: str) -> str:
    """A reference derived from a seed, so a retried creation (an S3 event delivered twice) collides."""
    digest = hashlib.sha256(seed.encode()).digest()
    return "".join(REF_ALPHABET[b % len(REF_ALPHABET)] for b in digest[:REF_LENGTH])


def clean_subject(value: object, *, name: str = "title", required: bool = True) -> str:
    """A subject as sent, on one line; too long is refused, never cut. "" when optional and absent or blank."""
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise bad_request(f"`{name}` must be text of at most {MAX_SUBJECT} characters.")
    if len(value) > MAX_SUBJECT:
        raise CharlaError("too_long", f"`{name}` is limited to {MAX_SUBJECT} characters.")
    cleaned = text.one_line(value, MAX_SUBJECT)
    if not cleaned and required:
        raise bad_request(f"`{name}` must be non-empty text of at most {MAX_SUBJECT} characters.")
    return cleaned


def clean_text(value: object, name: str = "body") -> str:
    if not isinstance(value, str) or not value.strip():
        raise bad_request(f"`{name}` must be non-empty text.")
    if len(value) > MAX_TEXT:
        raise CharlaError("too_long", f"`{name}` is limited to {MAX_TEXT} characters.")
    # Newlines and tabs stay: a body is multi-line text, stored and shown as text.
    return text.without_controls(value)


# --- creating ----------------------------------------------------------------------------------


def new_ticket(
    *,
    subject: str,
    source: str,
    requester_email: str | None,
    requester_name: str | None = None,
    visitor_id: str | None = None,
    chat_id: str | None = None,
    ticket_id: str | None = None,
    status: str = "open",
) -> Ticket:
    now = clock.now_iso()
    return Ticket(
        ticket_id or new_ref(),
        subject=text.one_line(subject, MAX_SUBJECT) or "(no subject)",
        status=status,
        source=source,
        requester_email=requester_email.lower() if requester_email else None,
        requester_name=(text.one_line(requester_name, 100) or None) if requester_name else None,
        visitor_id=visitor_id,
        chat_id=chat_id,
        created_at=now,
        updated_at=now,
        last_seq=0,
        version=1,
    )


def create(
    ticket: Ticket,
    entries: list[Entry],
    *,
    first_seq: int = 1,
    extra: Callable[[TransactWrite], None] | None = None,
) -> Ticket:
    """Writes a new ticket, its first entries and its search terms in one transaction.

    `first_seq` > 1 means the caller already wrote entries 1..first_seq-1 (a long chat transcript);
    they stay invisible until this transaction makes the ticket exist. Raises `Conflict` if the
    ticket or one of the caller's extra items already exists.
    """
    events = [_event(ticket.ticket_id, first_seq + i, e) for i, e in enumerate(entries)]
    ticket.last_seq = first_seq - 1 + len(events)
    if ticket.assignee_id:
        ticket.assignee_status = f"{ticket.assignee_id}#{ticket.status}"
    try:
        with TransactWrite(connection=aws.dynamodb_connection()) as tx:
            tx.save(ticket, condition=Ticket.ticket_id.does_not_exist())
            for event in events:
                tx.save(event, condition=TicketEvent.seq.does_not_exist())
            for term in search_terms.items(ticket):
                tx.save(term)
            if extra:
                extra(tx)
    except TransactWriteError as error:
        raise Conflict(str(error)) from error
    announce(ticket, "created")
    return ticket


def _event(ticket_id: str, seq: int, entry: Entry) -> TicketEvent:
    return TicketEvent(
        ticket_id,
        seq,
        kind=entry.kind,
        author=entry.author,
        author_id=entry.author_id,
        author_name=entry.author_name,
        body=entry.body,
        data=entry.data,
        ts=entry.ts or clock.now_iso(),
    )


# --- appending ---------------------------------------------------------------------------------


StatusRule = Callable[[Ticket], "str | None"]


def append(
    ticket: Ticket,
    entries: list[Entry],
    *,
    status: StatusRule | None = None,
    actions: Callable[[Ticket], list[Action]] | None = None,
    extra: Callable[[TransactWrite, list[TicketEvent]], None] | None = None,
) -> Appended:
    """Appends entries to the timeline; `status(ticket)` may move the status in the same transaction.

    A status change adds its own `status` entry and bumps `version`. `extra` adds the caller's own
    conditional items (an idempotency marker, attachments being bound); if one of those fails the
    caller gets `Conflict`, while a concurrent append is retried with the next seq.
    """
    for _attempt in data.attempts(_ATTEMPTS, busy_message="The ticket is busy; try again."):
        to_status = status(ticket) if status else None
        all_entries = list(entries)
        if to_status and to_status != ticket.status:
            all_entries.append(status_entry(ticket.status, to_status, author="system"))
        else:
            to_status = None
        events = [_event(ticket.ticket_id, int(ticket.last_seq) + 1 + i, e) for i, e in enumerate(all_entries)]
        now = clock.now_iso()
        update: list[Action] = [Ticket.last_seq.set(int(ticket.last_seq) + len(events)), Ticket.updated_at.set(now)]
        if to_status:
            update += status_actions(ticket.assignee_id, to_status)
        if actions:
            update += actions(ticket)
        try:
            with TransactWrite(connection=aws.dynamodb_connection()) as tx:
                for event in events:
                    tx.save(event, condition=TicketEvent.seq.does_not_exist())
                if extra:
                    extra(tx, events)
                tx.update(Ticket(ticket.ticket_id), actions=update, condition=Ticket.last_seq == ticket.last_seq)
        except TransactWriteError as error:
            reasons = data.reasons(error)
            if data.CHECK_FAILED not in reasons and data.TX_CONFLICT not in reasons and not data.throttled(reasons):
                raise CharlaError("retry", "Could not update the ticket; try again.", retriable=True) from error
            fresh = load(ticket.ticket_id)
            if fresh.last_seq == ticket.last_seq and data.CHECK_FAILED in reasons and data.TX_CONFLICT not in reasons:
                raise Conflict(str(error)) from error
            ticket = fresh
            continue  # a concurrent append, contention or throttling: the next seq, after a pause
        return Appended(load(ticket.ticket_id), events)
    raise AssertionError("unreachable")  # data.attempts raises when the attempts run out


def status_entry(before: str, after: str, *, author: str, principal: Principal | None = None) -> Entry:
    return Entry(
        kind="status",
        author=author,
        author_id=principal.id if principal else None,
        author_name=principal.name if principal else None,
        data={"from": before, "to": after},
    )


def status_actions(assignee_id: str | None, to_status: str) -> list[Action]:
    """Moves the status, bumps the version, and keeps the sparse assignee index key in step."""
    key = Ticket.assignee_status.set(f"{assignee_id}#{to_status}") if assignee_id else Ticket.assignee_status.remove()
    return [Ticket.status.set(to_status), Ticket.version.add(1), key]


def requester_replied(ticket: Ticket) -> str | None:
    """The requester answered: a Pending or Solved ticket is theirs to look at again. Spam stays spam."""
    return "open" if ticket.status in ("pending", "solved") else None


# --- reading -----------------------------------------------------------------------------------


def load(ticket_id: str) -> Ticket:
    if not isinstance(ticket_id, str) or not REF.match(ticket_id):
        raise CharlaError("not_found", "No such ticket.")
    try:
        return Ticket.get(ticket_id, consistent_read=True)
    except DoesNotExist:
        raise CharlaError("not_found", "No such ticket.") from None


def for_agent(principal: Principal, ticket_id: str) -> Ticket:
    if not principal.is_agent:
        raise CharlaError("not_found", "No such ticket.")
    return load(ticket_id)  # the helpdesk is shared: every agent works every ticket


def for_visitor(principal: Principal, ticket_id: str) -> Ticket:
    ticket = load(ticket_id)
    if principal.kind != "visitor" or ticket.visitor_id != principal.id:
        raise CharlaError("not_found", "No such ticket.")  # the same answer as for a missing one
    return ticket


VISITOR_KINDS = ("message", "status")


def timeline(ticket: Ticket, after: int, *, for_visitor: bool = False) -> dict[str, Any]:
    if isinstance(after, bool) or not isinstance(after, int) or after < 0:
        raise bad_request("`after` must be a whole number of 0 or more.")
    condition = TicketEvent.kind.is_in(*VISITOR_KINDS) if for_visitor else None
    items = list(
        TicketEvent.query(
            ticket.ticket_id,
            TicketEvent.seq > after,
            filter_condition=condition,
            limit=PAGE_SIZE + 1,
            consistent_read=True,
        )
    )
    more = len(items) > PAGE_SIZE
    items = items[:PAGE_SIZE]
    proven = for_visitor and identity.email_proven(ticket.visitor_id, ticket.requester_email)
    shown: dict[str, Any] = {
        "ticket": view(ticket, for_visitor=for_visitor),
        "events": [
            event_view(e, for_visitor=for_visitor, withhold=for_visitor and not proven and mail_borne(e)) for e in items
        ],
        "next_after": int(items[-1].seq) if more else None,
    }
    if for_visitor:
        shown["email_confirmed"] = proven
    return shown


def mail_borne(event: TicketEvent) -> bool:
    """An entry that arrived by mail from the requester's address, whoever really holds that address."""
    return event.data is not None and event.data.as_dict().get("via") == "email"


WITHHELD = "email_unconfirmed"


def visitor_tickets(principal: Principal, limit: int = 50) -> list[dict[str, Any]]:
    if principal.kind != "visitor":
        raise CharlaError("forbidden", "Only visitors list their own tickets.")
    found = Ticket.visitor_index.query(principal.id, scan_index_forward=False, limit=limit)
    return [view(t, for_visitor=True) for t in found]


def view(ticket: Ticket, *, for_visitor: bool = False) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "ticket_id": ticket.ticket_id,
        "ref": ticket.ticket_id,
        "subject": ticket.subject,
        "status": ticket.status,
        "source": ticket.source,
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
    }
    if for_visitor:
        return shown
    return {
        **shown,
        "requester": {"email": ticket.requester_email, "name": ticket.requester_name},
        "visitor_id": ticket.visitor_id,
        "chat_id": ticket.chat_id,
        "assignee_id": ticket.assignee_id,
        "version": int(ticket.version),
        "last_seq": int(ticket.last_seq),
        "sender_verified": ticket.sender_verified,
        "tags": sorted(ticket.tags or ()),  # tag ids (functions/tags/catalog.py names them)
        "group": {"id": ticket.group_id, "name": ticket.group_name} if ticket.group_id else None,
    }


# What the requester may see of an entry's data; notes never reach them at all.
_VISITOR_DATA = ("from", "to", "attachments")


def event_view(event: TicketEvent, *, for_visitor: bool = False, withhold: bool = False) -> dict[str, Any]:
    """`withhold`: a mail-borne entry the visitor may not read yet; only that it exists is shown."""
    data = event.data.as_dict() if event.data is not None else None
    if for_visitor and data is not None:
        data = {k: v for k, v in data.items() if k in _VISITOR_DATA}
    if withhold:
        return {
            "seq": int(event.seq),
            "kind": event.kind,
            "author": event.author,
            "author_name": None,
            "body": None,
            "data": {"withheld": WITHHELD},
            "ts": event.ts,
        }
    shown: dict[str, Any] = {
        "seq": int(event.seq),
        "kind": event.kind,
        "author": event.author,
        "author_name": event.author_name,
        "body": event.body,
        "data": data,
        "ts": event.ts,
    }
    if not for_visitor:
        shown["author_id"] = event.author_id
    return shown


# --- telling the agents ------------------------------------------------------------------------


def announce(ticket: Ticket, change: str) -> None:
    """Every agent's console hears of a new ticket or a requester's reply; spam tickets stay silent."""
    if ticket.status == "spam":
        return
    webhooks.emit("ticket.created" if change == "created" else "ticket.updated", view(ticket))
    try:
        agent_notices.tell(f"ticket:{ticket.ticket_id}", {"type": "ticket", "change": change, "ticket": view(ticket)})
    except Exception:
        # A notice is a courtesy: the ticket is stored and the console's list shows it on reload.
        log.exception("could not announce ticket %s", ticket.ticket_id)


def extra_items(*items: Model) -> Callable[[TransactWrite], None]:
    """An `extra` for `create` that puts each item only if it is absent."""

    def add(tx: TransactWrite) -> None:
        for item in items:
            hash_key = data.hash_key(type(item))
            tx.save(item, condition=hash_key.does_not_exist())

    return add
