"""Tickets: the offline form, chat to ticket, the timeline, edits with versions, replies, notes, lists."""

from __future__ import annotations

import json

import pytest
from pynamodb.connection.base import Connection

from functions.core.errors import CharlaError
from functions.core.principals import Principal
from functions.helpdesk import agent_actions, from_chat, lists, offline_form, tickets
from functions.models import Agent, Chat, Message, Ticket, TicketEvent
from functions.team import agents
from functions.visitors import names
from tests.support import desk, outbox
from tests.support.actors import Socket, new_agent, new_visitor, start_chat
from tests.support.admin import signed_in


@pytest.fixture
def helpdesk(aws, monkeypatch):
    desk.prepare(monkeypatch)


@pytest.fixture
def no_scan(monkeypatch):
    """Any Scan on a ticket path fails the test (docs/data-model.md: no Scan, anywhere)."""

    def refuse(*args, **kwargs):
        raise AssertionError("a Scan was issued")

    monkeypatch.setattr(Connection, "scan", refuse)


def offline(visitor: Principal, **fields: str) -> Ticket:
    values = {"name": "Vera", "email": "vera@example.com", "message": "My order never came.\nIt was #123."}
    return offline_form.submit(visitor, {"fields": {**values, **fields}})


def email_ticket(subject: str = "Printer on fire", email: str = "req@example.com", name: str = "Rex") -> Ticket:
    ticket = tickets.new_ticket(subject=subject, source="email", requester_email=email, requester_name=name)
    return tickets.create(ticket, [tickets.Entry(kind="message", author="requester", body="Help")])


def events(ticket_id: str) -> list[TicketEvent]:
    return list(TicketEvent.query(ticket_id, consistent_read=True))


def code_of(excinfo: pytest.ExceptionInfo[CharlaError]) -> tuple[str, int]:
    return excinfo.value.code, excinfo.value.http_status


# --- the offline form --------------------------------------------------------------------------


def test_the_offline_form_makes_an_open_ticket_the_visitor_can_read(helpdesk):
    visitor = new_visitor()
    ticket = offline(visitor)
    assert (ticket.status, ticket.source, ticket.requester_email, ticket.requester_name) == (
        "open",
        "offline_form",
        "vera@example.com",
        "Vera",
    )
    assert ticket.subject == "My order never came."
    [entry] = events(ticket.ticket_id)
    assert entry.kind == "message" and entry.author == "requester" and "It was #123." in entry.body
    assert [f["name"] for f in entry.data.as_dict()["fields"]] == ["name", "email", "message"]
    assert [t["ticket_id"] for t in tickets.visitor_tickets(visitor)] == [ticket.ticket_id]
    assert tickets.for_visitor(visitor, ticket.ticket_id).ticket_id == ticket.ticket_id


def test_an_offline_subject_is_cut_at_a_word_not_mid_word(helpdesk):
    long = "I ordered a blue winter jacket three weeks ago and the tracking number still shows nothing at all"
    ticket = offline(new_visitor(), message=long + "\nOrder #9.")
    assert ticket.subject == "I ordered a blue winter jacket three weeks ago and the tracking number still…"
    assert len(ticket.subject) <= offline_form.SUBJECT_CHARS and long.startswith(ticket.subject[:-1])


def test_another_visitor_gets_404_for_a_ticket_not_theirs(helpdesk):
    ticket = offline(new_visitor())
    other = new_visitor()
    with pytest.raises(CharlaError) as refused:
        tickets.for_visitor(other, ticket.ticket_id)
    assert code_of(refused) == ("not_found", 404)
    with pytest.raises(CharlaError) as missing:
        tickets.for_visitor(other, "ZZZZZZZZZZ")
    assert refused.value.message == missing.value.message  # the same answer: ids can't be probed
    assert tickets.visitor_tickets(other) == []


