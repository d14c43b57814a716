"""scan_calls: Scan calls over one scripted session through the real handlers, schedules included.

The script plays a working day in miniature through the Chalice app's own entry points (WebSocket
events, REST proxy events, scheduled events, the S3 event of inbound mail): agents and visitors
connect, chat, type, resume, retry a send, queue, get accepted by hand, reconnect, transfer,
invite, close, rate, mail a transcript, turn a chat into a ticket, reply to it, send the offline
form, mail the support address, and disconnect; along the way every sweep part gets due work, and
every scheduled function the app declares runs (found from the app, so a new one is covered).

The core steps must work. Steps of features still being built are tried, and a step that fails
is listed as not covered (with why) instead of stopping the session.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

from tests.bench.moto_env import SCHEDULED_EVENT, charla_on_moto
from tests.bench.report import Check, Figure
from tests.bench.rest_events import claims, rest

MAIL_BUCKET = "bench-mail"
ATTACHMENTS_BUCKET = "bench-attachments"
SUPPORT = "support@charla.test"


def expect(condition: bool, problem: str) -> None:
    """The session must really take the paths it claims to cover, or a 0 would prove nothing."""
    if not condition:
        raise RuntimeError(problem)


def no_errors(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    errors = [f for f in frames if f.get("type") == "error"]
    expect(not errors, f"an action failed: {errors}")
    return frames


@dataclass
class Day:
    """The session's cast and what it has covered so far."""

    sockets: dict[str, Any] = field(default_factory=dict)
    people: dict[str, Any] = field(default_factory=dict)
    chats: dict[str, str] = field(default_factory=dict)
    covered: list[str] = field(default_factory=list)
    not_covered: list[str] = field(default_factory=list)
    sweeps: dict[str, int] = field(default_factory=dict)  # sweep part (or schedule) -> work done, summed

    def send(self, who: str, frame: dict[str, Any]) -> list[dict[str, Any]]:
        return no_errors(self.sockets[who].send(frame))

    def say(self, who: str, chat: str, client_msg_id: str, text: str) -> None:
        frame = {"action": "send", "chat_id": self.chats[chat], "client_msg_id": client_msg_id, "text": text}
        expect(any(f["type"] == "ack" for f in self.send(who, frame)), f"no ack for {frame}")

    def agent_socket_of(self, chat: dict[str, Any]) -> str:
        from functions.models import Chat

        # The visitor's view names agents by alias only: the stored chat has the agent's id.
        assignee = Chat.get(chat["chat_id"]).assignee_id
        return next(name for name, p in self.people.items() if getattr(p, "id", None) == assignee)

    def step(self, name: str, run: Callable[[], None], *, core: bool = True) -> None:
        if core:
            run()
            self.covered.append(name)
            return
        try:
            run()
            self.covered.append(name)
        except Exception as error:  # a feature still being built: say so, carry on
            self.not_covered.append(f"{name} ({str(error)[:120]})")


def _prepare() -> None:
    """What the deployment provides: buckets, a verified sender, the support address, summary hour now."""
    import boto3

    from functions.core import clock, settings

    os.environ.update(MAIL_BUCKET=MAIL_BUCKET, ATTACHMENTS_BUCKET=ATTACHMENTS_BUCKET)
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=MAIL_BUCKET)
    s3.create_bucket(Bucket=ATTACHMENTS_BUCKET)
    boto3.client("ses", region_name="us-east-1").verify_domain_identity(Domain=SUPPORT.split("@")[1])
    idp = boto3.client("cognito-idp", region_name="us-east-1")
    pool = idp.create_user_pool(PoolName="charla", UsernameAttributes=["email"])["UserPool"]["Id"]
    client = idp.create_user_pool_client(UserPoolId=pool, ClientName="console")["UserPoolClient"]["ClientId"]
    os.environ.update(COGNITO_USER_POOL_ID=pool, COGNITO_CLIENT_ID=client)
    changes = {"support_email": SUPPORT, "summary_hour": clock.now().hour, "summary_timezone": "UTC"}
    settings.save_settings({k: v for k, v in changes.items() if k in settings.DEFAULTS})


