"""Canned responses in the composer: `#` lists them, typing filters, the keyboard picks, and a shared
response an admin saves reaches an agent who is already signed in."""

from __future__ import annotations

import re
import secrets

from playwright.sync_api import expect

from functions.team import agents
from tests.support.browser import open_widget, sign_in, visitor_says

PASSWORD = "Agent-pa55word!"


def test_hash_lists_every_response_filters_as_you_type_and_takes_the_keyboard(stack, browser):
    agents.set_accepting(stack.demo_agent_id, False)
    email = f"cara-{secrets.token_hex(3)}@charla.local"
    stack.create_agent(email, PASSWORD, "Cara")
    cara = browser.new_context().new_page()
    sign_in(cara, stack, email, PASSWORD)
    admin = browser.new_context().new_page()
    sign_in(admin, stack, stack.demo_email, stack.demo_password)
    site = browser.new_context().new_page()
    open_widget(site, stack)
    visitor_says(site, "Hello there")
    cara.get_by_test_id("chat-item").filter(has_text="Hello there").click()
    composer = cara.get_by_test_id("composer")

    # The admin adds two shared responses while Cara is signed in; her list follows without a reload.
    admin.get_by_test_id("canned-manage").click()
    for shortcut, text in [("refund", "Refunds take five days."), ("hours", "We answer 9-17 on weekdays.")]:
        admin.get_by_test_id("canned-shortcut").fill(shortcut)
        admin.get_by_test_id("canned-text").fill(text)
        admin.get_by_test_id("canned-shared").check()
        admin.get_by_test_id("canned-save").click()
        expect(admin.get_by_test_id("canned-row").filter(has_text="#" + shortcut)).to_be_visible()
        expect(admin.get_by_test_id("canned-shortcut")).to_have_value("")  # the form is ready for the next
    admin.get_by_test_id("canned-close").click()

    composer.fill("")
    composer.press_sequentially("Hi #")
    options = cara.get_by_test_id("canned-item")
    expect(options).to_have_count(2)
    expect(cara.get_by_role("listbox")).to_be_visible()
    expect(options.first).to_have_attribute("role", "option")
    expect(options.first).to_have_attribute("aria-selected", "true")
    # Typing filters; the words of a response count too, after the shortcuts that start with it.
    composer.press_sequentially("we")
    expect(options).to_have_count(1)
    expect(options.first).to_have_attribute("data-shortcut", "hours")
    composer.press("Backspace")
    composer.press("Backspace")
    composer.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    expect(composer).to_have_attribute("aria-activedescendant", re.compile("canned-opt-1"))
    composer.press("Enter")
    expect(composer).to_have_value(re.compile(r"^Hi (Refunds take five days\.|We answer 9-17 on weekdays\.)$"))
    expect(cara.get_by_test_id("canned-suggestions")).to_be_hidden()
    composer.fill("")
    composer.press_sequentially("#")
    expect(options).to_have_count(2)
    composer.press("Escape")
    expect(cara.get_by_test_id("canned-suggestions")).to_be_hidden()
    expect(composer).to_have_value("#")

    # Deleting a shared response takes it out of Cara's list at once too.
    admin.get_by_test_id("canned-manage").click()
    admin.get_by_test_id("canned-row").filter(has_text="#refund").get_by_test_id("canned-delete").click()
    expect(admin.get_by_test_id("canned-row").filter(has_text="#refund")).to_have_count(0)
    composer.fill("")
    composer.press_sequentially("#")
    expect(options).to_have_count(1)
    expect(options.first).to_have_attribute("data-shortcut", "hours")
