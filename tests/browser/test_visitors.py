"""Visitors in Chromium: the live list, a greeting answered into a chat, automatic greetings and their
cap, and signed versus forged identities."""

from __future__ import annotations

import re
import secrets
import time
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from functions.core import settings
from functions.models import Visitor
from functions.team import agents
from functions.visitors import greetings, verified
from infra.local.stack import LocalStack
from tests.support.accounts import PASSWORD
from tests.support.browser import sign_in, visitor_starts


@pytest.fixture(autouse=True)
def only_these_agents_accept(stack):
    agents.set_accepting(stack.demo_agent_id, False)
    yield
    settings.save_settings({"greetings": []})


def agent(stack, name: str, accepting: bool = True) -> tuple[str, str]:
    email = f"{name.lower()}-{secrets.token_hex(3)}@charla.local"
    return stack.create_agent(email, PASSWORD, name, accepting=accepting), email


def visitors_tab(browser, stack, email: str) -> Page:
    page = browser.new_context().new_page()
    sign_in(page, stack, email, PASSWORD)
    page.get_by_test_id("visitors-tab").click()
    return page


def visit(page: Page, stack: LocalStack, path: str = "/") -> None:
    """Opens a page of the demo site and loads the widget at once (as a hover over the launcher does)."""
    page.goto(stack.base_url + path)
    page.get_by_test_id("charla-launcher").hover()
    page.wait_for_function("() => window.Charla && window.Charla._w && window.Charla._p")


def visitor_id(page: Page) -> str:
    return page.evaluate("() => Charla._p.then(() => JSON.parse(localStorage.getItem('charla.visitor')).visitor_id)")


def row(console: Page, vid: str):
    return console.locator(f"[data-testid=visitor-row][data-visitor-id='{vid}']")


def test_a_visitor_appears_in_the_list_and_their_page_changes_follow_live(stack, browser):
    settings.save_settings({"tracked_url_params": ["p"]})  # queries are dropped unless the admin keeps them
    _id, email = agent(stack, "Ana")
    console = visitors_tab(browser, stack, email)
    site = browser.new_context().new_page()
    site.goto(stack.base_url + "/?p=bikes")  # the loader alone reports the view: no widget needed
    vid = visitor_id(site)
    expect(row(console, vid)).to_contain_text("p=bikes")
    expect(row(console, vid).get_by_test_id("visitor-state")).to_have_text("Browsing")
    expect(row(console, vid).get_by_test_id("visitor-visits-cell")).to_have_text("1")

    site.goto(stack.base_url + "/?p=pricing")
    expect(row(console, vid)).to_contain_text("p=pricing")
    console.get_by_test_id("visitor-filter").fill("pricing")
    expect(row(console, vid)).to_be_visible()
    console.get_by_test_id("visitor-filter").fill("no such page")
    expect(row(console, vid)).to_have_count(0)
    settings.save_settings({"tracked_url_params": []})


def test_a_greeting_answered_starts_a_chat_with_the_agent_who_sent_it(stack, browser):
    _ben_id, ben_email = agent(stack, "Ben")  # accepting chats and online: routing alone would pick him
    ben_console = browser.new_context().new_page()
    sign_in(ben_console, stack, ben_email, PASSWORD)
    ana_id, ana_email = agent(stack, "Ana", accepting=False)
    console = visitors_tab(browser, stack, ana_email)
    site = browser.new_context().new_page()
    errors: list[str] = []
    for page in (console, site):
        page.on("pageerror", lambda error: errors.append(str(error)))
    visit(site, stack, "/?p=service")
    site.evaluate("""() => {
        window.seen = [];
        for (const ev of ['chat_started', 'message', 'chat_ended']) Charla.on(ev, () => window.seen.push(ev));
    }""")
    vid = visitor_id(site)
    row(console, vid).get_by_test_id("greet").click()
    console.get_by_test_id("greet-text").fill("Hi! Can I help you choose a bike?")
    console.get_by_test_id("greet-send").click()

    bubble = site.get_by_test_id("charla-greeting")
    expect(bubble).to_contain_text("Can I help you choose a bike?")
    expect(bubble).to_contain_text("Ana")
    site.get_by_test_id("charla-greeting-reply").fill("Yes, a cargo bike please")
    site.get_by_test_id("charla-greeting-send").click()

    expect(site.get_by_test_id("charla-panel")).to_be_visible()
    expect(site.locator("[data-testid=charla-message][data-sender=visitor]")).to_have_attribute(
        "data-seq", re.compile(r"^\d+$")
    )
    console.get_by_test_id("chats-tab").click()
    console.get_by_test_id("chat-item").first.click()
    expect(console.get_by_test_id("message").filter(has_text="Yes, a cargo bike please")).to_be_visible()
    expect(console.get_by_test_id("message").filter(has_text="Can I help you choose a bike?")).to_be_visible()
    expect(ben_console.get_by_test_id("chat-item")).to_have_count(0)
    console.get_by_test_id("composer").fill("Great choice!")
    console.get_by_test_id("send").click()
    expect(site.locator("[data-testid=charla-message][data-sender=agent]")).to_contain_text("Great choice!")
    assert Visitor.get(vid).open_chat_id
    console.get_by_test_id("more").click()
    console.get_by_test_id("close-chat").click()
    # The page's own listeners (Charla.on) heard the chat start, the agent's message and the end.
    site.wait_for_function("() => window.seen.includes('chat_ended')")
    seen = site.evaluate("() => window.seen")  # messages: the agent's reply, then the system's "closed" line
    assert (seen[0], seen[-1], set(seen[1:-1])) == ("chat_started", "chat_ended", {"message"})
    assert errors == []


