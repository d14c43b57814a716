"""host_page_load_delay_ms: how much the widget snippet delays a host page's `load` event; and
host_page_blocking_ms: the main-thread time it adds to the page.

The demo site's page is served twice by a tiny server of our own on 127.0.0.1: once as is, with
`<script async src="/widget/loader.js">`, and once without that line. Chromium loads each in a new
browser context (an empty cache: a first visit), alternating A/B; the figure is the median of
`loadEventStart` with the snippet minus the median without it. The loader itself waits for `load`
before doing anything, so what it can cost a host page is fetching and running loader.js.

host_page_blocking_ms loads each page the same way, A/B alternating, and reads Chromium's own
accounting of the page's main thread through the DevTools protocol (`Performance.getMetrics`)
SETTLE_MS after `load`, when the loader has run: `ScriptDuration` (script evaluation) and
`TaskDuration` (every task on the main thread: script evaluation, parsing, style, layout), with a
`longtask` PerformanceObserver beside them. The figure is what the budget defines: the median of
the paired differences of script evaluation plus long tasks' time, with and without the snippet.
All task time's paired difference (everything the snippet made the main thread do, long or short)
is reported beside it. (The local server has no API, so the loader's calls fail fast and the widget itself
is not fetched: it loads later, on a hover or about 5 s after the page, and is not counted here.)
"""

from __future__ import annotations

import mimetypes
import statistics
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.bench.report import Check, Figure, null

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "infra" / "local" / "demo"
WIDGET = ROOT / "widget" / "dist"
CHROMIUM = Path("/usr/bin/chromium")  # Debian's; Playwright's own download doesn't work here
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
RUNS = 15
WARMUP = 2
BLOCKING_RUNS = 11
SETTLE_MS = 1000  # after `load`: the loader has run (it waits for `load`, then a tick)
# Every long task's duration, from the start: the observer is installed before any page script.
LONG_TASKS = (
    "window.__charlaLongTasks = [];"
    "new PerformanceObserver((list) => {"
    " for (const e of list.getEntries()) window.__charlaLongTasks.push(e.duration); })"
    ".observe({ type: 'longtask', buffered: true });"
)
SNIPPET = '<script async src="{{LOADER_URL}}"></script>'


def pages() -> dict[str, bytes]:
    template = (DEMO / "index.html").read_text(encoding="utf-8")
    if SNIPPET not in template:
        raise RuntimeError(f"the demo page no longer holds the snippet {SNIPPET!r}")
    return {
        "/with.html": template.replace("{{LOADER_URL}}", "/widget/loader.js").encode(),
        "/without.html": template.replace(SNIPPET, "").encode(),
    }


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as any real host page gets
    pages: dict[str, bytes] = {}

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        body, kind = self.pages.get(path), "text/html; charset=utf-8"
        if body is None:
            for prefix, folder in (("/widget/", WIDGET), ("/demo/", DEMO)):
                name = path.removeprefix(prefix)
                if path.startswith(prefix) and "/" not in name and (folder / name).is_file():
                    body = (folder / name).read_bytes()
                    kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: 60 page loads would bury the table


