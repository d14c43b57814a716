"""Static files: the demo website, the widget, the agent console and their runtime.json."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from aiohttp import web

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self' ws: wss:; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
DEMO_DIR = Path(__file__).parent / "demo"
# The widget is fetched from customers' sites, so its files (and the CDN serving them on AWS) must
# answer cross-origin requests.
_PUBLIC_CORS = {"Access-Control-Allow-Origin": "*"}
_NOT_BUILT = (
    "{name} is not built: {folder} is missing.\n"
    "Run the asset build (make assets, i.e. npm run build) and reload this page.\n"
)


def html_headers(csp: str = CSP) -> dict[str, str]:
    return {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-cache",
    }


def demo_csp(widget_origin: str, ws_origin: str, storage_origin: str | None = None) -> str:
    """The demo site's policy: the standard one, plus the widget's origin and the object store.

    The demo page plays a customer's site, which must allow the widget's origin, and (for files in
    chats: uploads and thumbnails) the attachments bucket, as the README's embedding notes say.
    Reached at the same origin this adds nothing; reached as localhost (allowed too) it keeps the
    widget working cross-origin, as it runs on a real site.
    """
    storage = f" {storage_origin}" if storage_origin else ""
    extra = {
        "script-src": widget_origin,
        "style-src": widget_origin,
        "img-src": widget_origin + storage,
        "connect-src": f"{widget_origin} {ws_origin}{storage}",
    }
    parts = []
    for part in CSP.split("; "):
        name = part.split(" ", 1)[0]
        parts.append(f"{part} {extra[name]}" if name in extra else part)
    return "; ".join(parts)


def console_csp(storage_origin: str | None) -> str:
    """The console's policy, plus the object store that presigned uploads and downloads go to.

    On AWS the CloudFront policy names the attachments bucket; locally that store is moto's S3.
    """
    if not storage_origin:
        return CSP
    return CSP.replace("connect-src 'self' ws: wss:", f"connect-src 'self' ws: wss: {storage_origin}").replace(
        "img-src 'self' data:", f"img-src 'self' data: {storage_origin}"
    )


class StaticSite:
    """The API's origin (the console, the widget's files, runtime.json) and, on an origin of its own,
    the demo site: a customer's page embedding the widget by its one-line snippet, cross-origin as on
    AWS, where the widget and API sit behind CloudFront and the customer's site is elsewhere.
    """

    def __init__(
        self, root: Path, base_url: str, ws_url: str, storage_origin: str | None = None, demo_url: str | None = None
    ) -> None:
        self._demo_url = demo_url
        self._console_csp = console_csp(storage_origin)
        self._widget = root / "widget" / "dist"
        self._agent = root / "agent-ui" / "dist"
        self._base_url = base_url
        self._runtime = {"api": f"{base_url}/api", "ws": ws_url}
        ws_origin = ws_url.rsplit("/", 1)[0]
        self._demo_csp = demo_csp(base_url, ws_origin, storage_origin)

    def routes(self) -> list[web.RouteDef]:
        demo = (self.demo_redirect, self.demo_redirect) if self._demo_url else (self.demo, self.demo_asset)
        home = [web.get("/", demo[0]), web.get("/demo/{path:.+}", demo[1])]
        return [
            *home,
            web.get("/widget/runtime.json", self.widget_runtime),
            web.get("/agent/runtime.json", self.runtime),
            web.get("/widget/{path:.*}", self.widget),
            web.get("/agent", self.agent_redirect),
            web.get("/agent/{path:.*}", self.agent),
        ]

    def demo_routes(self) -> list[web.RouteDef]:
        """The demo site's own origin."""
        return [web.get("/", self.demo), web.get("/demo/{path:.+}", self.demo_asset)]

    async def demo_redirect(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(f"{self._demo_url}{request.rel_url.raw_path}{_query(request)}")

    async def demo(self, request: web.Request) -> web.Response:
        template = (DEMO_DIR / "index.html").read_text(encoding="utf-8")
        page = template.replace("{{LOADER_URL}}", f"{self._base_url}/widget/loader.js")
        return web.Response(text=page, content_type="text/html", headers=html_headers(self._demo_csp))

    async def demo_asset(self, request: web.Request) -> web.StreamResponse:
        return _file(DEMO_DIR, request.match_info["path"], "The demo site")

    async def runtime(self, request: web.Request) -> web.Response:
        return web.json_response(self._runtime, headers={"Cache-Control": "no-cache"})

    async def widget_runtime(self, request: web.Request) -> web.Response:
        response = await self.runtime(request)
        response.headers.update(_PUBLIC_CORS)
        return response

    async def widget(self, request: web.Request) -> web.StreamResponse:
        response = _file(self._widget, request.match_info["path"], "The widget")
        response.headers.update(_PUBLIC_CORS)
        return response

    async def agent_redirect(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPMovedPermanently("/agent/")

    async def agent(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["path"]
        # The console routes on the client; an extension-less path is one of its pages.
        if not path or "." not in path.rsplit("/", 1)[-1]:
            path = "index.html"
        return _file(self._agent, path, "The agent console", csp=self._console_csp)


def _file(folder: Path, relative: str, name: str, csp: str = CSP) -> web.StreamResponse:
    if not folder.is_dir():
        return web.Response(
            status=503,
            text=_NOT_BUILT.format(name=name, folder=_shown(folder)),
            headers={"X-Content-Type-Options": "nosniff", "Retry-After": "5"},
        )
    base = folder.resolve()
    target = (base / (relative or "index.html")).resolve()
    if target.is_dir():
        target = target / "index.html"
    if base not in target.parents or not target.is_file():
        raise web.HTTPNotFound()
    content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}
    if content_type == "text/html":
        headers = html_headers(csp)
    if content_type in ("application/javascript", "text/javascript"):
        headers["Content-Type"] = "text/javascript; charset=utf-8"
    else:
        headers["Content-Type"] = content_type
    return web.FileResponse(target, headers=headers)


def _query(request: web.Request) -> str:
    query = request.rel_url.raw_query_string
    return f"?{query}" if query else ""


def _shown(folder: Path) -> str:
    # Relative to the repo, so no machine's layout leaks into a page or a log.
    return f"{folder.parent.name}/{folder.name}/"
