"""The organisation's tag list: admins name tags and give them colours; agents put them on chats and tickets.

The list is one item (`TagList`), so reading it is one GetItem and every change is one write conditional
on the `version` it read: two admins adding "Billing" and "billing" at once cannot both win. Names are
unique ignoring case. Chats and tickets hold tag ids, so a rename or a new colour shows everywhere at once;
a deleted tag's id may stay on old chats and tickets, where views and filters simply no longer name it.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from functions.core import aws, clock, data, text, untrusted
from functions.core.errors import CharlaError, bad_request
from functions.core.instance_cache import InstanceCache
from functions.models import TAG_LIST, TagList

MAX_TAGS = 100
MAX_NAME = 40
# The console's palette: a tag's colour is one of these names or a `#rrggbb` of the admin's own.
PALETTE = {
    "gray": "#6b7280",
    "red": "#dc2626",
    "orange": "#ea580c",
    "amber": "#d97706",
    "green": "#16a34a",
    "teal": "#0d9488",
    "blue": "#2563eb",
    "purple": "#7c3aed",
    "pink": "#db2777",
}
HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
TAG_ID = re.compile(r"^tag_[0-9a-f]{10}$")


def _load() -> dict[str, dict[str, Any]]:
    return _stored(consistent=False).tags.as_dict()


_cache: InstanceCache[dict[str, dict[str, Any]]] = InstanceCache(_load)


@aws.on_reset
def forget() -> None:
    _cache.forget()


def _stored(*, consistent: bool) -> TagList:
    try:
        return TagList.get(TAG_LIST, consistent_read=consistent)
    except TagList.DoesNotExist:
        return TagList(TAG_LIST, tags={}, version=0)


# --- reading -------------------------------------------------------------------------------------


def view(tag_id: str, tag: dict[str, Any]) -> dict[str, Any]:
    return {"id": tag_id, "name": tag["name"], "color": tag["color"]}


def _sorted(tags: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [view(i, t) for i, t in sorted(tags.items(), key=lambda kv: (kv[1]["name"].casefold(), kv[0]))]


def list_view() -> dict[str, Any]:
    """Every tag, by name, as stored now: what a console shows and picks from. A consistent read (one
    small item, once per console load), because an instance's cached copy may predate the change an
    admin just made through another instance."""
    return {"tags": _sorted(_stored(consistent=True).tags.as_dict()), "palette": PALETTE}


def named(tag_ids: object) -> list[dict[str, Any]]:
    """Tag ids as `{id, name, color}`, by name; ids of deleted tags are left out (webhook payloads)."""
    if not isinstance(tag_ids, (list, set, tuple, frozenset)):
        return []
    tags = _cache.get()
    if any(i not in tags for i in tag_ids):
        tags = _stored(consistent=True).tags.as_dict()  # made since this instance's copy, or deleted
    return _sorted({i: tags[i] for i in tag_ids if i in tags})


def check_ids(value: object, field: str, *, known: bool) -> set[str]:
    """A list of tag ids from a request. `known`: each must name a tag that exists now (a consistent read)."""
    if value is None:
        return set()
    if not isinstance(value, list) or len(value) > MAX_TAGS or any(not isinstance(v, str) for v in value):
        raise bad_request(f"`{field}` must be a list of at most {MAX_TAGS} tag ids.")
    ids = set(value)
    if any(not TAG_ID.match(v) for v in ids):
        raise bad_request(f"`{field}` holds something that is not a tag id.", field=field)
    if known and ids:
        tags = _stored(consistent=True).tags.as_dict()
        unknown = sorted(ids - set(tags))
        if unknown:
            raise bad_request(f"`{field}` names tags that don't exist: {', '.join(unknown)}.", field=field)
    return ids


def check_filter(value: object) -> str | None:
    """The `tag` query parameter of lists and reports: one existing tag's id, or nothing."""
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not TAG_ID.match(value):
        raise bad_request("`tag` must be the id of an existing tag.", field="tag")
    # A tag made a moment ago may be missing from this instance's copy: only then read the list afresh.
    if value not in _cache.get() and value not in _stored(consistent=True).tags.as_dict():
        raise bad_request("`tag` must be the id of an existing tag.", field="tag")
    return value


# --- changing (admins) ---------------------------------------------------------------------------


def _name(value: object) -> str:
    raw = untrusted.text(value, "name", 200, required=True)
    name = text.one_line(str(raw), 200)
    if not name or len(name) > MAX_NAME:
        raise bad_request(f"`name` must be 1 to {MAX_NAME} characters on one line.", field="name")
    return name


def _color(value: object) -> str:
    if isinstance(value, str) and value in PALETTE:
        return PALETTE[value]
    if isinstance(value, str) and HEX_COLOR.match(value):
        return value.lower()
    raise bad_request(f"`color` must be one of {', '.join(PALETTE)} or a colour like #1a2b3c.", field="color")


def _unique(tags: dict[str, dict[str, Any]], name: str, tag_id: str | None) -> None:
    key = name.casefold()
    if any(t["name"].casefold() == key for i, t in tags.items() if i != tag_id):
        raise CharlaError("name_taken", f"A tag named {name!r} exists already.", field="name")


def _write(change: Any) -> dict[str, Any]:
    """Reads the list, applies `change` (which returns the changed tag's view, or None), and writes it only
    if nobody changed the list meanwhile; a lost race reads again and re-checks."""
    for _attempt in data.attempts(busy_message="The tag list is busy; try again."):
        item = _stored(consistent=True)
        seen = int(item.version or 0)
        tags = item.tags.as_dict()
        result = change(tags)
        item.tags = tags
        item.version = seen + 1
        item.updated_at = clock.now_iso()
        condition = TagList.list_id.does_not_exist() if seen == 0 else TagList.version == seen
        if data.conditional(lambda: item.save(condition=condition)):  # noqa: B023 (called at once)
            forget()
            return dict(result or {})
    raise AssertionError("unreachable")  # data.attempts raises when the attempts run out


def create(body: dict[str, Any]) -> dict[str, Any]:
    text.reject_unknown_fields(body, {"name", "color"})
    name, color = _name(body.get("name")), _color(body.get("color", "gray"))

    def add(tags: dict[str, dict[str, Any]]) -> dict[str, Any]:
        _unique(tags, name, None)
        if len(tags) >= MAX_TAGS:
            raise CharlaError("conflict", f"At most {MAX_TAGS} tags; delete one first.")
        tag_id = "tag_" + secrets.token_hex(5)
        tags[tag_id] = {"name": name, "color": color, "created_at": clock.now_iso()}
        return view(tag_id, tags[tag_id])

    return _write(add)


def update(tag_id: str, body: dict[str, Any]) -> dict[str, Any]:
    text.reject_unknown_fields(body, {"name", "color"})
    if not body:
        raise bad_request("Send `name`, `color` or both.", field="name")
    name = _name(body["name"]) if "name" in body else None
    color = _color(body["color"]) if "color" in body else None

    def change(tags: dict[str, dict[str, Any]]) -> dict[str, Any]:
        if tag_id not in tags:
            raise CharlaError("not_found", "No such tag.")
        if name is not None:
            _unique(tags, name, tag_id)
            tags[tag_id]["name"] = name
        if color is not None:
            tags[tag_id]["color"] = color
        return view(tag_id, tags[tag_id])

    return _write(change)


def delete(tag_id: str) -> None:
    """Removes the tag from the list; chats and tickets that carry its id no longer show it."""

    def remove(tags: dict[str, dict[str, Any]]) -> None:
        if tags.pop(tag_id, None) is None:
            raise CharlaError("not_found", "No such tag.")

    _write(remove)
