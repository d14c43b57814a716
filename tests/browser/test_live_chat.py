"""Live chat in Chromium: the queue at capacity, transfer and invite, resume after a drop, rating."""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from playwright.sync_api import Page, expect

from functions.core import settings
from tests.support.accounts import PASSWORD
from tests.support.browser import open_widget, sign_in, visitor_says

# Screenshots for a person to look at; outside the repository, so parallel runs don't share them.
SHOTS = Path(os.environ.get("CHARLA_SHOTS") or tempfile.gettempdir())


@pytest.fixture
def agent(stack):
    """A fresh agent, so each test starts with nobody else's chats."""

    def make(name: str, accepting: bool = True) -> tuple[str, str]:
        email = f"{name.lower()}-{secrets.token_hex(3)}@charla.local"
        return stack.create_agent(email, PASSWORD, name, accepting=accepting), email

    return make


@pytest.fixture(autouse=True)
def only_these_agents_accept(stack):
    """The demo admin accepts chats by default; these tests choose their own agents."""
    from functions.team import agents

    agents.set_accepting(stack.demo_agent_id, False)
    yield
    settings.save_settings({"max_chats_per_agent": 3})


def console(browser, stack, email: str) -> Page:
    page = browser.new_context().new_page()
    sign_in(page, stack, email, PASSWORD)
    return page


def visitor(browser, stack) -> Page:
    page = browser.new_context().new_page()
    open_widget(page, stack)
    return page


def start(page: Page, text: str) -> None:
    visitor_says(page, text)
    expect(page.get_by_test_id("charla-message").filter(has_text=text)).to_have_attribute(
        "data-seq", re.compile(r"^\d+$")
    )


def test_with_the_only_agent_at_capacity_the_next_visitor_queues_and_is_served_in_turn(stack, browser, agent):
    settings.save_settings({"max_chats_per_agent": 1})
    _ana_id, ana_email = agent("Ana")
    ana = console(browser, stack, ana_email)
    first = visitor(browser, stack)
    start(first, "First in line")
    second = visitor(browser, stack)
    visitor_says(second, "Second in line")
    expect(second.get_by_test_id("charla-status")).to_contain_text(re.compile("1"))
    expect(ana.get_by_test_id("queue-item")).to_have_count(1)
    # Closing the first chat frees the slot: the waiting visitor is assigned without anyone clicking.
    ana.get_by_test_id("chat-item").filter(has_text="First in line").click()
    ana.get_by_test_id("more").click()
    ana.get_by_test_id("close-chat").click()
    expect(ana.get_by_test_id("queue-item")).to_have_count(0)
    expect(ana.get_by_test_id("chat-item").filter(has_text="Second in line")).to_be_visible()


def test_an_agent_transfers_a_chat_and_the_new_agent_has_the_whole_transcript(stack, browser, agent):
    _ana_id, ana_email = agent("Ana")
    ben_id, ben_email = agent("Ben", accepting=False)
    ana, ben = console(browser, stack, ana_email), console(browser, stack, ben_email)
    site = visitor(browser, stack)
    start(site, "Where is my parcel?")
    ana.get_by_test_id("chat-item").first.click()
    ana.get_by_test_id("composer").fill("Let me hand you to Ben.")
    ana.get_by_test_id("send").click()
    ana.get_by_test_id("more").click()
    ana.get_by_test_id("transfer").click()
    ana.locator(f"[data-testid=transfer-to][data-agent-id='{ben_id}']").click()

    expect(ana.get_by_test_id("chat-item")).to_have_count(0)
    ben.get_by_test_id("chat-item").first.click()
    expect(ben.get_by_test_id("message").filter(has_text="Where is my parcel?")).to_be_visible()
    expect(ben.get_by_test_id("message").filter(has_text="Let me hand you to Ben.")).to_be_visible()
    # The visitor sees who they now talk to; the routing line is the agents' alone.
    expect(site.locator(".sub")).to_contain_text("Ben")
    expect(ben.get_by_test_id("message").filter(has_text="transferred the chat to Ben")).to_be_visible()
    expect(site.get_by_test_id("charla-message").filter(has_text="transferred")).to_have_count(0)
    ben.get_by_test_id("composer").fill("Ben here, it ships today.")
    ben.get_by_test_id("send").click()
    expect(site.locator("[data-testid=charla-message][data-sender=agent]").last).to_contain_text("Ben here")


