"""The widget and the console never turn strings into markup: no HTML sinks in their sources."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SOURCES = sorted([*ROOT.glob("widget/src/**/*.js"), *ROOT.glob("agent-ui/src/**/*.js"), *ROOT.glob("ui-common/*.js")])
# Each of these parses a string as HTML or script; untrusted text would become live markup.
SINKS = re.compile(
    r"\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write|\beval\s*\(|new\s+Function\s*\("
    r"|setTimeout\(\s*['\"`]|createContextualFragment|DOMParser"
)


def test_there_are_sources_to_check():
    assert len(SOURCES) > 20


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_source_uses_an_html_sink(source: Path):
    offending = [
        f"{number}: {line.strip()}"
        for number, line in enumerate(source.read_text().splitlines(), start=1)
        if SINKS.search(line)
    ]
    assert offending == []
