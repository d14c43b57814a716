"""What agents do to a ticket (edit, reply, note) and what a requester's answer does to it."""

from __future__ import annotations

import logging
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from functions.admin import webhooks
from functions.core import aws, clock, data, text
from functions.core.errors import CharlaError, bad_request
from functions.core.mail import MailSandbox
from functions.core.principals import Principal
from functions.helpdesk import attachments, reply_mail, search_terms, tickets
from functions.helpdesk.tickets import Entry
from functions.models import Ticket, TicketAttachment, TicketEvent, TicketTerm
from functions.team import agents

log = logging.getLogger(__name__)

# SES takes raw messages of up to 10 MB; base64 makes attachments a third bigger.
MAX_EMAILED_BYTES = 7 * 1024 * 1024
_REPLY_STATUSES = ("open", "pending", "solved")


# --- edit: title, status, assignee -------------------------------------------------------------


def edit(principal: Principal, ticket_id: str, body: dict[str, Any]) -> Ticket:
    """Applies the changes only if the ticket is still at the `version` the agent saw."""
    seen = body.get("version")
    if isinstance(seen, bool) or not isinstance(seen, int):
        raise bad_request("`version` (the ticket's version you saw) is required, as an integer.")
    text.reject_unknown_fields(body, {"version", "title", "subject", "status", "assignee_id"})
    ticket = tickets.for_agent(principal, ticket_id)
    sent = "title" if "title" in body else "subject" if "subject" in body else None
    title = tickets.clean_subject(body[sent], name=sent) if sent else None
    status = body.get("status")
    if status is not None and status not in tickets.STATUSES:
        raise bad_request("`status` must be one of open, pending, solved, spam.")
    assignee: str | None = ticket.assignee_id
    if "assignee_id" in body:
        assignee = _assignee(principal, body["assignee_id"])
    for _attempt in data.attempts(25, busy_message="The ticket is busy; try again."):
        if int(ticket.version) != seen:
            raise _stale(ticket)
        entries, actions = _changes(principal, ticket, title, status, assignee)
        if not entries:
            return ticket
        events = [tickets._event(ticket.ticket_id, int(ticket.last_seq) + 1 + i, e) for i, e in enumerate(entries)]
        actions += [Ticket.last_seq.set(int(ticket.last_seq) + len(events)), Ticket.updated_at.set(clock.now_iso())]
        try:
            with TransactWrite(connection=aws.dynamodb_connection()) as tx:
                for event in events:
                    tx.save(event, condition=TicketEvent.seq.does_not_exist())
                if title is not None and title != ticket.subject:
                    _reindex(tx, ticket, title)
                tx.update(
                    Ticket(ticket.ticket_id),
                    actions=actions,
                    condition=(Ticket.version == seen) & (Ticket.last_seq == ticket.last_seq),
                )
        except TransactWriteError as error:
            reasons = data.reasons(error)
            if data.CHECK_FAILED not in reasons and data.TX_CONFLICT not in reasons and not data.throttled(reasons):
                raise CharlaError("retry", "Could not update the ticket; try again.", retriable=True) from error
            ticket = tickets.load(ticket.ticket_id)  # a stale version is a 409 above; a new entry, a retry
            continue
        updated = tickets.load(ticket.ticket_id)
        webhooks.emit("ticket.updated", tickets.view(updated))
        return updated
    raise AssertionError("unreachable")  # data.attempts raises when the attempts run out


def _stale(ticket: Ticket) -> CharlaError:
    return CharlaError(
        "conflict",
        f"Someone else changed this ticket meanwhile (it is now at version {int(ticket.version)}). "
        "Reload it and make your change again.",
    )


def _assignee(principal: Principal, value: object) -> str | None:
    if value is None:
        return None
    if value == "me":
        return principal.id
    if not isinstance(value, str) or not value or len(value) > 128 or "#" in value:
        raise bad_request("`assignee_id` must be an agent id, `me`, or null.")
    agent = agents.get(value)
    if agent.disabled:
        raise bad_request("That agent's account is disabled.")
    return value


def _changes(
    principal: Principal, ticket: Ticket, title: str | None, status: str | None, assignee: str | None
) -> tuple[list[Entry], list[Action]]:
    entries: list[Entry] = []
    actions: list[Action] = []

    def who(data: dict[str, Any]) -> Entry:
        return Entry(kind="update", author="agent", author_id=principal.id, author_name=principal.name, data=data)

    if title is not None and title != ticket.subject:
        actions.append(Ticket.subject.set(title))
        entries.append(who({"field": "title", "from": ticket.subject, "to": title}))
    new_status = status if status and status != ticket.status else ticket.status
    if new_status != ticket.status:
        entries.append(tickets.status_entry(ticket.status, new_status, author="agent", principal=principal))
    if assignee != ticket.assignee_id:
        actions.append(Ticket.assignee_id.set(assignee) if assignee else Ticket.assignee_id.remove())
        entries.append(who({"field": "assignee", "from": ticket.assignee_id, "to": assignee}))
    if new_status != ticket.status:
        actions.append(Ticket.status.set(new_status))
    if entries:
        actions.append(Ticket.version.add(1))
        actions.append(
            Ticket.assignee_status.set(f"{assignee}#{new_status}") if assignee else Ticket.assignee_status.remove()
        )
    return entries, actions