BAD_SUBMISSIONS = [
    ({"email": ""}, "Email is required."),
    ({"message": "   "}, "Message is required."),
    ({"email": "not-an-email"}, "Email is not a valid email address."),
    ({"name": "x" * 201}, "Name is limited to 200 characters."),
    ({"colour": "red"}, "Unknown fields: colour."),
    ({"name": 7}, "Name must be text."),
]


def test_the_offline_form_checks_each_field_and_writes_nothing_on_error(helpdesk):
    visitor = new_visitor()
    for fields, message in BAD_SUBMISSIONS:
        with pytest.raises(CharlaError) as refused:
            offline(visitor, **fields)
        assert refused.value.http_status == 400 and refused.value.message == message
    with pytest.raises(CharlaError) as shape:
        offline_form.submit(visitor, {"fields": ["Vera"]})
    assert shape.value.http_status == 400
    with pytest.raises(CharlaError) as agent:
        offline_form.submit(desk.agent_principal("ana"), {"fields": {}})
    assert agent.value.http_status == 403
    assert tickets.visitor_tickets(visitor) == []


def test_control_characters_in_a_name_are_removed_before_storing(helpdesk):
    ticket = offline(new_visitor(), name="Eve\r\nBcc: victim@example.com")
    assert ticket.requester_name == "Eve Bcc: victim@example.com"


def test_admins_rename_fields_mark_them_required_and_add_fields(helpdesk):
    admin = desk.agent_principal("boss", "Boss", "admin")
    fields = [
        {"name": "name", "label": "Your name", "type": "text", "required": False},
        {"name": "email", "label": "Where we reply", "type": "email", "required": True},
        {"name": "order", "label": "Order number", "type": "text", "required": True},
        {"name": "message", "label": "Question", "type": "textarea", "required": True},
    ]
    assert offline_form.save_config(admin, {"fields": fields}) == fields
    assert offline_form.fields() == fields
    visitor = new_visitor()
    with pytest.raises(CharlaError) as refused:
        offline_form.submit(visitor, {"fields": {"email": "a@example.com", "message": "Hi"}})
    assert refused.value.message == "Order number is required."
    ticket = offline_form.submit(visitor, {"fields": {"email": "a@example.com", "order": "A-1", "message": "Hi"}})
    assert "Order number: A-1" in events(ticket.ticket_id)[0].body


BAD_FORMS = [
    [],
    [{"name": "Name", "label": "x", "type": "text", "required": True}],
    [{"name": "a", "label": "", "type": "text", "required": True}],
    [{"name": "a", "label": "A", "type": "html", "required": True}],
    [{"name": "a", "label": "A", "type": "text", "required": "yes"}],
    [{"name": "a", "label": "A", "type": "text", "required": True}] * 2,
    [{"name": f"e{i}", "label": "E", "type": "email", "required": True} for i in range(2)],
    "name,email",
]


def test_a_bad_form_configuration_is_refused_and_only_admins_change_it(helpdesk):
    for fields in BAD_FORMS:
        with pytest.raises(CharlaError) as refused:
            offline_form.save_config(desk.agent_principal("boss", role="admin"), {"fields": fields})
        assert refused.value.http_status == 400, fields
    with pytest.raises(CharlaError) as refused:
        offline_form.save_config(desk.agent_principal("ana"), {"fields": offline_form.fields()})
    assert code_of(refused) == ("forbidden", 403)
    assert [f["name"] for f in offline_form.fields()] == ["name", "email", "message"]


def test_one_visitor_leaves_at_most_five_offline_tickets_an_hour(helpdesk):
    visitor = new_visitor()
    for _ in range(offline_form.PER_HOUR):
        offline(visitor)
    with pytest.raises(CharlaError) as refused:
        offline(visitor)
    assert code_of(refused) == ("rate_limited", 429)


# --- chat to ticket ----------------------------------------------------------------------------


