"""The console at phone, tablet and desktop sizes, and what it does while its socket is down."""

from __future__ import annotations

import json
import re
import secrets

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import open_widget, sign_in, visitor_says

PASSWORD = "Agent-pa55word!"
PHONE = {"width": 390, "height": 844}
TABLET = {"width": 900, "height": 1000}
DESKTOP = {"width": 1280, "height": 720}


@pytest.fixture
def agent(stack):
    """A fresh agent who accepts chats, so each test starts with nobody else's chats."""
    from functions.team import agents

    agents.set_accepting(stack.demo_agent_id, False)
    email = f"lay-{secrets.token_hex(3)}@charla.local"
    agent_id = stack.create_agent(email, PASSWORD, "Lía Ramos", accepting=True)
    yield agent_id, email
    agents.set_accepting(agent_id, False)


def console(browser, stack, email: str, viewport: dict, password: str = PASSWORD) -> Page:
    page = browser.new_context(viewport=viewport).new_page()
    sign_in(page, stack, email, password)
    expect(page.get_by_test_id("conn")).to_have_attribute("data-state", "open")
    return page


def overflow(page: Page) -> list[str]:
    """Elements that stick out past the viewport's right edge (what makes a page scroll sideways)."""
    return page.evaluate(
        """() => {
            const w = document.documentElement.clientWidth;
            const out = [];
            if (document.documentElement.scrollWidth > w) out.push('document ' + document.documentElement.scrollWidth);
            for (const el of document.querySelectorAll('body *')) {
                const r = el.getBoundingClientRect();
                if (r.width && r.height && r.right > w + 1 && getComputedStyle(el).visibility !== 'hidden') {
                    let clipped = false;  // inside a scroller or a clipped box, nothing shows past it
                    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
                        const o = getComputedStyle(p).overflowX;
                        if (o !== 'visible' && p.getBoundingClientRect().right <= w + 1) { clipped = true; break; }
                    }
                    const name = el.getAttribute('data-testid') || el.className || el.tagName;
                    if (!clipped) out.push(name + ' ' + Math.round(r.right));
                }
            }
            return out;
        }"""
    )


def say(site: Page, text: str) -> None:
    visitor_says(site, text)
    expect(site.get_by_test_id("charla-message").filter(has_text=text)).to_have_attribute("data-seq", re.compile(r"\d"))


def start_chat(browser, stack, text: str) -> Page:
    site = browser.new_context().new_page()
    open_widget(site, stack)
    say(site, text)
    return site


def test_on_a_phone_no_view_of_the_console_is_wider_than_the_screen(stack, browser, agent):
    _id, email = agent
    page = console(browser, stack, email, PHONE)
    site = start_chat(browser, stack, "A question from a phone-sized test " + "x" * 80)
    for n in range(8):  # tall enough to scroll at 844 px, under the per-visitor message rate
        say(site, f"line {n}\n" + "more words on a long line, " * 8)
    expect(page.get_by_test_id("chat-item")).to_be_visible()
    assert overflow(page) == []
    # A compact bar: status and the menu on one row, no taller than a button or two.
    bar = page.locator("header.top").bounding_box()
    assert bar is not None and bar["height"] <= 60
    # The chat opens at its newest message; the visitor's details are behind the info button.
    page.get_by_test_id("chat-item").first.click()
    expect(page.get_by_test_id("message").filter(has_text="line 7")).to_be_in_viewport()
    assert overflow(page) == []
    expect(page.get_by_test_id("visitor-panel")).not_to_be_in_viewport()
    page.get_by_test_id("info-toggle").click()
    expect(page.get_by_test_id("visitor-panel")).to_be_in_viewport()
    expect(page.get_by_test_id("visitor-email")).to_be_visible()
    assert overflow(page) == []
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("visitor-panel")).not_to_be_in_viewport()
    # Replying while the drawer slides away leaves the chat where it was, not pushed sideways.
    page.get_by_test_id("info-toggle").click()
    page.get_by_test_id("info-close").click()
    page.get_by_test_id("composer").fill("Right away")
    page.get_by_test_id("send").click()
    expect(page.get_by_test_id("message").filter(has_text="Right away")).to_have_attribute(
        "data-seq", re.compile(r"\d")
    )
    assert page.evaluate("() => document.querySelector('.console').scrollLeft") == 0
    assert page.get_by_test_id("composer").bounding_box()["x"] >= 0
    page.get_by_test_id("back").click()
    # Every section, reached through the menu, fits too.
    for section in ("visitors", "tickets", "reports", "account"):
        page.get_by_test_id("top-menu").click()
        assert overflow(page) == []
        page.get_by_test_id(section + "-tab").click()
        expect(page.get_by_test_id(section + "-tab")).to_be_hidden()  # the menu folds away again
        assert overflow(page) == [], section
    # Spanish labels are longer; they fit too.
    page.get_by_test_id("top-menu").click()
    page.get_by_test_id("lang").select_option("es")
    assert overflow(page) == []
    page.get_by_test_id("chats-tab").click()
    assert overflow(page) == []


