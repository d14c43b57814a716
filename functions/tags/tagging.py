"""Agents tag chats (while they run or after they end) and tickets.

A change is `{"add": [...], "remove": [...]}` of tag ids, written conditionally on the tags the agent's
request read: two agents tagging one chat at once both keep their tags. Who may tag is who may act on
the chat or ticket today: a chat's participants or any admin (as for making a ticket from it, or a ban),
and every agent for tickets (the helpdesk is shared).
"""

from __future__ import annotations

from typing import Any

from functions.admin import webhooks
from functions.chat import access, archive, chats
from functions.core import data, text
from functions.core.errors import bad_request, not_found
from functions.core.principals import Principal
from functions.helpdesk import tickets
from functions.models import Chat, Ticket
from functions.realtime import broadcast
from functions.reports import stats
from functions.tags import catalog


def _change(body: dict[str, Any]) -> tuple[set[str], set[str]]:
    text.reject_unknown_fields(body, {"add", "remove"})
    add = catalog.check_ids(body.get("add"), "add", known=True)
    remove = catalog.check_ids(body.get("remove"), "remove", known=False)
    if not add and not remove:
        raise bad_request("`add` or `remove` must list at least one tag id.", field="add")
    if add & remove:
        raise bad_request("`remove` names a tag that `add` names too.", field="remove")
    return add, remove


def tag_chat(principal: Principal, chat_id: str, body: dict[str, Any]) -> Chat:
    if not principal.is_agent:
        raise not_found()  # a visitor takes part in their own chat, yet tags are the agents'
    chat = access.chat_for_read(principal, chat_id) if principal.is_admin else access.chat_for_write(principal, chat_id)
    add, remove = _change(body)
    for _attempt in data.attempts(busy_message="The chat is busy; try again."):
        before = set(chat.tags or ())
        after = (before | add) - remove
        if after == before:
            return chat
        seen = Chat.tags == before if before else Chat.tags.does_not_exist()
        # On the status and rating too: what moves in the tags' report rows is decided by the chat as written.
        seen &= Chat.status == chat.status
        seen &= Chat.rating == chat.rating if chat.rating else Chat.rating.does_not_exist()
        action = Chat.tags.set(after) if after else Chat.tags.remove()
        if data.conditional(lambda: chat.update(actions=[action], condition=seen)):  # noqa: B023
            break
        chat = access.chat_for_read(principal, chat_id)
    stats.chat_retagged(chat, added=after - before, removed=before - after)
    broadcast.to_chat(chat, {"type": "chat", "chat": chats.view(chat)}, visitor=False)
    archive.index_quietly(chat)  # the archive's tag filter follows; the tags stay changed if it fails
    return chat


def tag_ticket(principal: Principal, ticket_id: str, body: dict[str, Any]) -> Ticket:
    ticket = tickets.for_agent(principal, ticket_id)
    add, remove = _change(body)
    for _attempt in data.attempts(busy_message="The ticket is busy; try again."):
        before = set(ticket.tags or ())
        after = (before | add) - remove
        if after == before:
            return ticket
        seen = Ticket.tags == before if before else Ticket.tags.does_not_exist()
        action = Ticket.tags.set(after) if after else Ticket.tags.remove()
        if data.conditional(lambda: ticket.update(actions=[action], condition=seen)):  # noqa: B023
            break
        ticket = tickets.load(ticket_id)
    webhooks.emit("ticket.updated", tickets.view(ticket))
    return ticket