def test_a_chat_becomes_a_ticket_with_its_transcript_and_times_linked_both_ways(helpdesk):
    agent = new_agent("Ana")
    Socket(agent)
    visitor = new_visitor("Vic")
    socket = Socket(visitor)
    chat_id = start_chat(socket, name="Vic", email="vic@example.com")["chat_id"]
    socket.send({"action": "send", "chat_id": chat_id, "client_msg_id": "m1", "text": "My invoice is wrong"})
    assert agent.id in (Chat.get(chat_id).agent_ids or ())  # Ana takes part, so she may make the ticket
    ticket, created = from_chat.create(agent, chat_id, {"subject": "Invoice"})
    assert created and ticket.chat_id == chat_id and Chat.get(chat_id).ticket_id == ticket.ticket_id
    assert (ticket.source, ticket.requester_email, ticket.visitor_id) == ("chat", "vic@example.com", visitor.id)
    chat_messages = list(Message.query(chat_id))
    entries = events(ticket.ticket_id)
    copied = entries[: len(chat_messages)]
    assert [(e.body, e.ts) for e in copied] == [(m.text, m.ts) for m in chat_messages]
    assert [e.author for e in copied if e.body == "My invoice is wrong"] == ["requester"]
    assert entries[-1].kind == "update" and entries[-1].data.as_dict()["chat_id"] == chat_id
    assert int(tickets.load(ticket.ticket_id).last_seq) == len(entries)
    again, created_again = from_chat.create(agent, chat_id, {})
    assert (again.ticket_id, created_again) == (ticket.ticket_id, False)
    # The visitor reads it in the widget, without anything internal.
    assert tickets.timeline(ticket, 0, for_visitor=True)["events"]


def test_only_a_participant_or_an_admin_makes_a_ticket_of_a_chat(helpdesk):
    agent = new_agent("Ana")
    Socket(agent)
    visitor = new_visitor()
    chat_id = start_chat(Socket(visitor))["chat_id"]
    outsider = new_agent("Otto", accepting=False)
    with pytest.raises(CharlaError) as refused:
        from_chat.create(outsider, chat_id, {})
    assert code_of(refused) == ("not_found", 404)
    admin = new_agent("Boss", accepting=False, role="admin")
    ticket, created = from_chat.create(admin, chat_id, {})
    assert created and ticket.requester_email is None and ticket.subject == f"Chat with {names.label(visitor.id)}"


# --- edits with a version ----------------------------------------------------------------------


def test_a_stale_version_is_a_clear_409_and_changes_nothing(helpdesk):
    ticket = email_ticket()
    ana, bob = desk.agent_principal("ana", "Ana"), desk.agent_principal("bob", "Bob")
    seen = int(ticket.version)
    changed = agent_actions.edit(ana, ticket.ticket_id, {"version": seen, "status": "pending"})
    assert (changed.status, int(changed.version)) == ("pending", seen + 1)
    with pytest.raises(CharlaError) as refused:
        agent_actions.edit(bob, ticket.ticket_id, {"version": seen, "status": "solved"})
    assert code_of(refused) == ("conflict", 409) and "Reload" in refused.value.message
    assert tickets.load(ticket.ticket_id).status == "pending"
    kinds = [(e.kind, (e.data.as_dict() if e.data else {}).get("to")) for e in events(ticket.ticket_id)]
    assert kinds == [("message", None), ("status", "pending")]


def test_title_assignee_and_status_change_together_and_each_is_on_the_timeline(helpdesk):
    ticket = email_ticket("Old words here")
    ana = desk.agent_principal("ana", "Ana")
    agents.ensure_profile("ana", "ana@example.com", "Ana")
    edited = agent_actions.edit(
        ana, ticket.ticket_id, {"version": 1, "title": "New\r\ntitle", "assignee_id": "me", "status": "solved"}
    )
    assert (edited.subject, edited.assignee_id, edited.status, edited.assignee_status) == (
        "New title",
        "ana",
        "solved",
        "ana#solved",
    )
    fields = [(e.data.as_dict().get("field"), e.kind) for e in events(ticket.ticket_id)[1:]]
    assert fields == [("title", "update"), (None, "status"), ("assignee", "update")]
    unassigned = agent_actions.edit(ana, ticket.ticket_id, {"version": 2, "assignee_id": None})
    assert unassigned.assignee_id is None and unassigned.assignee_status is None


