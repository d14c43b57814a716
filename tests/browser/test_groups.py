"""Groups as visitors and agents see them: the widget's group choice, a page's own group, a group with
nobody accepting offering its offline form, and the admin's Groups page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from functions.core import settings
from functions.models import Agent, Chat, Ticket
from tests.support import stack_http
from tests.support.browser import agent_console, open_widget, sign_in, visitor_says

pytestmark = pytest.mark.usefixtures("only_these_agents_accept")


@pytest.fixture
def stack():
    from infra.local.stack import LocalStack

    with LocalStack(port=0, ses_production_access=True) as running:
        yield running


@pytest.fixture
def groups(stack, agent):
    """Sales (Sam, accepting, console open) and Support (Sue, not accepting), with the choice offered."""
    sam_id, sam_email = agent("Sam")
    sue_id, _sue_email = agent("Sue", accepting=False)
    token = stack.id_token(stack.demo_email, stack.demo_password)
    made = {
        name: stack_http.ok(stack, "POST", "/admin/groups", {"name": name, "members": [member]}, token=token)["id"]
        for name, member in (("Sales", sam_id), ("Support", sue_id))
    }
    settings.save_settings({"group_choice": True})
    yield {"sam_email": sam_email, "sam_id": sam_id, **made}
    settings.save_settings({"group_choice": False})


def _sams_chat(groups) -> Chat:
    (chat_id,) = Agent.get(groups["sam_id"], consistent_read=True).chat_ids
    return Chat.get(chat_id, consistent_read=True)


def _online(browser, stack, email: str):
    """An agent's console whose socket said hello: the widget opened next sees the group online."""
    page = agent_console(browser, stack, email)
    expect(page.get_by_test_id("conn")).to_have_attribute("data-state", "open")
    for _ in range(100):  # the socket's hello made the agent routable: the widget is told someone is online
        if stack_http.ok(stack, "GET", "/widget/settings")["online"]:
            break
        page.wait_for_timeout(100)
    return page


def _visitor(browser, stack, script: str | None = None):
    page = browser.new_context().new_page()
    if script:
        page.add_init_script(script)
    open_widget(page, stack)
    return page


def test_the_visitor_chooses_a_group_and_only_its_member_gets_the_chat(stack, browser, groups):
    sam = _online(browser, stack, groups["sam_email"])
    site = _visitor(browser, stack)
    choice = site.get_by_test_id("charla-group")
    expect(choice).to_be_visible()
    expect(choice.locator("option")).to_have_text(["Sales", "Support"])
    choice.select_option(label="Sales")
    visitor_says(site, "Do you sell in bulk?")
    expect(sam.get_by_test_id("chat-item")).to_have_count(1)
    expect(choice).to_be_hidden()  # the chat started: the choice is past
    chat = _sams_chat(groups)
    assert (chat.group_id, chat.group_name, chat.status) == (groups["Sales"], "Sales", "active")


def test_a_group_with_nobody_accepting_offers_its_own_offline_form(stack, browser, groups):
    _online(browser, stack, groups["sam_email"])  # Sales takes chats; Support has nobody
    site = _visitor(browser, stack)
    site.get_by_test_id("charla-group").select_option(label="Support")
    visitor_says(site, "My invoice is wrong")
    expect(site.get_by_test_id("charla-offline-form")).to_be_visible()
    for name, value in (("name", "Vera"), ("email", "vera@example.com"), ("message", "My invoice is wrong")):
        site.locator(f"[data-testid=charla-offline-field][data-name={name}]").fill(value)
    site.get_by_test_id("charla-offline-submit").click()
    expect(site.get_by_test_id("charla-offline-sent")).to_be_visible()
    ticket = next(t for t in Ticket.scan() if t.requester_email == "vera@example.com")
    assert (ticket.group_id, ticket.group_name) == (groups["Support"], "Support")


def test_the_page_picks_the_group_with_charla_set_group(stack, browser, groups):
    sam = _online(browser, stack, groups["sam_email"])
    site = _visitor(browser, stack, f"window.addEventListener('load', () => Charla.setGroup({groups['Sales']!r}))")
    expect(site.get_by_test_id("charla-group")).to_be_hidden()  # the page chose: no choice to offer
    visitor_says(site, "Hello sales")
    expect(sam.get_by_test_id("chat-item")).to_have_count(1)
    chat = _sams_chat(groups)
    assert chat.group_id == groups["Sales"]


