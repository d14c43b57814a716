"""A new install's SES sandbox in Chromium: the admin inviting an unverified address is told why, the widget
offers no transcript it can't send, and an agent's reply to an unverified requester is shown as stored but not
mailed, with the reason."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from functions.core import settings
from functions.team import agents
from infra.local.stack import LocalStack
from tests.support import outbox
from tests.support.browser import open_widget, sign_in, visitor_says


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(port=0, ses_production_access=False) as running:
        yield running


def test_after_a_chat_in_the_sandbox_the_widget_offers_a_rating_but_no_transcript(stack, browser):
    agents.set_accepting(stack.demo_agent_id, True)
    console = browser.new_context().new_page()
    sign_in(console, stack, stack.demo_email, stack.demo_password)
    settings.save_settings({"prechat": "name_email"})
    try:
        site = browser.new_context().new_page()
        open_widget(site, stack)
        # The chat has an address of its own, so only the sandbox stands between it and a transcript.
        site.get_by_test_id("charla-name").fill("Vera")
        site.get_by_test_id("charla-email").fill("vera@gmail.test")
        site.get_by_test_id("charla-start").click()
        visitor_says(site, "Can you mail me this chat?")
        expect(console.get_by_test_id("chat-item").first).to_be_visible()
        console.get_by_test_id("chat-item").first.click()
        site.get_by_test_id("charla-end").click()  # asks first
        site.get_by_test_id("charla-end").click()  # and ends
        expect(site.get_by_test_id("charla-rate-good")).to_be_visible()
        expect(site.get_by_test_id("charla-transcript")).to_be_hidden()
    finally:
        settings.save_settings({"prechat": "anonymous"})


def test_a_reply_the_sandbox_refuses_is_shown_as_not_mailed_with_the_reason(stack, browser):
    agents.set_accepting(stack.demo_agent_id, False)
    site = browser.new_context().new_page()
    open_widget(site, stack)
    field = lambda name: site.locator(f"[data-testid=charla-offline-field][data-name={name}]")  # noqa: E731
    field("name").fill("Olga")
    field("email").fill("olga@gmail.test")
    field("message").fill("My order never came.")
    site.get_by_test_id("charla-offline-submit").click()
    sent = site.get_by_test_id("charla-offline-sent")
    expect(sent).to_be_visible()
    ref = re.search(r"[2-9A-HJ-NP-Z]{10}", sent.inner_text()).group(0)

    console = browser.new_context().new_page()
    sign_in(console, stack, stack.demo_email, stack.demo_password)
    console.get_by_test_id("tickets-tab").click()
    console.locator(f"[data-testid=ticket-row][data-ticket-id='{ref}']").click()
    console.get_by_test_id("ticket-reply").fill("We are looking into it, Olga.")
    console.get_by_test_id("ticket-reply-send").click()
    reply = console.locator("[data-testid=ticket-event][data-kind=message]").filter(has_text="looking into it")
    expect(reply).to_have_attribute("data-delivery", "failed")
    expect(reply.get_by_test_id("delivery-reason")).to_contain_text("sandbox")
    expect(console.get_by_test_id("notice")).to_contain_text("olga@gmail.test")
    assert "looking into it" not in json.dumps(outbox.of_stack(stack))


def test_the_admin_inviting_an_unverified_address_is_told_about_the_sandbox_and_no_one_is_added(stack, browser):
    admin = browser.new_context().new_page()
    sign_in(admin, stack, stack.demo_email, stack.demo_password)
    admin.get_by_test_id("admin-tab").click()
    admin.get_by_test_id("admin-nav-team").click()
    admin.get_by_test_id("invite-email").fill("ines@gmail.test")
    admin.get_by_test_id("invite-name").fill("Inés")
    admin.get_by_test_id("invite-send").click()
    expect(admin.get_by_test_id("team-error")).to_contain_text("sandbox")
    expect(admin.get_by_test_id("team-error")).to_contain_text("ines@gmail.test")
    expect(admin.get_by_test_id("team-row").filter(has_text="ines@gmail.test")).to_have_count(0)


def test_a_spanish_agent_is_told_about_the_sandbox_in_spanish_on_a_reply_and_on_a_new_address(stack, browser):
    agents.set_accepting(stack.demo_agent_id, False)
    site = browser.new_context().new_page()
    open_widget(site, stack)
    field = lambda name: site.locator(f"[data-testid=charla-offline-field][data-name={name}]")  # noqa: E731
    field("name").fill("Pilar")
    field("email").fill("pilar@gmail.test")
    field("message").fill("¿Dónde está mi pedido?")
    site.get_by_test_id("charla-offline-submit").click()
    ref = re.search(r"[2-9A-HJ-NP-Z]{10}", site.get_by_test_id("charla-offline-sent").inner_text()).group(0)

    console = browser.new_context(locale="es-ES").new_page()
    sign_in(console, stack, stack.demo_email, stack.demo_password)
    console.get_by_test_id("tickets-tab").click()
    console.locator(f"[data-testid=ticket-row][data-ticket-id='{ref}']").click()
    console.get_by_test_id("ticket-reply").fill("Lo estamos mirando, Pilar.")
    console.get_by_test_id("ticket-reply-send").click()
    notice = console.get_by_test_id("notice")
    expect(notice).to_contain_text("no se envió por correo a pilar@gmail.test")
    expect(notice).not_to_contain_text("was not sent")

    console.get_by_test_id("account-tab").click()
    console.get_by_test_id("account-email").fill("nueva@gmail.test")
    console.get_by_test_id("account-email-send").click()
    error = console.get_by_test_id("account-email-error")
    expect(error).to_contain_text("No se envió nada")
    expect(error).not_to_contain_text("was not sent")
