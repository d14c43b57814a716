"""One table of who may do what, for every REST route and WebSocket action.

Each row is a route (or action) and what each caller gets: a status (or a set of them) for REST,
and for WebSocket either the success frame's type, an `error` frame's code, or `401` at $connect.
Ids in paths are always visitor A's (chat, ticket, visitor), so visitor B's cells probe A's data.
Denied cells must not leak: their bodies contain none of A's words, name, email or unrequested ids.

Callers: anonymous; visitors A and B; an agent not in A's chat; the agent in it; the demo admin; a
demoted admin (an agent now, with the token it got as an admin, whose groups still say `admin`); a
disabled agent (token from before it was disabled); an expired token; a forged token (random key,
right claims and kid); for WebSocket, a connect ticket used a second time.

Rules the table encodes: another visitor's chat or ticket is 404 (ids can't be probed); agents read
any chat (shared archive) and any ticket (shared helpdesk) but write a chat only where they take
part (admins may also close, ban from and file a ticket from any chat); admin routes are 403 for
agents; a demoted admin gets exactly what an agent outside the chat gets, whatever its token says
(test_admin_reach probes the admin-only parts of agent routes); bad, expired, forged or revoked
credentials are 401 before anything else. Where a success
would break later cells (bans, settings, team changes, erasure), the row's body fails validation
after the authorization (400) or names a missing object (404); `close` by the chat's participants
runs last (test_ws_close_by_participants), and `signout-all` signs its caller in again.

Runs through LocalStack, whose REST gateway verifies JWTs as API Gateway does (chalice's test
client does not check signatures or expiry).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import jwt
import pytest

from infra.local.stack import LocalStack
from tests.support import ws_client
from tests.support.accounts import PASSWORD
from tests.support.authz_callers import (
    A_EMAIL,
    A_NAME,
    AGENTS,
    REST_CALLERS,
    SECRET_TEXT,
    VISITORS,
    WS_CALLERS,
    World,
    forge,
    http,
    outcome,
    unique,
    verifier_clock_ahead,
)

Expect = int | frozenset[int] | str

NO_CREDENTIALS = ("anonymous", "disabled", "expired", "forged")  # + visitors on agent routes
MISSING = "00000000-0000-4000-8000-000000000000"  # an agent, ban or webhook id that doesn't exist


@dataclass(frozen=True)
class Row:
    method: str
    path: str  # as in app.py, placeholders filled with A's ids
    expect: dict[str, Expect]
    body: Any = None
    query: str = ""
    after: str = ""  # "sign_in_again": the cell signs its caller out everywhere
    ids: tuple[tuple[str, str], ...] = ()  # placeholders filled otherwise than with A's ids

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


def public(method: str, path: str, code: int, body: Any = None) -> Row:
    return Row(method, path, dict.fromkeys(REST_CALLERS, code), body)


def visitor(method: str, path: str, a: Expect, b: Expect, body: Any = None) -> Row:
    expect: dict[str, Expect] = dict.fromkeys(REST_CALLERS, 401)  # agents' tokens aren't visitor credentials
    expect.update(visitor_A=a, visitor_B=b)
    return Row(method, path, expect, body)


def agent(
    method: str,
    path: str,
    out: Expect,
    in_: Expect | None = None,
    admin: Expect | None = None,
    body: Any = None,
    query: str = "",
    after: str = "",
) -> Row:
    expect: dict[str, Expect] = dict.fromkeys(REST_CALLERS, 401)  # the authorizer, or the revocation check
    expect.update(agent_out=out, agent_in=out if in_ is None else in_, admin=out if admin is None else admin)
    expect.update(demoted=out)  # an agent outside A's chat, whatever its token's groups say
    return Row(method, path, expect, body, query, after)


def admin(method: str, path: str, code: Expect, body: Any = None, ids: dict[str, str] | None = None) -> Row:
    row = agent(method, path, 403, 403, code, body)
    return Row(row.method, row.path, row.expect, row.body, ids=tuple((ids or {}).items()))


OK = frozenset({200, 201})

REST_TABLE: list[Row] = [
    # --- public: the same for everyone, whatever credentials come along
    public("GET", "/health", 200),
    public("GET", "/widget/settings", 200),
    public("GET", "/widget/offline-form", 200),
    public("POST", "/visitor/identity", 201),
    public("POST", "/visitor/pageview", 400, body={}),
    public("POST", "/auth/login", 400, body={}),
    public("POST", "/auth/refresh", 400, body={}),
    public("POST", "/auth/challenge", 400, body={}),
    public("POST", "/auth/logout", 400, body={}),
    # --- visitors: their own things only; A's ids are 404 for B
    visitor("POST", "/visitor/ws-ticket", 201, 201),
    visitor("GET", "/visitor/chats/{chat_id}/messages", 200, 404),
    # Files in chats: a grant only in one's own chat (the body then fails validation), a file only through it.
    visitor("POST", "/visitor/chats/{chat_id}/files", 400, 404, body={}),
    visitor("GET", "/visitor/chats/{chat_id}/files/{file_id}", 404, 404),
    visitor("POST", "/visitor/offline", 400, 400, body={}),
    visitor("GET", "/visitor/tickets", 200, 200),
    visitor("GET", "/visitor/tickets/{ticket_id}", 200, 404),
    visitor("POST", "/visitor/tickets/{ticket_id}/replies", 201, 404, body={"body": "a matrix reply"}),
    visitor("GET", "/visitor/tickets/{ticket_id}/attachments/{attachment_id}", 404, 404),
    # A's ticket has A's chat address: a code is mailed to it; B doesn't see the ticket.
    visitor("POST", "/visitor/tickets/{ticket_id}/email-confirmation", 200, 404),
    visitor("POST", "/visitor/email-confirmation", 400, 400, body={}),
    visitor("POST", "/visitor/identify", 400, 400, body={}),
    visitor("POST", "/visitor/greetings/{rule_id}/shown", 404, 404),
    # --- agents: reading is shared; writing a chat needs taking part (or being an admin)
    agent("GET", "/agent/me", 200),
    agent("PATCH", "/agent/me", 400, body={"bogus": 1}),
    agent("POST", "/agent/me/password", 400, body={}),
    agent("GET", "/agent/me/mfa", 200),
    agent("POST", "/agent/me/mfa/setup", 400, body={}),
    agent("POST", "/agent/me/mfa/verify", 400, body={}),
    agent("POST", "/agent/me/mfa/disable", 400, body={}),
    agent("POST", "/agent/me/email", 400, body={}),
    agent("POST", "/agent/me/email/verify", 400, body={}),
    agent("POST", "/agent/me/signout-all", 204, after="sign_in_again"),
    agent("POST", "/agent/ws-ticket", 201),
    agent("GET", "/agent/chats", 200),
    agent("GET", "/agent/chats/{chat_id}/messages", 200),
    agent("POST", "/agent/chats/{chat_id}/files", 404, 400, body={}),  # uploading is writing the chat
    agent("GET", "/agent/chats/{chat_id}/files/{file_id}", 404),  # any agent reads; this file doesn't exist
    agent("POST", "/agent/chats/{chat_id}/ticket", 404, 200, 200),  # the chat's ticket exists already
    agent("POST", "/agent/chats/{chat_id}/ban", 404, 400, 400, body={"reason": 5}),
    agent("GET", "/agent/team", 200),
    agent("GET", "/agent/visitors/online", 200),
    agent("GET", "/agent/visitors/{visitor_id}", 200),
    agent("POST", "/agent/visitors/{visitor_id}/greeting", 400, body={}),
    agent("GET", "/agent/canned", 200),
    agent("PUT", "/agent/canned/{shortcut}", 400, body={}),
    agent("DELETE", "/agent/canned/{shortcut}", 404),  # none saved
    agent("GET", "/agent/reports", 200, query="?from=2026-11-01&to=2026-11-02"),
    agent("GET", "/agent/reports/csv", 200, query="?from=2026-11-01&to=2026-11-02"),
    agent("GET", "/agent/archive", 200),
    admin("GET", "/agent/archive/csv", 200),
    agent("GET", "/agent/tickets", 200),
    agent("GET", "/agent/tickets/{ticket_id}", 200),
    agent("PATCH", "/agent/tickets/{ticket_id}", 400, body={}),
    agent("POST", "/agent/tickets/{ticket_id}/replies", 400, body={}),
    agent("POST", "/agent/tickets/{ticket_id}/notes", 400, body={}),
    agent("POST", "/agent/tickets/{ticket_id}/attachments", 400, body={}),
    agent("POST", "/agent/tickets/{ticket_id}/attachments/{attachment_id}/complete", 404),
    agent("GET", "/agent/tickets/{ticket_id}/attachments/{attachment_id}", 404),
    agent("GET", "/agent/offline-form", 200),
    # Tags: every agent reads the list and tags any ticket; a chat's tags are its participants' (and admins').
    agent("GET", "/agent/tags", 200),
    agent("PATCH", "/agent/chats/{chat_id}/tags", 404, 400, 400, body={}),
    agent("PATCH", "/agent/tickets/{ticket_id}/tags", 400, body={}),
    agent("GET", "/agent/groups", 200),
    agent("PUT", "/agent/offline-form", 403, 403, 400, body={}),
    # --- administration: 403 for agents
    admin("GET", "/admin/agents", 200),
    admin("POST", "/admin/agents", 400, body={}),
    admin("PATCH", "/admin/agents/{agent_id}", 400, body={}),
    admin("DELETE", "/admin/agents/{agent_id}", 404),
    admin("POST", "/admin/agents/{agent_id}/reinvite", 404),
    admin("GET", "/admin/settings", 200),
    admin("PATCH", "/admin/settings", 400, body={"bogus": 1}),
    admin("GET", "/admin/chats/active", 200),
    admin("GET", "/admin/bans", 200),
    admin("POST", "/admin/bans", 400, body={}),
    admin("DELETE", "/admin/bans/{ban_id}", 404),
    admin("GET", "/admin/webhooks", 200),
    admin("POST", "/admin/webhooks", 400, body={}),
    admin("DELETE", "/admin/webhooks/{webhook_id}", 404),
    admin("GET", "/admin/webhooks/{webhook_id}/deliveries", 404),
    admin("POST", "/admin/tags", 400, body={}),
    admin("PATCH", "/admin/tags/{tag_id}", 404, body={"name": "Matrix"}),
    admin("DELETE", "/admin/tags/{tag_id}", 404),
    admin("GET", "/admin/identity-secret", 200),
    admin("GET", "/admin/visitors/{visitor_id}/export", 200),
    # Not A: the admin's cell would really erase the visitor.
    admin("DELETE", "/admin/visitors/{visitor_id}", 404, ids={"visitor_id": "v_not_a_visitor"}),
    admin("POST", "/admin/email-erasures", 400, body={}),
    admin("POST", "/admin/groups", 400, body={}),
    admin("PATCH", "/admin/groups/{group_id}", 404, body={}, ids={"group_id": "g_missing"}),
    admin("DELETE", "/admin/groups/{group_id}", 404, ids={"group_id": "g_missing"}),
]


# --- what only admins may do on agent routes: a demoted admin's old token must not reach it.


@dataclass(frozen=True)
class Probe:
    method: str
    path: str  # {agent_in} is the agent in A's chat, someone other than the caller
    body: Any
    admin: Expect
    agent: Expect  # for the agent outside the chat and the demoted admin alike


ADMIN_REACH = [
    Probe("PUT", "/agent/canned/authz-shared", {"text": "A shared matrix answer", "shared": True}, 200, 403),
    Probe("GET", "/agent/reports?from=2026-11-01&to=2026-11-02&agent={agent_in}", None, 200, 403),
    Probe("GET", "/agent/reports/csv?from=2026-11-01&to=2026-11-02&agent={agent_in}", None, 200, 403),
    Probe("GET", "/agent/archive/csv?q=matrix", None, 200, 403),
    # Also in REST_TABLE and WS_TABLE, each with its `demoted` cell: PUT /agent/offline-form (403),
    # POST /agent/chats/{chat_id}/ban (404, as for any agent outside the chat), ws `close` (not_found).
]
REACH_CALLERS = ("admin", "agent_out", "demoted")


# --- WebSocket: the success frame type, "(silent)" for actions that answer nothing, an error code,
# or 401 where the socket never opens (no ticket can be minted, or $connect refuses the ticket).


@dataclass(frozen=True)
class Action:
    name: str
    frame: dict[str, Any]
    expect: dict[str, Expect]
    success: str | None = None  # the frame type a success answers with

    def frame_for(self, caller: str) -> dict[str, Any]:
        frame = {"action": self.name, **self.frame}
        if self.name in ("send", "whisper"):
            frame["client_msg_id"] = unique()
        if self.name == "set_status":
            frame["accepting"] = caller == "agent_in"  # routing must keep going to the agent in the chat
        return frame


def action(
    name: str, frame: dict[str, Any], success: str | None, *, a: str, b: str, out: str, in_: str, admin: str
) -> Action:
    expect: dict[str, Expect] = dict.fromkeys(WS_CALLERS, 401)
    expect.update(visitor_A=a, visitor_B=b, agent_out=out, agent_in=in_, admin=admin, demoted=out)
    return Action(name, frame, expect, success)


CHAT = {"chat_id": "{chat_id}"}
WS_TABLE: list[Action] = [
    action("ping", {}, "pong", a="pong", b="pong", out="pong", in_="pong", admin="pong"),
    action("hello", {}, "welcome", a="welcome", b="welcome", out="welcome", in_="welcome", admin="welcome"),
    # `context` is checked first for visitors: a bad one proves they got past the authorization.
    action(
        "start_chat",
        {"context": 5},
        "chat",
        a="bad_request",
        b="bad_request",
        out="forbidden",
        in_="forbidden",
        admin="forbidden",
    ),
    action(
        "send",
        {**CHAT, "text": "a matrix message"},
        "ack",
        a="ack",
        b="not_found",
        out="not_found",
        in_="ack",
        admin="not_found",
    ),
    action(
        "resume",
        {**CHAT, "after_seq": 0},
        "messages",
        a="messages",
        b="not_found",
        out="messages",
        in_="messages",
        admin="messages",
    ),
    action(
        "typing",
        {**CHAT, "typing": False},
        None,
        a="(silent)",
        b="not_found",
        out="not_found",
        in_="(silent)",
        admin="not_found",
    ),
    # Agents keep read positions on any chat they may read, as `resume` reads; visitors keep none.
    action(
        "read",
        {**CHAT, "seq": 0},
        None,
        a="forbidden",
        b="forbidden",
        out="(silent)",
        in_="(silent)",
        admin="(silent)",
    ),
    action(
        "accept",
        CHAT,
        None,
        a="forbidden",
        b="forbidden",
        out="already_taken",
        in_="already_taken",
        admin="already_taken",
    ),
    # Closing by A, the agent in the chat and the admin really closes: test_ws_close_by_participants.
    action("close", CHAT, None, a="(silent)", b="not_found", out="not_found", in_="(silent)", admin="(silent)"),
    action("set_status", {}, "status", a="forbidden", b="forbidden", out="status", in_="status", admin="status"),
    action("transfer", CHAT, None, a="forbidden", b="forbidden", out="not_found", in_="bad_request", admin="not_found"),
    action("invite", CHAT, None, a="forbidden", b="forbidden", out="not_found", in_="bad_request", admin="not_found"),
    action(
        "invite_reply",
        {**CHAT, "accept": False},
        None,
        a="forbidden",
        b="forbidden",
        out="conflict",
        in_="conflict",
        admin="conflict",
    ),
    # Only admins supervise, by their profile now: a demoted admin is refused whatever its token says. A
    # whisper needs a part in the chat or a watch on it from this very connection; so does a join.
    action(
        "supervise",
        CHAT,
        "supervising",
        a="forbidden",
        b="forbidden",
        out="forbidden",
        in_="forbidden",
        admin="supervising",
    ),
    action(
        "unsupervise",
        CHAT,
        "unsupervised",
        a="forbidden",
        b="forbidden",
        out="unsupervised",
        in_="unsupervised",
        admin="unsupervised",
    ),
    action(
        "whisper",
        {**CHAT, "text": "a matrix whisper"},
        "ack",
        a="forbidden",
        b="forbidden",
        out="not_found",
        in_="ack",
        admin="not_found",
    ),
    action("join", CHAT, None, a="forbidden", b="forbidden", out="forbidden", in_="forbidden", admin="conflict"),
    action(
        "rate",
        {**CHAT, "rating": "good"},
        "chat",
        a="chat",
        b="not_found",
        out="forbidden",
        in_="forbidden",
        admin="forbidden",
    ),
    action(
        "transcript",
        CHAT,
        "transcript_sent",
        a="transcript_sent",
        b="not_found",
        out="forbidden",
        in_="forbidden",
        admin="forbidden",
    ),
]
CLOSERS = ("visitor_A", "agent_in", "admin")  # their `close` cells end the chat, so they run last

# The same capability over REST and WebSocket must get the same answer class from each caller.
SAME_ANSWER = [
    # reading a transcript: visitors' and agents' REST routes vs `resume`
    (
        {"visitor": ("GET", "/visitor/chats/{chat_id}/messages"), "agent": ("GET", "/agent/chats/{chat_id}/messages")},
        "resume",
        WS_CALLERS[:-1],
    ),
    # writing a chat, as its agent: filing its ticket or banning over REST vs closing it over WebSocket
    ({"agent": ("POST", "/agent/chats/{chat_id}/ticket")}, "close", AGENTS),
    ({"agent": ("POST", "/agent/chats/{chat_id}/ban")}, "close", AGENTS),
    # a file: granted to the participants who may send, downloaded by those who may read
    (
        {"visitor": ("POST", "/visitor/chats/{chat_id}/files"), "agent": ("POST", "/agent/chats/{chat_id}/files")},
        "send",
        ("visitor_A", "visitor_B", "agent_out", "agent_in", "admin", "demoted"),
    ),
    # sending and typing in a chat: the same participants
    (None, "send", ("visitor_A", "visitor_B", "agent_out", "agent_in", "admin", "demoted")),
]


def answer_class(expect: Expect) -> str:
    if isinstance(expect, frozenset):
        return answer_class(min(expect))
    if isinstance(expect, int):
        if expect < 300 or expect in (400, 409):
            return "allowed"  # 400/409: past the authorization, stopped by the input or the state
        return {401: "unauthorized", 403: "forbidden", 404: "not_found"}[expect]
    if expect in ("not_found", "forbidden", "unauthorized"):
        return expect
    return "allowed"


# --- the world the cells run in ------------------------------------------------------------------


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with LocalStack(port=0, ses_production_access=True) as stack:
        w = World(stack)
        w.emails["admin"] = stack.demo_email
        w.agent_ids["admin"] = stack.demo_agent_id
        for caller, accepting, role in (
            ("agent_in", True, "agent"),
            ("agent_out", False, "agent"),
            ("disabled", False, "agent"),
            ("expired", False, "agent"),
            ("demoted", False, "admin"),
        ):
            email = f"{caller.replace('_', '.')}@example.com"
            w.emails[caller] = email
            w.agent_ids[caller] = stack.create_agent(
                email, PASSWORD, caller.replace("_", " ").title(), role=role, accepting=accepting
            )
        w.tokens["admin"] = stack.id_token(stack.demo_email, stack.demo_password)
        for caller in ("agent_in", "agent_out", "disabled", "expired"):
            w.sign_in_again(caller)
        make_demoted(w)
        w.tokens["forged"] = forge(w.tokens["expired"])
        # Controls: the expired token works while the clock is true, and only the clock makes it expire.
        assert http(stack, "GET", "/agent/me", w.headers("expired"))[0] == 200
        with verifier_clock_ahead(), pytest.raises(jwt.ExpiredSignatureError):
            jwt.decode(w.tokens["expired"], options={"verify_signature": False, "verify_exp": True})
        code, raw = w.call("admin", "PATCH", f"/admin/agents/{w.agent_ids['disabled']}", {"disabled": True})
        assert code == 200 and json.loads(raw)["disabled"] is True, raw

        # The agent in the chat stays online so routing gives A's chats to it (the admin isn't connected).
        w.presence.append(ws_client.agent(stack, w.emails["agent_in"], PASSWORD))
        for caller in VISITORS:
            code, raw = w.call("anonymous", "POST", "/visitor/identity")
            identity = json.loads(raw)
            w.visitors[caller] = (identity["visitor_id"], identity["secret"])
        start_chat_of_a(w)
        a = w.presence[-1]
        assert (
            outcome(a, {"action": "send", "chat_id": w.chat_id, "client_msg_id": unique(), "text": SECRET_TEXT}, "ack")[
                "type"
            ]
            == "ack"
        )
        code, raw = w.call("agent_in", "POST", f"/agent/chats/{w.chat_id}/ticket", {"subject": "Alice's order"})
        assert code == 201, raw
        w.ticket_id = json.loads(raw)["ticket_id"]
        yield w
        ws_client.close_all()


def make_demoted(w: World) -> None:
    """An admin signs in; then the demo admin makes it an agent. Its token keeps the `admin` group."""
    agent_id = w.agent_ids["demoted"]
    code, raw = w.call("admin", "PATCH", f"/admin/agents/{agent_id}", {"role": "admin"})
    assert code == 200 and json.loads(raw)["role"] == "admin", raw
    w.sign_in_again("demoted")
    assert w.call("demoted", "GET", "/admin/agents")[0] == 200  # control: an admin's token, while admin
    code, raw = w.call("admin", "PATCH", f"/admin/agents/{agent_id}", {"role": "agent"})
    assert code == 200 and json.loads(raw)["role"] == "agent", raw
    groups = jwt.decode(w.tokens["demoted"], options={"verify_signature": False}).get("cognito:groups")
    assert "admin" in groups, groups  # what the old code took the role from


def start_chat_of_a(w: World) -> None:
    """A opens a chat (routed to the agent in the chat) over a socket kept open for the module."""
    code, ticket = w.ticket("visitor_A")
    assert code == 201 and ticket
    client = w.connect(ticket)
    w.presence.append(client)
    answer = outcome(client, {"action": "start_chat", "name": A_NAME, "email": A_EMAIL, "context": {}}, "chat")
    assert answer["type"] == "chat", answer
    chat = answer["chat"]
    if chat.get("status") != "active":
        chat = client.wait_for("chat", lambda f: f["chat"].get("status") == "active")["chat"]
    # Routed to the agent in the chat, whom A sees by name and a per-chat alias, never by id.
    from functions.realtime import visitor_frames

    alias = visitor_frames.alias(chat["chat_id"], w.agent_ids["agent_in"])
    assert [a["id"] for a in chat["agents"]] == [alias] and w.agent_ids["agent_in"] not in json.dumps(chat), chat
    w.chat_id = chat["id"] if "id" in chat else chat["chat_id"]


def fill(w: World, template: str, ids: tuple[tuple[str, str], ...] = ()) -> str:
    values = {
        "chat_id": w.chat_id,
        "ticket_id": w.ticket_id,
        "visitor_id": w.visitors["visitor_A"][0],
        "attachment_id": "att_missing",
        "file_id": "f_missing0000000000",
        "shortcut": "authz",
        "agent_id": MISSING,
        "ban_id": MISSING,
        "webhook_id": MISSING,
        "tag_id": "tag_0000000000",
        "rule_id": "rule_missing",
        **dict(ids),
    }
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], template)


def secrets_of_a(w: World, requested: str) -> list[str]:
    """What a denied caller must not see; ids it named itself may be echoed back."""
    values = [
        SECRET_TEXT,
        A_NAME,
        A_EMAIL,
        w.emails["agent_in"],
        w.agent_ids["agent_in"],
        "Alice's order",
        w.visitors["visitor_A"][0],
        w.visitors["visitor_A"][1],
        w.ticket_id,
        w.chat_id,
    ]
    return [v for v in values if v not in requested]


def assert_no_leak(w: World, text: str, requested: str) -> None:
    leaked = [secret for secret in secrets_of_a(w, requested) if secret in text]
    assert not leaked, f"the denied answer shows {leaked}: {text[:300]}"


# --- the cells -----------------------------------------------------------------------------------


def _rest_cells() -> list[Any]:
    return [pytest.param(row, caller, id=f"{caller}-{row.key}") for row in REST_TABLE for caller in REST_CALLERS]


@pytest.mark.parametrize(("row", "caller"), _rest_cells())
def test_rest(world: World, row: Row, caller: str) -> None:
    path = fill(world, row.path, row.ids) + row.query
    code, raw = world.call(caller, row.method, path, row.body)
    expected = row.expect[caller]
    allowed = expected if isinstance(expected, frozenset) else frozenset({expected})
    text = raw.decode(errors="replace")
    assert code in allowed, f"{caller} {row.method} {path}: {code} {text[:300]}"
    if code >= 400 or caller == "visitor_B":
        assert_no_leak(world, text, path)
    if row.after == "sign_in_again" and code < 300:
        if caller == "demoted":
            make_demoted(world)  # a plain sign-in would carry the groups it has now
        else:
            world.sign_in_again(caller)
        if caller == "agent_in":  # its sockets were closed: routing needs it online again
            world.presence.append(ws_client.agent(world.stack, world.emails["agent_in"], PASSWORD))


@pytest.mark.parametrize(
    ("probe", "caller"),
    [
        pytest.param(probe, caller, id=f"{caller}-{probe.method} {probe.path.split('?')[0]}")
        for probe in ADMIN_REACH
        for caller in REACH_CALLERS
    ],
)
def test_admin_reach(world: World, probe: Probe, caller: str) -> None:
    """Only a current admin gets past the admin-only part of an agent route; a demoted admin's token doesn't."""
    path = probe.path.replace("{agent_in}", world.agent_ids["agent_in"])
    code, raw = world.call(caller, probe.method, path, probe.body)
    expected = probe.admin if caller == "admin" else probe.agent
    assert code == expected, f"{caller} {probe.method} {path}: {code} {raw[:300]!r}"
    if code >= 400:
        assert_no_leak(world, raw.decode(errors="replace"), path)


def _ws_cells(late: bool) -> list[Any]:
    return [
        pytest.param(act, caller, id=f"{caller}-ws:{act.name}")
        for act in WS_TABLE
        for caller in WS_CALLERS
        if (act.name == "close" and caller in CLOSERS) == late
    ]


def ws_answer(w: World, act: Action, caller: str) -> tuple[Expect, str]:
    """What the caller gets for the action: 401 if its socket never opens, else the answering frame."""
    if caller == "anonymous":
        code, ticket = w.ticket(caller)
        assert (code, ticket) == (401, None)
        return w.refused_status(None), ""
    if caller == "reused_ticket":
        code, ticket = w.ticket("visitor_A")
        assert code == 201 and ticket
        w.hang_up(w.connect(ticket))
        return w.refused_status(ticket), ""
    if caller == "disabled":
        # Its token mints nothing (revoked), and a ticket minted before it was disabled is refused too.
        code, _ = w.ticket(caller)
        assert code == 401
        from functions.core.principals import Principal
        from functions.realtime import connect_tickets

        earlier = connect_tickets.mint(Principal("agent", w.agent_ids["disabled"], "Disabled", "agent"))
        return w.refused_status(str(earlier["ticket"])), ""
    code, ticket = w.ticket(caller)
    if code != 201:
        return code, ""
    assert ticket
    client = w.connect(ticket)
    try:
        frame = act.frame_for(caller)
        frame = {k: fill(w, v) if isinstance(v, str) else v for k, v in frame.items()}
        answer = outcome(client, frame, act.success)
    finally:
        w.hang_up(client)
    kind = answer["code"] if answer["type"] == "error" else answer["type"]
    return kind, json.dumps(answer)


@pytest.mark.parametrize(("act", "caller"), _ws_cells(late=False))
def test_ws(world: World, act: Action, caller: str) -> None:
    got, text = ws_answer(world, act, caller)
    assert got == act.expect[caller], text
    if answer_class(act.expect[caller]) != "allowed" or caller == "visitor_B":
        assert_no_leak(world, text, world.chat_id)


def test_every_route_and_action_has_a_row() -> None:
    import app

    routes = {f"{method} {path}" for path, methods in app.app.routes.items() for method in methods}
    rows = [row.key for row in REST_TABLE]
    assert len(rows) == len(set(rows)), "a route has two rows"
    assert routes - set(rows) == set(), "routes without a row in the authorization matrix"
    assert set(rows) - routes == set(), "rows for routes that don't exist"
    from functions.api.frames import ACTIONS

    names = [act.name for act in WS_TABLE]
    assert len(names) == len(set(names)) and set(names) == set(ACTIONS), "actions without a row, or extra rows"
    assert all(set(row.expect) == set(REST_CALLERS) for row in REST_TABLE)
    assert all(set(act.expect) == set(WS_CALLERS) for act in WS_TABLE)


def test_rest_and_websocket_agree_on_each_capability() -> None:
    rows = {row.key: row for row in REST_TABLE}
    actions = {act.name: act for act in WS_TABLE}
    for routes, name, callers in SAME_ANSWER:
        for caller in callers:
            ws = answer_class(actions[name].expect[caller])
            if routes is None:
                other = answer_class(actions["typing"].expect[caller])
                assert ws == other, f"{caller}: ws {name} {ws}, ws typing {other}"
                continue
            side = "visitor" if caller.startswith("visitor") or caller == "anonymous" else "agent"
            if side not in routes:
                continue
            method, path = routes[side]
            rest = answer_class(rows[f"{method} {path}"].expect[caller])
            assert rest == ws, f"{caller}: {method} {path} is {rest}, ws {name} is {ws}"


@pytest.mark.parametrize("caller", CLOSERS)
def test_ws_close_by_participants(world: World, caller: str) -> None:
    """The last cells: each closer ends an open chat of A with the agent in it, then A opens another."""
    act = next(a for a in WS_TABLE if a.name == "close")
    got, text = ws_answer(world, act, caller)
    assert got == act.expect[caller], text
    code, raw = world.call("admin", "GET", f"/agent/chats/{world.chat_id}/messages")
    assert code == 200 and "closed the chat" in raw.decode(), raw[-300:]
    start_chat_of_a(world)