def _reindex(tx: TransactWrite, ticket: Ticket, title: str) -> None:
    old = set(search_terms.terms(ticket.subject))
    new = search_terms.terms(title)
    key = search_terms.sort_key(ticket)
    for term in old - set(new):
        tx.delete(TicketTerm(term, key))
    for term in new:
        if term not in old:
            tx.save(TicketTerm(term, key, ticket_id=ticket.ticket_id))


# --- replies and notes -------------------------------------------------------------------------


def reply(principal: Principal, ticket_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Stores the reply first (the agent's words are never lost), then emails it to the requester.

    Without `status`, an Open ticket becomes Pending: the agent answered, the requester is next.
    """
    text = tickets.clean_text(body.get("body"))
    status = body.get("status")
    if status is not None and status not in _REPLY_STATUSES:
        raise bad_request("`status` must be open, pending or solved.")
    ticket = tickets.for_agent(principal, ticket_id)
    if ticket.status == "spam":
        raise CharlaError("conflict", "This ticket is marked as spam; change its status before replying.")
    files = attachments.usable(ticket.ticket_id, body.get("attachment_ids"))
    if sum(int(f.size) for f in files) > MAX_EMAILED_BYTES:
        raise CharlaError("attachment_too_large", "Attachments over 7 MB in total can't be sent by email.")
    delivery = "sending" if ticket.requester_email else "not_emailed"
    entry = Entry(
        kind="message",
        author="agent",
        author_id=principal.id,
        author_name=principal.name,
        body=text,
        data={"attachments": [attachments.view(f) for f in files], "delivery": delivery},
    )

    def next_status(current: Ticket) -> str | None:
        if status:
            return str(status)
        return "pending" if current.status == "open" else None

    appended = _append_with(ticket, entry, files, internal=False, status=next_status)
    event = appended.events[0]
    if ticket.requester_email:
        event = _deliver(appended.ticket, event, text, files)
    return {"ticket": tickets.view(appended.ticket), "event": tickets.event_view(event)}


def note(principal: Principal, ticket_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """An internal note: on the agents' timeline only, never emailed, never shown to the requester."""
    text = tickets.clean_text(body.get("body"))
    ticket = tickets.for_agent(principal, ticket_id)
    files = attachments.usable(ticket.ticket_id, body.get("attachment_ids"))
    entry = Entry(
        kind="note",
        author="agent",
        author_id=principal.id,
        author_name=principal.name,
        body=text,
        data={"attachments": [attachments.view(f) for f in files]},
    )
    appended = _append_with(ticket, entry, files, internal=True)
    return {"ticket": tickets.view(appended.ticket), "event": tickets.event_view(appended.events[0])}


def _append_with(
    ticket: Ticket,
    entry: Entry,
    files: list[TicketAttachment],
    *,
    internal: bool,
    status: tickets.StatusRule | None = None,
) -> tickets.Appended:
    def bind(tx: TransactWrite, events: list[TicketEvent]) -> None:
        attachments.bind(tx, files, int(events[0].seq), internal=internal)

    try:
        return tickets.append(ticket, [entry], status=status, extra=bind if files else None)
    except tickets.Conflict:
        raise CharlaError("conflict", "An attachment was used meanwhile by another entry; reload.") from None


def _deliver(ticket: Ticket, event: TicketEvent, text: str, files: list[TicketAttachment]) -> TicketEvent:
    data = event.data.as_dict() if event.data is not None else {}
    try:
        data["mail_id"] = reply_mail.send(ticket, text, [(f, attachments.read_bytes(f)) for f in files])
        data["delivery"] = "sent"
    except MailSandbox as refused:
        # Stored, not mailed: the agent is told why (the SES sandbox) and what would let it go out.
        log.warning("reply on ticket %s was not mailed: SES is in the sandbox", ticket.ticket_id)
        data["delivery"] = "failed"
        data["error"] = refused.code
        data["reason"] = refused.message
    except Exception as error:
        # The reply stays on the timeline, marked, so the agent sees it did not go out and can resend.
        log.exception("reply on ticket %s was not sent", ticket.ticket_id)
        data["delivery"] = "failed"
        data["error"] = type(error).__name__
    event.update(actions=[TicketEvent.data.set(data)])
    return event


# --- the requester answers ---------------------------------------------------------------------


def visitor_reply(principal: Principal, ticket_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """The requester answers from the widget: the same effect as answering by email."""
    text = tickets.clean_text(body.get("body"))
    ticket = tickets.for_visitor(principal, ticket_id)
    entry = Entry(kind="message", author="requester", author_id=principal.id, author_name=principal.name, body=text)
    appended = tickets.append(ticket, [entry], status=tickets.requester_replied)
    tickets.announce(appended.ticket, "requester_reply")
    return {
        "ticket": tickets.view(appended.ticket, for_visitor=True),
        "event": tickets.event_view(appended.events[0], for_visitor=True),
    }