def test_an_agent_assigns_a_ticket_to_a_colleague_and_it_is_on_the_colleagues_list(helpdesk):
    ticket = email_ticket("Refund for #77")
    agents.ensure_profile("bea", "bea@example.com", "Bea")
    edited = agent_actions.edit(
        desk.agent_principal("ana", "Ana"), ticket.ticket_id, {"version": 1, "assignee_id": "bea"}
    )
    assert (edited.assignee_id, edited.assignee_status) == ("bea", "bea#open")
    [change] = [e for e in events(ticket.ticket_id) if e.kind == "update"]
    assert change.author_id == "ana" and change.data.as_dict() == {"field": "assignee", "from": None, "to": "bea"}
    Agent("bea").update(actions=[Agent.disabled.set(True)])
    with pytest.raises(CharlaError) as refused:
        agent_actions.edit(desk.agent_principal("ana"), ticket.ticket_id, {"version": 2, "assignee_id": "bea"})
    assert code_of(refused) == ("bad_request", 400)


BAD_EDITS = [
    ({"status": "open"}, 400),
    ({"version": "1", "status": "open"}, 400),
    ({"version": 1, "status": "closed"}, 400),
    ({"version": 1, "title": ""}, 400),
    ({"version": 1, "colour": "red"}, 400),
    ({"version": 1, "assignee_id": "nobody"}, 404),
]


def test_bad_edits_are_refused(helpdesk):
    ticket = email_ticket()
    for body, status in BAD_EDITS:
        with pytest.raises(CharlaError) as refused:
            agent_actions.edit(desk.agent_principal("ana"), ticket.ticket_id, body)
        assert refused.value.http_status == status, body
    with pytest.raises(CharlaError) as missing:
        agent_actions.edit(desk.agent_principal("ana"), "nope", {"version": 1})
    assert missing.value.http_status == 404
    assert int(tickets.load(ticket.ticket_id).version) == 1 and len(events(ticket.ticket_id)) == 1


# --- replies and notes -------------------------------------------------------------------------


def test_a_reply_is_emailed_with_the_reference_and_sets_pending(helpdesk):
    ticket = email_ticket("Printer on fire")
    ticket.update(actions=[Ticket.last_inbound_message_id.set("<abc@mail.example.com>")])
    result = agent_actions.reply(desk.agent_principal("ana", "Ana"), ticket.ticket_id, {"body": "Unplug it."})
    assert result["ticket"]["status"] == "pending" and result["event"]["data"]["delivery"] == "sent"
    [mail] = outbox.sent_mail()
    ref = ticket.ticket_id
    assert mail["Subject"] == f"Re: Printer on fire [#{ref}]"
    assert mail["Reply-To"] == f"support+{ref}@charla.test"
    assert mail["To"] == "Rex <req@example.com>" and mail["From"] == desk.SUPPORT
    assert mail["In-Reply-To"] == "<abc@mail.example.com>"
    assert "Unplug it." in mail.get_body().get_content()
    stored = events(ref)[1]
    assert stored.author == "agent" and stored.author_name == "Ana" and stored.data.as_dict()["mail_id"]


def test_reply_status_can_be_chosen_and_spam_tickets_get_no_reply(helpdesk):
    ticket = email_ticket()
    ana = desk.agent_principal("ana", "Ana")
    assert agent_actions.reply(ana, ticket.ticket_id, {"body": "Done.", "status": "solved"})["ticket"]["status"] == (
        "solved"
    )
    agent_actions.edit(ana, ticket.ticket_id, {"version": 2, "status": "spam"})
    with pytest.raises(CharlaError) as refused:
        agent_actions.reply(ana, ticket.ticket_id, {"body": "Hello?"})
    assert code_of(refused) == ("conflict", 409)