def test_on_a_phone_the_chats_are_in_the_four_lists_of_a_mobile_agent_view(stack, browser, agent):
    _id, email = agent
    page = console(browser, stack, email, PHONE)
    start_chat(browser, stack, "Four lists please")
    expect(page.get_by_test_id("chat-item")).to_be_visible()
    groups = page.locator(".list .group h2")
    expect(groups).to_have_count(4)
    names = [re.sub(r"\s*\(\d+\)$", "", g) for g in groups.all_inner_texts()]
    assert [n.lower() for n in names] == ["invitations", "new / waiting", "awaiting reply", "active"]


def test_on_a_tablet_the_visitor_panel_is_a_drawer(stack, browser, agent):
    _id, email = agent
    page = console(browser, stack, email, TABLET)
    start_chat(browser, stack, "Tablet drawer")
    page.get_by_test_id("chat-item").first.click()
    expect(page.get_by_test_id("visitor-panel")).not_to_be_in_viewport()
    page.get_by_test_id("info-toggle").click()
    expect(page.get_by_test_id("visitor-panel")).to_be_in_viewport()
    expect(page.get_by_test_id("info-toggle")).to_have_attribute("aria-expanded", "true")
    page.get_by_test_id("info-close").click()
    expect(page.get_by_test_id("visitor-panel")).not_to_be_in_viewport()
    assert overflow(page) == []


@pytest.mark.parametrize("lang", ["en", "es"])
def test_on_a_1280_px_desktop_the_header_is_one_row(stack, browser, lang):
    # The demo admin has the most tabs (Admin too).
    page = console(browser, stack, stack.demo_email, DESKTOP, stack.demo_password)
    page.get_by_test_id("lang").select_option(lang)
    tops = page.evaluate(
        """() => Array.from(document.querySelectorAll('header.top *'))
            .filter((el) => el.getClientRects().length && !el.closest('.sr, .conn') && el.children.length === 0)
            .map((el) => { const r = el.getBoundingClientRect(); return [r.top, r.bottom]; })"""
    )
    assert len(tops) > 10
    # One row: every visible control overlaps the row of the status toggle.
    row = page.get_by_test_id("status-toggle").bounding_box()
    assert row is not None
    assert all(top < row["y"] + row["height"] and bottom > row["y"] for top, bottom in tops)
    for name in ("me", "logout", "mute", "lang", "canned-manage", "admin-tab", "account-tab"):
        expect(page.get_by_test_id(name)).to_be_visible()
    # Every section's tab is in sight, none scrolled away inside the bar.
    hidden = page.evaluate(
        """() => { const nav = document.querySelector('header.top .tabs').getBoundingClientRect();
            return Array.from(document.querySelectorAll('header.top .tabs .tab'))
                .filter((t) => {
                    const r = t.getBoundingClientRect();
                    return r.left < nav.left - 1 || r.right > nav.right + 1;
                })
                .map((t) => t.dataset.testid); }"""
    )
    assert hidden == []
    assert overflow(page) == []


