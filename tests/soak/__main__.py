"""`python -m tests.soak`: live chats through the local stack while sockets are cut at random.

Starts LocalStack(port=0) in this process, creates the agents (with room for every chat), opens the
visitor chats, and has each visitor send on its own clock while a chaos task drops a share of all
live sockets (visitors' and agents') every few seconds. Clients reconnect and catch up as the widget
and the console do (tests/soak/clients.py). Once sending stops and everything is quiet, every agent
resumes each of its chats from 0 and the run checks, per chat:

- lost: acked to the visitor, absent from the agent's final transcript;
- duplicated: a seq or client_msg_id twice in the final transcript, or a client_msg_id stored twice
  in the messages table;
- latency from the visitor's first send to the agent's live `message` frame (messages the agent
  first got through `resume` are counted as recovered instead).

Then every visitor opens a second tab and each agent sends one message to each of its chats: a tab that
doesn't get it live is a tab missing live messages. Every visitor closes its chat (a chat not closed in
the table is stuck open) and every client disconnects (an agent still in the routing index is routable
with no socket).

`--faults "ddb_conflict=0.1,..."` runs it all in the local stack's fault mode (infra/local/faults.py).

The default rate is one message per visitor every 3 s (about 33 messages/s for 100 chats): the
local stack on a 2-core machine saturates near 100 messages/s, and the point here is correctness
under drops, not the knee. The last line printed is one JSON object; the exit status is 1 when
anything was lost or duplicated.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import os
import random
import sys
import time
from collections import Counter
from typing import Any

import aiohttp

from tests.soak.clients import Agent, Ledger, Visitor, contiguous

QUIET_TIMEOUT_S = 60.0


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.soak", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="how long visitors send (default 60)")
    parser.add_argument("--chats", type=int, default=100, help="concurrent visitor chats (default 100)")
    parser.add_argument("--agents", type=int, default=10, help="agents sharing the chats (default 10)")
    parser.add_argument(
        "--rate",
        type=float,
        default=1 / 3,
        help="messages per second per visitor (default 1/3: ~33 msg/s over 100 chats)",
    )
    parser.add_argument("--drop-share", type=float, default=0.05, help="share of live sockets cut per round")
    parser.add_argument("--drop-every", type=float, default=5.0, help="mean seconds between rounds of drops")
    parser.add_argument("--seed", type=int, default=None, help="random seed, for a repeatable schedule")
    parser.add_argument(
        "--faults",
        default=None,
        help='fault mode rates, e.g. "ddb_conflict=0.1,ddb_throttle=0.05,post_429=0.05" '
        "(infra/local/faults.py); default: none",
    )
    return parser.parse_args(argv)


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[max(0, math.ceil(q * len(ordered)) - 1)], 1)  # nearest rank


async def chaos(stack: Any, args: argparse.Namespace, stop: asyncio.Event, drops: list[int]) -> None:
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), args.drop_every * random.uniform(0.5, 1.5))
            return
        except TimeoutError:
            pass
        ids = await asyncio.to_thread(stack.connection_ids)
        if not ids:
            continue
        count = max(1, round(len(ids) * args.drop_share))
        for connection_id in random.sample(ids, min(count, len(ids))):
            if await asyncio.to_thread(stack.drop_connection, connection_id):
                drops[0] += 1


async def talk(visitor: Visitor, start: float, offset: float, period: float, end: float) -> None:
    loop = asyncio.get_running_loop()
    for n in itertools.count():
        at = start + offset + n * period * random.uniform(0.9, 1.1)
        if at >= end:
            return
        await asyncio.sleep(max(0.0, at - loop.time()))
        await visitor.say()


async def activate(visitors: list[Visitor], agents: list[Agent]) -> int:
    """Waits for every chat to go active; a chat left queued is accepted by hand, as an agent would."""
    try:
        await asyncio.wait_for(asyncio.gather(*(v.active.wait() for v in visitors)), 15)
        return 0
    except TimeoutError:
        pass
    queued = [v for v in visitors if not v.active.is_set() and v.chat_id]
    for visitor, agent in zip(queued, itertools.cycle(agents)):
        await agent.send({"action": "accept", "chat_id": visitor.chat_id})
    await asyncio.wait_for(asyncio.gather(*(v.active.wait() for v in visitors)), 60)
    return len(queued)


async def quiesce(visitors: list[Visitor], agents: list[Agent], ledger: Ledger) -> float:
    """Until every client is connected, nothing is unacked, and agents hold every acked message."""
    began = time.perf_counter()
    deadline = began + QUIET_TIMEOUT_S
    while time.perf_counter() < deadline:
        connected = all(c.connected.is_set() for c in [*visitors, *agents])
        unacked = sum(len(v.pending) for v in visitors)
        held = set(ledger.live) | ledger.recovered
        if connected and not unacked and all(k in held for k in ledger.acked):
            break
        await asyncio.sleep(0.25)
    await asyncio.sleep(1.0)  # anything still on its way
    return time.perf_counter() - began


def stored_twice(chat_ids: list[str]) -> dict[str, int]:
    """Per chat, client_msg_ids stored more than once in the messages table (read directly)."""
    from functions.models import Message
    from infra.local import faults

    extra: dict[str, int] = {}
    with faults.paused():  # the harness's own reads are not the app's
        for chat_id in chat_ids:
            keys = Counter(m.client_msg_id for m in Message.query(chat_id, consistent_read=True) if m.client_msg_id)
            extra[chat_id] = sum(n - 1 for n in keys.values())
    return extra


def visitor_address(number: int) -> str:
    """A loopback source address of visitor `number`'s own (127.0.1.1, 127.0.1.2, ...)."""
    return f"127.0.{1 + number // 250}.{1 + number % 250}"


