"""posts_per_anonymous_request: the most WebSocket posts one anonymous request or frame causes.

Charla runs on moto in this process, driven through the real handlers (`tests/support/actors.py` for frames,
`functions.visitors.tracking.page_view` and `functions.visitors.verified.identify` for the page-view and identify
routes' work). Three agents are connected, each with one chat and no free slot, so new chats queue; more
agent sockets watch (consoles open, no chat). Around them sit CHATS queued chats (each with its visitor's
socket open) and as many visitors browsing (online, with a socket), written in bulk from Charla's models.
Then every kind of anonymous request a visitor can make is sent, one at a time, each in its own counting
window, and the figure is the largest number of `post_to_connection` calls any one of them caused. The run
is repeated with 10 and 200 chats and visitors, and with 10 and 1,000 agent sockets: the figure must not
change.

Every request is sent a minute after the previous one (the clock is moved, nothing waits), so no
coalescing window is still closed from an earlier request: each is measured at its worst. What every
agent must hear of (a new visitor, a chat joining or leaving the queue, a ticket) is only queued by the
request (functions/realtime/agent_notices.py); after the requests, one drain runs, as the SQS event source
does when its batching window closes, and `drain_posts_per_agent_socket` is its posts divided by the
agent sockets: one frame per socket, however many requests it holds.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.bench.moto_env import batch_put, charla_on_moto
from tests.bench.report import Check, Figure

# name -> (queued chats and browsing visitors, agent sockets)
RUNS = {"size_10": (10, 10), "size_200": (200, 10), "agents_1000": (10, 1000)}
AGENTS = 3  # agents serving a chat each; the rest of the agent sockets watch


def _seed(prefix: str, size: int) -> None:
    """`size` queued chats with their visitors online, and `size` visitors browsing with a socket."""
    from functions.core import clock
    from functions.models import OFFER, ONLINE, OPEN, QUEUE, Chat, Connection, Visitor
    from functions.realtime.connections import CONNECTION_TTL

    now = clock.now()
    chats, connections, visitors = [], [], []
    for n in range(size):
        stamp = clock.iso(now - timedelta(minutes=2) + timedelta(milliseconds=n))
        for kind in ("queued", "browsing"):
            visitor_id = f"{prefix}-{kind}-{n}"
            conn = f"{visitor_id}-conn="
            connections.append(
                Connection(
                    conn,
                    principal_id="v:" + visitor_id,
                    kind="visitor",
                    subject_id=visitor_id,
                    connected_at=stamp,
                    last_seen=stamp,
                    expires_at=now + CONNECTION_TTL,
                )
            )
            visitor = Visitor(
                visitor_id,
                secret_hash="x" * 64,
                created_at=stamp,
                last_seen=stamp,
                online_pk=ONLINE,
                online_until=clock.epoch() + 300,
                current_url="https://shop.example/",
            )
            if kind == "queued":
                chat_id = f"{prefix}-chat-{n}"
                visitor.open_chat_id = chat_id
                chats.append(
                    Chat(
                        chat_id,
                        status="queued",
                        visitor_id=visitor_id,
                        visitor_conns={conn},
                        agent_names={},
                        created_at=stamp,
                        last_activity_at=stamp,
                        queue_pk=QUEUE,
                        queued_at=stamp,
                        offer_pk=OFFER,
                        open_pk=OPEN,
                    )
                )
            visitors.append(visitor)
    for model, rows in ((Connection, connections), (Visitor, visitors), (Chat, chats)):
        batch_put(model.Meta.table_name, [row.serialize() for row in rows])


def _watchers(count: int) -> None:
    """`count` more agent sockets: consoles open, registered as `$connect` registers them."""
    from functions.core.principals import Principal
    from functions.realtime import connections

    for n in range(count):
        connections.register(f"watch-{n}-conn=", Principal("agent", f"watcher-{n}", f"Watcher {n}", "agent"), None)


def _measure(size: int, agent_sockets: int) -> tuple[dict[str, int], int]:
    """Posts caused by each anonymous request, with `size` queued chats and browsing visitors and
    `agent_sockets` agent sockets; and the posts of the one drain that follows them."""
    import time_machine

    from functions.core import settings
    from functions.core.principals import Principal
    from functions.visitors import tracking, verified
    from tests.support.actors import Socket, drain_notices, new_agent, new_visitor, start_chat

    posts: dict[str, int] = {}
    with charla_on_moto() as counter:
        clock_at = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
        with time_machine.travel(clock_at, tick=False):
            settings.save_settings({"max_chats_per_agent": 1})
            agents = [Socket(new_agent(f"Agent {n}")) for n in range(AGENTS)]
            served = [Socket(new_visitor(f"Served {n}")) for n in range(AGENTS)]
            active = [start_chat(s)["chat_id"] for s in served]
            _seed("bg", size)
            _watchers(agent_sockets - AGENTS)
            late = Socket(new_visitor("Late"))
            late_chat = start_chat(late)  # queued behind the seeded chats
            if late_chat["status"] != "queued":
                raise RuntimeError(f"the late visitor's chat was not queued: {late_chat['status']}")
            answer = tracking.page_view({"pv": "p0"}, user_agent=None, country=None, ip=None)
            creds = {"visitor_id": answer["visitor_id"], "secret": answer["secret"]}
            drain_notices()
        if not agents[0].of_type("notices"):
            raise RuntimeError("the agents' sockets received no notice while the scene was set")

        steps: list[tuple[str, Any]] = [
            ("hello (queued)", lambda: late.send({"action": "hello"})),
            ("start_chat (queued)", lambda: start_chat(Socket(new_visitor("New")))),
            (
                "send (queued)",
                lambda: late.send(
                    {"action": "send", "chat_id": late_chat["chat_id"], "client_msg_id": "m1", "text": "still there?"}
                ),
            ),
            ("typing", lambda: late.send({"action": "typing", "chat_id": late_chat["chat_id"], "typing": True})),
            ("close (queued)", lambda: late.send({"action": "close", "chat_id": late_chat["chat_id"]})),
            ("close (active)", lambda: served[0].send({"action": "close", "chat_id": active[0]})),
            ("rate", lambda: served[0].send({"action": "rate", "chat_id": active[0], "rating": "good"})),
            ("page view (first)", lambda: tracking.page_view({"pv": "p1"}, user_agent=None, country=None, ip=None)),
            (
                "page view",
                lambda: tracking.page_view(
                    {**creds, "pv": "p2", "url": "https://shop.example/2"}, user_agent=None, country=None, ip=None
                ),
            ),
            (
                "beat",
                lambda: tracking.page_view(
                    {**creds, "pv": "p2", "event": "beat"}, user_agent=None, country=None, ip=None
                ),
            ),
            ("identify", lambda: verified.identify(Principal("visitor", creds["visitor_id"]), {"name": "Ida"})),
        ]
        for step, (name, request) in enumerate(steps, start=1):
            with time_machine.travel(clock_at + timedelta(minutes=step), tick=False), counter.window() as window:
                request()
            posts[name] = window.posts
        # Under the same moved clock: moto's SQS would find notices sent "days later" than now expired.
        after = clock_at + timedelta(minutes=len(steps) + 1)
        with time_machine.travel(after, tick=False), counter.window() as window:
            drained = drain_notices()
        if drained["posts"] != window.posts:
            raise RuntimeError(f"the drain counted {drained['posts']} posts, botocore saw {window.posts}")
    return posts, window.posts


def run() -> list[Figure]:
    measured = {name: _measure(*shape) for name, shape in RUNS.items()}
    worst = {name: max(posts.values()) for name, (posts, _) in measured.items()}
    per_socket = {name: drained / RUNS[name][1] for name, (_, drained) in measured.items()}
    details = [
        f"{name} ({RUNS[name][0]} chats and visitors, {RUNS[name][1]} agent sockets): "
        + ", ".join(f"{request} {n}" for request, n in posts.items())
        + f"; then one drain: {drained} posts"
        for name, (posts, drained) in measured.items()
    ]
    details.append(
        f"the {len(next(iter(measured.values()))[0])} requests' notices to all agents were queued, "
        "and drained together as one frame per agent socket"
    )
    return [
        Figure(
            "posts_per_anonymous_request",
            {**worst, "drain_posts_per_agent_socket": max(per_socket.values())},
            checks=[
                Check("size_200 − size_10", worst["size_200"] - worst["size_10"], 0, "=="),
                Check("agents_1000 − size_10", worst["agents_1000"] - worst["size_10"], 0, "=="),
                Check("drain_posts_per_agent_socket", max(per_socket.values()), 1, "<="),
            ],
            details=details,
        )
    ]
