"""widget_gz_bytes and console_gz_bytes: the built static assets, each file gzipped at level 9.

Each file is compressed on its own, as a CDN serves it, and the sizes are summed. The widget's total
is what one visitor downloads, as widget/build.mjs counts it: loader, widget and stylesheet, plus
the largest of the language files (lang/<code>.js; a visitor gets only theirs). later.js (the offline
form and files in chats, fetched on first use) is reported beside it, not in it. `make bench`
builds the assets first (`npm run build`); run on its own, this reads whatever dist/ holds.
"""

from __future__ import annotations

import gzip
from pathlib import Path

from tests.bench.report import KB, Check, Figure, null

ROOT = Path(__file__).resolve().parents[2]
WIDGET = ROOT / "widget" / "dist"
CONSOLE = ROOT / "agent-ui" / "dist"
WIDGET_FILES = ("loader.js", "widget.js", "widget.css")


def gz_size(path: Path) -> int:
    # mtime=0: the size must not depend on when the file was built.
    return len(gzip.compress(path.read_bytes(), compresslevel=9, mtime=0))


def widget() -> Figure:
    missing = [name for name in WIDGET_FILES if not (WIDGET / name).is_file()]
    if missing:
        return null(
            "widget_gz_bytes",
            {"loader": None, "total": None},
            f"widget/dist lacks {', '.join(missing)}: run npm run build (make bench does)",
        )
    langs = sorted((WIDGET / "lang").glob("*.js"))
    if not langs:
        return null("widget_gz_bytes", {"loader": None, "total": None}, "widget/dist/lang is empty: run npm run build")
    sizes = {name: gz_size(WIDGET / name) for name in WIDGET_FILES}
    lang_sizes = {f"lang/{p.name}": gz_size(p) for p in langs}
    loader, total = sizes["loader.js"], sum(sizes.values()) + max(lang_sizes.values())
    sizes |= lang_sizes
    later = WIDGET / "later.js"
    return Figure(
        "widget_gz_bytes",
        {"loader": loader, "total": total},
        checks=[Check("loader.js gz bytes", loader, 1.5 * KB), Check("total gz bytes", total, 15 * KB)],
        details=[", ".join(f"{name} {size} B" for name, size in sizes.items())]
        + (
            [f"later.js {gz_size(later)} B, fetched on first use (the offline form, files in chats)"]
            if later.is_file()
            else []
        ),
    )


def console() -> Figure:
    files = sorted(p for p in CONSOLE.rglob("*") if p.is_file()) if CONSOLE.is_dir() else []
    if not files:
        return null("console_gz_bytes", None, "agent-ui/dist is empty: run npm run build (make bench does)")
    sizes = {p.relative_to(CONSOLE).as_posix(): gz_size(p) for p in files}
    total = sum(sizes.values())
    return Figure(
        "console_gz_bytes",
        total,
        checks=[Check("gz bytes", total, 150 * KB)],
        details=[", ".join(f"{name} {size} B" for name, size in sizes.items())],
    )


def run() -> list[Figure]:
    return [widget(), console()]