def test_the_page_hides_shows_opens_and_translates_the_widget(stack, browser):
    site = browser.new_context().new_page()
    site.goto(stack.base_url + "/")
    site.evaluate("() => { Charla.hide(); Charla.setLanguage('es'); }")  # before the widget has loaded
    launcher = site.get_by_test_id("charla-launcher")
    expect(launcher).to_be_hidden()
    site.evaluate("() => Charla.open()")
    expect(site.get_by_test_id("charla-panel")).to_contain_text("Chatea con nosotros")
    site.evaluate("() => { Charla.close(); Charla.show(); Charla.setLanguage('en'); }")
    expect(site.get_by_test_id("charla-panel")).to_be_hidden()
    expect(launcher).to_be_visible()
    site.evaluate("() => Charla.open()")
    expect(site.get_by_test_id("charla-panel")).to_contain_text("Chat with us")


def test_an_automatic_greeting_fires_by_its_rule_and_its_cap_holds(stack, browser):
    agent(stack, "Ana")
    rule = {"url_contains": "p=deals", "after_seconds": 1, "message": "Psst: 10% off cargo bikes today", "max_times": 1}
    settings.save_settings({"greetings": [rule]})
    site = browser.new_context().new_page()
    visit(site, stack, "/?p=other")
    site.wait_for_timeout(1500)
    expect(site.get_by_test_id("charla-greeting")).to_have_count(0)  # another page: the rule does not apply

    visit(site, stack, "/?p=deals")
    expect(site.get_by_test_id("charla-greeting")).to_contain_text("10% off cargo bikes")
    vid = visitor_id(site)
    rule_id = greetings.rule_id(rule)
    assert int(Visitor.get(vid).greetings_shown[rule_id]) == 1

    visit(site, stack, "/?p=deals&again=1")
    # The widget asked, and the server said no: the visitor has seen it as often as the rule allows.
    site.wait_for_function(f"() => (localStorage.getItem('charla.capped') || '').includes('{rule_id}')")
    expect(site.get_by_test_id("charla-greeting")).to_have_count(0)
    assert int(Visitor.get(vid).greetings_shown[rule_id]) == 1


def test_a_signed_identity_is_marked_verified_and_a_forged_one_gets_no_alarm(stack, browser):
    ana_id, email = agent(stack, "Ana")
    for other in agents.members():  # the forged visitor's chat goes to Ana, not to an agent of an earlier test
        if other.agent_id != ana_id:
            agents.set_accepting(other.agent_id, False)
    console = visitors_tab(browser, stack, email)
    signed_site = browser.new_context().new_page()
    visit(signed_site, stack, "/?p=account")
    forged_site = browser.new_context().new_page()
    visit(forged_site, stack, "/?p=account")

    good = {"name": "Lucía Pérez", "email": "lucia@example.com", "signature": verified.sign("lucia@example.com")}
    bad = {"name": "Lucía Pérez", "email": "lucia@example.com", "signature": "0" * 64}
    assert signed_site.evaluate("(who) => Charla.setIdentity(who)", good) == {"verified": True}
    assert forged_site.evaluate("(who) => Charla.setIdentity(who)", bad) == {"verified": False}

    signed, forged = row(console, visitor_id(signed_site)), row(console, visitor_id(forged_site))
    expect(signed).to_contain_text("Lucía Pérez")
    expect(signed.get_by_test_id("visitor-verified")).to_be_visible()
    expect(forged).to_contain_text("Lucía Pérez")
    # An unsigned name is the usual case: no mark in the list, and a neutral word in the chat's panel.
    expect(forged.get_by_test_id("visitor-verified")).to_be_hidden()
    expect(forged).not_to_contain_text("verified", use_inner_text=True)
    assert Visitor.get(visitor_id(forged_site)).verified_email is None
    forged_site.get_by_test_id("charla-launcher").click()
    visitor_starts(forged_site, "Is my order on its way?")
    console.get_by_test_id("chats-tab").click()
    console.get_by_test_id("chat-item").filter(has_text="Is my order on its way?").click()
    note = console.get_by_test_id("visitor-identity")
    expect(note).to_have_text("Name and email as the visitor gave them.")
    expect(note).to_have_attribute("data-verified", "false")
    expect(console.get_by_test_id("visitor-panel")).not_to_contain_text(re.compile("unverified", re.I))


