"""Reports and daily summaries, from counters kept as real chats end."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest
import time_machine

from functions.core import settings
from functions.core.errors import CharlaError
from functions.models import DailyStat
from functions.reports import daily_summary, ranges
from tests.support import outbox
from tests.support.actors import Socket, new_agent, new_visitor, start_chat

DAY = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def _chat(agent_principal, *, answer_after_s: int | None, last_s: int, rating: str | None = None) -> None:
    """One chat, started at the current (travelled) time, answered after some seconds or never."""
    agent = Socket(agent_principal)
    visitor = Socket(new_visitor())
    chat_id = start_chat(visitor)["chat_id"]
    visitor.send({"action": "send", "chat_id": chat_id, "client_msg_id": "q", "text": "hi"})
    start = datetime.now(UTC)
    if answer_after_s is not None:
        with time_machine.travel(start + timedelta(seconds=answer_after_s), tick=False):
            agent.send({"action": "send", "chat_id": chat_id, "client_msg_id": "a", "text": "hello"})
    with time_machine.travel(start + timedelta(seconds=last_s), tick=False):
        agent.send({"action": "close", "chat_id": chat_id})
        if rating:
            visitor.send({"action": "rate", "chat_id": chat_id, "rating": rating})


@pytest.fixture
def day_of_chats(aws):
    ana = new_agent("Ana")
    with time_machine.travel(DAY, tick=False):
        _chat(ana, answer_after_s=30, last_s=300, rating="good")
    with time_machine.travel(DAY + timedelta(hours=2), tick=False):
        _chat(ana, answer_after_s=90, last_s=600, rating="bad")
    with time_machine.travel(DAY + timedelta(hours=3), tick=False):
        _chat(ana, answer_after_s=None, last_s=120)
    return ana


def test_a_days_figures_come_from_the_chats_that_ended(day_of_chats):
    data = ranges.report(day_of_chats, "2026-11-20", "2026-11-20", "team")
    day = data["days"][0]
    assert (day["chats"], day["missed"], day["good"], day["bad"], day["csat"]) == (3, 1, 1, 1, 50)
    assert day["median_first_response_s"] == 60  # of 30 s and 90 s; the missed chat has none
    assert day["avg_duration_s"] == 340  # (300 + 600 + 120) / 3
    assert day["by_hour"][10] == 1 and day["by_hour"][12] == 1 and day["by_hour"][13] == 1


def test_an_agent_sees_their_own_figures_but_not_a_colleagues(day_of_chats):
    mine = ranges.report(day_of_chats, "2026-11-19", "2026-11-21", "me")
    assert [d["chats"] for d in mine["days"]] == [0, 3, 0]
    with pytest.raises(CharlaError) as refused:
        ranges.report(new_agent("Ben"), "2026-11-20", "2026-11-20", day_of_chats.id)
    assert refused.value.code == "forbidden"
    admin = new_agent("Root", role="admin")
    assert ranges.report(admin, "2026-11-20", "2026-11-20", day_of_chats.id)["totals"]["chats"] == 3


def test_days_and_hours_are_the_organisations_and_a_range_left_out_ends_today_there(aws):
    settings.save_settings({"summary_timezone": "Europe/Madrid"})
    ana = new_agent("Ana")
    with time_machine.travel(datetime(2026, 11, 20, 23, 30, tzinfo=UTC), tick=False):  # 00:30 on the 21st in Madrid
        _chat(ana, answer_after_s=30, last_s=60)
        data = ranges.report(ana, agent="team")
    assert (data["from"], data["to"], data["time_zone"]) == ("2026-11-15", "2026-11-21", "Europe/Madrid")
    assert [d["chats"] for d in data["days"]] == [0, 0, 0, 0, 0, 0, 1]
    assert data["days"][-1]["by_hour"][0] == 1 and data["totals"]["by_hour"][23] == 0
    assert ranges.report(ana, "2026-11-20", "2026-11-20")["totals"]["chats"] == 0


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2026-13-01", "2026-11-20"),
        ("2026-11-20", "2026-11-19"),
        ("2026-01-01", "2026-12-31"),
        (None, "0001-01-01"),  # the default week before the calendar's first day would overflow
        ("9999-12-31", "9999-12-31"),
    ],
)
def test_bad_ranges_are_refused_with_a_reason(aws, start, end):
    with pytest.raises(CharlaError) as refused:
        ranges.report(new_agent(), start, end)
    assert refused.value.code == "bad_request"


def test_a_90_day_report_reads_one_batch_whatever_the_traffic(day_of_chats):
    from functions.core import aws as charla_aws

    calls: list[str] = []
    events = charla_aws.dynamodb_connection().client.meta.events
    events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))
    ranges.report(day_of_chats, "2026-09-01", "2026-11-29", "team")
    assert calls == ["BatchGetItem"]


def test_csv_export_has_a_row_per_day(day_of_chats):
    text = ranges.to_csv(ranges.report(day_of_chats, "2026-11-20", "2026-11-21", "team"))
    lines = text.strip().splitlines()
    assert lines[0].startswith("day,chats,missed")
    assert lines[1].startswith("2026-11-20,3,1,0,60,340,1,1,50")
    assert lines[2].startswith("2026-11-21,0,0,0,,,0,0,")


def test_the_daily_summary_goes_out_once_in_the_chosen_hour(day_of_chats):
    boto3.client("ses", region_name="us-east-1").verify_domain_identity(Domain="example.com")
    settings.save_settings({"summary_hour": 8, "summary_timezone": "Europe/Madrid", "wait_threshold_s": 45})
    assert daily_summary.send_if_due(datetime(2026, 11, 21, 6, 30, tzinfo=UTC)) == 0  # 07:30 Madrid
    assert daily_summary.send_if_due(datetime(2026, 11, 21, 7, 30, tzinfo=UTC)) == 1  # 08:30 Madrid
    assert daily_summary.send_if_due(datetime(2026, 11, 21, 7, 45, tzinfo=UTC)) == 0  # already sent
    message = _sent()[-1]
    assert message["to"] == [f"{day_of_chats.id}@example.com"]
    assert "Chats handled:          3" in message["body"]
    assert "Missed chats:           1" in message["body"]
    assert "Your median first response was 60 s, above the team's 45 s target." in message["body"]
    assert DailyStat.get("2026-11-20", "summary-sent")


def test_admins_also_get_the_team_summary(aws):
    boto3.client("ses", region_name="us-east-1").verify_domain_identity(Domain="example.com")
    new_agent("Root", role="admin")
    assert daily_summary.send_for("2026-11-20") == 1
    assert "The team:" in _sent()[-1]["body"]


def _sent() -> list[dict]:
    return [json.loads(json.dumps({"to": m.destinations["ToAddresses"], "body": m.body})) for m in outbox.sent()]


def test_the_daily_summary_speaks_the_language_the_agent_chose_in_the_console(aws):
    from functions.team import members

    boto3.client("ses", region_name="us-east-1").verify_domain_identity(Domain="example.com")
    root, ana = new_agent("Root", role="admin"), new_agent("Ana")
    members.update_me(root, {"language": "es"})
    with pytest.raises(CharlaError):
        members.update_me(ana, {"language": "fr"})
    assert daily_summary.send_for("2026-11-20") == 2
    by_address = {m["to"][0]: m["body"] for m in _sent()[-2:]}
    spanish, english = by_address[f"{root.id}@example.com"], by_address[f"{ana.id}@example.com"]
    assert spanish.startswith("Hola, Root:") and "Chats atendidos:" in spanish and "El equipo:" in spanish
    assert "Nada que mejorar: ¡buen trabajo!" in spanish and "Chats handled" not in spanish
    assert english.startswith("Hello Ana,") and "Chats handled:          0" in english