def test_an_internal_note_is_never_emailed_nor_shown_to_the_requester(helpdesk):
    visitor = new_visitor()
    ticket = offline(visitor)
    ana = desk.agent_principal("ana", "Ana")
    agent_actions.note(ana, ticket.ticket_id, {"body": "SECRET: customer is a reseller"})
    agent_actions.reply(ana, ticket.ticket_id, {"body": "We are on it."})
    assert len(outbox.sent_mail()) == 1
    assert all("SECRET" not in raw for raw in outbox.raw_sent())
    seen_by_visitor = tickets.timeline(tickets.for_visitor(visitor, ticket.ticket_id), 0, for_visitor=True)
    assert "SECRET" not in repr(seen_by_visitor)
    assert [e["kind"] for e in seen_by_visitor["events"]] == ["message", "message", "status"]
    agent_view = tickets.timeline(ticket, 0)
    assert [e["kind"] for e in agent_view["events"]] == ["message", "note", "message", "status"]


def test_cr_lf_in_a_subject_or_name_never_reaches_an_outgoing_header(helpdesk):
    ticket = email_ticket(subject="Hi\r\nBcc: victim@example.com", name="Eve\r\nX-Injected: yes")
    # Even a value that slipped past cleaning on the way in is made safe on the way out.
    ticket.update(
        actions=[
            Ticket.subject.set("Hi\r\nBcc: victim@example.com"),
            Ticket.requester_name.set("Eve\nX-Injected: yes"),
        ]
    )
    agent_actions.reply(desk.agent_principal("ana", "Ana\r\nX-Agent: 1"), ticket.ticket_id, {"body": "Hello"})
    [raw] = outbox.raw_sent()
    headers = raw.split("\r\n\r\n", 1)[0] if "\r\n\r\n" in raw else raw.split("\n\n", 1)[0]
    names = [line.split(":", 1)[0].lower() for line in headers.splitlines() if line and not line[0].isspace()]
    assert "bcc" not in names and "x-injected" not in names and "x-agent" not in names
    [mail] = outbox.sent_mail()
    assert "\n" not in str(mail["Subject"]) and "\r" not in str(mail["To"])


def test_the_requester_reply_from_the_widget_reopens_pending_and_solved(helpdesk):
    visitor = new_visitor()
    ticket = offline(visitor)
    ana = desk.agent_principal("ana", "Ana")
    agent_actions.reply(ana, ticket.ticket_id, {"body": "Which order?"})
    assert tickets.load(ticket.ticket_id).status == "pending"
    result = agent_actions.visitor_reply(visitor, ticket.ticket_id, {"body": "Order 123"})
    assert result["ticket"]["status"] == "open"
    agent_actions.reply(ana, ticket.ticket_id, {"body": "Refunded.", "status": "solved"})
    agent_actions.visitor_reply(visitor, ticket.ticket_id, {"body": "Thanks, one more thing"})
    assert tickets.load(ticket.ticket_id).status == "open"
    with pytest.raises(CharlaError):
        agent_actions.visitor_reply(new_visitor(), ticket.ticket_id, {"body": "hi"})


def test_concurrent_appends_get_consecutive_seqs(helpdesk):
    from concurrent.futures import ThreadPoolExecutor

    ticket = email_ticket()
    ana = desk.agent_principal("ana", "Ana")
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: agent_actions.note(ana, ticket.ticket_id, {"body": f"n{i}"}), range(12)))
    seqs = [int(e.seq) for e in events(ticket.ticket_id)]
    assert seqs == list(range(1, 14)) and int(tickets.load(ticket.ticket_id).last_seq) == 13


# --- lists and search --------------------------------------------------------------------------


def _list(**params: str) -> dict:
    return lists.list_tickets(desk.agent_principal("ana", "Ana"), params)


