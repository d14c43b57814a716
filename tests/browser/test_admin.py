"""The console's Admin and Account sections in Chromium: invitations, live cut-off, languages, settings."""

from __future__ import annotations

import re
import secrets
import time
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from functions.admin import settings_checks
from functions.core import settings
from infra.local.stack import LocalStack
from tests.support import outbox, stack_http
from tests.support.accounts import PASSWORD
from tests.support.browser import sign_in

CHOSEN = "Chosen-by-me-2024"


@pytest.fixture(scope="module")
def admin(stack, browser) -> Page:
    page = browser.new_context().new_page()
    sign_in(page, stack, stack.demo_email, stack.demo_password)
    return page


def temporary_password(stack: LocalStack, email: str) -> str:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for mail in outbox.of_stack(stack):
            found = re.search(r"temporary password: (\S+)", mail["body"] or "")
            if email in mail["to"] and found:
                return found.group(1)
        time.sleep(0.1)
    raise AssertionError(f"no invitation mail for {email}")


def open_admin(page: Page, view: str) -> None:
    page.get_by_test_id("admin-tab").click()
    page.get_by_test_id("admin-nav-" + view).click()
    expect(page.get_by_test_id("admin-" + view)).to_be_visible()


def test_an_invited_agent_signs_in_with_the_mailed_password_and_chooses_their_own(stack, browser, admin):
    email = f"ines-{secrets.token_hex(3)}@example.com"
    open_admin(admin, "team")
    admin.get_by_test_id("invite-email").fill(email)
    admin.get_by_test_id("invite-name").fill("Inés")
    admin.get_by_test_id("invite-send").click()
    row = admin.get_by_test_id("team-row").filter(has_text=email)
    expect(row.get_by_test_id("agent-status")).to_have_attribute("data-status", "invited")

    newcomer = browser.new_context().new_page()
    newcomer.goto(stack.console_url)
    newcomer.get_by_test_id("login-email").fill(email)
    newcomer.get_by_test_id("login-password").fill(temporary_password(stack, email))
    newcomer.get_by_test_id("login-submit").click()
    newcomer.get_by_test_id("new-password").fill(CHOSEN)
    newcomer.get_by_test_id("new-password-submit").click()
    expect(newcomer.get_by_test_id("status-toggle")).to_be_visible()
    expect(newcomer.get_by_test_id("me")).to_have_text("Inés")
    expect(newcomer.get_by_test_id("admin-tab")).to_have_count(0)  # an agent, not an admin
    newcomer.context.close()


def test_a_disabled_agent_is_cut_off_live(stack, browser, admin):
    email = f"dario-{secrets.token_hex(3)}@example.com"
    agent_id = stack.create_agent(email, PASSWORD, "Darío")
    agent = browser.new_context().new_page()
    sign_in(agent, stack, email, PASSWORD)
    expect(agent.get_by_test_id("conn")).to_have_attribute("data-state", "open")
    token = agent.evaluate("JSON.parse(sessionStorage.getItem('charla.agent.auth')).id_token")

    open_admin(admin, "team")
    admin.get_by_test_id("admin-nav-settings").click()  # the Team view reads the list afresh
    admin.get_by_test_id("admin-nav-team").click()
    row = admin.locator(f'[data-testid=team-row][data-agent-id="{agent_id}"]')
    row.get_by_test_id("agent-disable").click()
    expect(row.get_by_test_id("agent-status")).to_have_attribute("data-status", "disabled")

    expect(agent.get_by_test_id("login-error")).to_contain_text("Your session has ended", timeout=10_000)
    expect(agent.get_by_test_id("login-email")).to_be_visible()
    assert stack_http.call(stack, "GET", "/agent/me", token=token)[0] == 401
    agent.context.close()


def test_the_console_speaks_spanish_and_english(admin):
    admin.get_by_test_id("chats-tab").click()
    toggle = admin.get_by_test_id("status-toggle")
    english = toggle.inner_text()
    admin.get_by_test_id("lang").select_option("es")
    expect(toggle).to_have_text(re.compile(r"^(Aceptando chats|No acepto chats)$"))
    expect(admin.get_by_test_id("admin-tab")).to_have_text("Admin")
    expect(admin.get_by_test_id("account-tab")).to_have_text("Cuenta")
    admin.get_by_test_id("admin-tab").click()
    admin.get_by_test_id("admin-nav-team").click()
    expect(admin.get_by_test_id("invite-send")).to_have_text("Enviar invitación")
    admin.get_by_test_id("lang").select_option("en")
    expect(toggle).to_have_text(english)
    expect(admin.get_by_test_id("invite-send")).to_have_text("Send invitation")


def test_a_late_settings_answer_does_not_undo_what_the_admin_typed(stack, admin):
    open_admin(admin, "settings")
    box = admin.get_by_test_id("setting-max_chats_per_agent")
    expect(box).to_have_value("3")
    held: list[Any] = []

    def hold(route: Any) -> None:  # the next load's answer waits until released below
        held.append(route)

    admin.route("**/api/admin/settings", hold)
    try:
        admin.get_by_test_id("admin-nav-settings").click()
        deadline = time.monotonic() + 10
        while not held and time.monotonic() < deadline:
            admin.wait_for_timeout(50)
        assert held, "the settings view did not load again"
        box.fill("9")
        with admin.expect_response("**/api/admin/settings"):
            held[0].continue_()
        admin.wait_for_timeout(300)  # the answer's handler has run by now
        assert box.input_value() == "9"
    finally:
        admin.unroute("**/api/admin/settings")
        admin.reload()  # nothing was saved; start the next test from the stored settings


