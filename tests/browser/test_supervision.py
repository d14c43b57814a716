"""Supervision in Chromium: an admin watches a chat from the Visitors section without the visitor knowing,
whispers to the agent (and the agent back), and joins; the visitor sees the join and never a whisper."""

from __future__ import annotations

import secrets

from playwright.sync_api import Page, expect

from tests.browser.test_accessibility import serious_violations
from tests.support.accounts import PASSWORD
from tests.support.browser import agent_console, sign_in, visitor_page, visitor_says, visitor_starts


def _visitor_id(site: Page) -> str:
    return site.evaluate("() => JSON.parse(localStorage.getItem('charla.visitor')).visitor_id")


def test_an_admin_supervises_silently_whispers_and_joins(stack, browser, agent, only_these_agents_accept):
    _ana_id, ana_email = agent("Ana")
    boss_email = f"boss-{secrets.token_hex(3)}@charla.local"
    stack.create_agent(boss_email, PASSWORD, "Boss", role="admin", accepting=False)
    ana = agent_console(browser, stack, ana_email)
    boss = browser.new_context(bypass_csp=True).new_page()  # for axe-core alone (the page's CSP forbids it)
    sign_in(boss, stack, boss_email, PASSWORD)
    site = visitor_page(browser, stack)
    errors: list[str] = []
    for page in (ana, boss, site):
        page.on("pageerror", lambda error: errors.append(str(error)))

    visitor_starts(site, "Where is my parcel?")
    ana.get_by_test_id("chat-item").first.click()
    ana.get_by_test_id("composer").fill("Let me look")
    ana.get_by_test_id("send").click()
    expect(site.locator("[data-testid=charla-message][data-sender=agent]")).to_contain_text("Let me look")

    # The chat is among the team's active chats in Boss's list (read again as the Chats section shows);
    # Ana, no admin, has no such list.
    boss.get_by_test_id("visitors-tab").click()
    boss.get_by_test_id("chats-tab").click()
    expect(boss.locator("[data-testid=team-chat]")).to_have_count(1)
    expect(ana.get_by_test_id("team-chats")).to_have_count(0)
    # Boss finds the chatting visitor and supervises: the history, then what happens live.
    boss.get_by_test_id("visitors-tab").click()
    row = boss.locator(f"[data-testid=visitor-row][data-visitor-id='{_visitor_id(site)}']")
    row.get_by_test_id("supervise").click()
    expect(boss.get_by_test_id("supervise-bar")).to_be_visible()
    expect(boss.locator("[data-testid=team-chat]")).to_have_count(0)  # now listed under Supervising
    transcript = boss.get_by_test_id("message")
    expect(transcript.filter(has_text="Where is my parcel?")).to_be_visible()
    expect(transcript.filter(has_text="Let me look")).to_be_visible()
    visitor_says(site, "It was due Monday")
    expect(transcript.filter(has_text="It was due Monday")).to_be_visible()
    expect(boss.get_by_test_id("conv-agents")).to_contain_text("Ana")
    expect(boss.get_by_test_id("conv-agents")).not_to_contain_text("Boss")
    assert serious_violations(boss, ".conv") == []

    # A whisper: Ana sees it marked; the visitor never does.
    boss.get_by_test_id("composer").fill("Offer a refund")
    boss.get_by_test_id("send").click()
    whisper = ana.locator("[data-testid=message][data-kind=whisper]").filter(has_text="Offer a refund")
    expect(whisper).to_be_visible()
    expect(whisper.get_by_test_id("whisper-mark")).to_be_visible()
    # Ana whispers back with the composer's toggle; Boss hears it.
    ana.get_by_test_id("whisper-toggle").check()
    ana.get_by_test_id("composer").fill("Will do")
    ana.get_by_test_id("send").click()
    expect(boss.locator("[data-testid=message][data-kind=whisper]").filter(has_text="Will do")).to_be_visible()
    ana.get_by_test_id("whisper-toggle").uncheck()
    ana.get_by_test_id("composer").fill("A refund is on its way")
    ana.get_by_test_id("send").click()
    expect(site.locator("[data-testid=charla-message][data-sender=agent]").last).to_contain_text("refund is on")

    # Boss joins: the visitor sees it, and Boss now replies to the visitor.
    boss.get_by_test_id("join").click()
    expect(site.get_by_test_id("charla-message").filter(has_text="Boss joined the chat.")).to_be_visible()
    expect(boss.get_by_test_id("supervise-bar")).to_be_hidden()
    boss.get_by_test_id("composer").fill("Hello, I am Ana's colleague")
    boss.get_by_test_id("send").click()
    expect(site.locator("[data-testid=charla-message][data-sender=agent]").last).to_contain_text("colleague")

    # Not a trace of the whispers or of the silent watch on the visitor's side, even after a reload.
    site.reload()
    site.get_by_test_id("charla-launcher").click()
    expect(site.get_by_test_id("charla-message").filter(has_text="colleague")).to_be_visible()
    widget = site.get_by_test_id("charla-panel").inner_text()
    assert "Offer a refund" not in widget and "Will do" not in widget
    assert "Supervis" not in widget
    assert errors == []
