"""Canned responses: shared ones that admins manage, and each agent's own. Typed as `#shortcut`."""

from __future__ import annotations

import re

from functions.core import clock, data
from functions.core.errors import CharlaError, bad_request
from functions.core.principals import Principal
from functions.models import SHARED, CannedResponse
from functions.realtime import broadcast, connections

SHORTCUT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
MAX_TEXT = 2000


def _owner(principal: Principal, shared: bool) -> str:
    if shared and not principal.is_admin:
        raise CharlaError("forbidden", "Only admins manage shared canned responses.")
    return SHARED if shared else principal.id


def _shortcut(value: object) -> str:
    if not isinstance(value, str) or not SHORTCUT.match(value):
        raise bad_request("A shortcut is 1-32 lower-case letters, digits, _ or -, e.g. `refund`.", field="shortcut")
    return value


def view(item: CannedResponse) -> dict[str, object]:
    return {"shortcut": item.shortcut, "text": item.text, "shared": item.owner_id == SHARED}


def list_for(principal: Principal) -> list[dict[str, object]]:
    """The agent's own responses first, then the shared ones they don't override."""
    own = {c.shortcut: c for c in CannedResponse.query(principal.id)}
    shared = [c for c in CannedResponse.query(SHARED) if c.shortcut not in own]
    return [view(c) for c in sorted(own.values(), key=lambda c: c.shortcut)] + [view(c) for c in shared]


def save(principal: Principal, shortcut: object, body: dict[str, object]) -> dict[str, object]:
    text = body.get("text")
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
        raise bad_request(f"`text` must be non-empty text of at most {MAX_TEXT} characters.")
    shared = body.get("shared", False)
    if not isinstance(shared, bool):
        raise bad_request("`shared` must be true or false.")
    owner = _owner(principal, shared)
    item = CannedResponse(owner, _shortcut(shortcut), text=text, updated_at=clock.now_iso())
    item.save()
    if shared:
        _tell_agents({"type": "canned", "canned": view(item)})
    return view(item)


def delete(principal: Principal, shortcut: object, shared: bool) -> None:
    item = CannedResponse(_owner(principal, shared), _shortcut(shortcut))
    if not data.conditional(lambda: item.delete(condition=CannedResponse.shortcut.exists())):
        raise CharlaError("not_found", "No such canned response.")
    if shared:
        _tell_agents({"type": "canned", "canned": {"shortcut": item.shortcut, "shared": True}, "deleted": True})


def _tell_agents(frame: dict[str, object]) -> None:
    """Signed-in agents' suggestion lists follow a shared response at once (only admins change them, rarely)."""
    broadcast.to_connections(connections.agent_connection_ids(), frame)
