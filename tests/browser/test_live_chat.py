"""Live chat in Chromium: the queue at capacity, transfer and invite, resume after a drop, rating, system lines."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from functions.core import settings
from functions.models import Chat
from functions.visitors import names
from tests.support.accounts import PASSWORD
from tests.support.browser import agent_console, sign_in, visitor_page, visitor_says, visitor_starts

# Screenshots for a person to look at; outside the repository, so parallel runs don't share them.
SHOTS = Path(os.environ.get("CHARLA_SHOTS") or tempfile.gettempdir())


pytestmark = pytest.mark.usefixtures("only_these_agents_accept")


def test_with_the_only_agent_at_capacity_the_next_visitor_queues_and_is_served_in_turn(stack, browser, agent):
    settings.save_settings({"max_chats_per_agent": 1})
    _ana_id, ana_email = agent("Ana")
    ana = agent_console(browser, stack, ana_email)
    first = visitor_page(browser, stack)
    visitor_starts(first, "First in line")
    second = visitor_page(browser, stack)
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
    ana, ben = agent_console(browser, stack, ana_email), agent_console(browser, stack, ben_email)
    site = visitor_page(browser, stack)
    visitor_starts(site, "Where is my parcel?")
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


def test_an_invited_agent_joins_and_both_agents_see_the_visitor(stack, browser, agent):
    _ana_id, ana_email = agent("Ana")
    ben_id, ben_email = agent("Ben", accepting=False)
    ana, ben = agent_console(browser, stack, ana_email), agent_console(browser, stack, ben_email)
    site = visitor_page(browser, stack)
    visitor_starts(site, "I need a refund and an exchange")
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
    ana = agent_console(browser, stack, ana_email)
    site = visitor_page(browser, stack)
    visitor_starts(site, "Are you there?")
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
    # Each reply once, in order (the text itself: the widget shows the sender's name and time around it).
    expect(replies.locator(".text")).to_have_text(["Reply 1", "Reply 2", "Reply 3"])
    seqs = [
        int(s) for s in site.locator("[data-testid=charla-message]").evaluate_all("els => els.map(e => e.dataset.seq)")
    ]
    assert seqs == sorted(set(seqs))


def test_the_visitor_rates_the_chat_and_the_agent_sees_the_rating(stack, browser, agent):
    _ana_id, ana_email = agent("Ana")
    ana = agent_console(browser, stack, ana_email)
    site = visitor_page(browser, stack)
    visitor_starts(site, "Thanks for the help")
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
        site = visitor_page(browser, stack)
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
    agent_console(browser, stack, ana_email)  # signed in, so the widget offers a chat rather than the offline form
    settings.save_settings({"prechat": "name_email"})
    try:
        site = visitor_page(browser, stack)
        site.get_by_test_id("charla-name").fill("Vera")
        site.get_by_test_id("charla-email").fill("vera@example.com")
        site.get_by_test_id("charla-start").click()
        visitor_starts(site, "Please send me a copy")
        site.get_by_test_id("charla-end").click()  # asks first
        site.get_by_test_id("charla-end").click()  # and ends
        expect(site.get_by_test_id("charla-transcript")).to_be_visible()
        expect(site.get_by_test_id("charla-transcript-to")).to_have_text("vera@example.com")
        # Nowhere to type another address.
        expect(site.locator("[data-testid=charla-panel] .after input")).to_have_count(0)
    finally:
        settings.save_settings({"prechat": "anonymous"})
    # A chat started without an address has no transcript to offer.
    anonymous = visitor_page(browser, stack)
    visitor_starts(anonymous, "Just a question")
    anonymous.get_by_test_id("charla-end").click()  # asks first
    anonymous.get_by_test_id("charla-end").click()  # and ends
    expect(anonymous.get_by_text("This chat has ended.")).to_be_visible()
    expect(anonymous.get_by_test_id("charla-transcript")).to_be_hidden()


def test_anonymous_visitors_are_told_apart_by_their_number_in_the_agents_language(stack, browser, agent):
    _ana_id, ana_email = agent("Ana")
    ana = agent_console(browser, stack, ana_email)
    visitor_starts(visitor_page(browser, stack), "Do you ship to Spain?")
    visitor_starts(visitor_page(browser, stack), "Do you ship to Spain?")
    items = ana.get_by_test_id("chat-item")
    expect(items).to_have_count(2)
    # Each chat's number is the one derived from its visitor id (functions/visitors/names.py).
    labels = {}
    for i in range(2):
        chat_id = items.nth(i).get_attribute("data-chat-id")
        labels[chat_id] = names.label(Chat.get(chat_id).visitor_id)
        expect(items.nth(i).locator(".name")).to_have_text(re.compile(rf"^{labels[chat_id]}( \([A-Z]{{2}}\))?$"))
    first_id = items.first.get_attribute("data-chat-id")
    items.first.click()
    expect(ana.get_by_test_id("conv-title")).to_contain_text(labels[first_id])
    expect(ana.get_by_test_id("visitor-name")).to_have_text(labels[first_id])

    # The same number, worded in Spanish.
    spanish = browser.new_context(locale="es-ES").new_page()
    sign_in(spanish, stack, ana_email, PASSWORD)
    number = names.number(Chat.get(first_id).visitor_id)
    expect(spanish.locator(f"[data-testid=chat-item][data-chat-id='{first_id}'] .name")).to_contain_text(
        f"Visitante {number}"
    )


def test_system_lines_already_shown_are_said_again_in_the_language_the_agent_switches_to(stack, browser, agent):
    _ana_id, ana_email = agent("Ana")
    ana = agent_console(browser, stack, ana_email)
    site = visitor_page(browser, stack)
    visitor_starts(site, "One quick question")
    ana.get_by_test_id("chat-item").first.click()
    ana.get_by_test_id("more").click()
    ana.get_by_test_id("close-chat").click()
    line = ana.locator("[data-testid=message][data-sender=system]").last
    expect(line).to_have_text("Ana closed the chat.")
    ana.get_by_test_id("lang").select_option("es")
    expect(line).to_have_text("Ana ha cerrado el chat.")
    expect(ana.get_by_test_id("chat-item").first).to_contain_text("Ana ha cerrado el chat.")  # its preview too
    expect(ana.get_by_test_id("message").filter(has_text="One quick question")).to_be_visible()
    ana.get_by_test_id("lang").select_option("en")
    expect(line).to_have_text("Ana closed the chat.")
