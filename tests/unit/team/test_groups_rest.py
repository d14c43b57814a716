"""Managing groups over REST: only admins, unique names, known members, and errors that name the field."""

from __future__ import annotations

import pytest

from tests.support.admin import add_user, body, call, login


@pytest.fixture
def tokens(pool, api) -> dict[str, str]:
    add_user(pool, "boss@example.com", "Boss", role="admin")
    add_user(pool, "ana@example.com", "Ana")
    return {who: login(api, f"{who}@example.com")["id_token"] for who in ("boss", "ana")}


def _agent_id(api, token: str) -> str:
    return body(call(api, "GET", "/agent/me", token))["id"]


def test_an_admin_creates_renames_and_deletes_a_group_with_its_members(api, tokens):
    ana = _agent_id(api, tokens["ana"])
    made = call(api, "POST", "/admin/groups", tokens["boss"], {"name": "Sales", "members": [ana]})
    assert made.status_code == 201
    group = body(made)
    assert (group["name"], group["members"]) == ("Sales", [ana])
    listed = body(call(api, "GET", "/agent/groups", tokens["ana"]))["groups"]
    assert [(g["id"], g["name"]) for g in listed] == [(group["id"], "Sales")]
    renamed = call(api, "PATCH", f"/admin/groups/{group['id']}", tokens["boss"], {"name": "Ventas", "members": []})
    assert (renamed.status_code, body(renamed)["name"], body(renamed)["members"]) == (200, "Ventas", [])
    assert call(api, "DELETE", f"/admin/groups/{group['id']}", tokens["boss"]).status_code == 204
    assert call(api, "DELETE", f"/admin/groups/{group['id']}", tokens["boss"]).status_code == 404
    assert body(call(api, "GET", "/agent/groups", tokens["ana"]))["groups"] == []


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": 7}, "name"),
        ({"name": "x" * 61}, "name"),
        ({"name": "Support", "members": "ana"}, "members"),
        ({"name": "Support", "members": ["no-such-agent"]}, "members"),
        ({"name": "Support", "members": [5]}, "members"),
    ],
)
def test_a_bad_group_is_refused_naming_the_field(api, tokens, payload, field):
    answer = call(api, "POST", "/admin/groups", tokens["boss"], payload)
    assert (answer.status_code, body(answer)["Field"]) == (400, field)


def test_group_names_are_unique_whatever_their_case(api, tokens):
    assert call(api, "POST", "/admin/groups", tokens["boss"], {"name": "Sales"}).status_code == 201
    other = body(call(api, "POST", "/admin/groups", tokens["boss"], {"name": "Support"}))
    for answer in (
        call(api, "POST", "/admin/groups", tokens["boss"], {"name": "sales"}),
        call(api, "PATCH", f"/admin/groups/{other['id']}", tokens["boss"], {"name": "SALES"}),
    ):
        assert (answer.status_code, body(answer)["Field"]) == (400, "name")


def test_only_admins_manage_groups(api, tokens):
    group = body(call(api, "POST", "/admin/groups", tokens["boss"], {"name": "Sales"}))
    for method, path, payload in (
        ("POST", "/admin/groups", {"name": "Mine"}),
        ("PATCH", f"/admin/groups/{group['id']}", {"name": "Mine"}),
        ("DELETE", f"/admin/groups/{group['id']}", None),
    ):
        assert call(api, method, path, tokens["ana"], payload).status_code == 403
    assert call(api, "GET", "/agent/groups").status_code == 401
    assert [g["name"] for g in body(call(api, "GET", "/agent/groups", tokens["ana"]))["groups"]] == ["Sales"]


def test_the_widget_learns_the_groups_and_whether_to_offer_a_choice(api, tokens):
    call(api, "POST", "/admin/groups", tokens["boss"], {"name": "Sales"})
    call(api, "PATCH", "/admin/settings", tokens["boss"], {"group_choice": True})
    public = body(call(api, "GET", "/widget/settings"))
    assert public["group_choice"] is True
    assert [(g["name"], g["online"]) for g in public["groups"]] == [("Sales", False)]
    assert set(public["groups"][0]) == {"id", "name", "online"}  # members stay internal
