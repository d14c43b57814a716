"""Tags in the console: an admin defines them, an agent tags a live chat and the ticket made from it, and
the ticket list filters by tag; the visitor never sees a tag."""

from __future__ import annotations

import secrets

from playwright.sync_api import expect

from functions.models import Chat
from functions.tags import catalog
from tests.support.accounts import PASSWORD
from tests.support.browser import open_widget, sign_in, visitor_says


def test_an_admin_defines_tags_and_an_agent_tags_a_chat_and_its_ticket(stack, browser, agent, only_these_agents_accept):
    suffix = secrets.token_hex(2)
    billing, vip = f"Billing {suffix}", f"VIP {suffix}"
    admin = browser.new_context().new_page()
    sign_in(admin, stack, stack.demo_email, stack.demo_password)
    admin.get_by_test_id("admin-tab").click()
    admin.get_by_test_id("admin-nav-tags").click()
    for name, color in [(billing, None), (vip, "#123abc")]:
        admin.get_by_test_id("tag-name").fill(name)
        if color:
            admin.get_by_test_id("tag-color-custom").fill(color)
        admin.get_by_test_id("tag-create").click()
        expect(admin.get_by_test_id("tag-row").filter(has=admin.locator(f'[value="{name}"]'))).to_have_count(1)
    # A second "billing …" in other letters is refused, naming the field.
    admin.get_by_test_id("tag-name").fill(billing.upper())
    admin.get_by_test_id("tag-create").click()
    expect(admin.get_by_test_id("tags-error")).to_contain_text("a tag with that name exists already")
    ids = {t["name"]: t["id"] for t in catalog.list_view()["tags"]}

    _id, email = agent("Cara")
    cara = browser.new_context().new_page()
    sign_in(cara, stack, email, PASSWORD)
    expect(cara.get_by_test_id("status-toggle")).to_have_attribute("data-accepting", "true")
    site = browser.new_context().new_page()
    open_widget(site, stack)
    visitor_says(site, "My invoice is wrong")
    cara.get_by_test_id("chat-item").filter(has_text="My invoice is wrong").click()
    picker = cara.get_by_test_id("chat-tags")
    picker.get_by_test_id("tag-add").select_option(label=billing)
    chip = picker.locator(f'[data-testid=tag-chip][data-tag-id="{ids[billing]}"]')
    expect(chip).to_have_text(billing + "×")
    picker.get_by_test_id("tag-add").select_option(label=vip)
    expect(picker.get_by_test_id("tag-chip")).to_have_count(2)
    picker.locator(f'[data-tag-id="{ids[vip]}"]').get_by_test_id("tag-remove").click()
    expect(picker.get_by_test_id("tag-chip")).to_have_count(1)
    expect(site.locator("body")).not_to_contain_text(billing)

    first_chat = cara.get_by_test_id("chat-item").filter(has_text="My invoice is wrong").get_attribute("data-chat-id")

    # The ticket made from the chat is tagged on its own, and the list finds it by that tag.
    cara.get_by_test_id("more").click()
    cara.get_by_test_id("create-ticket").click()
    link = cara.get_by_test_id("ticket-link")
    ticket_id = link.get_attribute("data-ticket-id")
    link.click()
    ticket_tags = cara.get_by_test_id("ticket-tags")
    ticket_tags.get_by_test_id("tag-add").select_option(label=vip)
    expect(ticket_tags.locator(f'[data-testid=tag-chip][data-tag-id="{ids[vip]}"]')).to_be_visible()
    cara.get_by_test_id("ticket-tag-filter").select_option(label=vip)
    rows = cara.get_by_test_id("ticket-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-ticket-id", str(ticket_id))
    expect(rows.first.get_by_test_id("tag-chip")).to_have_text(vip)
    cara.get_by_test_id("ticket-tag-filter").select_option(label=billing)
    expect(rows).to_have_count(0)

    # After the chat ended, it is tagged from the visitor panel's history of their next chat.
    cara.get_by_test_id("chats-tab").click()
    cara.get_by_test_id("chat-item").filter(has_text="My invoice is wrong").click()
    cara.get_by_test_id("more").click()
    cara.get_by_test_id("close-chat").click()
    site.get_by_test_id("charla-new-chat").click()
    visitor_says(site, "One more question")
    cara.get_by_test_id("chat-item").filter(has_text="One more question").click()
    past = cara.locator(f'[data-testid=history-item][data-chat-id="{first_chat}"]')
    past.locator(".history-toggle").click()
    history_tags = past.get_by_test_id("history-tags")
    expect(history_tags.get_by_test_id("tag-chip")).to_have_text([billing + "×"])
    history_tags.get_by_test_id("tag-add").select_option(label=vip)
    expect(history_tags.get_by_test_id("tag-chip")).to_have_count(2)
    assert set(Chat.get(str(first_chat)).tags or ()) == {ids[billing], ids[vip]}
