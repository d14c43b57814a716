"""Groups: a chat with a group goes only to its members, waits in its group's queue, offers its group's
offline form, transfers to a group, and is counted in its group's reports."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
import time_machine

from functions.chat import routing, sweeps
from functions.core import settings
from functions.core.errors import CharlaError
from functions.core.principals import Principal
from functions.helpdesk import offline_form
from functions.models import Agent, Chat, Ticket
from functions.reports import daily_summary, ranges
from functions.team import groups
from functions.visitors import widget_config
from tests.support.actors import Socket, new_agent, new_visitor, start_chat

ADMIN = Principal("agent", "admin-1", "Boss", "admin")


def _group(name: str, *members: Principal) -> str:
    return str(groups.create(ADMIN, {"name": name, "members": [m.id for m in members]})["id"])


def _errors(frames: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    """Each error frame's code, and the field its message names first (in backticks)."""
    named = [(f["code"], f["message"].split("`")) for f in frames if f["type"] == "error"]
    return [(code, parts[1] if len(parts) > 2 else None) for code, parts in named]


@pytest.fixture
def team(aws):
    """Sales (Sam), Support (Sue), and Both, who is in both; all accepting and connected."""
    sam, sue, both = new_agent("Sam"), new_agent("Sue"), new_agent("Both")
    sockets = {p.name: Socket(p) for p in (sam, sue, both)}
    sales, support = _group("Sales", sam, both), _group("Support", sue, both)
    return {"sam": sam, "sue": sue, "both": both, "sales": sales, "support": support, "sockets": sockets}


def test_a_chat_with_a_group_goes_only_to_its_members(team):
    settings.save_settings({"max_chats_per_agent": 5})
    owners = {Chat.get(start_chat(Socket(new_visitor()), group=team["sales"])["chat_id"]).assignee_id for _ in range(4)}
    assert owners == {team["sam"].id, team["both"].id}
    chat = start_chat(Socket(new_visitor()), group=team["support"])
    assert chat["group"] == {"id": team["support"], "name": "Support"}
    assert Chat.get(chat["chat_id"]).assignee_id in {team["sue"].id, team["both"].id}


def test_an_unknown_group_is_refused_naming_the_field(team):
    visitor = Socket(new_visitor())
    assert _errors(visitor.send({"action": "start_chat", "group": "g_nope"})) == [("bad_request", "group")]
    assert _errors(visitor.send({"action": "start_chat", "group": 42})) == [("bad_request", "group")]
    assert routing.queued() == []


def test_a_group_with_nobody_accepting_is_offline_while_others_chat(team):
    nobody = _group("Billing", new_agent("Off", accepting=False))
    visitor = Socket(new_visitor())
    assert [c for c, _ in _errors(visitor.send({"action": "start_chat", "group": nobody}))] == ["offline"]
    assert widget_config.widget_settings()["groups"] == []  # the admin offers no choice
    settings.save_settings({"group_choice": True})
    listed = {g["name"]: g["online"] for g in widget_config.widget_settings()["groups"]}
    assert listed == {"Billing": False, "Sales": True, "Support": True}
    # Its own offline form: the ticket carries the group, and the group's report counts it.
    ticket = offline_form.submit(
        visitor.principal,
        {"fields": {"name": "Vera", "email": "vera@example.com", "message": "Invoice?"}, "group": nobody},
    )
    stored = Ticket.get(ticket.ticket_id)
    assert (stored.group_id, stored.group_name) == (nobody, "Billing")
    report = ranges.report(team["sam"], group=nobody)
    assert report["totals"]["offline_messages"] == 1 and report["group"]["name"] == "Billing"
    with pytest.raises(CharlaError) as refused:
        offline_form.submit(
            visitor.principal, {"fields": {"name": "V", "email": "v@example.com", "message": "x"}, "group": "g_x"}
        )
    assert refused.value.field == "group"


def test_an_installation_without_groups_answers_as_before(aws):
    ana = new_agent("Ana")
    Socket(ana)
    chat = start_chat(Socket(new_visitor()))
    assert chat["group"] is None and chat["status"] == "active"
    assert widget_config.widget_settings()["groups"] == []


