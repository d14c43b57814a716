"""Groups (departments such as Sales or Support): who takes a group's chats.

All groups live in one settings item (`groups`): a small map an admin edits, read whole by a single
GetItem where a chat's group matters (starting a chat, the queue, transfers, sweeps), never on the
message path, which reads the group's id and name from the chat itself. Every change is a write
conditional on the item's `updated_at`, so two admins editing at once never lose each other's change.

A chat with a group goes only to the group's members; a chat without one goes to anyone, as in an
installation with no groups.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from functools import partial
from typing import Any

from pynamodb.exceptions import DoesNotExist

from functions.core import clock, data, text
from functions.core.errors import CharlaError, bad_request
from functions.core.principals import Principal
from functions.models import Agent, Settings

ITEM = "groups"  # the settings item: values = {group id: {name, members, created_at}}
MAX_GROUPS = 50
MAX_NAME = 60
MAX_MEMBERS = 100
MAX_ID = 32


@dataclass(frozen=True)
class Group:
    group_id: str
    name: str
    members: frozenset[str]
    created_at: str

    def view(self) -> dict[str, Any]:
        return {"id": self.group_id, "name": self.name, "members": sorted(self.members), "created_at": self.created_at}


def _read(consistent: bool = False) -> tuple[dict[str, Group], str | None]:
    try:
        item = Settings.get(ITEM, consistent_read=consistent)
    except DoesNotExist:
        return {}, None
    found = {
        group_id: Group(group_id, str(v["name"]), frozenset(v.get("members") or ()), str(v.get("created_at") or ""))
        for group_id, v in item.values.as_dict().items()
    }
    return found, item.updated_at


def all_groups() -> list[Group]:
    """Every group, by name: one GetItem (consistent: an admin's change routes at once)."""
    return sorted(_read(consistent=True)[0].values(), key=lambda g: (g.name.casefold(), g.group_id))


def find(group_id: object, *, field: str = "group") -> Group | None:
    """The group a request names (None when it names none); an unknown one is a 400 naming `field`."""
    if group_id is None or group_id == "":
        return None
    if not isinstance(group_id, str) or len(group_id) > MAX_ID:
        raise bad_request(f"`{field}` must be a group's id.", field=field)
    group = _read(consistent=True)[0].get(group_id)
    if group is None:
        raise bad_request(f"`{field}` is not one of the groups.", field=field)
    return group


def members(group_id: str) -> frozenset[str] | None:
    """A group's members; None for a group deleted meanwhile, whose chats anyone may take."""
    group = _read(consistent=True)[0].get(group_id)
    return group.members if group else None


def groups_of(agent_id: str) -> list[Group]:
    return [g for g in all_groups() if agent_id in g.members]


# --- the admin's changes ----------------------------------------------------------------------


def create(principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
    _admin(principal)
    text.reject_unknown_fields(body, {"name", "members"})
    name = _clean_name(body.get("name"))
    chosen = _clean_members(body.get("members", []))
    group_id = "g_" + secrets.token_urlsafe(9)

    def change(found: dict[str, Group]) -> Group:
        if len(found) >= MAX_GROUPS:
            raise bad_request(f"At most {MAX_GROUPS} groups.", field="name")
        _unique(found, name, group_id)
        return Group(group_id, name, chosen, clock.now_iso())

    return _write(group_id, change).view()


def update(principal: Principal, group_id: str, body: dict[str, Any]) -> dict[str, Any]:
    _admin(principal)
    text.reject_unknown_fields(body, {"name", "members"})
    name = _clean_name(body["name"]) if "name" in body else None
    chosen = _clean_members(body["members"]) if "members" in body else None

    def change(found: dict[str, Group]) -> Group:
        current = found.get(group_id)
        if current is None:
            raise CharlaError("not_found", "No such group.")
        if name is not None:
            _unique(found, name, group_id)
        return Group(group_id, name or current.name, current.members if chosen is None else chosen, current.created_at)

    return _write(group_id, change).view()


def delete(principal: Principal, group_id: str) -> None:
    """Chats already in the group keep its name; waiting ones are then taken by anyone (routing treats a
    deleted group as none)."""
    _admin(principal)

    def change(found: dict[str, Group]) -> None:
        if group_id not in found:
            raise CharlaError("not_found", "No such group.")
        return None

    _write(group_id, change)


def _write(group_id: str, change: Any) -> Any:
    for _attempt in range(5):
        found, updated_at = _read(consistent=True)
        result = change(found)
        values = {g.group_id: _stored(g) for g in found.values() if g.group_id != group_id}
        if result is not None:
            values[group_id] = _stored(result)
        condition = Settings.updated_at.does_not_exist() if updated_at is None else Settings.updated_at == updated_at
        write = partial(
            Settings(ITEM).update,
            actions=[Settings.values.set(values), Settings.updated_at.set(f"{clock.now_iso()}#{secrets.token_hex(4)}")],
            condition=condition,
        )
        if data.conditional(write):
            return result
    raise CharlaError("retry", "The groups changed meanwhile; try again.", retriable=True)


def _stored(group: Group) -> dict[str, Any]:
    return {"name": group.name, "members": sorted(group.members), "created_at": group.created_at}


def _admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise CharlaError("forbidden", "Only admins manage groups.")


def _clean_name(value: object) -> str:
    if not isinstance(value, str) or len(value) > MAX_NAME:
        raise bad_request(f"`name` must be text of 1 to {MAX_NAME} characters.", field="name")
    cleaned = text.one_line(value, MAX_NAME)
    if not cleaned:
        raise bad_request(f"`name` must be text of 1 to {MAX_NAME} characters.", field="name")
    return cleaned


def _unique(found: dict[str, Group], name: str, group_id: str) -> None:
    if any(g.name.casefold() == name.casefold() and g.group_id != group_id for g in found.values()):
        raise bad_request(f"`name`: a group named {name} already exists.", field="name")


def _clean_members(value: object) -> frozenset[str]:
    if not isinstance(value, list) or len(value) > MAX_MEMBERS or not all(isinstance(v, str) for v in value):
        raise bad_request(f"`members` must be a list of at most {MAX_MEMBERS} agent ids.", field="members")
    chosen = frozenset(value)
    if any(not 0 < len(v) <= 128 for v in chosen):
        raise bad_request("`members` names an agent that does not exist.", field="members")
    known = {a.agent_id for a in Agent.batch_get(sorted(chosen))} if chosen else set()
    if known != chosen:
        raise bad_request("`members` names an agent that does not exist.", field="members")
    return chosen
