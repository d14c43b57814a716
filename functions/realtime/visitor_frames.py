"""What a visitor may see of agents: a display name and an opaque alias, never the Cognito sub.

An alias is a hash of the agent's id within a scope (a chat, a greeting), so the widget can still
tell two agents of one chat apart, while a visitor can neither recover the id nor link one agent
across chats. Agents' ids are random UUIDs, so without knowing the id the hash reveals nothing.
"""

from __future__ import annotations

import hashlib
from typing import Any


def alias(scope: str, agent_id: str | None) -> str | None:
    if not agent_id:
        return None
    digest = hashlib.sha256(f"charla-agent\x1f{scope}\x1f{agent_id}".encode()).hexdigest()
    return "a_" + digest[:16]


def chat(view: dict[str, Any]) -> dict[str, Any]:
    """A chat object (chats.view) as its visitor sees it."""
    scope = view["chat_id"]
    return {
        **{k: v for k, v in view.items() if k != "tags"},  # agents' labels, not the visitor's business
        "agents": [{"id": alias(scope, a["id"]), "name": a["name"]} for a in view.get("agents") or ()],
        "assignee_id": alias(scope, view.get("assignee_id")),
    }


def message(view: dict[str, Any]) -> dict[str, Any]:
    """A message object (messages.view) as the chat's visitor sees it: a system line in their language; an
    agents-only line is only its seq (kind `hidden`), so the visitor's transcript still counts every seq and
    has no gap."""
    if view.get("audience") == "agents":
        return {"seq": view["seq"], "chat_id": view["chat_id"], "kind": "hidden", "sender": "system", "ts": view["ts"]}
    if "visitor_text" in view:
        view = {k: v for k, v in view.items() if k != "visitor_text"} | {"text": view["visitor_text"]}
    if view.get("sender") != "agent":
        return view
    return {**view, "sender_id": alias(str(view["chat_id"]), view.get("sender_id"))}


def page(found: dict[str, Any]) -> dict[str, Any]:
    """A page of messages (messages.page) as the chat's visitor reads it over REST."""
    return {**found, "messages": [message(m) for m in found.get("messages") or ()]}


def frame(sent: dict[str, Any]) -> dict[str, Any]:
    """A frame bound for a visitor's connection, with every agent id replaced by its alias."""
    kind = sent.get("type")
    if kind == "chat" and isinstance(sent.get("chat"), dict):
        return {**sent, "chat": chat(sent["chat"])}
    if kind == "message" and isinstance(sent.get("message"), dict):
        return {**sent, "message": message(sent["message"])}
    if kind == "messages":
        return {**sent, "messages": [message(m) for m in sent.get("messages") or ()]}
    if kind == "welcome":
        return {**sent, "chats": [chat(c) for c in sent.get("chats") or ()]}
    return sent