def test_a_status_click_while_the_console_is_still_connecting_is_applied(stack, browser, agent):
    from functions.team import agents

    agent_id, email = agent
    agents.set_accepting(agent_id, False)
    page = browser.new_context(viewport=DESKTOP).new_page()
    refused = []

    # The first socket ticket is refused, so the console is still connecting when the agent clicks.
    def first_refused(route):
        if not refused:
            refused.append(route.request.url)
            route.fulfill(status=503, body="{}", content_type="application/json")
        else:
            route.continue_()

    page.route(re.compile(r".*/agent/ws-ticket$"), first_refused)
    sign_in(page, stack, email, PASSWORD)
    expect(page.get_by_test_id("reconnecting")).to_be_visible()
    expect(page.get_by_test_id("conn")).to_have_attribute("data-state", "closed")
    page.get_by_test_id("status-toggle").click()
    expect(page.get_by_test_id("conn")).to_have_attribute("data-state", "open")
    expect(page.get_by_test_id("reconnecting")).to_be_hidden()
    expect(page.get_by_test_id("status-toggle")).to_have_attribute("data-accepting", "true")
    expect(page.get_by_test_id("status-toggle")).not_to_have_attribute("aria-busy", "true")
    assert refused
    assert agents.get(agent_id).accepting is True
    page.reload()
    expect(page.get_by_test_id("status-toggle")).to_have_attribute("data-accepting", "true")


def test_creating_a_ticket_keeps_the_agent_in_the_chat_with_a_link_to_it(stack, browser, agent):
    _id, email = agent
    page = console(browser, stack, email, DESKTOP)
    start_chat(browser, stack, "Please open a ticket for this")
    page.get_by_test_id("chat-item").first.click()
    page.get_by_test_id("more").click()
    page.get_by_test_id("create-ticket").click()
    link = page.get_by_test_id("ticket-link")
    expect(link).to_be_visible()
    expect(page.get_by_test_id("chats-tab")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("composer")).to_be_visible()
    ticket_id = link.get_attribute("data-ticket-id")
    link.click()
    expect(page.get_by_test_id("tickets-tab")).to_have_attribute("aria-pressed", "true")
    expect(page.locator(f'[data-testid=ticket-row][data-ticket-id="{ticket_id}"]')).to_have_attribute(
        "aria-current", "true"
    )


def test_unread_counts_show_in_the_tab_title_and_favicon_and_survive_a_reload_and_a_second_device(
    stack, browser, agent
):
    _id, email = agent
    page = console(browser, stack, email, DESKTOP)
    site = start_chat(browser, stack, "First question")
    say(site, "Second question")
    expect(page.get_by_test_id("chat-item").filter(has_text="Second question")).to_be_visible()
    chat_id = page.get_by_test_id("chat-item").filter(has_text="Second question").get_attribute("data-chat-id")
    item = page.locator(f'[data-testid=chat-item][data-chat-id="{chat_id}"]')
    expect(item.get_by_test_id("unread")).to_have_text("2")
    expect(page).to_have_title("(2) Charla")
    expect(page.locator("link[rel=icon]")).to_have_attribute("data-unread", "2")
    page.reload()
    expect(item.get_by_test_id("unread")).to_have_text("2")
    expect(page).to_have_title("(2) Charla")
    # Reading it here clears it, and a second device signed in later agrees.
    item.click()
    expect(item.get_by_test_id("unread")).to_be_hidden()
    expect(page).to_have_title("Charla")
    phone = console(browser, stack, email, PHONE)
    phone_item = phone.locator(f'[data-testid=chat-item][data-chat-id="{chat_id}"]')
    expect(phone_item).to_be_visible()
    expect(phone_item.get_by_test_id("unread")).to_be_hidden()
    # A new message read on the desktop stops counting on the phone too, live.
    say(site, "Third question")
    expect(page.get_by_test_id("message").filter(has_text="Third question")).to_be_visible()
    expect(phone_item).to_contain_text("Third question")
    expect(phone_item.get_by_test_id("unread")).to_be_hidden()
    expect(phone).to_have_title("Charla")
    phone.reload()
    expect(phone_item).to_contain_text("Third question")
    expect(phone_item.get_by_test_id("unread")).to_be_hidden()


