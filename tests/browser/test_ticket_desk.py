"""The ticket view's small rules: the reply mode is per ticket, and a ticket goes to any colleague."""

from __future__ import annotations

import secrets

from playwright.sync_api import expect

from functions.helpdesk import tickets
from tests.support.browser import sign_in


def emailed(subject: str) -> str:
    ticket = tickets.new_ticket(
        subject=subject, source="email", requester_email="rex@example.com", requester_name="Rex"
    )
    return tickets.create(ticket, [tickets.Entry(kind="message", author="requester", body="Help")]).ticket_id


def test_the_reply_mode_resets_per_ticket_and_a_ticket_is_assigned_to_a_colleague(stack, browser):
    tag = secrets.token_hex(3)
    first, second = emailed(f"Printer {tag} jams"), emailed(f"Scanner {tag} is slow")
    bea = f"Bea {tag}"
    stack.create_agent(f"bea-{tag}@charla.local", "Agent-pa55word!", bea)
    page = browser.new_context().new_page()
    sign_in(page, stack, stack.demo_email, stack.demo_password)
    page.get_by_test_id("tickets-tab").click()
    page.get_by_test_id("ticket-search").fill(tag)
    page.get_by_test_id("ticket-search").press("Enter")
    expect(page.get_by_test_id("ticket-row")).to_have_count(2)  # the search's answer, not the first page
    page.locator(f"[data-testid=ticket-row][data-ticket-id='{first}']").click()
    expect(page.get_by_test_id("ticket-ref")).to_be_visible()
    page.get_by_test_id("ticket-reply-status").select_option("pending")
    page.locator(f"[data-testid=ticket-row][data-ticket-id='{second}']").click()
    expect(page.get_by_test_id("ticket-title")).to_have_value(f"Scanner {tag} is slow")
    expect(page.get_by_test_id("ticket-reply-status")).to_have_value("")

    page.get_by_test_id("ticket-assignee-select").select_option(label=bea)
    expect(page.get_by_test_id("ticket-assignee")).to_have_text(bea)
    expect(page.get_by_test_id("ticket-event").filter(has_text=bea)).to_be_visible()  # on the timeline
    page.get_by_test_id("ticket-assignee-select").select_option("")
    expect(page.get_by_test_id("ticket-assignee")).to_have_text("Unassigned")
