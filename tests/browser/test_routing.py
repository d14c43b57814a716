"""Routing as agents and visitors see it: the queue card, the visitor leaving and coming back, a missed chat,
and the queue-timeout offer in the widget.

Each scene has a stack of its own: one moves the clock past every chat's timeout, another leaves a visitor
queued, and each sets thresholds the stack's instances must read fresh.
"""

from __future__ import annotations

import os
import re
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from playwright.sync_api import expect

from functions.core import settings
from tests.support.browser import agent_console, open_widget, visitor_page, visitor_says, visitor_starts

pytestmark = pytest.mark.usefixtures("only_these_agents_accept")


@pytest.fixture
def stack():
    """A stack per scene: each one's queue, clock and settings are its own."""
    from infra.local.stack import LocalStack

    with LocalStack(port=0, ses_production_access=True) as running:
        yield running


# Screenshots for a person to look at; outside the repository, so parallel runs don't share them.
SHOTS = Path(os.environ.get("CHARLA_SHOTS") or tempfile.gettempdir())


def test_a_queue_card_shows_the_question_and_the_page_and_turns_red_past_the_threshold(stack, browser, agent):
    settings.save_settings({"max_chats_per_agent": 1, "wait_threshold_s": 2})
    _ana_id, ana_email = agent("Ana")
    ana = agent_console(browser, stack, ana_email)  # signs in after the threshold is set: `welcome` carries it
    visitor_starts(visitor_page(browser, stack), "First in line")
    waiting = visitor_page(browser, stack)
    visitor_says(waiting, "Do you ship to Chile?")
    card = ana.get_by_test_id("queue-item")
    expect(card.get_by_test_id("queue-preview")).to_have_text("Do you ship to Chile?")
    expect(card.get_by_test_id("queue-page")).to_contain_text("On ")
    expect(card).to_have_class(re.compile(r"\bred\b"))
    for name, size in (("phone", (390, 844)), ("tablet", (900, 1000)), ("desktop", (1280, 720))):
        ana.set_viewport_size({"width": size[0], "height": size[1]})
        ana.screenshot(path=str(SHOTS / f"queue-red-{name}.png"))
    settings.save_settings({"wait_threshold_s": 60})


def test_the_agent_sees_the_visitor_leave_and_come_back(stack, browser, agent):
    _ana_id, ana_email = agent("Ana")
    ana = agent_console(browser, stack, ana_email)
    context = browser.new_context()
    site = context.new_page()
    open_widget(site, stack)
    visitor_starts(site, "Back in a moment")
    item = ana.get_by_test_id("chat-item").filter(has_text="Back in a moment")
    presence = item.get_by_test_id("visitor-presence")
    expect(presence).to_be_hidden()
    site.close()  # the visitor closes the tab
    # Shown once the visitor has been gone past the grace that covers moving between pages.
    expect(presence).to_have_attribute("data-state", "left", timeout=45_000)
    expect(presence).to_have_text("Left the page")
    for name, size in (("phone", (390, 844)), ("tablet", (900, 1000)), ("desktop", (1280, 720))):
        ana.set_viewport_size({"width": size[0], "height": size[1]})
        ana.screenshot(path=str(SHOTS / f"presence-left-{name}.png"))
    # The same browser comes back: the chat is as it was, and the agent sees the visitor is back.
    again = context.new_page()
    open_widget(again, stack)
    expect(again.get_by_test_id("charla-message").filter(has_text="Back in a moment")).to_be_visible()
    expect(presence).to_have_attribute("data-state", "back")
    expect(presence).to_have_text("Back")


def test_an_agent_who_misses_a_chat_is_switched_to_not_accepting_and_the_visitor_sees_only_the_new_agent(
    stack, browser, agent
):
    from functions.chat import routing
    from functions.team import agents

    for other in routing.routable_agents():  # earlier tests' agents are still accepting
        agents.set_accepting(other.agent_id, False)
    _ana_id, ana_email = agent("Ana")
    ana = agent_console(browser, stack, ana_email)
    site = visitor_page(browser, stack)
    visitor_starts(site, "Is anyone there?")
    expect(ana.get_by_test_id("chat-item").filter(has_text="Is anyone there?")).to_be_visible()
    _ben_id, ben_email = agent("Ben")
    ben = agent_console(browser, stack, ben_email)
    expect(ben.get_by_test_id("conn")).to_have_attribute("data-state", "open")  # Ben is there to take it
    with time_machine.travel(timedelta(seconds=130)):
        assert stack.run_schedule("sweep")["unanswered_chats"] >= 1  # earlier tests' chats may be due too

    expect(ana.get_by_test_id("missed-chat")).to_be_visible()
    expect(ana.get_by_test_id("status-toggle")).to_have_attribute("data-accepting", "false")
    expect(ben.get_by_test_id("chat-item")).to_have_count(1)
    ben.get_by_test_id("chat-item").first.click()
    expect(ben.get_by_test_id("message").filter(has_text="Is anyone there?")).to_be_visible()
    expect(ben.get_by_test_id("message").filter(has_text="did not answer")).to_be_visible()
    expect(site.locator(".sub")).to_contain_text("Ben")
    expect(site.get_by_test_id("charla-message").filter(has_text="did not answer")).to_have_count(0)
    ana.screenshot(path=str(SHOTS / "missed-chat-console.png"))
    # Switching back clears the explanation.
    ana.get_by_test_id("status-toggle").click()
    expect(ana.get_by_test_id("status-toggle")).to_have_attribute("data-accepting", "true")
    expect(ana.get_by_test_id("missed-chat")).to_be_hidden()


