"""The widget's end of a chat: End chat asks first, and a banned visitor is told so instead of "Connecting…"."""

from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import open_widget, sign_in, visitor_says

PASSWORD = "Agent-pa55word!"


@pytest.fixture
def agent_page(stack, browser):
    """A signed-in agent who accepts chats (the demo admin stays out of it)."""
    from functions.team import agents

    agents.set_accepting(stack.demo_agent_id, False)
    email = f"wid-{secrets.token_hex(3)}@charla.local"
    agent_id = stack.create_agent(email, PASSWORD, "Wendy", accepting=True)
    page = browser.new_context().new_page()
    sign_in(page, stack, email, PASSWORD)
    expect(page.get_by_test_id("conn")).to_have_attribute("data-state", "open")
    yield page
    agents.set_accepting(agent_id, False)
    page.context.close()


def chatting(browser, stack, text: str) -> Page:
    site = browser.new_context().new_page()
    open_widget(site, stack)
    visitor_says(site, text)
    expect(site.get_by_test_id("charla-message").filter(has_text=text)).to_have_attribute("data-seq", re.compile(r"\d"))
    return site


def test_end_chat_asks_before_it_ends_the_chat(stack, browser, agent_page):
    site = chatting(browser, stack, "Just a quick one")
    end = site.get_by_test_id("charla-end")
    end.click()
    expect(end).to_have_text("End chat? Click again")
    expect(site.get_by_test_id("charla-input")).to_be_visible()  # nothing ended yet
    expect(end).to_have_text("End chat", timeout=8_000)  # the question lapses
    end.click()
    end.click()
    expect(site.get_by_test_id("charla-rate-good")).to_be_visible()


def test_a_banned_visitor_is_told_the_chat_is_not_available_instead_of_connecting_forever(stack, browser, agent_page):
    site = chatting(browser, stack, "I am about to be banned")
    agent_page.get_by_test_id("chat-item").filter(has_text="about to be banned").click()
    agent_page.get_by_test_id("more").click()
    agent_page.get_by_test_id("ban-visitor").click()
    agent_page.get_by_test_id("ban-visitor-reason").fill("spam")
    agent_page.get_by_test_id("ban-visitor-submit").click()
    expect(agent_page.get_by_test_id("ban-visitor-dialog")).to_be_hidden()
    # Back on the site, the widget's socket is refused for good: it says so, and stops trying.
    site.reload()
    site.get_by_test_id("charla-launcher").click()
    expect(site.get_by_test_id("charla-status")).to_have_text("Chat is not available to you.")
