"""Turns a built site (widget/dist, agent-ui/dist) into the objects to upload.

Files with a stable URL, the *entries* (the loader that sites embed, the console's index.html,
runtime.json), get a short cache lifetime. Every other file gets its content hash in its name and
is cached for a year as immutable; the entries are rewritten to point at the hashed names. So a
deploy is visible within minutes, and a browser never mixes an old loader with a new widget.

The front-end build emits plain names (widget.js), and the local stack serves them as such; the
hashing happens here, at upload time, so the two builds stay one.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path

IMMUTABLE = "public, max-age=31536000, immutable"
# The loader is fetched on every page view of every site that embeds Charla: five minutes keeps
# it cheap while a new release still reaches visitors quickly.
LOADER = "public, max-age=300"
# Small and always revalidated (ETag), so a deploy takes effect on the next load.
REVALIDATE = "no-cache"

CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
    ".woff2": "font/woff2",
}

RUNTIME = "runtime.json"


@dataclass(frozen=True)
class Asset:
    key: str
    body: bytes
    content_type: str
    cache_control: str
    # A stable URL whose old copy CloudFront must forget when it changes. Hashed names never do.
    stable: bool

    @property
    def md5(self) -> str:
        return hashlib.md5(self.body, usedforsecurity=False).hexdigest()


@dataclass(frozen=True)
class Site:
    """Where a site goes: its folder in the bucket, and which of its files are entries."""

    prefix: str
    entries: tuple[str, ...]
    entry_cache: str


WIDGET = Site(prefix="widget", entries=("loader.js",), entry_cache=LOADER)
CONSOLE = Site(prefix="agent", entries=("index.html",), entry_cache=REVALIDATE)


def content_type(name: str) -> str:
    suffix = Path(name).suffix.lower()
    return CONTENT_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def hashed_name(name: str, body: bytes) -> str:
    """`widget.js` -> `widget.1a2b3c4d5e.js`; the same content always gets the same name."""
    path = Path(name)
    digest = hashlib.sha256(body).hexdigest()[:10]
    return str(path.with_name(f"{path.stem}.{digest}{path.suffix}"))


def _reference(name: str) -> re.Pattern[bytes]:
    # A quoted name, optionally "./"-relative: `t.src=i+"widget.js"`, `<script src="app.js">`.
    return re.compile(rb"""(["'])(\./)?""" + re.escape(name.encode()) + rb"""\1""")


def runtime_config(public_url: str, websocket_url: str) -> dict[str, str]:
    """The same shape the local stack serves: REST base (no trailing slash) and WebSocket URL."""
    return {"api": public_url.rstrip("/") + "/api", "ws": websocket_url.rstrip("/")}


def plan(dist: Path, site: Site, runtime: dict[str, str]) -> list[Asset]:
    """The objects of one site, in upload order: hashed files first, entries and runtime.json last.

    Uploading entries last means an entry never points at a file that is not there yet.
    """
    if not dist.is_dir():
        raise FileNotFoundError(f"{dist.parent.name}/{dist.name} is missing: run `make assets` first")
    files = {
        path.relative_to(dist).as_posix(): path.read_bytes()
        for path in sorted(dist.rglob("*"))
        if path.is_file() and path.name != RUNTIME
    }
    missing = [entry for entry in site.entries if entry not in files]
    if missing:
        raise FileNotFoundError(f"{dist.name} has no {', '.join(missing)}: is the build complete?")

    others = [name for name in files if name not in site.entries]
    patterns = {name: _reference(name) for name in others}
    refs = {name: {o for o in others if o != name and patterns[o].search(body)} for name, body in files.items()}
    # Hash what an entry loads, directly or through another hashed file. Anything else is loaded
    # some way this cannot see (built at run time, a font in CSS): renaming it would break that.
    reachable: set[str] = set()
    todo = [ref for entry in site.entries for ref in refs[entry]]
    while todo:
        name = todo.pop()
        if name not in reachable:
            reachable.add(name)
            todo.extend(refs[name])

    renamed: dict[str, str] = {}
    bodies: dict[str, bytes] = {}

    def rewrite(name: str) -> bytes:
        body = files[name]
        for ref in sorted(refs[name] & reachable):
            # Keep the quote and drop a "./": `"widget.js"` -> `"widget.1a2b3c4d5e.js"`.
            body = patterns[ref].sub(rb"\1" + renamed[ref].encode() + rb"\1", body)
        return body

    def resolve(name: str, chain: tuple[str, ...] = ()) -> None:
        # Leaves first: a file's hash covers the hashed names it refers to.
        if name in renamed:
            return
        if name in chain:
            raise ValueError(f"{dist.name}: files refer to each other in a cycle: {' -> '.join(chain)}")
        for ref in sorted(refs[name] & reachable):
            resolve(ref, (*chain, name))
        bodies[name] = rewrite(name)
        renamed[name] = hashed_name(name, bodies[name])

    for name in sorted(reachable):
        resolve(name)

    def asset(name: str, body: bytes, cache: str, stable: bool) -> Asset:
        return Asset(f"{site.prefix}/{name}", body, content_type(name), cache, stable)

    planned = [asset(renamed[n], bodies[n], IMMUTABLE, False) for n in sorted(reachable)]
    planned += [asset(n, rewrite(n), LOADER, True) for n in others if n not in reachable]
    planned += [asset(n, rewrite(n), site.entry_cache, True) for n in site.entries]
    config = json.dumps(runtime, indent=2, sort_keys=True).encode() + b"\n"
    planned.append(asset(RUNTIME, config, REVALIDATE, True))
    return planned