def test_a_visitor_long_in_the_queue_may_keep_waiting_or_leave_the_question_as_a_message(stack, browser, agent):
    from functions.chat import routing
    from functions.models import Chat, Ticket, Visitor

    settings.save_settings({"max_chats_per_agent": 1, "queue_timeout_min": 1})
    _ana_id, ana_email = agent("Ana")
    ana = agent_console(browser, stack, ana_email)
    visitor_starts(visitor_page(browser, stack), "First in line")
    leaving = visitor_page(browser, stack)
    # Seen from Germany (CloudFront's viewer country, which the local stack has no way to know).
    leaving.wait_for_function("localStorage.getItem('charla.visitor')")
    visitor_id = leaving.evaluate("JSON.parse(localStorage.getItem('charla.visitor')).visitor_id")
    Visitor(visitor_id).update(actions=[Visitor.country.set("DE")])
    visitor_starts(leaving, "Do you ship to Chile?")
    visitor_says(leaving, "And to Peru?")
    staying = visitor_page(browser, stack)
    visitor_starts(staying, "Are you open on Sunday?")
    expect(staying.get_by_test_id("charla-status")).to_contain_text("number 2 in line")
    queue = ana.get_by_test_id("queue-item")
    expect(queue).to_have_count(2)
    expect(queue.first).to_contain_text(re.compile(r"Visitor \d{4} \(DE\)"))
    _shoot(ana, "queue-console")
    # Past the admin's limit (under the 120 s after which Ana would count as missing her chat).
    with time_machine.travel(timedelta(seconds=90)):
        assert stack.run_schedule("sweep")["long_waits"] == 2
    for site in (leaving, staying):
        expect(site.get_by_test_id("charla-away")).to_contain_text("keep waiting, or leave us a message")
        expect(site.get_by_test_id("charla-offer-wait")).to_have_text("Keep waiting")
        expect(site.get_by_test_id("charla-offer-leave")).to_have_text("Leave a message")
        expect(site.get_by_test_id("charla-offline-form")).to_be_hidden()
    _shoot(staying, "queue-offer")

    # Keep waiting: the offer goes and the chat stays in the queue.
    staying.get_by_test_id("charla-offer-wait").click()
    expect(staying.get_by_test_id("charla-away")).to_be_hidden()
    expect(staying.get_by_test_id("charla-status")).to_contain_text("number 2 in line")

    # Leave a message: the form starts with the question already asked in the chat, and the keyboard
    # is in the first field still to fill in.
    leaving.get_by_test_id("charla-offer-leave").click()
    expect(leaving.get_by_test_id("charla-offer-leave")).to_be_hidden()
    field = lambda name: leaving.locator(f"[data-testid=charla-offline-field][data-name={name}]")  # noqa: E731
    expect(field("message")).to_have_value("Do you ship to Chile?\nAnd to Peru?")
    expect(field("name")).to_be_focused()
    _shoot(leaving, "queue-offer-form")
    leaving.keyboard.type("Lena")
    field("email").fill("lena@example.com")
    leaving.get_by_test_id("charla-offline-submit").click()
    sent = leaving.get_by_test_id("charla-offline-sent")
    expect(sent).to_be_visible()
    ref = re.search(r"[2-9A-HJ-NP-Z]{10}", sent.inner_text()).group(0)
    ticket = Ticket.get(ref)
    assert ticket.subject == "Do you ship to Chile?"

    # Sending it took the chat out of the queue: the visitor keeps the ticket's confirmation (no
    # end-of-chat view), the one who kept waiting moves up, and the console's queue drops the chat.
    expect(staying.get_by_test_id("charla-status")).to_contain_text("number 1 in line")
    expect(queue).to_have_count(1)
    expect(queue).to_contain_text("Are you open on Sunday?")
    assert [c.first_message for c in routing.queued()] == ["Are you open on Sunday?"]
    left = Chat.get(ticket.chat_id)
    assert (left.status, left.first_message, left.ticket_id) == ("closed", "Do you ship to Chile?", ref)
    for gone in ("charla-end", "charla-new-chat", "charla-rate-good", "charla-status", "charla-input"):
        expect(leaving.get_by_test_id(gone)).to_be_hidden()
    expect(sent).to_be_visible()
    _shoot(leaving, "queue-offer-sent")
    expect(staying.get_by_test_id("charla-away")).to_be_hidden()
    settings.save_settings({"queue_timeout_min": 5})


def _shoot(page, name: str) -> None:
    """A phone's and a laptop's view, for a person to look at."""
    for size, (width, height) in (("phone", (390, 844)), ("desktop", (1280, 720))):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(SHOTS / f"{name}-{size}.png"))
