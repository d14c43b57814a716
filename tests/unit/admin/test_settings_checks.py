"""Admin settings: strict validation per key, unknown keys named, and changes live within 60 s."""

from __future__ import annotations

import time

import pytest

from functions.admin import settings_checks
from functions.core import instance_cache, settings
from functions.core.errors import CharlaError
from functions.models import Settings
from tests.support.admin import add_user, body, call, login, status

VALID = {
    "prechat": "name_email",
    "max_chats_per_agent": 50,
    "wait_threshold_s": 1,
    "unanswered_timeout_s": 90,
    "queue_timeout_min": 10,
    "idle_timeout_min": 45,
    "sneak_peek": False,
    "allowed_origins": ["https://Shop.Example/", "http://localhost:8000", "https://shop.example:443"],
    "color": "#A1B2C3",
    "position": "left",
    "welcome": "Hola 👋",
    "language": "es",
    "summary_hour": 0,
    "summary_timezone": "Europe/Madrid",
    "support_email": "help@shop.example",
    "offline_form_fields": [
        {"name": "email", "label": "Email", "type": "email", "required": True},
        {"name": "order", "label": "Order number", "type": "text", "required": False},
    ],
    "greetings": [{"url_contains": "/pricing", "after_seconds": 20, "message": "Questions?", "max_times": 1}],
}

INVALID = [
    ("prechat", "name"),
    ("max_chats_per_agent", 0),
    ("max_chats_per_agent", 51),
    ("max_chats_per_agent", 2.5),
    ("max_chats_per_agent", True),
    ("max_chats_per_agent", "3"),
    ("wait_threshold_s", 0),
    ("unanswered_timeout_s", -5),
    ("queue_timeout_min", 0),
    ("idle_timeout_min", 0),
    ("sneak_peek", "yes"),
    ("sneak_peek", 1),
    ("allowed_origins", "https://shop.example"),
    ("allowed_origins", ["https://shop.example/path"]),
    ("allowed_origins", ["https://shop.example?x=1"]),
    ("allowed_origins", ["shop.example"]),
    ("allowed_origins", ["ftp://shop.example"]),
    ("allowed_origins", ["https://user@shop.example"]),
    ("allowed_origins", ["https://shop.example:http"]),
    ("allowed_origins", ["https://"]),
    ("allowed_origins", ["https://shop example"]),
    ("allowed_origins", [f"https://s{n}.example" for n in range(51)]),
    ("color", "blue"),
    ("color", "#abc"),
    ("color", "#12345g"),
    ("position", "middle"),
    ("welcome", "x" * 301),
    ("welcome", None),
    ("language", "fr"),
    ("summary_hour", 24),
    ("summary_hour", -1),
    ("summary_timezone", "Mars/Olympus"),
    ("summary_timezone", "../../etc/passwd"),
    ("summary_timezone", ""),
    ("support_email", "not an email"),
    ("offline_form_fields", []),
    ("offline_form_fields", [{"name": "x", "label": "X", "type": "select", "required": True}]),
    ("greetings", {"url_contains": "/"}),
    ("greetings", [{"url_contains": "/", "after_seconds": 5, "message": "Hi"}]),
    ("greetings", [{"url_contains": "/", "after_seconds": -1, "message": "Hi", "max_times": 1}]),
    ("greetings", [{"url_contains": "/", "after_seconds": 5, "message": "", "max_times": 1}]),
    ("greetings", [{"url_contains": "/", "after_seconds": 5, "message": "Hi", "max_times": 0}]),
    ("greetings", [{"url_contains": "/", "after_seconds": 5, "message": "Hi", "max_times": 1, "x": 1}]),
]


def test_every_setting_has_a_checker():
    assert set(settings_checks.CHECKS) == set(settings.DEFAULTS)


def test_valid_values_are_accepted_and_normalised():
    clean = settings_checks.validate(VALID)
    assert clean["allowed_origins"] == ["https://shop.example", "http://localhost:8000"]
    assert clean["color"] == "#a1b2c3"
    assert clean["greetings"] == VALID["greetings"] and clean["welcome"] == "Hola 👋"
    for key, value in settings.DEFAULTS.items():  # the defaults pass their own checks
        settings_checks.validate({key: value})


def test_invalid_values_are_refused_naming_the_setting():
    for key, value in INVALID:
        with pytest.raises(CharlaError) as refused:
            settings_checks.validate({key: value})
        assert refused.value.http_status == 400, (key, value)
        assert key in refused.value.message, (key, refused.value.message)


def test_unknown_and_empty_changes_are_refused():
    with pytest.raises(CharlaError) as refused:
        settings_checks.validate({"colour": "#000000", "max_chats": 3, "color": "#000000"})
    assert refused.value.message == "Unknown settings: colour, max_chats."
    with pytest.raises(CharlaError):
        settings_checks.validate({})


def test_an_admin_reads_and_changes_settings(api, pool):
    add_user(pool, "boss@example.com", "Boss", role="admin")
    token = login(api, "boss@example.com")["id_token"]
    current = body(call(api, "GET", "/admin/settings", token))
    assert current == settings.DEFAULTS
    response = call(api, "PATCH", "/admin/settings", token, {"max_chats_per_agent": 5, "position": "left"})
    assert response.status_code == 200
    changed = body(response)
    assert changed == {**settings.DEFAULTS, "max_chats_per_agent": 5, "position": "left"}
    assert body(call(api, "GET", "/widget/settings"))["position"] == "left"
    refused = call(api, "PATCH", "/admin/settings", token, {"max_chats_per_agent": 500, "position": "left"})
    assert refused.status_code == 400 and "max_chats_per_agent" in body(refused)["Message"]
    assert body(call(api, "GET", "/admin/settings", token))["position"] == "left"  # nothing half-applied
    assert status(api, "PATCH", "/admin/settings", token, {"bogus": 1}) == 400


def test_a_change_reaches_other_lambda_instances_within_a_minute(aws, monkeypatch):
    assert settings.get_settings()["max_chats_per_agent"] == 3  # this instance caches the defaults
    # Another instance saves: the table changes, this instance's cache doesn't hear of it.
    Settings("org", values={"max_chats_per_agent": 7}, updated_at="2024-01-01T00:00:00.000Z").save()
    assert settings.get_settings()["max_chats_per_agent"] == 3
    later = time.monotonic() + instance_cache.SECONDS + 0.1
    monkeypatch.setattr(instance_cache.time, "monotonic", lambda: later)
    assert settings.get_settings()["max_chats_per_agent"] == 7
