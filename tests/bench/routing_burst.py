"""routing_burst: 100 visitors start chats within 100 ms while 5 agents with 125 free slots accept.

The local stack runs in a child process (tests/bench/e2e_stack.py, with 5 agents of 25 slots). Every
visitor first gets an identity, a ticket and a socket, and says `hello`; then all 100 `start_chat`
frames leave within 100 ms, spread evenly. A visitor's assignment time runs from just before its
`start_chat` leaves to the moment its socket yields a `chat` frame with status `active`, on this
process's monotonic clock. `queued_after_1s` counts visitors with no such frame 1 s after their own
`start_chat` left; a chat never assigned within the wait counts as 30 s in the percentile.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from tests.bench.e2e import Ledger, StackProcess, _agent, _percentile, _post, visitor_address
from tests.bench.report import Check, Figure, null

VISITORS = 100
AGENTS = 5
SLOTS = 25  # per agent: 125 in all, room for every visitor
WINDOW_S = 0.1
WAIT_S = 30.0


class Starter:
    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.sent_at: float | None = None
        self.active_at: float | None = None
        self.active = asyncio.Event()
        self.queued = False  # told `queued` first: no free slot was found for it at its start
        self.errors: list[dict[str, Any]] = []
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for msg in self.ws:
            frame = json.loads(msg.data)
            if frame.get("type") == "chat" and frame["chat"].get("status") == "active" and not self.active.is_set():
                self.active_at = time.perf_counter()
                self.active.set()
            elif frame.get("type") == "chat" and frame["chat"].get("status") == "queued":
                self.queued = True
            elif frame.get("type") == "error":
                self.errors.append(frame)

    async def start(self, at: float) -> None:
        loop = asyncio.get_running_loop()
        await asyncio.sleep(max(0.0, at - loop.time()))
        self.sent_at = time.perf_counter()
        await self.ws.send_str(json.dumps({"action": "start_chat"}))

    def assign_ms(self) -> float:
        if self.sent_at is None or self.active_at is None:
            return WAIT_S * 1000
        return (self.active_at - self.sent_at) * 1000


async def _arrive(session: Any, info: dict[str, Any]) -> Starter:
    api, origin = info["base_url"] + "/api", {"Origin": info["base_url"]}
    identity = await _post(session, api + "/visitor/identity", json={}, headers=origin)
    auth = {**origin, "Authorization": f"Visitor {identity['visitor_id']}:{identity['secret']}"}
    ticket = (await _post(session, api + "/visitor/ws-ticket", json={}, headers=auth))["ticket"]
    ws = await session.ws_connect(f"{info['ws_url']}?ticket={ticket}", headers=origin)
    starter = Starter(ws)
    await ws.send_str(json.dumps({"action": "hello"}))
    return starter


async def scenario(info: dict[str, Any]) -> list[Starter]:
    import aiohttp

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        agents = [await _agent(session, info, c, Ledger()) for c in info["agents"]]
        # Each visitor from an address of its own, as in e2e: Charla limits anonymous callers per address.
        own = [
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0, local_addr=(visitor_address(n), 0)))
            for n in range(VISITORS)
        ]
        gate = asyncio.Semaphore(5)

        async def arrive(n: int) -> Starter:
            async with gate:
                return await _arrive(own[n], info)

        starters = await asyncio.gather(*(arrive(n) for n in range(VISITORS)))
        await asyncio.sleep(1.0)  # the hellos are answered before the rush
        loop = asyncio.get_running_loop()
        at = loop.time() + 0.2
        await asyncio.gather(*(s.start(at + WINDOW_S * n / VISITORS) for n, s in enumerate(starters)))
        try:
            await asyncio.wait_for(asyncio.gather(*(s.active.wait() for s in starters)), WAIT_S)
        except TimeoutError:
            pass
        for ws in [s.ws for s in starters] + [a.ws for a in agents]:
            await ws.close()
        for visitor_session in own:
            await visitor_session.close()
        return list(starters)


def summarise(starters: list[Starter]) -> Figure:
    times = [s.assign_ms() for s in starters]
    queued_after_1s = sum(1 for t in times if t > 1000)
    p99 = round(_percentile(times, 0.99), 1)
    errors = [e for s in starters for e in s.errors]
    value = {
        "visitors": VISITORS,
        "agents": AGENTS,
        "slots": AGENTS * SLOTS,
        "queued_after_1s": queued_after_1s,
        "p99_assign_ms": p99,
    }
    return Figure(
        "routing_burst",
        value,
        checks=[Check("queued after 1 s", queued_after_1s, 0, "=="), Check("p99 assignment ms", p99, 1000)],
        details=[
            f"median assignment {_percentile(times, 0.5):.0f} ms, max {max(times):.0f} ms; "
            f"{sum(1 for s in starters if s.active_at is None)} never assigned within {WAIT_S:.0f} s; "
            f"{sum(1 for s in starters if s.queued)} told `queued` first; "
            f"{len(errors)} errors" + (f", first: {errors[0]}" if errors else "")
        ],
    )


def run() -> list[Figure]:
    empty = {
        "visitors": VISITORS,
        "agents": AGENTS,
        "slots": AGENTS * SLOTS,
        "queued_after_1s": None,
        "p99_assign_ms": None,
    }
    try:
        stack = StackProcess(str(AGENTS), str(SLOTS))
    except Exception as error:
        return [null("routing_burst", empty, f"the local stack isn't usable: {str(error).strip()[-600:]}")]
    try:
        starters = asyncio.run(scenario(stack.info))
    except Exception as error:
        return [
            null("routing_burst", empty, f"the run through the local stack failed: {error!r}\n{stack.tail()[-1500:]}")
        ]
    finally:
        stack.stop()
    return [summarise(starters)]