def test_a_late_settings_answer_does_not_undo_a_greeting_rule_being_written(stack, browser):
    console = browser.new_context().new_page()
    held: list[Any] = []

    def hold(route: Any) -> None:  # the Visitors view's settings answer waits until released below
        held.append(route)

    console.route("**/api/admin/settings", hold)
    sign_in(console, stack, stack.demo_email, stack.demo_password)
    console.get_by_test_id("visitors-tab").click()
    deadline = time.monotonic() + 10
    while not held and time.monotonic() < deadline:
        console.wait_for_timeout(50)
    assert held, "the Visitors view did not load the settings"
    console.get_by_test_id("rule-add").click()
    console.get_by_test_id("rule-message").fill("Need a quote?")
    for route in held:  # every settings answer the console asked for meanwhile, whoever asked
        with console.expect_response("**/api/admin/settings"):
            route.continue_()
    console.wait_for_timeout(300)  # the answers' handlers have run by now
    assert console.get_by_test_id("rule-message").count() == 1, "the rule being written was dropped"
    assert console.get_by_test_id("rule-message").input_value() == "Need a quote?"
    console.unroute("**/api/admin/settings")
    console.context.close()


def test_the_visitors_section_and_a_greeting_have_no_serious_accessibility_violations(stack, browser):
    from tests.browser.test_accessibility import serious_violations

    console = browser.new_context(bypass_csp=True).new_page()
    sign_in(console, stack, stack.demo_email, stack.demo_password)  # an admin: the admin tools show too
    console.get_by_test_id("visitors-tab").click()
    agents.set_accepting(stack.demo_agent_id, True)  # someone accepts chats: visitors keep a socket open
    site = browser.new_context(bypass_csp=True).new_page()
    visit(site, stack, "/?p=a11y")
    vid = visitor_id(site)
    expect(row(console, vid)).to_be_visible()
    console.get_by_test_id("identity-secret-show").click()
    expect(console.get_by_test_id("identity-secret-value")).to_have_text(verified.secret())
    row(console, vid).get_by_test_id("greet").click()
    assert serious_violations(console) == []
    console.get_by_test_id("greet-text").fill("Hello there")
    console.get_by_test_id("greet-send").click()
    expect(site.get_by_test_id("charla-greeting")).to_be_visible()
    assert serious_violations(site, "[data-charla]") == []

    # The admin's tools work from the page: a greeting rule saved, a visitor's data downloaded.
    console.get_by_test_id("rule-add").click()
    console.get_by_test_id("rule-url").fill("/pricing")
    console.get_by_test_id("rule-message").fill("Need a quote?")
    console.get_by_test_id("visitor-settings-save").click()
    expect(console.get_by_test_id("notice")).to_have_text("Settings saved.")
    settings.forget()  # this process keeps its own minute-long copy, as every instance does
    assert [r["message"] for r in settings.get_settings()["greetings"]] == ["Need a quote?"]
    row(console, vid).get_by_test_id("visitor-data").click()  # export and erase sit behind it
    with console.expect_download() as download:
        row(console, vid).get_by_test_id("visitor-export").click()
    assert download.value.suggested_filename == f"charla-visitor-{vid}.json"


def test_the_time_zone_comes_from_the_widget_so_the_host_page_never_pays_for_it(stack, browser):
    # The loader doesn't read the time zone itself (Intl's first use costs the host page about 20 ms);
    # the widget keeps it, and the page views after that carry it.
    page = browser.new_context(timezone_id="Asia/Tokyo").new_page()
    visit(page, stack)
    vid = visitor_id(page)
    assert Visitor.get(vid).timezone is None
    visit(page, stack, "/?page=2")
    page.evaluate("() => Charla._p")
    assert Visitor.get(vid).timezone == "Asia/Tokyo"
