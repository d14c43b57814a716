"""XSS in Chromium: cheat-sheet payloads through every field a visitor, a mailer or an agent controls,
rendered where agents and visitors read them, and the Content-Security-Policy that backs the escaping.

The rendering tests run with the page's CSP bypassed, so they prove the apps insert these strings as
text: with the policy on, an injected inline handler would be blocked and the test would prove nothing.
A payload that ran would set `window.__xss` (or `parent.__xss`) or open a dialog; both are checked on
every page, and each payload must be visible there as literal text, so we know it got that far.
"""

from __future__ import annotations

import json
import re
import secrets
import smtplib
import time
import urllib.request
from email.message import EmailMessage
from email.utils import formataddr
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect

from functions.core import settings
from functions.team import agents
from infra.local.stack import LocalStack
from tests.support import stack_http, ws_client
from tests.support.accounts import PASSWORD
from tests.support.browser import sign_in, visitor_says
from tests.support.xss_payloads import FILE_NAMES, NAMES, PAYLOADS, batches

HOSTILE_REF = "javascript:window.__xss=1"


@pytest.fixture(scope="module")
def stack():
    with LocalStack(port=0, ses_production_access=True) as running:
        agents.set_accepting(running.demo_agent_id, False)
        yield running


@pytest.fixture(autouse=True)
def fresh_settings():
    yield
    settings.save_settings({"prechat": "anonymous", "max_chats_per_agent": 3, "greetings": []})
    ws_client.close_all()


# --- helpers ----------------------------------------------------------------------------------


class Watched:
    """A page with CSP bypassed whose dialogs and uncaught errors are recorded."""

    def __init__(self, browser: Any) -> None:
        self.page: Page = browser.new_context(bypass_csp=True).new_page()
        self.dialogs: list[str] = []
        self.page.on("dialog", self._dialog)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def assert_clean(self) -> None:
        self.page.wait_for_timeout(300)  # let any onerror/onload of a broken image fire
        for frame in self.page.frames:
            try:
                ran = frame.evaluate("() => typeof window.__xss === 'undefined' ? null : String(window.__xss)")
            except Exception:  # a sandboxed or navigated-away frame
                continue
            assert ran is None, f"a payload ran in {frame.url}"
        assert self.dialogs == [], f"a payload opened dialogs: {self.dialogs}"
        # Nothing the payloads carry became markup: no javascript: links, no script with their code.
        assert self.page.locator("a[href^='javascript:' i], iframe[srcdoc], [onerror], [onload]").count() == 0
        injected = self.page.evaluate("""() => Array.from(document.querySelectorAll('script'))
            .filter(s => (s.textContent + (s.getAttribute('src') || '')).includes('__xss')).length""")
        assert injected == 0


def agent(stack: LocalStack, name: str, accepting: bool = True) -> tuple[str, str]:
    email = f"{name.lower()}-{secrets.token_hex(3)}@charla.local"
    return stack.create_agent(email, PASSWORD, name, accepting=accepting), email


def console(browser: Any, stack: LocalStack, email: str, password: str = PASSWORD) -> Watched:
    watched = Watched(browser)
    sign_in(watched.page, stack, email, password)
    return watched


def norm(text: str) -> str:
    return " ".join(text.split())


def texts(page: Page, selector: str, prop: str = "textContent") -> str:
    return "\n".join(page.locator(selector).evaluate_all(f"els => els.map(e => e.{prop} || '')"))


def wait_shown(page: Page, selector: str, payloads: list[str], timeout: float = 15, prop: str = "textContent") -> None:
    """Waits until every payload appears as literal text (whitespace aside) in the elements matched."""
    deadline = time.monotonic() + timeout
    while True:
        shown = norm(texts(page, selector, prop))
        missing = [p for p in payloads if norm(p) not in shown]
        if not missing:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(missing)} payloads not shown as text in {selector}: {missing[:5]}")
        page.wait_for_timeout(150)


def pack(payloads: list[str], limit: int) -> list[str]:
    """Payloads joined by newlines into texts of at most `limit` characters."""
    out: list[str] = []
    for p in payloads:
        if out and len(out[-1]) + 1 + len(p) <= limit:
            out[-1] += "\n" + p
        else:
            out.append(p)
    return out


