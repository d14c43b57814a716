"""`make screenshots`: a scripted scenario on the local stack, photographed in Chromium.

Four visitors start chats (with their names, from the name + email form); Ana takes two, the third waits
in the queue, Ana transfers one to Ben and turns another into a ticket. The console and the widget are then
captured at desktop (1280x720), tablet (900x1000) and phone (390x844) sizes into docs/screenshots/.

    python -m tests.screenshots [--out DIR]
"""

from __future__ import annotations

import argparse
import re
import secrets
import tempfile
import unicodedata
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from infra.local.stack import LocalStack
from tests.support.browser import chromium, sign_in

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "Agent-pa55word!"
SIZES = {"desktop": (1280, 720), "tablet": (900, 1000), "phone": (390, 844)}
VISITORS = [
    ("María López", "Hola, ¿tenéis envío a Canarias?"),
    ("John Carter", "My order #4411 arrived damaged."),
    ("Aiko Tanaka", "Can I change the delivery address?"),
    ("Lucas Silva", "Is the blue model back in stock?"),
]


def visitor(browser: Browser, stack: LocalStack, size: tuple[int, int], name: str, text: str) -> Page:
    page = browser.new_context(viewport={"width": size[0], "height": size[1]}).new_page()
    page.goto(stack.base_url + "/")
    page.get_by_test_id("charla-launcher").click()
    page.get_by_test_id("charla-name").fill(name)
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    page.get_by_test_id("charla-email").fill(plain.replace(" ", ".") + "@example.com")  # maria.lopez@…
    page.get_by_test_id("charla-start").click()
    page.get_by_test_id("charla-input").fill(text)
    page.get_by_test_id("charla-send").click()
    expect(page.get_by_test_id("charla-message").filter(has_text=text)).to_have_attribute("data-seq", re.compile(r"\d"))
    return page


def console(browser: Browser, stack: LocalStack, email: str, size: tuple[int, int], password: str = PASSWORD) -> Page:
    page = browser.new_context(viewport={"width": size[0], "height": size[1]}, locale="en-US").new_page()
    sign_in(page, stack, email, password)
    expect(page.get_by_test_id("conn")).to_have_attribute("data-state", "open")
    return page


def shoot(page: Page, out: Path, name: str) -> None:
    page.wait_for_timeout(300)  # let the last frame and transitions settle before the picture
    page.screenshot(path=str(out / f"{name}.png"))
    print("wrote", out / f"{name}.png")