def _schedules(day: Day) -> list[str]:
    from chalice.app import ScheduledEventConfig

    import app as charla

    names = [s.name for s in charla.app.event_sources if isinstance(s, ScheduledEventConfig)]
    for name in names:
        result = getattr(charla, name)(SCHEDULED_EVENT, None)
        parts = result if name == "sweep" else {name: sum(v for v in (result or {}).values() if isinstance(v, int))}
        for part, count in parts.items():
            day.sweeps[part] = day.sweeps.get(part, 0) + int(count)
    return names


def _script(day: Day) -> list[str]:
    """Runs the session; returns the names of the scheduled functions."""
    import time_machine

    from functions.core import settings
    from functions.core.principals import Principal
    from tests.support.actors import Socket, new_agent, new_visitor, start_chat

    def connect_agents() -> None:
        day.people["ana"], day.people["ben"] = new_agent("Ana"), new_agent("Ben", accepting=False)
        for name in ("ana", "ben"):
            day.sockets[name] = Socket(day.people[name])
            day.send(name, {"action": "hello"})
            rest("/agent/me", claims=claims(day.people[name]))
            rest("/agent/ws-ticket", "POST", claims=claims(day.people[name]))

    def chat() -> None:
        rest("/health")
        rest("/widget/settings")
        identity = rest("/visitor/identity", "POST")
        day.people["vic_auth"] = {"Authorization": f"Visitor {identity['visitor_id']}:{identity['secret']}"}
        rest("/visitor/ws-ticket", "POST", headers=day.people["vic_auth"])
        day.people["vic"] = Principal("visitor", identity["visitor_id"])
        day.sockets["vic"] = Socket(day.people["vic"])
        day.send("vic", {"action": "hello"})
        day.chats["first"] = start_chat(day.sockets["vic"], name="Vic", email="vic@example.com")["chat_id"]
        day.send("vic", {"action": "typing", "chat_id": day.chats["first"], "typing": True, "draft": "Do you"})
        for n in (0, 1, 2, 2):  # the second "2" is a retried send: stored once, acked as a duplicate
            day.say("vic", "first", f"v{n}", f"Question {n}")
        day.send("ana", {"action": "typing", "chat_id": day.chats["first"], "typing": True})
        day.say("ana", "first", "a0", "Yes, we do.")
        day.send("vic", {"action": "ping"})
        day.send("vic", {"action": "resume", "chat_id": day.chats["first"], "after_seq": 0})
        day.send("ana", {"action": "resume", "chat_id": day.chats["first"], "after_seq": 2})
        rest(
            "/visitor/chats/{chat_id}/messages", params={"chat_id": day.chats["first"]}, headers=day.people["vic_auth"]
        )
        rest("/agent/chats", claims=claims(day.people["ana"]))
        rest(
            "/agent/chats/{chat_id}/messages", params={"chat_id": day.chats["first"]}, claims=claims(day.people["ana"])
        )

    def queue_and_accept() -> None:
        # Ana is full and Ben isn't taking chats: the next chats queue. Quinn has waited 10 min
        # (the sweep's long-wait work); Ben takes Val's chat by hand.
        settings.save_settings({"max_chats_per_agent": 1})
        with time_machine.travel(timedelta(minutes=-10)):
            day.sockets["quinn"] = Socket(new_visitor("Quinn"))
            quinn = start_chat(day.sockets["quinn"])
        day.people["val"] = new_visitor("Val")
        day.sockets["val"] = Socket(day.people["val"])
        val = start_chat(day.sockets["val"])
        expect(quinn["status"] == val["status"] == "queued", f"chats didn't queue: {quinn}, {val}")
        day.chats["second"] = val["chat_id"]
        day.send("val", {"action": "hello"})
        day.send("ben", {"action": "hello"})
        accepted = [
            f["chat"]
            for f in day.send("ben", {"action": "accept", "chat_id": day.chats["second"]})
            if f["type"] == "chat"
        ]
        expect(any(c["status"] == "active" for c in accepted), "Ben's accept didn't activate the chat")
        day.say("val", "second", "q0", "Hello?")

    def reconnect() -> None:
        day.sockets["val"].close()  # a dropped tab: reconnect, hello, resume
        day.sockets["val"] = Socket(day.people["val"])
        day.send("val", {"action": "hello"})
        day.send("val", {"action": "resume", "chat_id": day.chats["second"], "after_seq": 0})

    def more_due_work() -> None:
        # Room for everyone again; Ida's chat went quiet 40 min ago (idle), Una's agent never
        # answered (unanswered), a connection whose $disconnect never came (stale), and Leo left his
        # chat (abandoned).
        settings.save_settings({"max_chats_per_agent": 5})
        day.send("ben", {"action": "set_status", "accepting": True})
        with time_machine.travel(timedelta(minutes=-40)):
            day.sockets["ida"] = Socket(new_visitor("Ida"))
            ida = start_chat(day.sockets["ida"])
            day.chats["ida"] = ida["chat_id"]
            day.say("ida", "ida", "i0", "Just looking")
            day.say(day.agent_socket_of(ida), "ida", "r0", "Take your time")
        with time_machine.travel(timedelta(minutes=-5)):
            day.sockets["una"] = Socket(new_visitor("Una"))
            expect(start_chat(day.sockets["una"])["status"] == "active", "Una's chat wasn't assigned")
        with time_machine.travel(timedelta(minutes=-20)):
            Socket(new_visitor("Gone"))
        # Leo's tab closed 12 minutes ago, past the visitor-left timeout (abandoned).
        with time_machine.travel(timedelta(minutes=-15)):
            leo = Socket(new_visitor("Leo"))
            chat = start_chat(leo)
            day.chats["leo"] = chat["chat_id"]
            day.sockets["leo"] = leo
            day.say("leo", "leo", "l0", "One question")
            day.say(day.agent_socket_of(chat), "leo", "lr0", "Go ahead")
        with time_machine.travel(timedelta(minutes=-12)):
            day.sockets.pop("leo").close()

    def transfer() -> None:
        day.send("ana", {"action": "transfer", "chat_id": day.chats["first"], "to_agent_id": day.people["ben"].id})

    def invite() -> None:
        day.send("ben", {"action": "invite", "chat_id": day.chats["second"], "agent_id": day.people["ana"].id})
        day.send("ana", {"action": "invite_reply", "chat_id": day.chats["second"], "accept": True})

    def close() -> None:
        day.send("vic", {"action": "close", "chat_id": day.chats["first"]})
        day.send("ben", {"action": "close", "chat_id": day.chats["second"]})

    def rate_and_transcript() -> None:
        day.send("vic", {"action": "rate", "chat_id": day.chats["first"], "rating": "good", "comment": "Thanks"})
        day.send("vic", {"action": "transcript", "chat_id": day.chats["first"]})

    def ticket() -> None:
        ben = claims(day.people["ben"])
        made = rest(
            "/agent/chats/{chat_id}/ticket",
            "POST",
            params={"chat_id": day.chats["first"]},
            claims=ben,
            body={"email": "vic@example.com"},
        )
        ticket_id = {"ticket_id": made["ticket_id"]}
        rest("/agent/tickets", claims=ben)
        rest("/agent/tickets/{ticket_id}", params=ticket_id, claims=ben)
        rest(
            "/agent/tickets/{ticket_id}/replies",
            "POST",
            params=ticket_id,
            claims=ben,
            body={"body": "Here is what we found."},
        )
        rest("/agent/tickets/{ticket_id}/notes", "POST", params=ticket_id, claims=ben, body={"body": "Call back."})
        rest("/visitor/tickets", headers=day.people["vic_auth"])

    def offline_form() -> None:
        form = rest("/widget/offline-form")["fields"]
        values = {f["name"]: ("rex@example.com" if f["type"] == "email" else "Printer on fire") for f in form}
        rest("/visitor/offline", "POST", headers=day.people["vic_auth"], body={"fields": values})

    def inbound_mail() -> None:
        import boto3

        import app as charla
        from infra.local.events import s3_object_created_event

        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = "Rex <rex@example.com>", SUPPORT, "Printer on fire"
        mail["Message-ID"] = "<bench-1@mail.example.com>"
        mail.set_content("It smokes.")
        data = mail.as_bytes()
        boto3.client("s3", region_name="us-east-1").put_object(Bucket=MAIL_BUCKET, Key="inbound/1", Body=data)
        event = s3_object_created_event(MAIL_BUCKET, "inbound/1", size=len(data), etag="e", region="us-east-1")
        [outcome] = charla.inbound_mail_received(event, None)
        expect(outcome.get("result") == "created", f"inbound mail made no ticket: {outcome}")

    def console_and_admin(name: str, path: str, method: str = "GET", **kwargs: Any) -> Callable[[], None]:
        def call() -> None:
            if "ada" not in day.people:
                day.people["ada"] = new_agent("Ada", accepting=False, role="admin")
            rest(path, method, claims=claims(day.people["ada"]), **kwargs)

        return call

    def disconnect() -> None:
        for socket in day.sockets.values():
            socket.close()

    _prepare()
    day.step("connect agents, REST me/ws-ticket", connect_agents)
    day.step("visitor REST identity/ws-ticket, connect, chat, typing, retry, resume, REST pages", chat)
    day.step("queue, accept from the queue", queue_and_accept)
    day.step("reconnect and resume", reconnect)
    names = _schedules(day)  # the long wait is due now; later chats would take Quinn from the queue
    day.step("idle, unanswered and stale work for the sweep", more_due_work)
    day.step("transfer", transfer, core=False)
    day.step("invite", invite, core=False)
    day.step("close", close)
    day.step("rate, transcript", rate_and_transcript, core=False)
    day.step("ticket from a chat, list, reply, note", ticket, core=False)
    day.step("offline form", offline_form, core=False)
    day.step("inbound mail (S3 event)", inbound_mail, core=False)
    vic_id = {"visitor_id": day.people["vic"].id}
    today = datetime.now(UTC).date()
    week = {"from": (today - timedelta(days=7)).isoformat(), "to": today.isoformat()}
    for name, path, method, extra in (
        ("team", "/agent/team", "GET", {}),
        ("visitor profile", "/agent/visitors/{visitor_id}", "GET", {"params": vic_id}),
        ("canned save", "/agent/canned/{shortcut}", "PUT", {"params": {"shortcut": "hi"}, "body": {"text": "Hi!"}}),
        ("canned list", "/agent/canned", "GET", {}),
        ("reports", "/agent/reports", "GET", {"query": week}),
        ("reports csv", "/agent/reports/csv", "GET", {"query": week}),
        ("archive search", "/agent/archive", "GET", {"query": {"q": "hello sh", "status": "closed"}}),
        ("archive csv", "/agent/archive/csv", "GET", {"query": {"agent": "me"}}),
        ("admin agents", "/admin/agents", "GET", {}),
        ("admin settings", "/admin/settings", "GET", {}),
        ("admin bans", "/admin/bans", "GET", {}),
        ("admin webhooks", "/admin/webhooks", "GET", {}),
    ):
        day.step(f"REST {name}", console_and_admin(name, path, method, **extra), core=False)
    _schedules(day)  # idle, unanswered (moved to an agent still online) and stale are due now
    day.step("disconnect", disconnect)
    _schedules(day)
    # Backstops act only on anomalies (a slot freed without an event, a ban a Lambda hadn't seen):
    # they run, and their queries count, but a healthy session gives them nothing to do.
    backstops = {"queue_assigned", "address_bans"}
    idle = {p: n for p, n in day.sweeps.items() if n == 0 and p not in backstops}
    expect(not idle, f"scheduled work that never had anything to do: {idle} (all: {day.sweeps})")
    day.covered.append(
        "every scheduled function with due work (each sweep part too, backstops run idle): " + ", ".join(names)
    )
    return names


def run() -> list[Figure]:
    day = Day()
    with charla_on_moto() as counter, counter.window() as session:
        _script(day)
    scans = session.calls.get("Scan", 0)
    details = [
        f"{session.total_calls} DynamoDB calls: {session.breakdown()}",
        f"scheduled work done: {day.sweeps}",
        "covered: " + "; ".join(day.covered),
    ]
    if day.not_covered:
        details.append("not covered (failed, feature still being built?): " + "; ".join(day.not_covered))
    return [Figure("scan_calls", scans, checks=[Check("Scan calls", scans, 0, "==")], details=details)]