def left_over(chat_ids: list[str], agent_ids: list[str]) -> dict[str, int]:
    """Chats not closed, and agents still routable (or counted online), read directly."""
    from functions.models import Agent, Chat
    from infra.local import faults

    with faults.paused():
        open_chats = sum(1 for c in Chat.batch_get(chat_ids) if c.status != "closed")
        agents = list(Agent.batch_get(agent_ids))
    return {
        "stuck_open": open_chats,
        "routable_without_socket": sum(1 for a in agents if a.routable_pk is not None or a.online_conns > 0),
        "slots_held": sum(int(a.active_count) for a in agents),
    }


async def open_tab(session: aiohttp.ClientSession, info: dict[str, Any], ledger: Ledger, visitor: Visitor) -> Visitor:
    """A second tab of the visitor; a refused upgrade (503 under faults) is retried, as the widget does."""
    for attempt in itertools.count():
        tab = Visitor(session, info, ledger, visitor.number, tab_of=visitor)
        try:
            await tab.start()
            return tab
        except Exception:
            ledger.failed_reconnects += 1
            if attempt >= 20:
                raise
            await asyncio.sleep(0.5)
    raise AssertionError("unreachable")


async def probe(agents: list[Agent], visitors: list[Visitor], tabs: list[Visitor], owner: dict[str, str]) -> int:
    """Each agent says one thing in each of its chats; returns the visitor tabs that never got it live."""
    by_id = {a.me["id"]: a for a in agents}
    for chat_id, agent_id in owner.items():
        await by_id[agent_id].say(chat_id, f"probe-{chat_id}", "Still there?")
    listeners = [(t, t.chat_id or (t.tab_of.chat_id if t.tab_of else None)) for t in [*visitors, *tabs]]
    deadline = time.perf_counter() + 20
    while time.perf_counter() < deadline:
        if all(f"probe-{c}" in t.live_keys for t, c in listeners):
            break
        await asyncio.sleep(0.25)
    return sum(1 for t, c in listeners if f"probe-{c}" not in t.live_keys)


async def close_all(visitors: list[Visitor]) -> None:
    for visitor in visitors:
        await visitor.close_chat()
    try:
        await asyncio.wait_for(asyncio.gather(*(v.closed.wait() for v in visitors)), 30)
    except TimeoutError:
        pass  # counted from the table below


