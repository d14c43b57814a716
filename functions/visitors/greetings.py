"""Proactive greetings: an agent greets one visitor by hand, or an admin's rule greets automatically.

A manual greeting is kept on the visitor item (`greeting`, one at a time, 15 minutes) and pushed to
the visitor's connections as a `greeting` frame; a visitor without a socket gets it with their next
page view. Answering it starts a chat (`start_chat` with `greeting_id`) that opens with the greeting
and goes to the agent who sent it, over their capacity (they asked), or to the queue if they left.

Automatic rules live in the `greetings` setting; the widget evaluates the URL and time-on-page
condition, and asks before showing one: `shown` counts it with a conditional write on the visitor
item, so a visitor sees a rule at most `max_times` times whatever the tabs and pages.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import DoesNotExist, UpdateError

from functions.chat import messages, routing
from functions.core import clock, data, settings
from functions.core.errors import CharlaError, bad_request
from functions.core.principals import Principal
from functions.core.text import free_text
from functions.models import Agent, Chat, Visitor
from functions.realtime import broadcast, connections, visitor_frames

MAX_TEXT = 500
GREETING_TTL_S = 15 * 60
_ID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


# --- automatic rules ---------------------------------------------------------------------------


def rule_id(rule: dict[str, Any]) -> str:
    """Stable while the rule's condition and message stay; raising its cap keeps the count so far."""
    text = "\x1f".join(str(rule[k]) for k in ("url_contains", "after_seconds", "message"))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def rules() -> list[dict[str, Any]]:
    """The rules as the widget gets them (GET /widget/settings), each with its id."""
    return [{"id": rule_id(r), **r} for r in settings.get_settings()["greetings"]]


def _rule(identifier: object) -> dict[str, Any] | None:
    return next((r for r in rules() if r["id"] == identifier), None)


def shown(principal: Principal, identifier: str) -> dict[str, Any]:
    """Counts one showing of a rule's greeting, unless the visitor reached the rule's cap."""
    if principal.kind != "visitor":
        raise CharlaError("forbidden", "Only visitors see greetings.")
    rule = _rule(identifier)
    if rule is None:
        raise CharlaError("not_found", "No such greeting.")
    count = Visitor.greetings_shown[rule["id"]]
    try:
        counted = data.conditional(
            lambda: Visitor(principal.id).update(
                actions=[count.set((count | 0) + 1)],
                condition=Visitor.visitor_id.exists() & (count.does_not_exist() | (count < rule["max_times"])),
            )
        )
    except UpdateError as error:
        if error.cause_response_code != "ValidationException":
            raise
        # A visitor item from before greetings has no map to count in: start it, unless a tab just did.
        started = data.conditional(
            lambda: Visitor(principal.id).update(
                actions=[Visitor.greetings_shown.set({rule["id"]: 1})],
                condition=Visitor.visitor_id.exists() & Visitor.greetings_shown.does_not_exist(),
            )
        )
        if not started:
            return shown(principal, identifier)
        counted = True
    if not counted:
        return {"show": False}
    return {"show": True, "greeting_rule": rule["id"], "text": rule["message"]}


# --- manual greetings --------------------------------------------------------------------------


def _clean(text: object) -> str:
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
        raise bad_request(f"`text` must be 1 to {MAX_TEXT} characters.")
    return free_text(text)


def send(agent: Principal, visitor_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """An agent greets a visitor from the Visitors list."""
    if not agent.is_agent:
        raise CharlaError("forbidden", "Only agents greet visitors.")
    text = _clean(body.get("text"))
    try:
        visitor = Visitor.get(visitor_id) if isinstance(visitor_id, str) and len(visitor_id) <= 64 else None
    except DoesNotExist:
        visitor = None
    if visitor is None:
        raise CharlaError("not_found", "No such visitor.")
    if visitor.online_until is None or visitor.online_until <= clock.epoch():
        raise CharlaError("conflict", "This visitor has left the site.")
    greeting = {
        "greeting_id": "g_" + secrets.token_urlsafe(9),
        "agent_id": agent.id,
        "agent_name": agent.name or "",
        "text": text,
        "expires_at": clock.epoch() + GREETING_TTL_S,
    }
    visitor.update(actions=[Visitor.greeting.set(greeting)], condition=Visitor.visitor_id.exists())
    targets = connections.connection_ids(Principal("visitor", visitor_id))
    broadcast.to_connections(targets, frame(greeting))
    return {"greeting_id": greeting["greeting_id"], "delivered": bool(targets)}


def frame(greeting: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "greeting",
        "greeting_id": greeting["greeting_id"],
        # Visitors see the agent's name and an alias, never the agent's id.
        "from": {
            "id": visitor_frames.alias(greeting["greeting_id"], greeting["agent_id"]),
            "name": greeting["agent_name"] or None,
        },
        "text": greeting["text"],
    }


def _live(visitor: Visitor) -> dict[str, Any] | None:
    greeting = visitor.greeting.as_dict() if visitor.greeting else None
    if not greeting or int(greeting.get("expires_at", 0)) <= clock.epoch():
        return None
    return greeting


def pending(visitor: Visitor) -> dict[str, Any] | None:
    """The greeting frame still waiting for this visitor (sent while they had no socket), if any."""
    greeting = _live(visitor)
    return frame(greeting) if greeting else None


# --- answering a greeting starts a chat ------------------------------------------------------


@dataclass(frozen=True)
class Opener:
    """What a chat started by answering a greeting opens with (see chats.start)."""

    text: str
    agent_id: str | None = None  # the greeting's agent, when they are still online
    agent_name: str | None = None

    def begin(self, chat: Chat) -> Chat:
        """Stores the greeting as the transcript's first line, then hands the chat to its agent.

        A system line, not the agent's message: an agent message would count as their first answer
        and take the chat off the unanswered sweep before they answered the visitor's reply.
        """
        line = f"{self.agent_name}: {self.text}" if self.agent_name else self.text
        messages.store(chat, text=line)
        if self.agent_id:
            try:
                return routing.accept(Principal("agent", self.agent_id), chat.chat_id)
            except CharlaError:
                pass  # their chats changed meanwhile: normal routing takes over
        return Chat.get(chat.chat_id, consistent_read=True)


def opener(principal: Principal, greeting_id: object, rule: object) -> Opener | None:
    """The greeting a `start_chat` answers, checked against what this visitor was really sent."""
    if principal.kind != "visitor":
        return None
    if isinstance(greeting_id, str) and _ID.match(greeting_id):
        return _manual(principal.id, greeting_id)
    if isinstance(rule, str) and _ID.match(rule):
        found = _rule(rule)
        return Opener(found["message"]) if found else None
    return None


def _manual(visitor_id: str, greeting_id: str) -> Opener | None:
    try:
        greeting = _live(Visitor.get(visitor_id, consistent_read=True))
    except DoesNotExist:
        return None
    if not greeting or greeting["greeting_id"] != greeting_id:
        return None  # expired, replaced or never sent: the chat starts like any other
    used = data.conditional(  # used once: a second tab answering the same greeting joins the chat the first started
        lambda: Visitor(visitor_id).update(
            actions=[Visitor.greeting.remove()], condition=Visitor.greeting["greeting_id"] == greeting_id
        )
    )
    if not used:
        return None
    agent_id = str(greeting["agent_id"])
    try:
        agent = Agent.get(agent_id)
        present = not agent.disabled and agent.online_conns > 0
    except DoesNotExist:
        present = False
    return Opener(str(greeting["text"]), agent_id if present else None, str(greeting["agent_name"]) or None)