def test_an_admin_makes_a_group_and_its_name_is_refused_twice(stack, browser, agent):
    agent("Ana", accepting=False)  # someone to choose as a member
    page = browser.new_context().new_page()
    sign_in(page, stack, stack.demo_email, stack.demo_password)
    page.get_by_test_id("admin-tab").click()
    page.get_by_test_id("admin-nav-groups").click()
    page.get_by_test_id("group-name").fill("Billing")
    page.get_by_test_id("group-new-members").locator("[data-testid=group-member]").first.check()
    page.get_by_test_id("group-add").click()
    expect(page.get_by_test_id("group-row-name")).to_have_text(["Billing"])
    page.get_by_test_id("group-name").fill("billing")
    page.get_by_test_id("group-add").click()
    expect(page.get_by_test_id("groups-error")).to_contain_text("Name")
    page.get_by_test_id("group-choice").check()
    expect(page.get_by_test_id("groups-error")).to_be_hidden()
    for _ in range(100):  # the checkbox saves at once (PATCH /admin/settings)
        if settings.get_fresh()["group_choice"]:
            break
        page.wait_for_timeout(100)
    assert settings.get_fresh()["group_choice"] is True
    settings.save_settings({"group_choice": False})
    # Reports offer the group by its name, in the language the console switches to.
    page.get_by_test_id("reports-tab").click()
    option = page.get_by_test_id("report-group")
    expect(option).to_have_text("Group: Billing")
    page.get_by_test_id("lang").select_option("es")
    expect(option).to_have_text("Grupo: Billing")
    page.get_by_test_id("lang").select_option("en")


def test_an_agent_transfers_to_a_group_and_the_queue_filters_by_group(stack, browser, agent):
    sam_id, sam_email = agent("Sam")
    sue_id, sue_email = agent("Sue")
    token = stack.id_token(stack.demo_email, stack.demo_password)
    sales = stack_http.ok(stack, "POST", "/admin/groups", {"name": "Sales", "members": [sam_id]}, token=token)["id"]
    support = stack_http.ok(stack, "POST", "/admin/groups", {"name": "Support", "members": [sue_id]}, token=token)["id"]
    settings.save_settings({"max_chats_per_agent": 1})
    sam = agent_console(browser, stack, sam_email)
    sue = agent_console(browser, stack, sue_email)
    site = _visitor(browser, stack, f"window.addEventListener('load', () => Charla.setGroup({support!r}))")
    visitor_says(site, "Actually I want to buy")
    expect(sue.get_by_test_id("chat-item")).to_have_count(1)
    sue.get_by_test_id("chat-item").click()
    sue.get_by_test_id("more").click()
    sue.get_by_test_id("transfer").click()
    sue.locator(f"[data-testid=transfer-to-group][data-group-id={sales}]").click()
    expect(sam.get_by_test_id("chat-item")).to_have_count(1)
    expect(sue.get_by_test_id("chat-item")).to_have_count(0)
    sam.get_by_test_id("chat-item").click()
    expect(sam.get_by_test_id("conv-group")).to_have_text(" · Group Sales")
    assert Chat.get(_sams_chat({"sam_id": sam_id}).chat_id).group_id == sales
    # Sam is full now: the next Sales chat waits, tagged with its group, and only Sales members may take it.
    waiting = _visitor(browser, stack, f"window.addEventListener('load', () => Charla.setGroup({sales!r}))")
    visitor_says(waiting, "Bulk prices?")
    card = sue.get_by_test_id("queue-item")
    expect(card.get_by_test_id("queue-group")).to_have_text("Sales")
    expect(card.get_by_test_id("accept")).to_be_disabled()
    sue.get_by_test_id("queue-filter").select_option(label="Support")
    expect(sue.get_by_test_id("queue-item")).to_have_count(0)
    sue.get_by_test_id("queue-filter").select_option(label="Sales")
    expect(sue.get_by_test_id("queue-item")).to_have_count(1)