def test_each_group_has_its_own_queue_and_positions(team):
    settings.save_settings({"max_chats_per_agent": 1})
    # Fill every member: Sam and Both take Sales chats, Sue takes a Support chat.
    for _ in range(2):
        start_chat(Socket(new_visitor()), group=team["sales"])
    start_chat(Socket(new_visitor()), group=team["support"])
    sales_waiting = [Socket(new_visitor(f"s{n}")) for n in range(2)]
    support_waiting = Socket(new_visitor("t"))
    s1 = start_chat(sales_waiting[0], group=team["sales"])
    t1 = start_chat(support_waiting, group=team["support"])
    s2 = start_chat(sales_waiting[1], group=team["sales"])
    assert {s1["status"], t1["status"], s2["status"]} == {"queued"}
    # Positions count only the group's own chats.
    assert sales_waiting[0].of_type("queue")[-1]["position"] == 1
    assert support_waiting.of_type("queue")[-1]["position"] == 1
    assert sales_waiting[1].of_type("queue")[-1]["position"] == 2
    # Sue frees a slot: the Support chat behind two older Sales chats is the one she gets.
    sue = team["sockets"]["Sue"]
    sue_chat = next(iter(Agent.get(team["sue"].id).chat_ids))
    sue.send({"action": "close", "chat_id": sue_chat})
    assert Chat.get(t1["chat_id"]).assignee_id == team["sue"].id
    assert Chat.get(s1["chat_id"]).status == "queued"
    # The sweep tells each waiting chat its place in its own group.
    sales_waiting[1].clear()
    sweeps.waiting_chats()
    assert sales_waiting[1].of_type("queue")[-1]["position"] == 2


def test_only_members_accept_a_groups_chat_by_hand(team):
    settings.save_settings({"max_chats_per_agent": 1})
    for _ in range(2):
        start_chat(Socket(new_visitor()), group=team["sales"])
    waiting = start_chat(Socket(new_visitor()), group=team["sales"])
    outsider = team["sockets"]["Sue"]
    assert [c for c, _ in _errors(outsider.send({"action": "accept", "chat_id": waiting["chat_id"]}))] == ["forbidden"]
    team["sockets"]["Sam"].send({"action": "accept", "chat_id": waiting["chat_id"]})
    assert Chat.get(waiting["chat_id"]).assignee_id == team["sam"].id


