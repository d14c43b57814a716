"""Accessibility: axe-core finds no serious or critical violations in the widget or the console."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.support.browser import open_widget, sign_in

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


def serious_violations(page: Page, include: str | None = None) -> list[str]:
    # The pages' CSP forbids injected scripts, so these contexts bypass it for axe alone.
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        """async (include) => {
            const result = await axe.run(include ? {include: [[include]]} : document);
            return result.violations
                .filter(v => v.impact === 'serious' || v.impact === 'critical')
                .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '));
        }""",
        include,
    )
    return list(found)


def test_the_open_widget_has_no_serious_violations(stack, browser):
    page = browser.new_context(bypass_csp=True).new_page()
    open_widget(page, stack)
    assert serious_violations(page, "[data-charla]") == []


def test_the_widget_works_from_the_keyboard(stack, browser):
    page = browser.new_context().new_page()
    page.goto(stack.base_url + "/")
    launcher = page.get_by_test_id("charla-launcher")
    expect(launcher).to_be_visible()
    launcher.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("charla-panel")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("charla-panel")).to_be_hidden()


def test_the_console_sign_in_and_chat_view_have_no_serious_violations(stack, browser):
    page = browser.new_context(bypass_csp=True).new_page()
    page.goto(stack.console_url)
    expect(page.get_by_test_id("login-email")).to_be_visible()
    assert serious_violations(page) == []
    sign_in(page, stack, stack.demo_email, stack.demo_password)
    assert serious_violations(page) == []


def test_on_a_phone_the_open_widget_fills_the_screen(stack, browser):
    context = browser.new_context(viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True)
    page = context.new_page()
    open_widget(page, stack)
    box = page.get_by_test_id("charla-panel").bounding_box()
    assert box is not None and box["width"] >= 370 and box["height"] >= 600