def test_lists_filter_by_status_and_assignee_newest_first_and_leave_spam_out(helpdesk, no_scan):
    agents.ensure_profile("ana", "ana@example.com", "Ana")
    ana = desk.agent_principal("ana", "Ana")
    made = [email_ticket(f"Ticket {i}") for i in range(5)]
    agent_actions.edit(ana, made[0].ticket_id, {"version": 1, "status": "spam"})
    agent_actions.edit(ana, made[1].ticket_id, {"version": 1, "status": "pending", "assignee_id": "me"})
    agent_actions.edit(ana, made[2].ticket_id, {"version": 1, "assignee_id": "me"})
    ids = [t.ticket_id for t in made]
    assert [t["ticket_id"] for t in _list()["tickets"]] == ids[:0:-1]
    assert [t["ticket_id"] for t in _list(status="spam")["tickets"]] == [ids[0]]
    assert [t["ticket_id"] for t in _list(status="pending")["tickets"]] == [ids[1]]
    assert [t["ticket_id"] for t in _list(assignee="me")["tickets"]] == [ids[2], ids[1]]
    assert [t["ticket_id"] for t in _list(assignee="ana", status="open")["tickets"]] == [ids[2]]


def test_cursor_pagination_visits_every_ticket_once(helpdesk, no_scan):
    made = [email_ticket(f"Ticket {i}") for i in range(7)]
    seen, cursor, pages = [], None, 0
    while True:
        page = _list(limit="3", **({"cursor": cursor} if cursor else {}))
        seen += [t["ticket_id"] for t in page["tickets"]]
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [t.ticket_id for t in reversed(made)] and pages == 3


def test_search_by_requester_email_and_by_subject_words(helpdesk, no_scan):
    ana = desk.agent_principal("ana", "Ana")
    a = email_ticket("Invoice for March", email="Pat@Example.com")
    b = email_ticket("Refund of the invoice", email="other@example.com")
    c = email_ticket("Login trouble", email="pat@example.com")
    assert [t["ticket_id"] for t in _list(requester="pat@example.com")["tickets"]] == [c.ticket_id, a.ticket_id]
    assert [t["ticket_id"] for t in _list(q="INVOICE")["tickets"]] == [b.ticket_id, a.ticket_id]
    assert [t["ticket_id"] for t in _list(q="invoice march")["tickets"]] == [a.ticket_id]
    assert [t["ticket_id"] for t in _list(q="invoice", requester="other@example.com")["tickets"]] == [b.ticket_id]
    assert [t["ticket_id"] for t in _list(q=f"#{c.ticket_id}")["tickets"]] == [c.ticket_id]
    agent_actions.edit(ana, a.ticket_id, {"version": 1, "title": "Billing question"})
    assert [t["ticket_id"] for t in _list(q="march")["tickets"]] == []
    assert [t["ticket_id"] for t in _list(q="billing")["tickets"]] == [a.ticket_id]


def test_search_pages_with_a_cursor_too(helpdesk, no_scan):
    made = [email_ticket(f"Factura número {i}") for i in range(5)]
    first = _list(q="factura", limit="2")
    second = _list(q="numero", limit="2", cursor=first["next_cursor"])
    shown = [t["ticket_id"] for t in first["tickets"] + second["tickets"]]
    assert shown == [t.ticket_id for t in reversed(made)][:4]


BAD_PARAMS = [
    {"status": "closed"},
    {"cursor": "bm9wZQ"},
    {"limit": "0"},
    {"limit": "x"},
    {"requester": "nope"},
    {"q": "!"},
]


def test_bad_list_parameters_are_400(helpdesk):
    for params in BAD_PARAMS:
        with pytest.raises(CharlaError) as refused:
            _list(**params)
        assert refused.value.http_status == 400, params


# --- the REST routes ---------------------------------------------------------------------------


