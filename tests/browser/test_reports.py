"""Reports in Chromium: real chats through the stack, then the Reports section's charts, totals and CSV."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from functions.core import settings
from functions.team import agents
from infra.local.stack import LocalStack
from tests.support import ws_client
from tests.support.browser import chromium, sign_in

CHATS = 2


def chat(stack: LocalStack, agent: ws_client.Client, n: int) -> None:
    """A visitor starts, the demo agent (routed the chat) answers, the visitor ends it and rates it."""
    visitor = ws_client.visitor(stack)
    visitor.send({"action": "start_chat", "name": f"Vera {n}", "email": f"vera{n}@example.com"})
    chat_id = visitor.wait_for("chat")["chat"]["chat_id"]
    visitor.send({"action": "send", "chat_id": chat_id, "client_msg_id": f"v{n}", "text": "Hello?"})
    visitor.wait_for("ack")
    agent.wait_for("chat", lambda f: f["chat"]["chat_id"] == chat_id and f["chat"]["status"] == "active")
    agent.send({"action": "send", "chat_id": chat_id, "client_msg_id": f"a{n}", "text": "Hi, how can I help?"})
    agent.wait_for("ack", lambda f: f["client_msg_id"] == f"a{n}")
    visitor.send({"action": "close", "chat_id": chat_id})
    visitor.wait_for("chat", lambda f: f["chat"]["status"] == "closed")
    visitor.send({"action": "rate", "chat_id": chat_id, "rating": "good" if n else "bad"})
    visitor.wait_for("chat", lambda f: f["chat"].get("rating"))


def madrid_day() -> str:
    return datetime.now(ZoneInfo("Europe/Madrid")).date().isoformat()


def test_reports_show_the_chats_per_day_and_hour_and_export_csv(stack, tmp_path):
    # The organisation is in Madrid and the reader far east of it: the days are Madrid's.
    settings.save_settings({"summary_timezone": "Europe/Madrid"})
    agents.set_accepting(stack.demo_agent_id, True)
    agent = ws_client.agent(stack, stack.demo_email, stack.demo_password)
    try:
        for n in range(CHATS):
            chat(stack, agent, n)
    finally:
        ws_client.close_all()

    with chromium() as browser:
        madrid_day_at_sign_in = madrid_day()
        page = browser.new_context(accept_downloads=True, timezone_id="Pacific/Kiritimati").new_page()
        sign_in(page, stack, stack.demo_email, stack.demo_password)
        page.get_by_test_id("reports-tab").click()
        totals = page.get_by_test_id("report-totals")
        expect(totals.get_by_test_id("report-chats")).to_have_text(str(CHATS))
        expect(page.get_by_test_id("report-zone")).to_contain_text("Europe/Madrid")
        shown = page.get_by_test_id("report-to").input_value()
        assert shown in (madrid_day_at_sign_in, madrid_day())  # today in Madrid, whatever the reader's date
        expect(totals.get_by_test_id("report-csat")).to_contain_text("1 good, 1 bad")
        for chart in ("chart-per-day", "chart-per-hour"):
            bars = page.get_by_test_id(chart).locator("[data-testid=chart-bar]")
            values = [int(v) for v in bars.evaluate_all("els => els.map(e => e.getAttribute('data-value'))")]
            assert sum(values) == CHATS and max(values) > 0, (chart, values)
            heights = bars.locator("rect").evaluate_all("els => els.map(e => Number(e.getAttribute('height')))")
            assert max(heights) > 0
        assert page.get_by_test_id("chart-per-hour").locator("[data-testid=chart-bar]").count() == 24
        assert page.get_by_test_id("chart-per-day").locator("[data-testid=chart-bar]").count() == 7

        with page.expect_download() as download:
            page.get_by_test_id("report-csv").click()
        saved = tmp_path / "report.csv"
        download.value.save_as(saved)
        lines = saved.read_text().splitlines()
        assert re.match(r"^day,chats,missed,offline_messages,median_first_response_s", lines[0]), lines[:2]
        assert len(lines) == 8