def scenario(stack: LocalStack, browser: Browser, out: Path) -> None:
    from functions.core import settings
    from functions.team import agents

    settings.save_settings({"prechat": "name_email", "max_chats_per_agent": 2})
    agents.set_accepting(stack.demo_agent_id, False)
    suffix = secrets.token_hex(2)
    ana_email, ben_email = f"ana-{suffix}@charla.local", f"ben-{suffix}@charla.local"
    stack.create_agent(ana_email, PASSWORD, "Ana García", accepting=True)
    stack.create_agent(ben_email, PASSWORD, "Ben Okafor", accepting=False)

    ana = console(browser, stack, ana_email, SIZES["desktop"])
    ben = console(browser, stack, ben_email, SIZES["desktop"])
    sites = []
    for name, text in VISITORS[:3]:
        sites.append(visitor(browser, stack, SIZES["desktop"], name, text))
    expect(ana.get_by_test_id("chat-item")).to_have_count(2)
    expect(ana.get_by_test_id("queue-item")).to_have_count(1)

    # Ana answers María, transfers John to Ben, and makes a ticket of María's question.
    ana.get_by_test_id("chat-item").filter(has_text="María").click()
    ana.get_by_test_id("composer").fill("¡Hola María! Sí, enviamos a Canarias en 3–5 días.")
    ana.get_by_test_id("send").click()
    sites[0].get_by_test_id("charla-input").fill("¡Genial! ¿Y cuánto cuesta?")
    sites[0].get_by_test_id("charla-send").click()
    ana.get_by_test_id("chat-item").filter(has_text="John").click()
    ana.get_by_test_id("more").click()
    ana.get_by_test_id("transfer").click()
    ana.get_by_test_id("transfer-to").first.click()
    expect(ben.get_by_test_id("chat-item").filter(has_text="John")).to_be_visible()
    ben.get_by_test_id("chat-item").filter(has_text="John").click()
    ben.get_by_test_id("composer").fill("Hi John, I'm sorry to hear that. Could you send a photo?")
    ben.get_by_test_id("send").click()
    # The transfer freed a slot: Aiko is assigned from the queue; Lucas now waits in it.
    sites.append(visitor(browser, stack, SIZES["desktop"], *VISITORS[3]))
    ana.get_by_test_id("chat-item").filter(has_text="María").click()
    ana.get_by_test_id("more").click()
    ana.get_by_test_id("create-ticket").click()
    expect(ana.get_by_test_id("ticket-link")).to_be_visible()
    # Ben asks Ana into John's chat: her console shows the invitation first.
    ben.get_by_test_id("more").click()
    ben.get_by_test_id("invite").click()
    ben.get_by_test_id("invite-agent").first.click()
    expect(ana.get_by_test_id("invitation-item")).to_be_visible()
    ana.context.close()

    for size_name, size in SIZES.items():
        page = console(browser, stack, ana_email, size)
        expect(page.get_by_test_id("invitation-item")).to_be_visible()
        shoot(page, out, f"console-{size_name}-list")
        page.get_by_test_id("chat-item").filter(has_text="María").click()
        expect(page.get_by_test_id("message").last).to_be_in_viewport()
        shoot(page, out, f"console-{size_name}-chat")
        if size_name != "desktop":  # the visitor panel is a drawer behind the info button
            page.get_by_test_id("info-toggle").click()
            shoot(page, out, f"console-{size_name}-info")
            page.get_by_test_id("info-close").click()
            page.get_by_test_id("top-menu").click()
            shoot(page, out, f"console-{size_name}-menu")
        if size_name == "phone":
            page.get_by_test_id("tickets-tab").click()
        else:
            page.keyboard.press("Escape")
            page.get_by_test_id("tickets-tab").click()
        expect(page.get_by_test_id("ticket-row").first).to_be_visible()
        page.get_by_test_id("ticket-row").first.click()
        shoot(page, out, f"console-{size_name}-tickets")
        if size_name != "desktop":
            page.get_by_test_id("top-menu").click()
        page.get_by_test_id("archive-tab").click()
        page.get_by_test_id("archive-row").filter(has_text="María").click()
        expect(page.get_by_test_id("archive-transcript")).to_contain_text("Canarias")
        shoot(page, out, f"console-{size_name}-archive")
        page.context.close()

    # The demo admin supervises María's chat silently and whispers to Ana.
    for size_name in ("desktop", "phone"):
        boss = console(browser, stack, stack.demo_email, SIZES[size_name], stack.demo_password)
        if size_name == "phone":
            boss.get_by_test_id("top-menu").click()
        boss.get_by_test_id("visitors-tab").click()
        boss.get_by_test_id("visitor-row").filter(has_text="María").get_by_test_id("supervise").click()
        expect(boss.get_by_test_id("supervise-bar")).to_be_visible()
        if size_name == "desktop":
            boss.get_by_test_id("composer").fill("Ana, offer her the free shipping code.")
            boss.get_by_test_id("send").click()
            expect(boss.locator("[data-testid=message][data-kind=whisper]")).to_have_count(1)
        shoot(boss, out, f"console-{size_name}-supervise")
        boss.get_by_test_id("stop-supervising").click()
        boss.context.close()

    # María's side of her chat, at each size (the widget fills a phone's screen).
    for size_name, size in SIZES.items():
        sites[0].set_viewport_size({"width": size[0], "height": size[1]})
        expect(sites[0].get_by_test_id("charla-panel")).to_be_visible()
        shoot(sites[0], out, f"widget-{size_name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory() as data,
        LocalStack(port=0, data=Path(data), ses_production_access=True) as stack,
    ):
        with chromium() as browser:
            scenario(stack, browser, args.out)


if __name__ == "__main__":
    main()
