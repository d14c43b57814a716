"""Message text in Chromium: links that are links and nothing else, right-to-left text, and times."""

from __future__ import annotations

import re
import secrets

from playwright.sync_api import expect

from functions.team import agents
from tests.support.browser import open_widget, sign_in, visitor_says

PASSWORD = "Agent-pa55word!"
TEXT = "Track it at https://example.com/track?id=7. Not javascript:alert(1) nor data:text/html,<b>x</b> — مرحبا"


def test_links_are_clickable_text_stays_text_and_both_sides_show_times_and_direction(stack, browser):
    agents.set_accepting(stack.demo_agent_id, False)
    email = f"dina-{secrets.token_hex(3)}@charla.local"
    stack.create_agent(email, PASSWORD, "دينا")
    console = browser.new_context(timezone_id="Asia/Tokyo").new_page()
    sign_in(console, stack, email, PASSWORD)
    site = browser.new_context(timezone_id="America/New_York").new_page()
    open_widget(site, stack)
    visitor_says(site, TEXT)
    console.get_by_test_id("chat-item").first.click()
    console.get_by_test_id("composer").fill("See http://example.org/faq")
    console.get_by_test_id("send").click()

    for page, testid in ((console, "message"), (site, "charla-message")):
        said = page.get_by_test_id(testid).filter(has_text="Track it at")
        expect(said).to_have_attribute("data-seq", re.compile(r"^\d+$"))
        link = said.locator("a")
        expect(link).to_have_count(1)  # the javascript: and data: texts are not links
        expect(link).to_have_attribute("href", "https://example.com/track?id=7")
        expect(link).to_have_attribute("rel", "noopener noreferrer")
        expect(link).to_have_attribute("target", "_blank")
        expect(said.locator(".text")).to_have_attribute("dir", "auto")
        expect(said.locator(".text")).to_contain_text("data:text/html,<b>x</b>")  # shown as text, never parsed
        expect(said.locator("b")).to_have_count(0)
        reply = page.get_by_test_id(testid).filter(has_text="See http://example.org/faq")
        expect(reply.locator("a")).to_have_attribute("href", "http://example.org/faq")

    # Each reader sees the time in their own browser's time zone.
    sent = site.get_by_test_id("charla-message").filter(has_text="Track it at").locator("time")
    iso = sent.get_attribute("datetime")
    assert iso
    js = "([iso, lang]) => new Date(iso).toLocaleTimeString(lang || undefined, {timeStyle: 'short'})"
    in_new_york, in_tokyo = site.evaluate(js, [iso, "en"]), console.evaluate(js, [iso, None])
    expect(sent).to_have_text(in_new_york)
    expect(console.get_by_test_id("message").filter(has_text="Track it at").locator("time")).to_have_text(in_tokyo)
    assert in_new_york.split(":")[0] != in_tokyo.split(":")[0]  # 13-14 hours apart

    # Names carry their own direction too.
    agent_name = site.get_by_test_id("charla-message").filter(has_text="See http").locator(".who")
    expect(agent_name).to_have_attribute("dir", "auto")
    expect(agent_name).to_have_text("دينا")
    rtl = site.get_by_test_id("charla-message").filter(has_text="مرحبا").locator(".text")
    assert rtl.evaluate("el => getComputedStyle(el).direction") == "ltr"  # it starts with Latin letters
    expect(console.get_by_test_id("message").filter(has_text="See http").locator(".who")).to_have_attribute(
        "dir", "auto"
    )
