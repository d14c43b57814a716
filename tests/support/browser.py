"""Shared pieces for the browser tests: the local stack, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import Browser, Page, expect, sync_playwright

from infra.local.stack import LocalStack
from tests.support.accounts import PASSWORD

CHROMIUM = "/usr/bin/chromium"
# Without these, Chromium keeps trying to reach Google's hosts, which this network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Under `make test` two workers each run a stack and a browser on two cores: a page can take longer
# than Playwright's default 5 s to show what it will show. A longer wait asserts the same thing.
expect.set_options(timeout=15_000)


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def sign_in(page: Page, stack: LocalStack, email: str, password: str) -> None:
    page.goto(stack.console_url)
    page.get_by_test_id("login-email").fill(email)
    page.get_by_test_id("login-password").fill(password)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("status-toggle")).to_be_visible()


def open_widget(page: Page, stack: LocalStack) -> None:
    page.goto(stack.base_url + "/")
    page.get_by_test_id("charla-launcher").click()
    expect(page.get_by_test_id("charla-panel")).to_be_visible()


def visitor_says(page: Page, text: str) -> None:
    page.get_by_test_id("charla-input").fill(text)
    page.get_by_test_id("charla-send").click()


def agent_console(browser: Browser, stack: LocalStack, email: str) -> Page:
    """A signed-in console in a browser context of its own."""
    page = browser.new_context().new_page()
    sign_in(page, stack, email, PASSWORD)
    return page


def visitor_page(browser: Browser, stack: LocalStack) -> Page:
    """The demo site with its widget open, in a browser context of its own (a visitor of their own)."""
    page = browser.new_context().new_page()
    open_widget(page, stack)
    return page


def visitor_starts(page: Page, text: str) -> None:
    """The visitor's first message, once the server has stored it."""
    visitor_says(page, text)
    expect(page.get_by_test_id("charla-message").filter(has_text=text)).to_have_attribute(
        "data-seq", re.compile(r"^\d+$")
    )