# --- the policy -------------------------------------------------------------------------------


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inline: list[str] = []
        self.handlers: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_script = tag == "script"
        for name, value in attrs:
            if name.startswith("on") or (value or "").strip().lower().startswith("javascript:"):
                self.handlers.append(f"<{tag} {name}={value}>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline.append(data.strip()[:80])


def directives(policy: str) -> dict[str, list[str]]:
    parsed: dict[str, list[str]] = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            parsed.setdefault(words[0].lower(), [w.lower() for w in words[1:]])
    return parsed


@pytest.mark.parametrize("where", ["/", "console"])
def test_the_served_pages_forbid_inline_script_and_carry_none(stack, where):
    url = stack.console_url if where == "console" else stack.base_url + where
    with urllib.request.urlopen(url, timeout=10) as response:
        policy = response.headers["Content-Security-Policy"]
        html = response.read().decode()
    assert policy, f"{url} has no Content-Security-Policy"
    parsed = directives(policy)
    script_src = parsed.get("script-src", parsed.get("default-src"))
    assert script_src is not None, policy
    for unsafe in ("'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "data:", "*", "'strict-dynamic'"):
        assert unsafe not in script_src, f"script-src allows {unsafe}: {policy}"
    assert parsed.get("object-src") == ["'none'"], policy
    assert parsed.get("base-uri") == ["'none'"], policy
    scripts = _Scripts()
    scripts.feed(html)
    assert scripts.inline == [], f"inline scripts in {url}: {scripts.inline}"
    assert scripts.handlers == [], f"inline handlers or javascript: URLs in {url}: {scripts.handlers}"


def test_the_detector_sees_a_payload_that_runs_once_csp_is_bypassed(stack, browser):
    """The rendering tests would pass vacuously if injected markup could not run in their pages."""
    for payload in ("<img src=x onerror=window.__xss=1>", "<img src=x onerror=alert(1)>"):
        site = Watched(browser)
        site.page.goto(stack.base_url + "/")
        site.page.evaluate("(p) => document.body.insertAdjacentHTML('beforeend', p)", payload)
        with pytest.raises(AssertionError):
            site.assert_clean()
        site.page.context.close()


# --- visitors' names, pages and referrers ----------------------------------------------------


def page_view(stack: LocalStack, title: str, url: str, source: str | None = None) -> dict[str, str]:
    body = {
        "event": "view",
        "pv": secrets.token_hex(8),
        "url": url,
        "title": title,
        "referrer": HOSTILE_REF,
        "language": "en",
        "timezone": "Europe/Madrid",
    }
    # text/plain, as the widget's beacon sends it
    sent = json.dumps(body).encode()
    return dict(stack_http.ok(stack, "POST", "/visitor/pageview", sent, {"Content-Type": "text/plain"}, source=source))


def visitor_socket(stack: LocalStack, identity: dict[str, str], source: str | None = None) -> ws_client.Client:
    auth = {"Authorization": f"Visitor {identity['visitor_id']}:{identity['secret']}", "Origin": stack.base_url}
    ticket = stack_http.ok(stack, "POST", "/visitor/ws-ticket", headers=auth, source=source)["ticket"]
    client = ws_client.Client(stack.ws_url, ticket, stack.base_url, source)
    client.send({"action": "hello"})
    client.wait_for("welcome")
    return client


def test_hostile_names_titles_urls_and_referrers_stay_text_in_the_console(stack, browser):
    settings.save_settings({"max_chats_per_agent": 50})
    ana_id, ana_email = agent(stack, "Ana")
    ana = console(browser, stack, ana_email)
    chats: list[tuple[ws_client.Client, str]] = []
    try:
        # Page views as the loader reports them, with hostile titles and URLs: the Visitors list; then
        # chats started with hostile names and page context (start_chat as the widget sends it).
        for n, p in enumerate(PAYLOADS):
            # Sixty visitors, each from an address of its own, as they would come: Charla limits
            # anonymous callers per address (docs/protocol.md, "Per-address limits").
            source = f"127.0.2.{n + 1}"
            identity = page_view(stack, p, "https://shop.example/?q=" + p, source)
            if p not in NAMES:
                continue
            client = visitor_socket(stack, identity, source)
            client.send(
                {
                    "action": "start_chat",
                    "name": p,
                    "context": {"url": HOSTILE_REF, "title": p, "referrer": HOSTILE_REF, "language": p[:35]},
                }
            )
            chats.append((client, client.wait_for("chat")["chat"]["chat_id"]))
        lists = "[data-testid=chat-item], [data-testid=queue-item]"
        wait_shown(ana.page, lists, NAMES)
        # Each chat's visitor panel and transcript header: name, the page's title, the javascript: URLs.
        items = ana.page.get_by_test_id("chat-item")
        count = items.count()
        assert count >= 40
        for i in range(count):
            item = items.nth(i)
            name = next(p for p in sorted(NAMES, key=len, reverse=True) if norm(p) in norm(item.text_content() or ""))
            item.click()
            panel = ana.page.get_by_test_id("visitor-panel")
            expect(panel.get_by_test_id("visitor-name")).to_have_text(name)
            expect(panel.get_by_test_id("visitor-page")).to_contain_text(name)
            expect(panel.get_by_test_id("visitor-referrer")).to_have_text(HOSTILE_REF)
        wait_shown(ana.page, "[data-testid=conv-title]", [name])
        ana.assert_clean()

        ana.page.get_by_test_id("visitors-tab").click()
        wait_shown(ana.page, "[data-testid=visitor-row]", PAYLOADS)  # the titles
        wait_shown(ana.page, "[data-testid=visitor-name-cell]", NAMES)
        ana.assert_clean()
    finally:
        agents.set_accepting(ana_id, False)
        for client, chat_id in chats:  # so that no later chat queues behind them
            client.send({"action": "close", "chat_id": chat_id})
            client.wait_for("chat", lambda f, c=chat_id: f["chat"]["chat_id"] == c and f["chat"]["status"] == "closed")


# --- chat messages both ways, canned responses, greetings -----------------------------------


# What the page's title reads as from the start, so the loader's first page view reports it. (Rewriting the
# served HTML through page.route would make Chromium treat the page as public and block its local socket.)
HOSTILE_TITLE = """(() => {
    let title = '</title><img src=x onerror=window.__xss=1>';
    Object.defineProperty(Document.prototype, 'title', {
        configurable: true, get: () => title, set: (value) => { title = String(value); } });
})()"""


def greet(stack: LocalStack, page: Page, vid: str, email: str, text: str) -> None:
    """Greets the visitor until the widget shows it: one sent before the widget's socket opened waits
    for the next page, and one that arrives while the widget is still starting can be missed."""
    deadline = time.monotonic() + 20
    while True:
        if stack_http.ok(
            stack, "POST", f"/agent/visitors/{vid}/greeting", {"text": text}, token=stack.id_token(email, PASSWORD)
        )["delivered"]:
            try:
                wait_shown(page, "[data-testid=charla-greeting]", text.split("\n"), timeout=4)
                return
            except AssertionError:
                if time.monotonic() > deadline:
                    raise
        assert time.monotonic() < deadline, "the widget never opened its socket"
        page.wait_for_timeout(250)


def test_messages_canned_responses_and_greetings_stay_text_in_the_widget_and_the_console(stack, browser):
    settings.save_settings({"prechat": "name_email"})
    bea_id, bea_email = agent(stack, "Bea")
    canned = pack(PAYLOADS, 2000)  # saved before the console loads its canned responses
    for i, text in enumerate(canned):
        stack_http.ok(stack, "PUT", f"/agent/canned/xss{i}", {"text": text}, token=stack.id_token(bea_email, PASSWORD))
    bea = console(browser, stack, bea_email)
    site = Watched(browser)
    try:
        site.page.add_init_script(HOSTILE_TITLE)
        site.page.goto(f"{stack.base_url}/?q={quote(PAYLOADS[13])}#{PAYLOADS[22]}")
        site.page.get_by_test_id("charla-launcher").hover()
        site.page.wait_for_function("() => window.Charla && window.Charla._w && window.Charla._p")
        vid = site.page.evaluate(
            "() => Charla._p.then(() => JSON.parse(localStorage.getItem('charla.visitor')).visitor_id)"
        )

        # Greetings from the Visitors list (REST), each replacing the last in the widget's bubble.
        for text in pack(PAYLOADS, 500):
            greet(stack, site.page, vid, bea_email, text)
        site.assert_clean()
        site.page.get_by_test_id("charla-greeting-close").click()

        # The pre-chat form with a hostile name; the page's title changed just before the chat starts.
        site.page.evaluate("(t) => { document.title = t; }", PAYLOADS[8])
        site.page.get_by_test_id("charla-launcher").click()
        site.page.get_by_test_id("charla-name").fill(NAMES[1])
        site.page.get_by_test_id("charla-email").fill("mallory@example.com")
        site.page.get_by_test_id("charla-start").click()
        # The visitor's messages, several payloads each (the socket allows 30 frames in 10 s).
        for text in pack(PAYLOADS, 1000):
            visitor_says(site.page, text)
            site.page.wait_for_timeout(200)
        bea.page.get_by_test_id("chat-item").first.click()
        wait_shown(bea.page, "[data-testid=chat-item]", [NAMES[1]])
        wait_shown(bea.page, "[data-testid=message]", PAYLOADS)
        panel = bea.page.get_by_test_id("visitor-panel")
        expect(panel.get_by_test_id("visitor-name")).to_have_text(NAMES[1])
        expect(panel.get_by_test_id("visitor-page")).to_contain_text(PAYLOADS[8])
        wait_shown(site.page, "[data-testid=charla-message][data-sender=visitor]", PAYLOADS)

        # The agent's replies, typed.
        for text in pack(PAYLOADS, 1000):
            bea.page.get_by_test_id("composer").fill(text)
            bea.page.get_by_test_id("send").click()
            bea.page.wait_for_timeout(200)
        wait_shown(site.page, "[data-testid=charla-message][data-sender=agent]", PAYLOADS)

        # Canned responses holding the payloads, suggested on "#xss" and sent.
        composer = bea.page.get_by_test_id("composer")
        composer.fill("#xss")
        expect(bea.page.get_by_test_id("canned-item")).to_have_count(len(canned))
        wait_shown(bea.page, "[data-testid=canned-suggestions]", PAYLOADS)
        bea.assert_clean()
        composer.press("Escape")
        for i, text in enumerate(canned):
            composer.fill(f"#xss{i}")
            expect(bea.page.locator(f"[data-testid=canned-item][data-shortcut=xss{i}]")).to_be_visible()
            composer.press("Enter")
            expect(composer).to_have_value(re.compile(re.escape(text[:20])))
            bea.page.get_by_test_id("send").click()
            bea.page.wait_for_timeout(200)
        agent_says = "[data-testid=charla-message][data-sender=agent]"
        deadline = time.monotonic() + 15
        while len(site.page.locator(agent_says).all()) < len(pack(PAYLOADS, 1000)) + len(canned):
            assert time.monotonic() < deadline, "the canned responses did not reach the widget"
            site.page.wait_for_timeout(150)
        site.assert_clean()
        bea.assert_clean()
    finally:
        agents.set_accepting(bea_id, False)


def test_an_automatic_greeting_with_payloads_stays_text_in_the_bubble(stack, browser):
    agent(stack, "Cleo")
    texts_ = pack(PAYLOADS, 500)
    rules = [
        {"url_contains": f"p=auto{i}", "after_seconds": 0, "message": t, "max_times": 1} for i, t in enumerate(texts_)
    ]
    settings.save_settings({"greetings": rules})
    site = Watched(browser)
    for i, text in enumerate(texts_):
        site.page.goto(f"{stack.base_url}/?p=auto{i}")
        site.page.get_by_test_id("charla-launcher").hover()
        wait_shown(site.page, "[data-testid=charla-greeting]", text.split("\n"))
        site.assert_clean()


# --- tickets from mail, attachment names -----------------------------------------------------


def mail(stack: LocalStack, sender: str, subject: str, body: str, files: list[str] = ()) -> None:
    message = EmailMessage()
    message["From"] = formataddr((sender, "mallory@example.com"))
    message["To"] = "support@charla.local"
    message["Subject"] = subject
    message.set_content(body)
    for name in files:
        message.add_attachment(b"hello\n", maintype="text", subtype="plain", filename=name)
    with smtplib.SMTP(stack.host, stack.smtp_port, timeout=20) as smtp:
        smtp.send_message(message)


def test_mailed_subjects_bodies_senders_and_attachment_names_stay_text_in_the_ticket_views(stack, browser):
    desk = console(browser, stack, stack.demo_email, stack.demo_password)
    subjects = [text.replace("\n", " ") for text in pack(PAYLOADS, 190)]  # a ticket's title holds 200
    groups = [[p for p in PAYLOADS if p in subject] for subject in subjects]
    for i, (subject, group) in enumerate(zip(subjects, groups, strict=True)):
        files = [p + ".txt" for p in group if p in FILE_NAMES]  # a text/plain file must be named .txt
        mail(stack, NAMES[i], subject, "\n".join(group), files)
    desk.page.get_by_test_id("tickets-tab").click()
    wait_shown(desk.page, "[data-testid=ticket-row]", PAYLOADS)
    desk.assert_clean()

    for i, (subject, group) in enumerate(zip(subjects, groups, strict=True)):
        desk.page.get_by_test_id("ticket-row").filter(has_text=subject).click()
        expect(desk.page.get_by_test_id("ticket-title")).to_have_value(norm(subject))
        wait_shown(desk.page, "[data-testid=ticket-event][data-kind=message]", group)
        wait_shown(desk.page, "[data-testid=ticket-info]", [NAMES[i]])
        wait_shown(desk.page, "[data-testid=ticket-attachment]", [p + ".txt" for p in group if p in FILE_NAMES])
    desk.assert_clean()

    # Uploaded from the console (a text/plain file must be named .txt): the pending chips, then the links.
    for group in batches([p + ".txt" for p in FILE_NAMES], 10):
        desk.page.get_by_test_id("ticket-attach").set_input_files(
            files=[{"name": n, "mimeType": "text/plain", "buffer": b"x\n"} for n in group]
        )
        wait_shown(desk.page, "[data-testid=ticket-pending-attachment]", group)
        desk.assert_clean()
        desk.page.get_by_test_id("ticket-note").fill("Files attached.")
        desk.page.get_by_test_id("ticket-note-send").click()
        wait_shown(desk.page, "[data-testid=ticket-attachment]", group)
    desk.assert_clean()


# --- tag names ----------------------------------------------------------------------------------------


def test_hostile_tag_names_stay_text_in_the_admin_page_the_pickers_the_ticket_list_and_reports(stack, browser):
    from functions.core.principals import Principal
    from functions.helpdesk import from_chat
    from functions.tags import catalog, tagging

    boss = Principal("agent", stack.demo_agent_id, "Admin", "admin")
    made: list[dict[str, Any]] = []
    taken: set[str] = set()
    for p in PAYLOADS:
        name = " ".join(p.split())
        if len(name) <= catalog.MAX_NAME and name.casefold() not in taken:
            taken.add(name.casefold())
            made.append(catalog.create({"name": p, "color": "red"}))
    names = [t["name"] for t in made]
    assert len(names) >= 20
    tia_id, tia_email = agent(stack, "Tia")
    tia = console(browser, stack, tia_email)
    # Online (her socket said hello), so the chat is not refused as offline.
    expect(tia.page.get_by_test_id("status-toggle")).to_have_attribute("data-accepting", "true")
    client = visitor_socket(stack, page_view(stack, "Tags", "https://shop.example/", "127.0.3.1"), "127.0.3.1")
    client.send({"action": "start_chat", "name": "Vera"})
    chat_id = client.wait_for("chat")["chat"]["chat_id"]
    try:
        tagging.tag_chat(boss, chat_id, {"add": [t["id"] for t in made]})
        ticket, _ = from_chat.create(boss, chat_id, {})
        tagging.tag_ticket(boss, ticket.ticket_id, {"add": [t["id"] for t in made]})

        tia.page.locator(f'[data-testid=chat-item][data-chat-id="{chat_id}"]').click()
        wait_shown(tia.page, "[data-testid=chat-tags] [data-testid=tag-chip]", names)
        tia.assert_clean()
        tia.page.get_by_test_id("tickets-tab").click()
        wait_shown(tia.page, "[data-testid=ticket-row-tags]", names)
        wait_shown(tia.page, "[data-testid=ticket-tag-filter] option", names)
        tia.page.locator(f'[data-testid=ticket-row][data-ticket-id="{ticket.ticket_id}"]').click()
        wait_shown(tia.page, "[data-testid=ticket-tags] [data-testid=tag-chip]", names)
        tia.page.get_by_test_id("reports-tab").click()
        wait_shown(tia.page, "[data-testid=report-tag] option", names)
        tia.assert_clean()

        admin = console(browser, stack, stack.demo_email, stack.demo_password)
        admin.page.get_by_test_id("admin-tab").click()
        admin.page.get_by_test_id("admin-nav-tags").click()
        wait_shown(admin.page, "[data-testid=tag-row] [data-testid=tag-chip]", names)
        wait_shown(admin.page, "[data-testid=tag-name-edit]", names, prop="value")
        admin.assert_clean()
    finally:
        agents.set_accepting(tia_id, False)
        client.send({"action": "close", "chat_id": chat_id})
        for tag in made:
            catalog.delete(tag["id"])


# --- the archive ------------------------------------------------------------------------------


def test_archived_names_matching_lines_and_transcripts_stay_text(stack, browser):
    from functions.chat import archive
    from functions.core import clock
    from functions.models import Chat, Message
    from functions.visitors import identity

    chat_id, now = "c_" + secrets.token_urlsafe(12), clock.now_iso()
    lines = ["xssarchive " + text for text in pack(PAYLOADS, 280)]
    Chat(
        chat_id,
        status="closed",
        visitor_id=identity.create_identity()["visitor_id"],
        visitor_name=NAMES[1],
        agent_names={},
        created_at=now,
        last_activity_at=now,
        closed_at=now,
        last_seq=len(lines),
    ).save()
    for seq, text in enumerate(lines, 1):
        Message(chat_id, seq, sender="visitor", text=text, ts=now).save()
    archive.index_chat(Chat.get(chat_id))

    desk = console(browser, stack, stack.demo_email, stack.demo_password)
    desk.page.get_by_test_id("archive-tab").click()
    desk.page.get_by_test_id("archive-search").fill("xssarch")
    desk.page.get_by_test_id("archive-go").click()
    row = desk.page.locator(f"[data-testid=archive-row][data-chat-id='{chat_id}']")
    wait_shown(desk.page, "[data-testid=archive-row]", [NAMES[1]])
    expect(row.get_by_test_id("archive-match")).to_contain_text("xssarchive")
    row.click()
    wait_shown(desk.page, "[data-testid=archive-transcript]", PAYLOADS)
    expect(desk.page.get_by_test_id("archive-view").get_by_test_id("visitor-name")).to_have_text(norm(NAMES[1]))
    desk.assert_clean()


def test_whispers_and_a_supervisors_name_stay_text_in_the_console_and_the_widget(stack, browser):
    bea_id, bea_email = agent(stack, "Bea")
    boss_email = f"boss-{secrets.token_hex(3)}@charla.local"
    stack.create_agent(boss_email, PASSWORD, NAMES[2], role="admin", accepting=False)
    bea = console(browser, stack, bea_email)
    boss = console(browser, stack, boss_email)
    site = Watched(browser)
    try:
        site.page.goto(stack.base_url + "/")
        site.page.get_by_test_id("charla-launcher").click()
        visitor_says(site.page, "Hello there")
        expect(site.page.locator("[data-testid=charla-message][data-sender=visitor]")).to_have_attribute(
            "data-seq", re.compile(r"^\d+$")
        )
        vid = site.page.evaluate("() => JSON.parse(localStorage.getItem('charla.visitor')).visitor_id")
        bea.page.get_by_test_id("chat-item").first.click()
        # The admin supervises from the Visitors list and whispers the payloads; the agent whispers back.
        boss.page.get_by_test_id("visitors-tab").click()
        boss.page.locator(f"[data-testid=visitor-row][data-visitor-id='{vid}'] [data-testid=supervise]").click()
        expect(boss.page.get_by_test_id("supervise-bar")).to_be_visible()
        whispers = pack(PAYLOADS, 1000)
        for text in whispers:
            boss.page.get_by_test_id("composer").fill(text)
            boss.page.get_by_test_id("send").click()
            boss.page.wait_for_timeout(200)
        bea.page.get_by_test_id("whisper-toggle").check()
        bea.page.get_by_test_id("composer").fill(PAYLOADS[0])
        bea.page.get_by_test_id("send").click()
        whispered = "[data-testid=message][data-kind=whisper]"
        wait_shown(bea.page, whispered, PAYLOADS)
        wait_shown(bea.page, whispered, [NAMES[2]])  # the supervisor's name, on each whisper
        wait_shown(boss.page, whispered, PAYLOADS)
        # The join names the admin to the visitor.
        boss.page.get_by_test_id("join").click()
        wait_shown(site.page, "[data-testid=charla-message]", [NAMES[2]])
        for page in (site, bea, boss):
            page.assert_clean()
        # The whispers themselves never reached the widget (only their seqs, kept invisible).
        widget = texts(site.page, "[data-testid=charla-message]")
        assert PAYLOADS[0] not in widget and PAYLOADS[1] not in widget
    finally:
        agents.set_accepting(bea_id, False)


def test_file_names_in_chats_stay_text_in_the_widget_and_the_console(stack, browser):
    bea_id, bea_email = agent(stack, "Bea")
    bea = console(browser, stack, bea_email)
    site = Watched(browser)
    names = [p + ".txt" for p in FILE_NAMES]  # a text/plain file must be named .txt
    try:
        site.page.goto(stack.base_url + "/")
        site.page.get_by_test_id("charla-launcher").click()
        visitor_says(site.page, "Files follow")
        bea.page.get_by_test_id("chat-item").first.click()
        # The visitor's files, one pick each (the socket allows 30 frames in 10 s).
        for name in names:
            site.page.get_by_test_id("charla-file").set_input_files(
                {"name": name, "mimeType": "text/plain", "buffer": b"x\n"}
            )
            site.page.wait_for_timeout(400)
        wait_shown(site.page, "[data-testid=charla-file-link]", names, timeout=30)
        wait_shown(bea.page, "[data-testid=file-link]", names, timeout=30)
        site.assert_clean()
        bea.assert_clean()
        # The agent's, several per pick.
        for group in batches(names, 8):
            bea.page.get_by_test_id("file-input").set_input_files(
                files=[{"name": n, "mimeType": "text/plain", "buffer": b"y\n"} for n in group]
            )
            bea.page.wait_for_timeout(3000)
        shown = "[data-testid=charla-message][data-sender=agent] [data-testid=charla-file-link]"
        wait_shown(site.page, shown, names, timeout=30)
        site.assert_clean()
        bea.assert_clean()
    finally:
        agents.set_accepting(bea_id, False)


# --- group names --------------------------------------------------------------------------------


def test_group_names_stay_text_in_the_admin_page_the_queue_filter_reports_and_the_widget(stack, browser):
    boss_email = f"boss-{secrets.token_hex(3)}@charla.local"
    stack.create_agent(boss_email, PASSWORD, "Boss", role="admin", accepting=False)
    token = stack.id_token(boss_email, PASSWORD)
    # Names are unique whatever their case, one line, at most 60 characters; the 50 groups an install may have.
    names: list[str] = []
    for p in NAMES:
        if len(p) <= 60 and p.casefold() not in {n.casefold() for n in names} and len(names) < 50:
            names.append(p)
    ids = [stack_http.ok(stack, "POST", "/admin/groups", {"name": n}, token=token)["id"] for n in names]
    settings.save_settings({"group_choice": True})
    boss = console(browser, stack, boss_email)
    site = Watched(browser)
    try:
        wait_shown(boss.page, "[data-testid=queue-filter] option", names)
        boss.page.get_by_test_id("admin-tab").click()
        boss.page.get_by_test_id("admin-nav-groups").click()
        wait_shown(boss.page, "[data-testid=group-row-name]", names)
        wait_shown(boss.page, "[data-testid=group-rename]", names, prop="value")
        boss.assert_clean()
        boss.page.get_by_test_id("reports-tab").click()
        wait_shown(boss.page, "[data-testid=report-group]", names)
        boss.assert_clean()

        site.page.goto(f"{stack.base_url}/")
        site.page.get_by_test_id("charla-launcher").click()
        wait_shown(site.page, "[data-testid=charla-group] option", names)
        site.assert_clean()
    finally:
        settings.save_settings({"group_choice": False})
        for group_id in ids:
            stack_http.call(stack, "DELETE", f"/admin/groups/{group_id}", token=token)