def test_an_invitation_is_the_first_card_in_the_list_with_its_buttons_in_view_on_a_laptop(stack, browser, agent):
    from functions.team import agents

    _id, email = agent
    ben_email = f"ben-{secrets.token_hex(3)}@charla.local"
    ben_id = stack.create_agent(ben_email, PASSWORD, "Ben", accepting=True)
    ana = console(browser, stack, email, DESKTOP)
    ben = console(browser, stack, ben_email, DESKTOP)
    # Routing shares the chats out, so Ben has chats of his own; the invitation still comes first.
    for n in range(4):
        start_chat(browser, stack, f"Queue filler {n}")
    expect(ben.get_by_test_id("chat-item")).not_to_have_count(0)
    agents.set_accepting(ben_id, False)
    ana.get_by_test_id("chat-item").first.click()
    ana.get_by_test_id("more").click()
    ana.get_by_test_id("invite").click()
    ana.get_by_test_id("invite-agent").filter(has_text="Ben").click()
    card = ben.get_by_test_id("invitation-item")
    expect(card).to_be_visible()
    first_group = ben.locator(".list .group").first
    expect(first_group).to_have_attribute("data-group", "invitations")
    expect(card.get_by_test_id("invite-accept")).to_be_in_viewport()
    expect(card.get_by_test_id("invite-decline")).to_be_in_viewport()
    expect(ben).to_have_title(re.compile(r"^\(\d+\) Charla$"))  # an invitation waits too
    card.get_by_test_id("invite-accept").click()
    expect(ben.get_by_test_id("invitation-item")).to_have_count(0)


class Line:
    """The console's WebSocket through a switch the test holds: cut it as a reply goes out (before or
    after the server got it), and keep the console offline until released."""

    def __init__(self, page: Page) -> None:
        self.offline = False
        self.cut: str | None = None  # "before" or "after" the server: cut with the next `send`
        # The next `send` never reaches the server, which answers it with this code instead, as it does
        # when a race it lost leaves nothing stored (`conflict`: the chat changed meanwhile).
        self.refuse: str | None = None
        page.route_web_socket(re.compile(r"^wss?://"), self.route)

    def route(self, ws) -> None:
        if self.offline:
            ws.close()
            return
        server = ws.connect_to_server()

        def from_console(message) -> None:
            frame = json.loads(message) if isinstance(message, str) else {}
            if self.refuse and frame.get("action") == "send":
                keys = ("action", "chat_id", "client_msg_id")
                refusal = {"type": "error", "code": self.refuse, "message": "The chat changed meanwhile; reload it."}
                ws.send(json.dumps({**refusal, "retriable": False, **{k: frame[k] for k in keys}}))
                self.refuse = None
                return
            if self.cut and isinstance(message, str) and json.loads(message).get("action") == "send":
                if self.cut == "after":
                    server.send(message)  # stored and shown to the visitor; its ack never comes back
                self.cut, self.offline = None, True
                ws.close()
                server.close()
                return
            server.send(message)

        ws.on_message(from_console)
        server.on_message(ws.send)


