"""The widget's languages are files of their own: a visitor downloads only theirs (widget/README.md).

A Spanish visitor's widget loads lang/es.js, and nothing is drawn in English while it waits; when
that file can't be had, the widget speaks English and keeps working.
"""

from __future__ import annotations

from playwright.sync_api import Page, Route, expect

from functions.team import agents

# The launcher's aria-label, as the page sees it change: the loader's "Chat", then the widget's words.
WATCH_LABEL = """() => {
  const btn = document.querySelector('[data-charla]').shadowRoot.querySelector('.launcher');
  window.__labels = [btn.getAttribute('aria-label')];
  new MutationObserver(() => window.__labels.push(btn.getAttribute('aria-label')))
    .observe(btn, { attributes: true, attributeFilter: ['aria-label'] });
}"""


def lang_files(page: Page) -> list[str]:
    """The language files the page asks for, in order."""
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url.rsplit("/", 1)[-1]) if "/widget/lang/" in r.url else None)
    return asked


def test_a_spanish_visitor_loads_only_spanish_and_never_sees_english_first(stack, browser):
    page = browser.new_context(locale="es-ES").new_page()
    asked = lang_files(page)
    held: list[Route] = []
    page.route("**/widget/lang/es.js", lambda route: held.append(route))  # answered once we have looked
    page.goto(stack.base_url + "/")
    expect(page.get_by_test_id("charla-launcher")).to_be_visible()
    page.evaluate(WATCH_LABEL)
    with page.expect_request("**/widget/lang/es.js"):
        page.get_by_test_id("charla-launcher").click()
    # Waiting for its language, the widget has drawn nothing of its own.
    expect(page.get_by_test_id("charla-panel")).to_have_count(0)
    held[0].continue_()
    expect(page.locator("#charla-title")).to_have_text("Chatea con nosotros")
    expect(page.get_by_test_id("charla-launcher")).to_have_attribute("aria-label", "Cerrar chat")
    labels = page.evaluate("window.__labels")
    assert labels[0] == "Chat" and "Cerrar chat" in labels
    assert not {"Open chat", "Close chat"} & set(labels), labels
    assert asked == ["es.js"], "a Spanish visitor downloads Spanish only"


def test_when_the_language_file_fails_the_widget_speaks_english_and_works(stack, browser):
    agents.set_accepting(stack.demo_agent_id, False)  # nobody online: the offline form, a round trip
    page = browser.new_context(locale="es-ES").new_page()
    asked = lang_files(page)
    page.route("**/widget/lang/es.js", lambda route: route.fulfill(status=404, body="gone"))
    page.goto(stack.base_url + "/")
    page.get_by_test_id("charla-launcher").click()
    expect(page.locator("#charla-title")).to_have_text("Chat with us")
    expect(page.get_by_test_id("charla-launcher")).to_have_attribute("aria-label", "Close chat")
    assert asked == ["es.js", "en.js"]
    form = page.get_by_test_id("charla-offline-form")
    expect(form.locator("label")).to_have_text(["Name", "Email", "Message"])
    field = lambda name: form.locator(f"[data-testid=charla-offline-field][data-name={name}]")  # noqa: E731
    field("name").fill("Lucía")
    field("email").fill("lucia@example.com")
    field("message").fill("¿Tenéis envíos a Canarias?")
    page.get_by_test_id("charla-offline-submit").click()
    expect(page.get_by_test_id("charla-offline-sent")).to_be_visible()