@contextmanager
def serve() -> Iterator[str]:
    handler = type("Handler", (_Handler,), {"pages": pages()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _load_ms(browser: Any, url: str) -> float:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(url, wait_until="load")
        # The loader defines window.Charla: proof that the "with" page really ran the snippet.
        if page.evaluate("!!window.Charla") != url.endswith("/with.html"):
            raise RuntimeError(f"{url}: the widget loader ran where it shouldn't, or didn't where it should")
        return float(page.evaluate("performance.getEntriesByType('navigation')[0].loadEventStart"))
    finally:
        context.close()


def _main_thread_ms(browser: Any, url: str) -> dict[str, float]:
    """Chromium's main-thread task and script time for one first visit, SETTLE_MS after `load`."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.add_init_script(LONG_TASKS)
        devtools = context.new_cdp_session(page)
        devtools.send("Performance.enable", {"timeDomain": "threadTicks"})
        page.goto(url, wait_until="load")
        page.wait_for_timeout(SETTLE_MS)
        metrics = {m["name"]: m["value"] for m in devtools.send("Performance.getMetrics")["metrics"]}
        long_tasks = page.evaluate("window.__charlaLongTasks")
        if page.evaluate("!!window.Charla") != url.endswith("/with.html"):
            raise RuntimeError(f"{url}: the widget loader ran where it shouldn't, or didn't where it should")
        return {
            "task": metrics["TaskDuration"] * 1000,
            "script": metrics["ScriptDuration"] * 1000,
            "long": float(sum(long_tasks)),
            "long_count": float(len(long_tasks)),
        }
    finally:
        context.close()


def _blocking(browser: Any, base: str) -> Figure:
    runs: dict[str, list[dict[str, float]]] = {"with": [], "without": []}
    for _ in range(WARMUP):
        _main_thread_ms(browser, base + "/with.html")
        _main_thread_ms(browser, base + "/without.html")
    for n in range(BLOCKING_RUNS):
        for which in ("with", "without") if n % 2 == 0 else ("without", "with"):
            runs[which].append(_main_thread_ms(browser, f"{base}/{which}.html"))

    def paired(field: str) -> float:
        return statistics.median(a[field] - b[field] for a, b in zip(runs["with"], runs["without"], strict=True))

    def median(which: str, field: str) -> float:
        return statistics.median(r[field] for r in runs[which])

    # The budget's definition (issue and ../shared/DESIGN.md): long tasks plus script evaluation. All
    # task time (style, layout and parsing too) is reported beside it.
    for run in runs["with"] + runs["without"]:
        run["blocking"] = run["script"] + run["long"]
    blocking = round(paired("blocking"), 1)
    return Figure(
        "host_page_blocking_ms",
        blocking,
        checks=[Check("paired median of script evaluation plus long tasks added", blocking, 10)],
        details=[
            f"script evaluation added {paired('script'):.1f} ms (paired); all main-thread task time, median of "
            f"{BLOCKING_RUNS} each: with {median('with', 'task'):.1f} ms, without {median('without', 'task'):.1f} ms, "
            f"added {paired('task'):.1f} ms (paired: script, parsing, style and layout)",
            f"long tasks (over 50 ms): with {median('with', 'long_count'):.0f} "
            f"totalling {median('with', 'long'):.0f} ms, "
            f"without {median('without', 'long_count'):.0f} totalling {median('without', 'long'):.0f} ms (medians)",
        ],
    )


def run() -> list[Figure]:
    key = "host_page_load_delay_ms"
    if not (WIDGET / "loader.js").is_file():
        reason = "widget/dist/loader.js is missing: run npm run build (make bench does)"
        return [null(key, None, reason), null("host_page_blocking_ms", None, reason)]
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: apt-get install chromium"
        return [null(key, None, reason), null("host_page_blocking_ms", None, reason)]
    from playwright.sync_api import sync_playwright

    with_ms: list[float] = []
    without_ms: list[float] = []
    with serve() as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            for _ in range(WARMUP):
                _load_ms(browser, base + "/with.html")
                _load_ms(browser, base + "/without.html")
            for n in range(RUNS):
                order = ("with", "without") if n % 2 == 0 else ("without", "with")
                for which in order:
                    (with_ms if which == "with" else without_ms).append(_load_ms(browser, f"{base}/{which}.html"))
            blocking = _blocking(browser, base)
        finally:
            browser.close()
    with_median, without_median = statistics.median(with_ms), statistics.median(without_ms)
    paired = statistics.median(a - b for a, b in zip(with_ms, without_ms, strict=True))
    return [
        Figure(
            key,
            round(with_median - without_median, 1),
            details=[
                f"load event, median of {RUNS} each: with {with_median:.1f} ms, without {without_median:.1f} ms "
                f"(median of paired differences {paired:.1f} ms); no budget in DESIGN.md",
            ],
        ),
        blocking,
    ]
