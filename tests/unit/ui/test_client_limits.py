"""What the widget and the console check before sending is exactly what the server enforces.

The browser checks first so a person sees the problem at once, but the server's rule is the one that
counts: each client-side copy of a limit is read from its source here and compared with the server's.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from functions.admin import settings_checks
from functions.core import text
from functions.core.errors import CharlaError
from functions.helpdesk import offline_form

ROOT = Path(__file__).resolve().parents[3]


def source(path: str) -> str:
    return (ROOT / path).read_text(encoding="utf-8")


def test_the_widgets_email_pattern_is_the_servers():
    literal = re.search(r"^const EMAIL = /(.+)/;", source("widget/src/widget.js"), re.M)
    assert literal and literal.group(1) == text.EMAIL.pattern


def test_the_widgets_offline_form_limits_are_the_servers():
    found = re.search(r"^const MAX = (\{[^}]*\});", source("widget/src/offline.js"), re.M)
    assert found
    as_json = re.sub(r"(\w+):", r'"\1":', found.group(1))
    assert json.loads(as_json) == offline_form.LIMITS


def test_the_console_settings_forms_number_ranges_are_the_servers():
    block = re.search(r"^const NUMBERS = \[(.*?)^\];", source("agent-ui/src/admin_settings.js"), re.M | re.S)
    assert block
    ranges = re.findall(r"\['(\w+)', (\d+), (\d+)\]", block.group(1))
    assert len(ranges) >= 5
    for key, low, high in ranges:
        low, high = int(low), int(high)
        assert settings_checks.validate({key: low})[key] == low
        assert settings_checks.validate({key: high})[key] == high
        for outside in (low - 1, high + 1):
            with pytest.raises(CharlaError):
                settings_checks.validate({key: outside})


def test_the_console_offline_form_editor_allows_the_servers_field_count():
    found = re.search(r"^const MAX_FIELDS = (\d+);", source("agent-ui/src/admin_settings.js"), re.M)
    assert found and int(found.group(1)) == offline_form.MAX_FIELDS
