"""The widget on a customer's site, cross-origin: it reads the API's error answers and acts on them.

The demo site has an origin of its own (as a customer's site does), so every call the widget makes
to the API is a CORS request; an answer without Access-Control-Allow-Origin would reach the widget
as a bare network failure.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from playwright.sync_api import Page, expect

from functions.team import agents
from infra.local.stack import LocalStack
from tests.support import stack_http
from tests.support.browser import open_widget

STALE = {"visitor_id": "v-00000000000000000000000000", "secret": "s" * 32}


def _visitor(page: Page) -> Any:
    return page.evaluate("JSON.parse(localStorage.getItem('charla.visitor') || 'null')")


def _loaded(page: Page, stack: LocalStack) -> None:
    page.goto(stack.base_url + "/")  # leads to the demo site's own origin
    assert page.url.startswith(stack.demo_url)
    page.wait_for_function("window.Charla && window.Charla._p")
    page.evaluate("window.Charla._p")


def test_a_stale_identity_is_dropped_on_401_and_a_new_one_taken(stack: LocalStack, browser) -> None:
    page = browser.new_context().new_page()
    _loaded(page, stack)
    # An identity this deployment doesn't know (data reset, another deployment).
    page.evaluate(f"localStorage.setItem('charla.visitor', {json.dumps(json.dumps(STALE))})")
    page.get_by_test_id("charla-launcher").click()
    page.wait_for_function(
        "(stale) => { const v = JSON.parse(localStorage.getItem('charla.visitor') || 'null');"
        " return v && v.visitor_id !== stale; }",
        arg=STALE["visitor_id"],
        timeout=20_000,
    )
    assert _visitor(page)["visitor_id"]


def test_on_a_site_not_allowed_the_widget_removes_itself(stack: LocalStack, browser) -> None:
    page = browser.new_context().new_page()
    with _copy_of_the_demo_site(stack) as shop:  # the same page, on an origin no admin allowed
        page.goto(shop + "/")
        launcher = page.get_by_test_id("charla-launcher")
        expect(launcher).to_be_visible()
        launcher.click()
        expect(launcher).to_have_count(0)


@contextmanager
def _copy_of_the_demo_site(stack: LocalStack) -> Iterator[str]:
    with urllib.request.urlopen(stack.demo_url + "/", timeout=15) as response:
        page, csp = response.read(), response.headers["Content-Security-Policy"]

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Security-Policy", csp)
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_offline_forms_rate_limit_message_is_shown(stack: LocalStack, browser) -> None:
    agents.set_accepting(stack.demo_agent_id, False)
    try:
        page = browser.new_context().new_page()
        _loaded(page, stack)
        visitor = _visitor(page)
        if visitor is None:  # tracking off: take an identity as the widget would
            visitor = stack_http.ok(stack, "POST", "/visitor/identity", {}, {"Origin": stack.demo_url})
            page.evaluate(f"localStorage.setItem('charla.visitor', {json.dumps(json.dumps(visitor))})")
        auth = f"Visitor {visitor['visitor_id']}:{visitor['secret']}"
        form = {"fields": {"name": "Ann", "email": "ann@example.com", "message": "Hello?"}}
        for _ in range(5):  # the hour's allowance, used up from another tab
            stack_http.ok(stack, "POST", "/visitor/offline", form, {"Origin": stack.demo_url}, token=auth)
        page.get_by_test_id("charla-launcher").click()
        expect(page.get_by_test_id("charla-offline-form")).to_be_visible()
        field = lambda name: page.locator(f"[data-testid=charla-offline-field][data-name={name}]")  # noqa: E731
        field("name").fill("Ann")
        field("email").fill("ann@example.com")
        field("message").fill("Hello again?")
        page.get_by_test_id("charla-offline-submit").click()
        expect(page.get_by_test_id("charla-offline-error")).to_contain_text("several messages")
    finally:
        agents.set_accepting(stack.demo_agent_id, True)


def test_a_429_reads_as_too_many_requests_not_as_an_outage_in_english_and_spanish(stack: LocalStack, browser) -> None:
    """What AWS WAF's backstop answers (infra/aws/resources.yaml): 429 with the CORS header and the app's body."""
    rate_limited = {
        "status": 429,
        "headers": {"Access-Control-Allow-Origin": "*", "Content-Type": "application/json"},
        "body": json.dumps({"Code": "rate_limited", "Message": "Too many requests from your network."}),
    }
    for locale, text in (("en-US", "Too many requests"), ("es-ES", "Demasiadas solicitudes")):
        context = browser.new_context(locale=locale)
        context.route("**/widget/settings", lambda route: route.fulfill(**rate_limited))
        page = context.new_page()
        open_widget(page, stack)
        expect(page.get_by_test_id("charla-error")).to_contain_text(text)
        expect(page.get_by_test_id("charla-error")).not_to_contain_text("reach")
        context.close()