async def scenario(stack: Any, agents_info: list[dict[str, str]], args: argparse.Namespace) -> dict[str, Any]:
    info = {"base_url": stack.base_url, "ws_url": stack.ws_url}
    ledger = Ledger()
    loop = asyncio.get_running_loop()
    began = time.perf_counter()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        agents = [Agent(session, info, ledger, credentials) for credentials in agents_info]
        for agent in agents:
            await agent.start()
        gate = asyncio.Semaphore(5)  # a trickle of arrivals, not all at the same instant

        # Each visitor comes from a loopback address of its own, as real visitors come from theirs:
        # Charla limits anonymous callers per address (docs/protocol.md).
        own = [
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0, local_addr=(visitor_address(n), 0)))
            for n in range(args.chats)
        ]

        async def arrive(number: int) -> Visitor:
            async with gate:
                visitor = Visitor(own[number], info, ledger, number)
                await visitor.start()
                return visitor

        visitors = list(await asyncio.gather(*(arrive(n) for n in range(args.chats))))
        hand_accepted = await activate(visitors, agents)
        setup_s = time.perf_counter() - began
        print(
            f"setup: {args.agents} agents, {args.chats} chats active in {setup_s:.0f} s "
            f"({hand_accepted} accepted by hand from the queue)",
            flush=True,
        )

        stop, drops = asyncio.Event(), [0]
        chaos_task = asyncio.create_task(chaos(stack, args, stop, drops))
        period = 1.0 / args.rate
        start = loop.time() + 1.0
        end = start + args.seconds
        await asyncio.gather(*(talk(v, start, period * n / args.chats, period, end) for n, v in enumerate(visitors)))
        stop.set()
        await chaos_task
        quiet_s = await quiesce(visitors, agents, ledger)

        by_id = {a.me["id"]: a for a in agents}
        transcripts: dict[str, list[dict[str, Any]]] = {}
        owner: dict[str, str] = {}
        for visitor in visitors:
            assert visitor.chat_id is not None
            agent = by_id.get(visitor.assignee or "") or next((a for a in agents if visitor.chat_id in a.chats), None)
            if agent is None:
                raise RuntimeError(f"no agent holds chat {visitor.chat_id}")
            owner[visitor.chat_id] = agent.me["id"]
        for agent in agents:
            await agent.connected.wait()
            for chat_id in [c for c, o in owner.items() if o == agent.me["id"]]:
                transcripts[chat_id] = await agent.resume(chat_id, after=0)
        tabs = list(await asyncio.gather(*(open_tab(session, info, ledger, v) for v in visitors)))
        missing_live = await probe(agents, visitors, tabs, owner)
        for key, chat_id in ledger.chat_of.items():  # reached the agent only by this final resume
            if key not in ledger.live and any(m.get("client_msg_id") == key for m in transcripts[chat_id]):
                ledger.recovered.add(key)
        stored = await asyncio.to_thread(stored_twice, list(transcripts))
        gaps = sum(1 for chat_id, ms in transcripts.items() if contiguous({m["seq"] for m in ms}) != len(ms))
        await close_all(visitors)
        for client in [*visitors, *tabs, *agents]:
            await client.close()
        for visitor_session in own:
            await visitor_session.close()
        leftovers: dict[str, int] = {}
        for _ in range(40):  # $disconnect runs after the socket closes
            leftovers = await asyncio.to_thread(left_over, list(transcripts), list(by_id))
            if not leftovers["routable_without_socket"]:
                break
            await asyncio.sleep(0.25)
    return {
        "ledger": ledger,
        "transcripts": transcripts,
        "stored": stored,
        "drops": drops[0],
        "gaps": gaps,
        "quiet_s": quiet_s,
        "setup_s": setup_s,
        "visitors": visitors,
        "missing_live": missing_live,
        **leftovers,
    }


