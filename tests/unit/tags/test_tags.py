"""Tags: the admins' list, tagging chats and tickets, and filtering tickets and reports by tag."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pynamodb.connection.base import Connection

from functions.admin import webhooks
from functions.core import aws as charla_aws
from functions.core.errors import CharlaError
from functions.core.principals import Principal
from functions.helpdesk import lists, tickets
from functions.models import Chat
from functions.reports import ranges
from functions.tags import catalog, tagging
from functions.visitors import identity
from infra.local import queues
from tests.support import desk
from tests.support.actors import Socket, new_agent, new_visitor, start_chat
from tests.support.admin import add_user, body, call, login

ADMIN = Principal("agent", "boss", "Boss", "admin")


@pytest.fixture
def boss(pool, api) -> str:
    add_user(pool, "boss@example.com", "Boss", role="admin")
    return str(login(api, "boss@example.com")["id_token"])


@pytest.fixture
def ana(pool, api) -> tuple[str, str]:
    """An agent accepting chats: (agent id, ID token)."""
    sub = add_user(pool, "ana@example.com", "Ana")
    return sub, str(login(api, "ana@example.com")["id_token"])


@pytest.fixture
def bea(pool, api) -> str:
    add_user(pool, "bea@example.com", "Bea", accepting=False)
    return str(login(api, "bea@example.com")["id_token"])


def tag(name: str, color: str = "blue") -> str:
    return str(catalog.create({"name": name, "color": color})["id"])


# --- the list ------------------------------------------------------------------------------------


def test_an_admin_defines_the_list_and_every_agent_reads_it(api, boss, bea):
    made = call(api, "POST", "/admin/tags", boss, {"name": "  Billing ", "color": "red"})
    assert made.status_code == 201
    billing = body(made)
    assert (billing["name"], billing["color"]) == ("Billing", "#dc2626")
    vip = body(call(api, "POST", "/admin/tags", boss, {"name": "VIP", "color": "#A1B2C3"}))
    assert vip["color"] == "#a1b2c3"

    listed = body(call(api, "GET", "/agent/tags", bea))
    assert [t["name"] for t in listed["tags"]] == ["Billing", "VIP"]
    assert listed["palette"]["red"] == "#dc2626"

    renamed = call(api, "PATCH", f"/admin/tags/{vip['id']}", boss, {"name": "Gold", "color": "amber"})
    assert body(renamed) == {"id": vip["id"], "name": "Gold", "color": "#d97706"}
    assert call(api, "DELETE", f"/admin/tags/{billing['id']}", boss).status_code == 204
    assert [t["name"] for t in body(call(api, "GET", "/agent/tags", bea))["tags"]] == ["Gold"]
    assert call(api, "DELETE", f"/admin/tags/{billing['id']}", boss).status_code == 404


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "", "color": "red"}, "name"),
        ({"name": "x" * 41, "color": "red"}, "name"),
        ({"name": 7, "color": "red"}, "name"),
        ({"name": "Ok", "color": "crimson"}, "color"),
        ({"name": "Ok", "color": "#12345"}, "color"),
        ({"name": "Ok", "color": "red", "icon": "x"}, None),
    ],
)
def test_a_bad_tag_is_refused_naming_the_field(api, boss, payload, field):
    response = call(api, "POST", "/admin/tags", boss, payload)
    assert response.status_code == 400
    if field:
        assert body(response)["Field"] == field
    assert body(call(api, "GET", "/agent/tags", boss))["tags"] == []


def test_names_are_unique_ignoring_case(api, boss):
    call(api, "POST", "/admin/tags", boss, {"name": "Billing", "color": "red"})
    clash = call(api, "POST", "/admin/tags", boss, {"name": "BILLING", "color": "blue"})
    assert clash.status_code == 409 and body(clash)["Field"] == "name"
    other = body(call(api, "POST", "/admin/tags", boss, {"name": "Refund", "color": "blue"}))
    assert call(api, "PATCH", f"/admin/tags/{other['id']}", boss, {"name": "billing"}).status_code == 409
    assert call(api, "PATCH", f"/admin/tags/{other['id']}", boss, {"name": "refund"}).status_code == 200


def test_two_admins_adding_one_name_at_once_make_one_tag(aws, monkeypatch):
    stale = catalog._stored(consistent=True)  # what the second admin read: no tags yet
    tag("billing")
    reads = iter([stale])
    real = catalog._stored
    monkeypatch.setattr(catalog, "_stored", lambda consistent: next(reads, None) or real(consistent=consistent))
    with pytest.raises(CharlaError) as clash:
        catalog.create({"name": "Billing", "color": "red"})
    assert (clash.value.code, clash.value.http_status, clash.value.field) == ("name_taken", 409, "name")
    assert [t["name"] for t in catalog.list_view()["tags"]] == ["billing"]


def test_the_list_shows_a_tag_made_through_another_instance_at_once(aws):
    assert catalog.named(["tag_0000000000"]) == []  # this instance now holds a copy of the empty list
    catalog.list_view()
    # Another Lambda instance (an admin's POST) writes the list; this instance's copy knows nothing of it.
    catalog.TagList(catalog.TAG_LIST, tags={"tag_0123456789": {"name": "VIP", "color": "#123abc"}}, version=1).save()
    assert [t["name"] for t in catalog.list_view()["tags"]] == ["VIP"]


def test_only_admins_change_the_list(api, boss, bea):
    made = body(call(api, "POST", "/admin/tags", boss, {"name": "Billing", "color": "red"}))
    assert call(api, "POST", "/admin/tags", bea, {"name": "Mine", "color": "red"}).status_code == 403
    assert call(api, "PATCH", f"/admin/tags/{made['id']}", bea, {"name": "Mine"}).status_code == 403
    assert call(api, "DELETE", f"/admin/tags/{made['id']}", bea).status_code == 403
    assert call(api, "GET", "/agent/tags").status_code == 401
    assert call(api, "POST", "/admin/tags", None, {"name": "Mine", "color": "red"}).status_code == 401
    assert [t["name"] for t in body(call(api, "GET", "/agent/tags", boss))["tags"]] == ["Billing"]


# --- tagging chats -------------------------------------------------------------------------------


def test_a_participant_tags_a_chat_and_its_agents_see_it_but_never_the_visitor(api, ana, bea, boss):
    agent_id, token = ana
    agent = Socket(Principal("agent", agent_id, "Ana", "agent"))
    visitor = Socket(new_visitor("Vera"))
    chat_id = start_chat(visitor)["chat_id"]
    billing, vip = tag("Billing"), tag("VIP")
    agent.clear()
    visitor.clear()

    answer = call(api, "PATCH", f"/agent/chats/{chat_id}/tags", token, {"add": [billing, vip]})
    assert body(answer) == {"chat_id": chat_id, "tags": sorted([billing, vip])}
    assert [f["chat"]["tags"] for f in agent.of_type("chat")] == [sorted([billing, vip])]
    assert visitor.frames() == []
    assert "tags" not in json.dumps(visitor.send({"action": "resume", "chat_id": chat_id, "after_seq": 0}))

    removed = call(api, "PATCH", f"/agent/chats/{chat_id}/tags", token, {"remove": [vip]})
    assert body(removed)["tags"] == [billing]
    # A colleague who isn't in the chat may not; an admin may.
    assert call(api, "PATCH", f"/agent/chats/{chat_id}/tags", bea, {"add": [vip]}).status_code == 404
    assert body(call(api, "PATCH", f"/agent/chats/{chat_id}/tags", boss, {"add": [vip]}))["tags"] == sorted(
        [billing, vip]
    )


def test_tagging_a_chat_is_refused_to_visitors_signed_out_callers_and_unknown_tags(api, ana):
    agent_id, token = ana
    Socket(Principal("agent", agent_id, "Ana", "agent"))
    minted = identity.create_identity()
    visitor = Socket(Principal("visitor", minted["visitor_id"], None))
    chat_id = start_chat(visitor)["chat_id"]
    billing = tag("Billing")
    path = f"/agent/chats/{chat_id}/tags"
    assert call(api, "PATCH", path, None, {"add": [billing]}).status_code == 401
    # API Gateway's Cognito authorizer refuses a visitor's credentials; the domain refuses them too.
    with pytest.raises(CharlaError) as refused:
        tagging.tag_chat(visitor.principal, chat_id, {"add": [billing]})
    assert refused.value.http_status == 404
    unknown = call(api, "PATCH", path, token, {"add": ["tag_0123456789"]})
    assert unknown.status_code == 400 and body(unknown)["Field"] == "add"
    assert body(call(api, "PATCH", path, token, {"add": "x"}))["Field"] == "add"
    assert body(call(api, "PATCH", path, token, {}))["Field"] == "add"
    assert Chat.get(chat_id).tags is None


def test_two_agents_tagging_at_once_both_keep_their_tags(aws):
    agent = new_agent("Ana")
    Socket(agent)
    chat_id = start_chat(Socket(new_visitor()))["chat_id"]
    billing, vip = tag("Billing"), tag("VIP")
    stale = Chat.get(chat_id)
    tagging.tag_chat(agent, chat_id, {"add": [billing]})
    # The second write was prepared from the chat before the first: its condition fails, it reads again.
    original = tagging.access.chat_for_write
    calls = iter([stale])
    tagging.access.chat_for_write = lambda p, c: next(calls, None) or original(p, c)  # type: ignore[assignment]
    try:
        tagging.tag_chat(agent, chat_id, {"add": [vip]})
    finally:
        tagging.access.chat_for_write = original  # type: ignore[assignment]
    assert Chat.get(chat_id).tags == {billing, vip}


# --- tagging tickets and the ticket list -----------------------------------------------------------


def _ticket(subject: str) -> str:
    made = tickets.new_ticket(subject=subject, source="email", requester_email="req@example.com", requester_name="R")
    return tickets.create(made, [tickets.Entry(kind="message", author="requester", body="Help")]).ticket_id


def test_agents_tag_tickets_and_the_list_filters_by_tag(api, bea, monkeypatch):
    desk.prepare(monkeypatch)
    billing = tag("Billing")
    ids = [_ticket(f"Printer {n}") for n in range(7)]
    for ticket_id in ids[1::2]:
        tagged = call(api, "PATCH", f"/agent/tickets/{ticket_id}/tags", bea, {"add": [billing]})
        assert tagged.status_code == 200 and body(tagged)["tags"] == [billing]

    found = body(call(api, "GET", f"/agent/tickets?tag={billing}", bea))
    assert [t["ticket_id"] for t in found["tickets"]] == ids[1::2][::-1]
    # Pages of two read two (and slack) items per index partition; they may come short but never skip one.
    seen: list[str] = []
    cursor = ""
    for _ in range(10):
        page = body(call(api, "GET", f"/agent/tickets?tag={billing}&limit=2{cursor}", bea))
        seen += [t["ticket_id"] for t in page["tickets"]]
        if not page["next_cursor"]:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert seen == ids[1::2][::-1]
    searched = body(call(api, "GET", f"/agent/tickets?tag={billing}&q=printer", bea))
    assert [t["ticket_id"] for t in searched["tickets"]] == ids[1::2][::-1]
    bad = call(api, "GET", "/agent/tickets?tag=tag_0000000000", bea)
    assert bad.status_code == 400 and body(bad)["Field"] == "tag"


def test_tagging_tickets_is_refused_to_visitors_and_signed_out_callers(api, bea, monkeypatch):
    desk.prepare(monkeypatch)
    billing, ticket_id = tag("Billing"), _ticket("Printer")
    path = f"/agent/tickets/{ticket_id}/tags"
    assert call(api, "PATCH", path, None, {"add": [billing]}).status_code == 401
    with pytest.raises(CharlaError) as refused:
        tagging.tag_ticket(new_visitor(), ticket_id, {"add": [billing]})
    assert refused.value.http_status == 404
    unknown = call(api, "PATCH", path, bea, {"add": ["tag_0123456789"]})
    assert unknown.status_code == 400 and body(unknown)["Field"] == "add"
    assert "tags" not in tickets.view(tickets.load(ticket_id), for_visitor=True)


def test_a_filtered_page_reads_no_more_than_an_unfiltered_one(aws, monkeypatch):
    desk.prepare(monkeypatch)
    billing = tag("Billing")
    for n in range(40):
        _ticket(f"Printer {n}")
    read: list[int] = []
    real_query = Connection.query

    def query(self: Any, *args: Any, **kwargs: Any) -> Any:
        read.append(int(kwargs.get("limit") or 0))
        return real_query(self, *args, **kwargs)

    monkeypatch.setattr(Connection, "query", query)
    page = lists.list_tickets(ADMIN, {"tag": billing, "limit": "10", "status": "open"})
    assert page["tickets"] == [] and page["next_cursor"]
    assert read == [12]  # one Query, Limit 10 + slack, as without the tag


# --- reports -------------------------------------------------------------------------------------


def test_reports_count_a_tags_chats_whenever_the_tag_was_put_on(aws):
    agent = new_agent("Ana")
    agent_socket = Socket(agent)
    billing, vip = tag("Billing"), tag("VIP")
    during = start_chat(Socket(new_visitor()))["chat_id"]
    tagging.tag_chat(agent, during, {"add": [billing]})
    agent_socket.send({"action": "send", "chat_id": during, "client_msg_id": "a", "text": "hello"})
    agent_socket.send({"action": "close", "chat_id": during})
    after = start_chat(Socket(new_visitor()))["chat_id"]
    agent_socket.send({"action": "close", "chat_id": after})
    tagging.tag_chat(agent, after, {"add": [billing, vip]})

    totals = ranges.report(agent, tag=billing)["totals"]
    assert (totals["chats"], totals["missed"]) == (2, 1)
    assert ranges.report(agent, tag=vip)["totals"]["chats"] == 1
    tagging.tag_chat(agent, during, {"remove": [billing]})
    totals = ranges.report(agent, tag=billing)["totals"]
    assert (totals["chats"], totals["missed"], totals["median_first_response_s"]) == (1, 1, None)
    assert ranges.report(agent)["totals"]["chats"] == 2


def test_a_report_by_tag_is_refused_for_an_unknown_tag_or_with_an_agent(api, bea):
    billing = tag("Billing")
    assert body(call(api, "GET", "/agent/reports?tag=tag_0000000000", bea))["Field"] == "tag"
    assert body(call(api, "GET", f"/agent/reports?tag={billing}&agent=me", bea))["Field"] == "tag"
    report = body(call(api, "GET", f"/agent/reports?tag={billing}", bea))
    assert report["tag"] == billing and report["totals"]["chats"] == 0


# --- webhooks ------------------------------------------------------------------------------------


def test_webhook_payloads_name_their_tags(aws, monkeypatch):
    url, _ = queues.ensure_queue(charla_aws.client("sqs"), "charla-test-webhooks")
    monkeypatch.setenv("WEBHOOK_QUEUE_URL", url)
    webhooks.create(ADMIN, {"url": "https://hooks.example/charla", "events": ["chat.ended", "ticket.updated"]})
    agent = new_agent("Ana")
    agent_socket = Socket(agent)
    chat_id = start_chat(Socket(new_visitor()))["chat_id"]
    billing, gone = tag("Billing", "green"), tag("Gone")
    tagging.tag_chat(agent, chat_id, {"add": [billing, gone]})
    catalog.delete(gone)
    agent_socket.send({"action": "close", "chat_id": chat_id})
    monkeypatch.setenv("MAIL_BUCKET", "x")
    ticket_id = _ticket("Printer")
    tagging.tag_ticket(agent, ticket_id, {"add": [billing]})

    sqs = charla_aws.client("sqs")
    sent = [
        json.loads(json.loads(m["Body"])["body"])
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    ]
    by_event = {m["event"]: m["data"] for m in sent}
    named = [{"id": billing, "name": "Billing", "color": "#16a34a"}]
    assert by_event["chat.ended"]["tags"] == named
    assert by_event["ticket.updated"]["tags"] == named