def test_a_reply_sent_as_the_socket_drops_is_marked_unsent_and_reaches_the_visitor_once(stack, browser, agent):
    _id, email = agent
    page = browser.new_context(viewport=DESKTOP).new_page()
    line = Line(page)
    sign_in(page, stack, email, PASSWORD)
    site = start_chat(browser, stack, "Are you there?")
    page.get_by_test_id("chat-item").first.click()
    expect(page.get_by_test_id("conn")).to_have_attribute("data-state", "open")

    for cut, text in (("before", "Lost on the way"), ("after", "Stored, but the ack was lost")):
        line.cut = cut
        page.get_by_test_id("composer").fill(text)
        page.get_by_test_id("send").click()
        reply = page.get_by_test_id("message").filter(has_text=text)
        expect(reply).to_have_attribute("data-state", "pending")
        expect(reply.get_by_test_id("unsent")).to_be_visible()
        expect(page.get_by_test_id("reconnecting")).to_be_visible()
        line.offline = False  # the network is back: the console reconnects and sends it again
        expect(page.get_by_test_id("conn")).to_have_attribute("data-state", "open", timeout=30_000)
        expect(reply).to_have_attribute("data-seq", re.compile(r"^\d+$"))
        expect(reply.get_by_test_id("unsent")).to_have_count(0)

    # A message after both, so the visitor has had every earlier frame: each reply arrived once.
    page.get_by_test_id("composer").fill("Anything else?")
    page.get_by_test_id("send").click()
    replies = site.locator("[data-testid=charla-message][data-sender=agent] .text")
    expect(replies).to_have_text(["Lost on the way", "Stored, but the ack was lost", "Anything else?"])
    expect(page.get_by_test_id("message").filter(has_text="Stored, but the ack was lost")).to_have_count(1)


def test_a_reply_lost_while_the_visitor_ended_the_chat_says_not_sent_instead_of_sending_forever(stack, browser, agent):
    _id, email = agent
    page = browser.new_context(viewport=DESKTOP).new_page()
    line = Line(page)
    sign_in(page, stack, email, PASSWORD)
    site = start_chat(browser, stack, "I have to go")
    page.get_by_test_id("chat-item").first.click()
    expect(page.get_by_test_id("conn")).to_have_attribute("data-state", "open")
    line.cut = "before"
    page.get_by_test_id("composer").fill("One more thing")
    page.get_by_test_id("send").click()
    reply = page.get_by_test_id("message").filter(has_text="One more thing")
    expect(reply.get_by_test_id("unsent")).to_be_visible()
    site.get_by_test_id("charla-end").click()  # asks first
    site.get_by_test_id("charla-end").click()  # and ends
    expect(site.get_by_test_id("charla-rate-good")).to_be_visible()
    line.offline = False
    expect(page.get_by_test_id("conn")).to_have_attribute("data-state", "open", timeout=30_000)
    expect(page.get_by_test_id("conv-state")).to_have_text("Closed")
    expect(reply).to_have_attribute("data-state", "failed")
    expect(reply).to_contain_text("Not sent")
    expect(reply.get_by_test_id("resend")).to_have_count(0)  # the chat is closed: nowhere to send it
    expect(site.get_by_test_id("charla-message").filter(has_text="One more thing")).to_have_count(0)


def test_a_reply_the_server_refused_is_sent_again_with_resend_and_reaches_the_visitor_once(stack, browser, agent):
    _id, email = agent
    page = browser.new_context(viewport=DESKTOP).new_page()
    line = Line(page)
    sign_in(page, stack, email, PASSWORD)
    site = start_chat(browser, stack, "Hello?")
    page.get_by_test_id("chat-item").first.click()
    expect(page.get_by_test_id("conn")).to_have_attribute("data-state", "open")
    line.refuse = "conflict"
    page.get_by_test_id("composer").fill("Refused the first time")
    page.get_by_test_id("send").click()
    reply = page.get_by_test_id("message").filter(has_text="Refused the first time")
    expect(reply).to_have_attribute("data-state", "failed")
    expect(reply).to_contain_text("Not sent")
    expect(page.get_by_test_id("conv-state")).not_to_have_text("Closed")
    reply.get_by_test_id("resend").click()
    expect(reply.get_by_test_id("resend")).to_have_count(0)
    sent = page.get_by_test_id("message").filter(has_text="Refused the first time")
    expect(sent).to_have_count(1)
    expect(sent).to_have_attribute("data-seq", re.compile(r"^\d+$"))
    expect(sent).not_to_contain_text("Not sent")
    replies = site.locator("[data-testid=charla-message][data-sender=agent] .text")
    expect(replies).to_have_text(["Refused the first time"])
