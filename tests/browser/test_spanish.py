"""Spanish throughout: no string of the English catalogues is left in the Spanish widget or console.

The test walks every visible text node, placeholder, aria-label and title (the widget's shadow root
included) of each screen, and fails on any that is a string of the English catalogue which Spanish
translates differently. Names, data and the brand are not in the catalogues, so they never count.
"""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from functions.team import agents
from tests.support.browser import sign_in

ROOT = Path(__file__).resolve().parents[2]

COLLECT = """() => {
  const out = [];
  const walk = (root) => {
    for (const el of root.querySelectorAll('*')) {
      if (el.shadowRoot) walk(el.shadowRoot);
      // The language menu names each language in itself ("English", "Español"), as it should.
      if (el.closest('[data-testid=lang]')) continue;
      if (el.closest('[hidden]') || (el.getClientRects().length === 0 && el.tagName !== 'OPTION')) continue;
      for (const a of ['placeholder', 'aria-label', 'title']) if (el.getAttribute(a)) out.push(el.getAttribute(a));
      for (const n of el.childNodes) if (n.nodeType === 3 && n.textContent.trim()) out.push(n.textContent.trim());
    }
  };
  walk(document);
  return out;
}"""


def catalogue(path: Path) -> dict[str, str]:
    source = path.read_text()
    return {
        k: a or b
        for k, a, b in re.findall(r"^\s*(\w+): (?:'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\"),?$", source, re.M)
    }


def english_only(app: str) -> set[str]:
    """English strings Spanish says otherwise, templates cut at their placeholders."""
    en = catalogue(ROOT / app / "src" / "lang" / "en.js")
    es = catalogue(ROOT / app / "src" / "lang" / "es.js")
    found = set()
    for key, text in en.items():
        if key.startswith("_") or es.get(key, text) == text:
            continue
        for piece in re.split(r"\{\w+\}", text):
            piece = piece.strip(" .,:;…")
            if len(piece) >= 4 and piece not in es.values():
                found.add(piece)
    return found


def english_left(page: Page, app: str) -> list[str]:
    words = english_only(app)
    seen = page.evaluate(COLLECT)
    return sorted({s for s in seen for w in words if s == w or (len(w) >= 12 and w in s)})


def test_the_spanish_widget_and_its_offline_form_show_no_english(stack, browser):
    agents.set_accepting(stack.demo_agent_id, False)  # nobody online: the offline form shows
    page = browser.new_context(locale="es-ES").new_page()
    page.goto(stack.base_url + "/")
    page.get_by_test_id("charla-launcher").click()
    expect(page.get_by_test_id("charla-offline-form")).to_be_visible()
    # The welcome text (shown before and during a chat) is the admin's Spanish one.
    expect(page.locator(".greet")).to_have_text("¡Hola! ¿En qué podemos ayudarte?")
    assert english_left(page, "widget") == []
    labels = page.get_by_test_id("charla-offline-form").locator("label")
    expect(labels).to_have_text(["Nombre", "Correo electrónico", "Mensaje"])
    page.get_by_test_id("charla-offline-submit").click()
    expect(page.get_by_test_id("charla-offline-error")).to_have_text("Completa el campo «Nombre».")
    assert english_left(page, "widget") == []


def test_every_section_of_the_spanish_console_shows_no_english(stack, browser):
    page = browser.new_context(locale="es-ES").new_page()
    sign_in(page, stack, stack.demo_email, stack.demo_password)
    expect(page.get_by_test_id("chats-tab")).to_have_text(re.compile(r"\S"))
    assert page.evaluate("document.documentElement.lang") == "es"
    left: dict[str, list[str]] = {"chats": english_left(page, "agent-ui")}
    for section in ("visitors", "tickets", "reports", "admin", "account"):
        tab = page.get_by_test_id(f"{section}-tab")
        if not tab.count():
            continue
        tab.click()
        page.wait_for_load_state("networkidle")
        left[section] = english_left(page, "agent-ui")
    assert {k: v for k, v in left.items() if v} == {}


def test_a_refused_setting_is_explained_in_spanish_by_the_fields_label(stack, browser):
    page = browser.new_context(locale="es-ES").new_page()
    sign_in(page, stack, stack.demo_email, stack.demo_password)
    page.get_by_test_id("admin-tab").click()
    page.get_by_test_id("admin-nav-settings").click()
    threshold = page.get_by_test_id("setting-wait_threshold_s")
    expect(threshold).not_to_have_value("")
    threshold.fill("99999")
    page.get_by_test_id("settings-save").click()
    beside = page.get_by_test_id("settings-field-error")
    expect(beside).to_have_text(
        "«Un chat en espera se pone rojo tras (segundos)» no es válido. Un número entero de 1 a 3600."
    )
    expect(threshold).to_be_focused()
    expect(page.get_by_test_id("settings-error")).to_have_text(
        "Revisa «Un chat en espera se pone rojo tras (segundos)» más arriba."
    )
    assert english_left(page, "agent-ui") == []


def test_inviting_an_address_already_on_the_team_is_refused_in_spanish(stack, browser):
    page = browser.new_context(locale="es-ES").new_page()
    sign_in(page, stack, stack.demo_email, stack.demo_password)
    page.get_by_test_id("admin-tab").click()
    page.get_by_test_id("admin-nav-team").click()
    page.get_by_test_id("invite-email").fill(stack.demo_email)
    page.get_by_test_id("invite-name").fill("Otra vez")
    page.get_by_test_id("invite-send").click()
    expect(page.get_by_test_id("team-error")).to_have_text("«Correo electrónico» ya lo usa otra cuenta.")