def test_settings_are_saved_and_bad_ones_are_refused_with_the_servers_message(stack, admin):
    before = settings_checks.read()  # the local stack allows its own origins
    try:
        open_admin(admin, "settings")
        peek = admin.get_by_test_id("setting-sneak_peek")
        expect(admin.get_by_test_id("setting-max_chats_per_agent")).to_have_value("3")
        expect(peek).to_be_checked()
        admin.get_by_test_id("setting-max_chats_per_agent").fill("7")
        peek.uncheck()
        admin.get_by_test_id("settings-save").click()
        expect(admin.get_by_test_id("settings-saved")).to_be_visible()
        assert settings_checks.read()["max_chats_per_agent"] == 7

        admin.reload()
        open_admin(admin, "settings")
        expect(admin.get_by_test_id("setting-max_chats_per_agent")).to_have_value("7")
        expect(admin.get_by_test_id("setting-sneak_peek")).not_to_be_checked()

        admin.get_by_test_id("setting-allowed_origins").fill("https://shop.example\nshop.example/path")
        admin.get_by_test_id("settings-save").click()
        # Named by its label, next to the field (which has focus), not by its key.
        expect(admin.get_by_test_id("settings-field-error")).to_contain_text("Websites allowed to use the widget")
        expect(admin.get_by_test_id("settings-field-error")).not_to_contain_text("allowed_origins")
        expect(admin.get_by_test_id("setting-allowed_origins")).to_be_focused()
        expect(admin.get_by_test_id("setting-allowed_origins")).to_have_attribute("aria-invalid", "true")
        expect(admin.get_by_test_id("settings-error")).to_contain_text("Websites allowed to use the widget")
        expect(admin.get_by_test_id("settings-saved")).to_be_hidden()
        assert settings_checks.read()["allowed_origins"] == before["allowed_origins"]  # all or nothing
        assert settings_checks.read()["max_chats_per_agent"] == 7
    finally:
        settings.save_settings({k: before[k] for k in ("max_chats_per_agent", "sneak_peek", "allowed_origins")})


def test_the_privacy_settings_url_parameters_and_retention(stack, admin):
    before = settings_checks.read()
    try:
        admin.reload()  # the form as stored, not what an earlier test left typed in it
        open_admin(admin, "settings")
        expect(admin.get_by_test_id("setting-retention_days")).to_have_value("30")
        admin.get_by_test_id("setting-tracked_url_params").fill("utm_source, utm_campaign")
        admin.get_by_test_id("setting-retention_days").fill("14")
        admin.get_by_test_id("settings-save").click()
        expect(admin.get_by_test_id("settings-saved")).to_be_visible()
        stored = settings_checks.read()
        assert (stored["tracked_url_params"], stored["retention_days"]) == (["utm_source", "utm_campaign"], 14)
        admin.get_by_test_id("setting-tracked_url_params").fill("token=1")
        admin.get_by_test_id("settings-save").click()
        expect(admin.get_by_test_id("settings-field-error")).to_contain_text("Query parameters kept in tracked URLs")
        assert settings_checks.read()["tracked_url_params"] == ["utm_source", "utm_campaign"]
    finally:
        settings.save_settings({k: before[k] for k in ("tracked_url_params", "retention_days")})


def test_bans_webhooks_and_the_account_name_through_the_ui(stack, admin):
    open_admin(admin, "bans")
    admin.get_by_test_id("ban-target").fill("203.0.113.0/24")
    admin.get_by_test_id("ban-reason").fill("spam <b>bold</b>")
    admin.get_by_test_id("ban-hours").fill("2")
    admin.get_by_test_id("ban-add").click()
    row = admin.get_by_test_id("ban-row").filter(has_text="203.0.113.0/24")
    expect(row.get_by_test_id("ban-reason-cell")).to_have_text("spam <b>bold</b>")  # text, not markup
    row.get_by_test_id("unban").click()
    expect(row).to_have_count(0)

    admin.get_by_test_id("admin-nav-webhooks").click()
    admin.get_by_test_id("webhook-url").fill("http://127.0.0.1:9/hook")
    admin.locator("[data-testid=webhook-event][value='chat.started']").check()
    admin.get_by_test_id("webhook-add").click()
    expect(admin.get_by_test_id("webhook-secret")).not_to_be_empty()
    hook = admin.get_by_test_id("webhook-row").filter(has_text="127.0.0.1:9")
    hook.get_by_test_id("webhook-deliveries").click()
    expect(hook.get_by_test_id("webhook-deliveries-log")).to_be_visible()
    hook.get_by_test_id("webhook-delete").click()
    hook.get_by_test_id("webhook-delete-confirm").click()
    expect(hook).to_have_count(0)

    admin.get_by_test_id("account-tab").click()
    admin.get_by_test_id("account-name").fill("Demo Boss")
    admin.get_by_test_id("account-name-save").click()
    expect(admin.get_by_test_id("me")).to_have_text("Demo Boss")
    admin.get_by_test_id("account-name").fill("Demo Admin")
    admin.get_by_test_id("account-name-save").click()
    expect(admin.get_by_test_id("me")).to_have_text("Demo Admin")