def report(args: argparse.Namespace, run: dict[str, Any], runtime_s: float) -> dict[str, Any]:
    ledger: Ledger = run["ledger"]
    rows = []
    totals = Counter()
    for chat_id, messages in sorted(run["transcripts"].items()):
        seqs = Counter(m["seq"] for m in messages)
        keys = Counter(m["client_msg_id"] for m in messages if m.get("client_msg_id"))
        acked = [k for k, c in ledger.chat_of.items() if c == chat_id and k in ledger.acked]
        lost = sum(1 for k in acked if k not in keys)
        dup = sum(n - 1 for n in seqs.values()) + sum(n - 1 for n in keys.values()) + run["stored"][chat_id]
        sent = sum(1 for c in ledger.chat_of.values() if c == chat_id)
        live = sum(1 for k in acked if k in ledger.live)
        recovered = sum(1 for k in acked if k in ledger.recovered)
        rows.append((chat_id, sent, len(acked), live, recovered, lost, dup))
        totals.update(lost=lost, duplicated=dup)
    latencies = [(at - ledger.sent[k]) * 1000 for k, at in ledger.live.items() if k in ledger.sent]
    result = {
        "chats": len(run["transcripts"]),
        "agents": args.agents,
        "seconds": args.seconds,
        "sent": len(ledger.sent),
        "acked": len(ledger.acked),
        "delivered_live": sum(1 for k in ledger.sent if k in ledger.live),
        "recovered_by_resume": sum(1 for k in ledger.sent if k in ledger.recovered and k not in ledger.live),
        "lost": totals["lost"],
        "duplicated": totals["duplicated"],
        "drops": run["drops"],
        "p50_ms": percentile(latencies, 0.50),
        "p95_ms": percentile(latencies, 0.95),
        "p99_ms": percentile(latencies, 0.99),
        "tabs_missing_live": run["missing_live"],
        "stuck_open": run["stuck_open"],
        "routable_without_socket": run["routable_without_socket"],
        "slots_held": run["slots_held"],
        "faults": args.faults,
        "injected": dict(run.get("injected") or {}),
    }
    worst = sorted(rows, key=lambda r: (-r[5], -r[6], -r[4]))[:10]
    print(f"\n{'chat':<38} {'sent':>5} {'acked':>5} {'live':>5} {'resume':>6} {'lost':>5} {'dup':>4}")
    for chat_id, *numbers in worst:
        print(f"{chat_id:<38} " + " ".join(f"{n:>{w}}" for n, w in zip(numbers, (5, 5, 5, 6, 5, 4), strict=True)))
    print(f"({len(rows)} chats; the 10 with the most lost, duplicated or recovered are shown)\n")
    width = 36
    lines = [
        ("chats / agents", f"{result['chats']} / {args.agents}"),
        (
            "sending",
            f"{args.seconds:.0f} s at {args.rate:.3g} msg/s per visitor (~{args.rate * args.chats:.0f} msg/s in all)",
        ),
        (
            "sockets dropped",
            f"{run['drops']} (reconnects: {ledger.reconnects['visitor']} visitor, "
            f"{ledger.reconnects['agent']} agent; {ledger.failed_reconnects} failed attempts)",
        ),
        ("sent / acked", f"{result['sent']} / {result['acked']}"),
        ("delivered live / by resume", f"{result['delivered_live']} / {result['recovered_by_resume']}"),
        ("resent (drop or retry)", f"{ledger.resent} ({ledger.duplicate_acks} acked as duplicate)"),
        ("live frames for a held seq", str(ledger.live_repeats)),
        ("lost / duplicated", f"{result['lost']} / {result['duplicated']}"),
        ("transcripts with a seq gap", str(run["gaps"])),
        ("tabs missing live messages", f"{run['missing_live']} (of {2 * result['chats']} visitor tabs)"),
        ("chats stuck open / slots held", f"{run['stuck_open']} / {run['slots_held']}"),
        ("agents routable with no socket", str(run["routable_without_socket"])),
        ("faults injected", f"{dict(run.get('injected') or {})} ({args.faults or 'fault mode off'})"),
        (
            "latency p50 / p95 / p99",
            f"{result['p50_ms']} / {result['p95_ms']} / {result['p99_ms']} ms (max {max(latencies, default=0):.0f} ms)",
        ),
        (
            "'unknown connection' on open sockets",
            f"{ledger.unknown_connection} (each answered by a reconnect)"
            + "".join(f"; {d}" for d in ledger.unknown_details[:5]),
        ),
        ("other errors", f"{len(ledger.errors)}" + (f", first: {ledger.errors[0]}" if ledger.errors else "")),
        ("setup / quiescence / runtime", f"{run['setup_s']:.0f} s / {run['quiet_s']:.1f} s / {runtime_s:.0f} s"),
    ]
    for label, value in lines:
        print(f"{label:<{width}} {value}")
    return result


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    if args.seed is not None:
        random.seed(args.seed)
    from infra.local import cognito, faults
    from infra.local.stack import LocalStack

    if args.faults:
        faults.parse(args.faults)  # refuse a typo before starting anything
        os.environ[faults.ENV] = args.faults
    began = time.perf_counter()
    stack = LocalStack(port=0).start()
    try:
        from functions.core import settings  # the stack runs in this process, so this is the app's cache too

        with faults.paused():  # the set-up a deploy and an admin do, not what is measured
            settings.save_settings({"max_chats_per_agent": max(1, math.ceil(args.chats / args.agents)) * 2})
            agents_info = []
            for n in range(args.agents):
                email, password = f"soak-agent-{n}@charla.local", cognito.new_password()
                stack.create_agent(email, password, f"Soak agent {n}", role="agent", accepting=True)
                agents_info.append({"email": email, "password": password})
        run = asyncio.run(scenario(stack, agents_info, args))
        run["injected"] = stack.faults.injected if stack.faults else {}
    finally:
        stack.stop()
        if args.faults:
            os.environ.pop(faults.ENV, None)
    result = report(args, run, time.perf_counter() - began)
    print(json.dumps(result))
    failed = ("lost", "duplicated", "tabs_missing_live", "stuck_open", "routable_without_socket", "slots_held")
    return 1 if any(result[name] for name in failed) else 0


if __name__ == "__main__":
    sys.exit(main())
