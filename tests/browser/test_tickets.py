"""Tickets in Chromium: the widget's offline form, the console's Tickets section, mail and chats as tickets."""

from __future__ import annotations

import json
import re
import smtplib
import time
import urllib.request
from email.message import EmailMessage
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from functions.team import agents
from infra.local.stack import LocalStack
from tests.support import outbox, stack_http
from tests.support.browser import open_widget, sign_in, visitor_says


@pytest.fixture(scope="module")
def console(stack, browser) -> Page:
    """The demo admin's console, on the Tickets tab, kept for the whole module."""
    agents.set_accepting(stack.demo_agent_id, False)
    page = browser.new_context().new_page()
    sign_in(page, stack, stack.demo_email, stack.demo_password)
    expect(page.get_by_test_id("status-toggle")).to_have_attribute("data-accepting", "false")
    page.get_by_test_id("tickets-tab").click()
    expect(page.get_by_test_id("tickets-view")).to_be_visible()
    return page


def mail_for(stack: LocalStack, ref: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = [m for m in outbox.of_stack(stack) if f"[#{ref}]" in m["subject"]]
        if found:
            return found[-1]
        time.sleep(0.2)
    raise AssertionError(f"no mail for #{ref}")


def admin_token(stack: LocalStack) -> str:
    return stack.id_token(stack.demo_email, stack.demo_password)


def event(page: Page, kind: str, text: str):
    return page.locator(f"[data-testid=ticket-event][data-kind={kind}]").filter(has_text=text)


def test_an_offline_message_becomes_a_ticket_the_agent_answers(stack, browser, console):
    site = browser.new_context().new_page()
    open_widget(site, stack)
    form = site.get_by_test_id("charla-offline-form")
    expect(form).to_be_visible()
    field = lambda name: site.locator(f"[data-testid=charla-offline-field][data-name={name}]")  # noqa: E731
    field("name").fill("Olga")
    field("email").fill("not-an-email")
    field("message").fill("My order never came.\nCan you check?")
    site.get_by_test_id("charla-offline-submit").click()
    # The server's 400 names the field; nothing is stored.
    expect(site.get_by_test_id("charla-offline-error")).to_contain_text("Email")
    field("email").fill("olga@example.com")
    site.get_by_test_id("charla-offline-submit").click()
    sent = site.get_by_test_id("charla-offline-sent")
    expect(sent).to_be_visible()
    ref = re.search(r"[2-9A-HJ-NP-Z]{10}", sent.inner_text()).group(0)

    # The console hears of it over its WebSocket.
    row = console.locator(f"[data-testid=ticket-row][data-ticket-id='{ref}']")
    expect(row).to_be_visible()
    expect(console.get_by_test_id("ticket-row").first).to_have_attribute("data-ticket-id", ref)
    row.click()
    view = console.get_by_test_id("ticket-view")
    expect(view.get_by_test_id("ticket-requester")).to_contain_text("olga@example.com")
    expect(event(console, "message", "Can you check?")).to_be_visible()

    console.get_by_test_id("ticket-status").select_option("pending")
    expect(console.locator("[data-testid=ticket-event][data-kind=status]")).to_have_count(1)
    expect(row).to_have_attribute("data-status", "pending")

    console.get_by_test_id("ticket-reply").fill("We are looking into it, Olga.")
    console.get_by_test_id("ticket-reply-send").click()
    expect(event(console, "message", "We are looking into it")).to_be_visible()
    mail = mail_for(stack, ref)
    assert "We are looking into it, Olga." in mail["body"] and "olga@example.com" in mail["to"][0]

    console.get_by_test_id("ticket-note").fill("INTERNAL: courier says Tuesday")
    console.get_by_test_id("ticket-note-send").click()
    note = event(console, "note", "courier says Tuesday")
    expect(note).to_be_visible()
    expect(note).to_have_class(re.compile(r"\bnote\b"))
    assert "courier" not in json.dumps(outbox.of_stack(stack))
    expect(console.get_by_test_id("ticket-status")).to_have_value("pending")

    # Someone else renames it meanwhile: this tab's edit is refused (409), explained, and reloaded.
    version = stack_http.ok(stack, "GET", f"/agent/tickets/{ref}", token=admin_token(stack))["ticket"]["version"]
    stack_http.ok(
        stack, "PATCH", f"/agent/tickets/{ref}", {"version": version, "title": "Lost parcel"}, token=admin_token(stack)
    )
    console.get_by_test_id("ticket-title").fill("Order missing")
    console.get_by_test_id("ticket-title").press("Enter")
    expect(console.get_by_test_id("notice")).to_be_visible()
    expect(console.get_by_test_id("ticket-title")).to_have_value("Lost parcel")


def test_an_email_becomes_a_ticket_in_the_list(stack, console):
    message = EmailMessage()
    message["From"] = "Rex <rex@example.com>"
    message["To"] = "support@charla.local"
    message["Subject"] = "Printer prints blank pages"
    message.set_content("Since Monday every page comes out blank.")
    with smtplib.SMTP(stack.host, stack.smtp_port, timeout=20) as smtp:
        smtp.send_message(message)
    row = console.get_by_test_id("ticket-row").filter(has_text="Printer prints blank pages")
    expect(row).to_be_visible()
    console.get_by_test_id("ticket-search").fill("printer")
    console.get_by_test_id("ticket-search").press("Enter")
    expect(console.get_by_test_id("ticket-row")).to_have_count(1)
    console.get_by_test_id("ticket-search").fill("rex@example.com")
    console.get_by_test_id("ticket-search").press("Enter")
    expect(console.get_by_test_id("ticket-row")).to_have_count(1)
    row.click()
    expect(console.get_by_test_id("ticket-source")).to_have_text("Email")
    expect(event(console, "message", "every page comes out blank")).to_be_visible()
    console.get_by_test_id("ticket-search").fill("")
    console.get_by_test_id("ticket-search").press("Enter")


def test_a_forged_mail_is_shown_as_from_an_unverified_sender(stack, console):
    message = EmailMessage()
    message["From"] = "Boss <ceo@example.com>"
    message["To"] = "support@charla.local"
    message["Subject"] = "Urgent wire transfer"
    message.set_content("Pay the attached invoice today.")
    stack.mail_verdicts.update(spf="fail", dkim="fail", dmarc="fail")  # SES's verdicts on a forged From
    try:
        with smtplib.SMTP(stack.host, stack.smtp_port, timeout=20) as smtp:
            smtp.send_message(message)
    finally:
        stack.mail_verdicts.update(spf="pass", dkim="pass", dmarc="pass")
    console.get_by_test_id("ticket-row").filter(has_text="Urgent wire transfer").click()
    expect(console.get_by_test_id("ticket-source")).to_have_text("Email · Unverified sender")
    expect(event(console, "message", "Pay the attached invoice").get_by_test_id("unverified-sender")).to_be_visible()


def test_create_ticket_from_a_chat_carries_the_transcript(stack, browser, console):
    console.get_by_test_id("status-toggle").click()
    expect(console.get_by_test_id("status-toggle")).to_have_attribute("data-accepting", "true")
    try:
        site = browser.new_context().new_page()
        open_widget(site, stack)
        visitor_says(site, "My screen stays black after the update")
        console.get_by_test_id("chats-tab").click()
        console.get_by_test_id("chat-item").filter(has_text="My screen stays black").click()
        console.get_by_test_id("composer").fill("Let me open a ticket for this.")
        console.get_by_test_id("send").click()
        console.get_by_test_id("more").click()
        console.get_by_test_id("create-ticket").click()
        expect(console.get_by_test_id("notice")).to_contain_text("#")
        # The agent stays in the chat; the notice links to the new ticket.
        expect(console.get_by_test_id("chats-tab")).to_have_attribute("aria-pressed", "true")
        console.get_by_test_id("ticket-link").click()
        expect(console.get_by_test_id("tickets-tab")).to_have_attribute("aria-pressed", "true")
        expect(console.get_by_test_id("ticket-source")).to_have_text("Chat")
        expect(event(console, "message", "My screen stays black after the update")).to_be_visible()
        expect(event(console, "message", "Let me open a ticket for this.")).to_be_visible()
    finally:
        agents.set_accepting(stack.demo_agent_id, False)


def test_when_the_last_agent_stops_accepting_the_first_message_turns_into_the_offline_form(stack, browser, console):
    agents.set_accepting(stack.demo_agent_id, True)  # the console stays connected: the widget says online
    site = browser.new_context().new_page()
    open_widget(site, stack)
    expect(site.get_by_test_id("charla-input")).to_be_visible()
    agents.set_accepting(stack.demo_agent_id, False)
    visitor_says(site, "Anyone there?")
    expect(site.get_by_test_id("charla-offline-form")).to_be_visible()
    # What they typed is kept for the form.
    expect(site.locator("[data-testid=charla-offline-field][data-name=message]")).to_have_value("Anyone there?")


def test_an_attachment_goes_up_and_comes_down_through_presigned_urls(stack, browser, console):
    message = EmailMessage()
    message["From"] = "Ida <ida@example.com>"
    message["To"] = "support@charla.local"
    message["Subject"] = "Invoice copy please"
    message.set_content("Could you send the invoice again?")
    with smtplib.SMTP(stack.host, stack.smtp_port, timeout=20) as smtp:
        smtp.send_message(message)
    console.get_by_test_id("ticket-row").filter(has_text="Invoice copy please").click()
    expect(console.get_by_test_id("ticket-requester")).to_contain_text("ida@example.com")
    name = "invoice <img src=x onerror=alert(1)>.txt"
    console.get_by_test_id("ticket-attach").set_input_files(
        files=[{"name": name, "mimeType": "text/plain", "buffer": b"Invoice 7: 49.00 EUR\n"}]
    )
    expect(console.get_by_test_id("ticket-pending-attachment")).to_contain_text(name)
    console.get_by_test_id("ticket-note").fill("Attaching the invoice for the team.")
    console.get_by_test_id("ticket-note-send").click()
    link = console.get_by_test_id("ticket-attachment").filter(has_text=name)
    expect(link).to_be_visible()  # the name is shown as text, not markup
    attachment_id = link.get_attribute("data-attachment-id")
    ref = console.get_by_test_id("ticket-view").get_attribute("data-ticket-id") or ""
    if not ref:
        ref = stack_http.ok(stack, "GET", "/agent/tickets?q=invoice", token=admin_token(stack))["tickets"][0][
            "ticket_id"
        ]
    download = stack_http.ok(
        stack, "GET", f"/agent/tickets/{ref}/attachments/{attachment_id}", token=admin_token(stack)
    )
    with urllib.request.urlopen(download["url"], timeout=10) as response:
        assert response.read() == b"Invoice 7: 49.00 EUR\n"
        assert response.headers["Content-Disposition"].startswith("attachment")