def test_a_burst_to_two_groups_with_a_member_in_both(aws):
    """Exactly one assignment per chat, nobody over capacity, and every chat with a member of its group."""
    capacity = 2
    settings.save_settings({"max_chats_per_agent": capacity})
    sam, sue, both = new_agent("Sam"), new_agent("Sue"), new_agent("Both")
    for p in (sam, sue, both):
        Socket(p)
    sales, support = _group("Sales", sam, both), _group("Support", sue, both)
    members = {sales: {sam.id, both.id}, support: {sue.id, both.id}}
    visitors = [(Socket(new_visitor(f"v{n}")), sales if n % 2 else support) for n in range(12)]
    barrier = threading.Barrier(len(visitors))
    told: list[dict[str, Any]] = [{} for _ in visitors]

    def go(n: int) -> None:
        socket, group = visitors[n]
        barrier.wait()
        frames = socket.send({"action": "start_chat", "group": group})
        told[n] = next(f["chat"] for f in reversed(frames) if f["type"] == "chat")

    threads = [threading.Thread(target=go, args=(n,)) for n in range(len(visitors))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    active = [c for c in told if c["status"] == "active"]
    assert len(active) == 3 * capacity  # every free slot used, none twice
    for agent_id in (sam.id, sue.id, both.id):
        agent = Agent.get(agent_id, consistent_read=True)
        assert int(agent.active_count) == len(agent.chat_ids or ()) <= capacity
    for told_chat in told:
        chat = Chat.get(told_chat["chat_id"], consistent_read=True)
        if chat.status == "active":
            assert chat.agent_ids == {chat.assignee_id} and chat.assignee_id in members[chat.group_id]
    assert len({c["chat_id"] for c in told}) == len(visitors)


def test_a_transfer_to_a_group_goes_to_a_free_member_or_waits_in_its_queue(team):
    settings.save_settings({"max_chats_per_agent": 1})
    visitor = Socket(new_visitor("Vera"))
    chat_id = start_chat(visitor, group=team["support"])["chat_id"]
    holder = Chat.get(chat_id).assignee_id
    holder_socket = team["sockets"]["Sue" if holder == team["sue"].id else "Both"]
    holder_socket.send({"action": "transfer", "chat_id": chat_id, "to_group_id": team["sales"]})
    moved = Chat.get(chat_id, consistent_read=True)
    assert moved.group_id == team["sales"] and moved.assignee_id in {team["sam"].id, team["both"].id}
    assert moved.assignee_id != holder
    # Now every Sales member is busy: a transfer back to Sales from Sam (or Both) waits in Sales' queue.
    other = start_chat(Socket(new_visitor()), group=team["sales"])
    assert other["status"] == "active"
    second = Socket(new_visitor("Wes"))
    wes_chat = start_chat(second, group=team["support"])
    wes_holder = Chat.get(wes_chat["chat_id"]).assignee_id
    wes_socket = team["sockets"]["Sue" if wes_holder == team["sue"].id else "Both"]
    second.clear()
    wes_socket.send({"action": "transfer", "chat_id": wes_chat["chat_id"], "to_group_id": team["sales"]})
    waiting = Chat.get(wes_chat["chat_id"], consistent_read=True)
    assert (waiting.status, waiting.group_id, waiting.assignee_id) == ("queued", team["sales"], None)
    assert Agent.get(wes_holder).active_count == 0
    assert second.of_type("queue")[-1]["position"] == 1
    assert "transferred" not in str(second.frames())  # who moved it is the team's business
    # A bad group is refused naming the field.
    frames = team["sockets"]["Sam"].send({"action": "transfer", "chat_id": chat_id, "to_group_id": "nope"})
    frames += team["sockets"]["Both"].send({"action": "transfer", "chat_id": chat_id, "to_group_id": "nope"})
    assert ("bad_request", "to_group_id") in _errors(frames)


def test_an_unanswered_chat_moves_to_another_member_of_its_group(team):
    chat_id = start_chat(Socket(new_visitor()), group=team["support"])["chat_id"]
    first = Chat.get(chat_id).assignee_id
    with time_machine.travel(timedelta(seconds=int(settings.get_settings()["unanswered_timeout_s"]) + 1)):
        assert sweeps.unanswered_chats() == 1
    now = Chat.get(chat_id).assignee_id
    # Sam is the least busy agent, but not in Support.
    assert now != first and now in {team["sue"].id, team["both"].id}


def test_the_daily_summary_names_the_groups(team, monkeypatch):
    admin = new_agent("Boss", role="admin")
    chat_id = start_chat(Socket(new_visitor()), group=team["sales"])["chat_id"]
    holder = Chat.get(chat_id).assignee_id
    team["sockets"]["Sam" if holder == team["sam"].id else "Both"].send({"action": "close", "chat_id": chat_id})
    sent: list[tuple[str, str]] = []
    monkeypatch.setattr(daily_summary.mail, "send", lambda to, subject, body: sent.append((to, body)))
    day = Chat.get(chat_id).closed_at[:10]
    daily_summary.send_for(day)
    boss_body = next(b for to, b in sent if to.startswith(admin.id))
    assert "By group:" in boss_body and "Sales: 1 chats" in boss_body and "Support: 0 chats" in boss_body
    assert ranges.report(team["sam"], group=team["sales"])["totals"]["chats"] == 1


@pytest.mark.parametrize(
    ("colour", "text"), [("#2563eb", "#fff"), ("#ffeb3b", "#111"), ("#fff", "#111"), ("#000", "#fff")]
)
def test_the_widget_is_told_which_text_colour_reads_on_the_admins_colour(aws, colour, text):
    settings.save_settings({"color": colour})
    assert widget_config.widget_settings()["on_accent"] == text


def test_a_transfer_to_a_group_that_loses_its_race_leaves_the_chat_in_its_group(team, monkeypatch):
    visitor = Socket(new_visitor("Vera"))
    chat_id = start_chat(visitor, group=team["support"])["chat_id"]
    holder = Chat.get(chat_id).assignee_id
    holder_socket = team["sockets"]["Sue" if holder == team["sue"].id else "Both"]
    pick = routing.pick_agent

    def colleague_joins_meanwhile(*args: Any, **kwargs: Any) -> Any:
        # Between the transfer's read and its write, someone else joins the chat.
        Chat(chat_id).update(actions=[Chat.agent_ids.add({"someone-else"})])
        return pick(*args, **kwargs)

    monkeypatch.setattr(routing, "pick_agent", colleague_joins_meanwhile)
    frames = holder_socket.send({"action": "transfer", "chat_id": chat_id, "to_group_id": team["sales"]})
    assert ("conflict", None) in [(code, None) for code, _field in _errors(frames)]
    after = Chat.get(chat_id, consistent_read=True)
    assert (after.status, after.group_id, after.assignee_id) == ("active", team["support"], holder)
