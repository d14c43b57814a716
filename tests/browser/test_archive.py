"""The console's Archive in Chromium: a search without accents finds a chat written with them, shows the
matching line, opens the whole transcript beside the visitor panel, and makes a ticket of it."""

from __future__ import annotations

import secrets

from playwright.sync_api import expect

from functions.chat import archive
from functions.core import clock
from functions.models import Chat, Message
from functions.visitors import identity
from tests.support.browser import sign_in


def _closed_chat() -> str:
    """A closed chat as the app leaves it, indexed as its end indexes it."""
    visitor_id = identity.create_identity()["visitor_id"]
    chat_id = "c_" + secrets.token_urlsafe(12)
    now = clock.now_iso()
    Chat(
        chat_id,
        status="closed",
        visitor_id=visitor_id,
        visitor_name="Lucía Archivo",
        agent_names={},
        created_at=now,
        last_activity_at=now,
        closed_at=now,
        last_seq=2,
    ).save()
    Message(chat_id, 1, sender="visitor", text="Hola, buenos días", ts=now).save()
    Message(chat_id, 2, sender="visitor", text="¿Dónde está mi ENVÍO 7731?", ts=now).save()
    archive.index_chat(Chat.get(chat_id))
    return chat_id


def test_a_search_without_accents_finds_the_chat_and_opens_its_transcript(stack, browser):
    chat_id = _closed_chat()
    page = browser.new_context().new_page()
    sign_in(page, stack, stack.demo_email, stack.demo_password)
    page.get_by_test_id("archive-tab").click()
    view = page.get_by_test_id("archive-view")
    expect(view).to_be_visible()

    view.get_by_test_id("archive-search").fill("envio 773")
    view.get_by_test_id("archive-go").click()
    row = view.locator(f"[data-testid=archive-row][data-chat-id='{chat_id}']")
    expect(row).to_be_visible()
    expect(view.get_by_test_id("archive-row")).to_have_count(1)
    expect(row.get_by_test_id("archive-match")).to_have_text("Lucía Archivo: ¿Dónde está mi ENVÍO 7731?")
    expect(row.get_by_test_id("archive-status")).to_have_text("Closed")

    row.click()
    transcript = view.get_by_test_id("archive-transcript")
    expect(transcript).to_contain_text("Hola, buenos días")
    expect(transcript).to_contain_text("¿Dónde está mi ENVÍO 7731?")
    expect(view.get_by_test_id("visitor-panel").get_by_test_id("visitor-name")).to_have_text("Lucía Archivo")

    view.get_by_test_id("archive-create-ticket").click()
    expect(page.get_by_test_id("ticket-link")).to_be_visible()
    assert Chat.get(chat_id).ticket_id

    view.get_by_test_id("archive-search").fill("envio paquete")
    view.get_by_test_id("archive-go").click()
    expect(view.get_by_test_id("archive-row")).to_have_count(0)
    expect(view.get_by_test_id("archive-state")).to_have_text("No chats found.")
