"""Two-step sign-in in Chromium: an agent turns TOTP on in Account and the next sign-in asks for the code;
when an admin requires it, an agent without it is walked through the set-up before the console opens.
"""

from __future__ import annotations

import base64
import secrets
import time

from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.totp import TOTP
from playwright.sync_api import Page, expect

from functions.core import settings
from tests.support.accounts import PASSWORD
from tests.support.browser import sign_in


def totp(secret: str, at: float | None = None) -> str:
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    return TOTP(key, 6, SHA1(), 30, enforce_key_length=False).generate(at or time.time()).decode()


def new_agent(stack, role: str = "agent") -> str:
    email = f"mfa-{secrets.token_hex(3)}@example.com"
    stack.create_agent(email, PASSWORD, "Mia", role=role)
    return email


def set_up_totp(page: Page) -> str:
    """Reads the key the set-up shows as text, and answers with the code an app would show."""
    expect(page.get_by_test_id("mfa-uri")).to_contain_text("otpauth://totp/Charla:")
    secret = page.get_by_test_id("mfa-secret").inner_text().replace(" ", "")
    page.get_by_test_id("mfa-setup-code").fill(totp(secret))
    page.get_by_test_id("mfa-setup-verify").click()
    return secret


def enter_password(page: Page, stack, email: str) -> None:
    page.goto(stack.console_url)
    page.get_by_test_id("login-email").fill(email)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()


def test_an_agent_turns_on_totp_and_the_next_sign_in_asks_for_the_code(stack, browser):
    email = new_agent(stack)
    page = browser.new_context().new_page()
    sign_in(page, stack, email, PASSWORD)
    page.get_by_test_id("account-tab").click()
    expect(page.get_by_test_id("mfa-status")).to_have_attribute("data-enabled", "false")
    page.get_by_test_id("mfa-setup-start").click()
    secret = set_up_totp(page)
    expect(page.get_by_test_id("mfa-status")).to_have_attribute("data-enabled", "true")

    page.get_by_test_id("logout").click()
    enter_password(page, stack, email)
    expect(page.get_by_test_id("mfa-code")).to_be_visible()
    expect(page.get_by_test_id("status-toggle")).to_have_count(0)
    page.get_by_test_id("mfa-code").fill(f"{(int(totp(secret)) + 500_000) % 1_000_000:06d}")
    page.get_by_test_id("mfa-code-submit").click()
    expect(page.get_by_test_id("login-error")).to_be_visible()
    expect(page.get_by_test_id("status-toggle")).to_have_count(0)
    page.get_by_test_id("mfa-code").fill(totp(secret))
    page.get_by_test_id("mfa-code-submit").click()
    expect(page.get_by_test_id("status-toggle")).to_be_visible()


def test_when_an_admin_requires_totp_an_agent_without_it_sets_it_up_before_the_console_opens(stack, browser):
    admin_email = new_agent(stack, role="admin")
    admin = browser.new_context().new_page()
    sign_in(admin, stack, admin_email, PASSWORD)
    try:
        admin.get_by_test_id("admin-tab").click()
        admin.get_by_test_id("admin-nav-settings").click()
        expect(admin.get_by_test_id("setting-max_chats_per_agent")).not_to_have_value("")  # loaded
        admin.get_by_test_id("setting-require_mfa").check()
        admin.get_by_test_id("settings-save").click()
        expect(admin.get_by_test_id("settings-saved")).to_be_visible()
        assert settings.get_fresh()["require_mfa"] is True

        agent = browser.new_context().new_page()
        enter_password(agent, stack, new_agent(stack))
        expect(agent.get_by_test_id("mfa-required")).to_be_visible()
        expect(agent.get_by_test_id("status-toggle")).to_have_count(0)
        set_up_totp(agent)
        expect(agent.get_by_test_id("status-toggle")).to_be_visible()
        agent.get_by_test_id("account-tab").click()
        expect(agent.get_by_test_id("mfa-status")).to_have_attribute("data-enabled", "true")
        expect(agent.get_by_test_id("mfa-disable")).to_be_hidden()  # required: it can't be turned off
    finally:
        settings.save_settings({"require_mfa": False})
