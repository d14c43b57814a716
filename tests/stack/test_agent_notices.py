"""Through the local stack: what every agent hears of comes in `notices` frames, drained from SQS as Lambda does."""

from __future__ import annotations

import json
import queue
import urllib.request
from typing import Any

from infra.local.stack import LocalStack
from tests.support import stack_http, ws_client


def _page_view(stack: LocalStack, n: int) -> str:
    body = json.dumps({"pv": f"p{n}", "url": f"https://shop.example/{n}"}).encode()
    request = urllib.request.Request(
        f"{stack.api_url}/visitor/pageview",
        data=body,
        method="POST",
        headers={"Content-Type": "text/plain", "Origin": stack.demo_url},
    )
    with urllib.request.urlopen(request, timeout=20) as response:
        return str(json.loads(response.read())["visitor_id"])


def test_new_visitors_and_a_ticket_reach_the_agent_inside_notices_frames_only(stack: LocalStack) -> None:
    agent = ws_client.agent(stack, stack.demo_email, stack.demo_password)
    try:
        visitors = {_page_view(stack, n) for n in range(3)}
        identity = stack_http.ok(stack, "POST", "/visitor/identity", headers={"Origin": stack.base_url})
        auth = {"Authorization": f"Visitor {identity['visitor_id']}:{identity['secret']}", "Origin": stack.base_url}
        fields = {"name": "Olga", "email": "olga@example.com", "message": "Nobody was online."}
        ticket = stack_http.ok(stack, "POST", "/visitor/offline", {"fields": fields}, auth)["ticket_id"]

        seen_visitors: set[str] = set()
        seen_tickets: set[str] = set()
        bare: list[dict[str, Any]] = []
        while not (visitors <= seen_visitors and ticket in seen_tickets):
            try:
                frame = agent.frames.get(timeout=30)  # the drain's window is 2 s; the machine may be loaded
            except queue.Empty:
                raise AssertionError(f"no notice for {visitors - seen_visitors} / {ticket}") from None
            if frame["type"] in ("visitor", "ticket"):
                bare.append(frame)
            for inner in frame.get("frames", []) if frame["type"] == "notices" else []:
                if inner["type"] == "visitor":
                    seen_visitors.add(inner["visitor"]["id"])
                elif inner["type"] == "ticket":
                    seen_tickets.add(inner["ticket"]["ticket_id"])
        assert bare == []  # nothing went to the agent one post per request
    finally:
        ws_client.close_all()