def test_the_rest_routes_for_agents_and_visitors(helpdesk, pool, api):
    rest = desk.Rest(api)
    ana = {"authorization": signed_in(api, pool, "ana@example.com", "Ana")}
    bob = {"authorization": signed_in(api, pool, "bob@example.com", "Bob")}
    status, form = rest.call("GET", "/widget/offline-form")
    assert status == 200 and [f["name"] for f in form["fields"]] == ["name", "email", "message"]
    identity = rest.call("POST", "/visitor/identity")[1]
    visitor = desk.visitor_headers(identity)
    fields = {"name": "Vera", "email": "vera@example.com", "message": "Where is my parcel?"}
    status, made = rest.call("POST", "/visitor/offline", {"fields": fields}, visitor)
    assert status == 201 and made["status"] == "open" and "requester" not in made
    ref = made["ticket_id"]
    assert rest.call("POST", "/visitor/offline", {"fields": {"name": "V"}}, visitor)[0] == 400
    assert rest.call("POST", "/visitor/offline", {"fields": fields})[0] == 401

    status, listed = rest.call("GET", "/agent/tickets?status=open", headers=ana)
    assert status == 200 and [t["ticket_id"] for t in listed["tickets"]] == [ref]
    assert listed["next_cursor"] is None and listed["tickets"][0]["requester"]["email"] == "vera@example.com"
    assert rest.call("GET", "/agent/tickets?status=nope", headers=ana)[0] == 400
    assert rest.call("GET", "/agent/tickets")[0] == 401
    status, opened = rest.call("GET", f"/agent/tickets/{ref}", headers=ana)
    assert status == 200 and opened["ticket"]["version"] == 1 and len(opened["events"]) == 1

    status, edited = rest.call("PATCH", f"/agent/tickets/{ref}", {"version": 1, "assignee_id": "me"}, ana)
    assert status == 200 and edited["version"] == 2 and edited["assignee_id"]
    status, stale = rest.call("PATCH", f"/agent/tickets/{ref}", {"version": 1, "status": "solved"}, bob)
    assert status == 409 and stale["Code"] == "conflict"
    status, noted = rest.call("POST", f"/agent/tickets/{ref}/notes", {"body": "VIP"}, bob)
    assert status == 201 and noted["event"]["kind"] == "note"
    status, replied = rest.call("POST", f"/agent/tickets/{ref}/replies", {"body": "On its way"}, ana)
    assert status == 201 and replied["ticket"]["status"] == "pending"
    announce = {"name": "a.pdf", "content_type": "application/pdf", "size": 9}
    status, started = rest.call("POST", f"/agent/tickets/{ref}/attachments", announce, ana)
    assert status == 201 and started["upload"]["url"] and started["attachment"]["state"] == "pending"
    attachment = started["attachment"]["attachment_id"]
    status, early = rest.call("POST", f"/agent/tickets/{ref}/attachments/{attachment}/complete", {}, ana)
    assert status == 409
    assert rest.call("GET", f"/agent/tickets/{ref}/attachments/{attachment}", headers=ana)[0] == 404

    status, mine = rest.call("GET", "/visitor/tickets", headers=visitor)
    assert status == 200 and [t["ticket_id"] for t in mine["tickets"]] == [ref]
    status, seen = rest.call("GET", f"/visitor/tickets/{ref}", headers=visitor)
    assert status == 200 and [e["kind"] for e in seen["events"]] == ["message", "message", "status"]
    assert "VIP" not in json_text(seen) and "author_id" not in seen["events"][0]
    status, answered = rest.call("POST", f"/visitor/tickets/{ref}/replies", {"body": "Thanks"}, visitor)
    assert status == 201 and answered["ticket"]["status"] == "open"
    other = desk.visitor_headers(rest.call("POST", "/visitor/identity")[1])
    status, hidden = rest.call("GET", f"/visitor/tickets/{ref}", headers=other)
    assert status == 404 and hidden["Code"] == "not_found" and "Vera" not in json_text(hidden)
    assert rest.call("POST", f"/visitor/tickets/{ref}/replies", {"body": "x"}, other)[0] == 404

    status, saved = rest.call("PUT", "/agent/offline-form", {"fields": form["fields"][:2]}, ana)
    assert status == 403 and saved["Code"] == "forbidden"
    assert rest.call("GET", "/agent/offline-form", headers=ana)[1] == form


def json_text(value: object) -> str:
    return json.dumps(value)
