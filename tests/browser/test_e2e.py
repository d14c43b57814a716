"""One conversation end to end in Chromium: the demo site's widget and the agent console."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.support.browser import open_widget, sign_in, visitor_says


def test_a_visitor_and_the_demo_agent_exchange_messages_live(stack, browser):
    console = browser.new_context().new_page()
    errors: list[str] = []
    console.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(console, stack, stack.demo_email, stack.demo_password)
    expect(console.get_by_test_id("status-toggle")).to_have_attribute("data-accepting", "true")

    site = browser.new_context().new_page()
    site.on("pageerror", lambda error: errors.append(str(error)))
    open_widget(site, stack)
    visitor_says(site, "Hola, do you ship to Spain?")
    mine = site.get_by_test_id("charla-message").filter(has_text="do you ship to Spain?")
    expect(mine).to_have_attribute("data-seq", re.compile(r"^\d+$"))

    # The console shows the chat and the message without a reload.
    console.get_by_test_id("chat-item").first.click()
    expect(console.get_by_test_id("message").filter(has_text="do you ship to Spain?")).to_be_visible()
    console.get_by_test_id("composer").fill("We do! Delivery takes 3 days.")
    console.get_by_test_id("send").click()

    reply = site.locator("[data-testid=charla-message][data-sender=agent]")
    expect(reply).to_have_text(re.compile("We do! Delivery takes 3 days."))
    assert errors == []


def test_the_widget_is_embedded_by_its_one_line_snippet(stack, browser):
    page = browser.new_page()
    response = page.goto(stack.base_url + "/")
    html = response.text()
    snippet = f'<script async src="{stack.base_url}/widget/loader.js"></script>'
    assert snippet in html
    assert "script-src 'self'" in response.headers["content-security-policy"]
