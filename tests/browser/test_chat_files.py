"""Files in chats in Chromium: a visitor's photo reaches the agent as a thumbnail that opens full size, and an
agent's PDF reaches the visitor as a download link."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from functions.core import settings
from tests.support.browser import agent_console, visitor_page, visitor_starts

pytestmark = pytest.mark.usefixtures("only_these_agents_accept")

# A real 1×1 PNG, so the browser can draw the thumbnail.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201"
    "e5277ede0000000049454e44ae426082"
)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_a_file_goes_each_way_images_as_thumbnails_others_as_links(stack, browser, agent):
    _ana_id, ana_email = agent("Ana")
    ana = agent_console(browser, stack, ana_email)
    site = visitor_page(browser, stack)
    visitor_starts(site, "My part broke, here is a photo")
    ana.get_by_test_id("chat-item").first.click()

    # Visitor → agent: an image, as a thumbnail that opens full size.
    site.get_by_test_id("charla-file").set_input_files(
        {"name": "broken part.png", "mimeType": "image/png", "buffer": PNG}
    )
    sent = site.get_by_test_id("charla-message").filter(has_text="broken part.png")
    expect(sent).to_have_attribute("data-seq", re.compile(r"^\d+$"))
    expect(sent.get_by_test_id("charla-file-thumb")).to_be_visible()
    shown = ana.get_by_test_id("message").filter(has_text="broken part.png")
    thumb = shown.get_by_test_id("file-thumb-img")
    expect(thumb).to_be_visible()
    ana.wait_for_function("img => img.complete && img.naturalWidth === 1", arg=thumb.element_handle())
    shown.get_by_test_id("file-thumb").click()
    expect(ana.get_by_test_id("file-full")).to_be_visible()
    expect(ana.get_by_test_id("file-full-img")).to_have_attribute("alt", "broken part.png")
    ana.get_by_test_id("file-full-close").click()
    expect(ana.get_by_test_id("file-full")).to_be_hidden()

    # Agent → visitor: a PDF, as a download link served as an attachment.
    ana.get_by_test_id("file-input").set_input_files(
        {"name": "invoice.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    mine = ana.get_by_test_id("message").filter(has_text="invoice.pdf")
    expect(mine).to_have_attribute("data-seq", re.compile(r"^\d+$"))
    link = site.get_by_test_id("charla-file-link").filter(has_text="invoice.pdf")
    expect(link).to_be_visible()
    with site.expect_download() as got:
        link.click()
    download = got.value
    assert download.suggested_filename == "invoice.pdf"
    assert open(download.path(), "rb").read() == PDF
    expect(site.get_by_test_id("charla-file-thumb")).to_have_count(1)  # the PDF has no thumbnail


def test_a_refused_file_is_said_and_nothing_is_sent(stack, browser, agent):
    _ana_id, ana_email = agent("Ana")
    ana = agent_console(browser, stack, ana_email)
    site = visitor_page(browser, stack)
    visitor_starts(site, "Can I send a page?")
    ana.get_by_test_id("chat-item").first.click()
    site.get_by_test_id("charla-file").set_input_files(
        {"name": "page.html", "mimeType": "text/html", "buffer": b"<script>alert(1)</script>"}
    )
    expect(site.get_by_test_id("charla-error")).to_contain_text("can't be sent")
    ana.get_by_test_id("file-input").set_input_files(
        {"name": "logo.svg", "mimeType": "image/svg+xml", "buffer": b"<svg/>"}
    )
    expect(ana.get_by_test_id("notice")).to_contain_text("logo.svg")
    expect(ana.get_by_test_id("message").filter(has_text="page.html")).to_have_count(0)
    expect(ana.get_by_test_id("message").filter(has_text="logo.svg")).to_have_count(0)


def test_with_visitor_uploads_off_the_widget_has_no_file_button_and_agents_still_send(stack, browser, agent):
    settings.save_settings({"visitor_uploads": False})
    try:
        _ana_id, ana_email = agent("Ana")
        ana = agent_console(browser, stack, ana_email)
        site = visitor_page(browser, stack)
        visitor_starts(site, "No files from me")
        expect(site.get_by_test_id("charla-input")).to_be_visible()
        expect(site.get_by_test_id("charla-file")).to_be_hidden()
        ana.get_by_test_id("chat-item").first.click()
        ana.get_by_test_id("file-input").set_input_files(
            {"name": "guide.pdf", "mimeType": "application/pdf", "buffer": PDF}
        )
        expect(site.get_by_test_id("charla-file-link").filter(has_text="guide.pdf")).to_be_visible()
    finally:
        settings.save_settings({"visitor_uploads": True})