def test_an_agent_who_misses_a_chat_is_switched_to_not_accepting_and_the_visitor_sees_only_the_new_agent(
    stack, browser, agent
):
    from functions.models import ROUTABLE, Agent
    from functions.team import agents

    for other in Agent.routing_index.query(ROUTABLE):  # earlier tests' consoles are still open
        agents.set_accepting(other.agent_id, False)
    _ana_id, ana_email = agent("Ana")
    ana = console(browser, stack, ana_email)
    site = visitor(browser, stack)
    start(site, "Is anyone there?")
    expect(ana.get_by_test_id("chat-item").filter(has_text="Is anyone there?")).to_be_visible()
    _ben_id, ben_email = agent("Ben")
    ben = console(browser, stack, ben_email)
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


def test_the_agent_sees_the_visitor_leave_and_come_back(stack, browser, agent):
    _ana_id, ana_email = agent("Ana")
    ana = console(browser, stack, ana_email)
    context = browser.new_context()
    site = context.new_page()
    open_widget(site, stack)
    start(site, "Back in a moment")
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


def test_a_queue_card_shows_the_question_and_the_page_and_turns_red_past_the_threshold(stack, browser, agent):
    settings.save_settings({"max_chats_per_agent": 1, "wait_threshold_s": 2})
    _ana_id, ana_email = agent("Ana")
    ana = console(browser, stack, ana_email)  # signs in after the threshold is set: `welcome` carries it
    start(visitor(browser, stack), "First in line")
    waiting = visitor(browser, stack)
    visitor_says(waiting, "Do you ship to Chile?")
    card = ana.get_by_test_id("queue-item")
    expect(card.get_by_test_id("queue-preview")).to_have_text("Do you ship to Chile?")
    expect(card.get_by_test_id("queue-page")).to_contain_text("On ")
    expect(card).to_have_class(re.compile(r"\bred\b"))
    for name, size in (("phone", (390, 844)), ("tablet", (900, 1000)), ("desktop", (1280, 720))):
        ana.set_viewport_size({"width": size[0], "height": size[1]})
        ana.screenshot(path=str(SHOTS / f"queue-red-{name}.png"))
    settings.save_settings({"wait_threshold_s": 60})


def test_an_invited_agent_joins_and_both_agents_see_the_visitor(stack, browser, agent):
    _ana_id, ana_email = agent("Ana")
    ben_id, ben_email = agent("Ben", accepting=False)
    ana, ben = console(browser, stack, ana_email), console(browser, stack, ben_email)
    site = visitor(browser, stack)
    start(site, "I need a refund and an exchange")
    ana.get_by_test_id("chat-item").first.click()
    ana.get_by_test_id("more").click()
    ana.get_by_test_id("invite").click()
    ana.locator(f"[data-testid=invite-agent][data-agent-id='{ben_id}']").click()
    ben.get_by_test_id("invite-accept").first.click()
    ben.get_by_test_id("chat-item").first.click()
    visitor_says(site, "Thanks to you both")
    expect(ana.get_by_test_id("message").filter(has_text="Thanks to you both")).to_be_visible()
    expect(ben.get_by_test_id("message").filter(has_text="Thanks to you both")).to_be_visible()


def test_after_a_forced_disconnect_the_widget_gets_every_missed_message_in_order(stack, browser, agent):
    _ana_id, ana_email = agent("Ana")
    ana = console(browser, stack, ana_email)
    site = visitor(browser, stack)
    start(site, "Are you there?")
    ana.get_by_test_id("chat-item").first.click()
    # Cut the visitor's socket the way a network drop would, then reply while they are away.
    before = set(stack.connection_ids())
    for connection_id in before:
        stack.drop_connection(connection_id)
    for i in range(1, 4):
        ana.get_by_test_id("composer").fill(f"Reply {i}")
        ana.get_by_test_id("send").click()
        expect(ana.get_by_test_id("message").filter(has_text=f"Reply {i}")).to_have_attribute(
            "data-seq", re.compile(r"^\d+$")
        )
    replies = site.locator("[data-testid=charla-message][data-sender=agent]")
    expect(replies).to_have_count(3, timeout=20_000)
    expect(replies).to_have_text([re.compile(r"Reply 1$"), re.compile(r"Reply 2$"), re.compile(r"Reply 3$")])
    seqs = [
        int(s) for s in site.locator("[data-testid=charla-message]").evaluate_all("els => els.map(e => e.dataset.seq)")
    ]
    assert seqs == sorted(set(seqs))


def test_the_visitor_rates_the_chat_and_the_agent_sees_the_rating(stack, browser, agent):
    _ana_id, ana_email = agent("Ana")
    ana = console(browser, stack, ana_email)
    site = visitor(browser, stack)
    start(site, "Thanks for the help")
    ana.get_by_test_id("chat-item").first.click()
    site.get_by_test_id("charla-end").click()  # asks first
    site.get_by_test_id("charla-end").click()  # and ends
    site.get_by_test_id("charla-rate-good").click()
    site.get_by_test_id("charla-rate-comment").fill("Very quick!")
    site.get_by_test_id("charla-rate-submit").click()
    expect(site.get_by_test_id("charla-rated")).to_be_visible()
    expect(ana.get_by_test_id("rating")).to_contain_text("Very quick!")


def test_past_its_addresss_queue_places_a_visitor_is_offered_the_offline_form(stack, browser, agent):
    """Scripted visitors from this machine's address hold its queue places; the widget says so."""
    from functions.chat import routing
    from functions.team import agents
    from functions.visitors import limits
    from tests.support import ws_client

    settings.save_settings({"max_chats_per_agent": 1})
    while others := routing.routable_agents():  # earlier tests' consoles may still be accepting
        for other in others:
            agents.set_accepting(other.agent_id, False)
    _ana_id, ana_email = agent("Ana")
    ws_client.agent(stack, ana_email, PASSWORD)  # accepting, with a live connection
    try:
        for n in range(1 + limits.MAX_QUEUED):  # one takes Ana's slot, the rest wait
            script = ws_client.visitor(stack)
            script.send({"action": "start_chat", "name": f"Script {n}"})
            script.wait_for("chat")
        site = visitor(browser, stack)
        visitor_says(site, "I need help with my order")
        expect(site.get_by_test_id("charla-away")).to_contain_text("already waiting")
        expect(site.get_by_test_id("charla-offline-form")).to_be_visible()
        # What they typed is not lost: it is the offline message's text.
        expect(site.locator("[data-testid=charla-offline-field][data-name=message]")).to_have_value(
            "I need help with my order"
        )
    finally:
        ws_client.close_all()


def test_after_a_chat_the_transcript_is_offered_to_the_chats_own_address_only(stack, browser, agent):
    _ana_id, ana_email = agent("Ana")
    console(browser, stack, ana_email)  # signed in, so the widget offers a chat rather than the offline form
    settings.save_settings({"prechat": "name_email"})
    try:
        site = visitor(browser, stack)
        site.get_by_test_id("charla-name").fill("Vera")
        site.get_by_test_id("charla-email").fill("vera@example.com")
        site.get_by_test_id("charla-start").click()
        start(site, "Please send me a copy")
        site.get_by_test_id("charla-end").click()  # asks first
        site.get_by_test_id("charla-end").click()  # and ends
        expect(site.get_by_test_id("charla-transcript")).to_be_visible()
        expect(site.get_by_test_id("charla-transcript-to")).to_have_text("vera@example.com")
        # Nowhere to type another address.
        expect(site.locator("[data-testid=charla-panel] .after input")).to_have_count(0)
    finally:
        settings.save_settings({"prechat": "anonymous"})
    # A chat started without an address has no transcript to offer.
    anonymous = visitor(browser, stack)
    start(anonymous, "Just a question")
    anonymous.get_by_test_id("charla-end").click()  # asks first
    anonymous.get_by_test_id("charla-end").click()  # and ends
    expect(anonymous.get_by_text("This chat has ended.")).to_be_visible()
    expect(anonymous.get_by_test_id("charla-transcript")).to_be_hidden()
