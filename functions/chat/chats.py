"""A chat's life: start, assignment or queue, accept, close; and what each side is told."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.update import Action

from functions.admin import webhooks
from functions.chat import access, archive, messages, queue_eta, routing
from functions.core import clock, data, lines, settings, shards, sweep_gate, text
from functions.core.errors import CharlaError, bad_request
from functions.core.principals import Principal
from functions.models import OFFER, OPEN, QUEUE, Agent, Chat, Connection, Settings, Visitor
from functions.realtime import agent_notices, broadcast, connections
from functions.reports import stats
from functions.team import agents, groups
from functions.visitors import greetings, identity, limits, names, privacy, verified
from functions.visitors.greetings import Opener

MAX_NAME = 100
# When the queue moves, the chats at its head hear their new positions at most this often, and
# only they do: one event costs a bounded number of posts however long the queue is. Every queued
# chat hears at the minute's sweep (a position only ever improves, so a late one is cautious).
QUEUE_NOTICE_S = 5
QUEUE_NOTICE_HEAD = 10
_QUEUE_NOTICE_ITEM = "queue-notice"  # a settings item of its own: when the head last heard


def view(chat: Chat) -> dict[str, Any]:
    agent_names = chat.agent_names.as_dict() if chat.agent_names else {}
    return {
        "chat_id": chat.chat_id,
        "status": chat.status,
        "visitor": {
            "id": chat.visitor_id,
            "name": chat.visitor_name,
            "email": chat.visitor_email,
            **names.fields(chat.visitor_id),
            "country": chat.visitor_country,
        },
        "agents": [{"id": a, "name": agent_names.get(a)} for a in sorted(chat.agent_ids or ())],
        "assignee_id": chat.assignee_id,
        "last_seq": int(chat.last_seq),
        "created_at": chat.created_at,
        "awaiting_reply_since": chat.awaiting_reply_since,
        "visitor_left_at": chat.visitor_left_at,
        "first_message": chat.first_message,
        "page": {"url": chat.page_url, "title": chat.page_title} if chat.page_url else None,
        "closed_at": chat.closed_at,
        "rating": chat.rating,
        "rating_comment": chat.rating_comment,
        "tags": sorted(chat.tags or ()),  # tag ids (functions/tags/catalog.py names them); never a visitor's
        "group": {"id": chat.group_id, "name": chat.group_name} if chat.group_id else None,
    }


def _clean_name(name: object) -> str | None:
    if name is None or name == "":
        return None
    if not isinstance(name, str) or len(name) > MAX_NAME:
        raise bad_request(f"`name` must be text of at most {MAX_NAME} characters.")
    # Names end up in email headers and notifications; control characters have no place there.
    cleaned = text.one_line(name)
    return cleaned or None


def clean_email(email: object) -> str | None:
    if email is None or email == "":
        return None
    if not isinstance(email, str) or not text.is_email(email):
        raise bad_request("`email` is not a valid email address.")
    return email


def start_with_context(
    principal: Principal,
    name: object,
    email: object,
    *,
    context: object,
    greeting_id: object,
    greeting_rule: object,
    connection: Connection,
    group: object = None,
    address: str | None,
) -> tuple[Chat, bool]:
    """A visitor's `start_chat`: keeps what the widget reports about their page, then starts the chat (or
    returns their open one), opened by the greeting they answered if it is one they were really sent.
    """
    if principal.kind == "visitor":
        identity.record_context(principal.id, context, connection)
    opener = greetings.opener(principal, greeting_id, greeting_rule)
    lang = lines.language(context.get("language")) if isinstance(context, dict) else None
    return start(principal, name, email, opener, address=address, lang=lang, group=group)


def start(
    principal: Principal,
    name: object,
    email: object,
    opener: Opener | None = None,
    *,
    address: str | None = None,
    lang: str | None = None,
    group: object = None,
) -> tuple[Chat, bool]:
    """Starts a chat, or returns the visitor's open one; the flag says whether it is new.

    `opener` (functions/visitors/greetings.py): the greeting the visitor answered, whose agent
    takes the chat even when nobody is accepting chats. `address`: the caller's, for the per-address
    limits on new chats and on chats waiting at once (functions/visitors/limits.py). `group`: the id of
    the group the visitor (or the page) chose; only its members take the chat, and when none of them is
    accepting, the visitor is offered the offline form (for that group).
    """
    if principal.kind != "visitor":
        raise CharlaError("forbidden", "Only visitors start chats.")
    name_value, email_value = _clean_name(name), clean_email(email)
    if settings.get_settings()["prechat"] == "name_email" and not (name_value and email_value):
        raise bad_request("Please give your name and email to start a chat.")
    chosen = groups.find(group) if group is not None else None
    visitor = Visitor.get(principal.id)
    if visitor.open_chat_id:
        try:
            existing = Chat.get(visitor.open_chat_id, consistent_read=True)
            if existing.status != "closed":
                return existing, False  # starting twice (two tabs, a retry) joins the same chat
        except DoesNotExist:
            pass
    candidates = routing.routable_agents(chosen.group_id if chosen else None)
    if not candidates and not (opener and opener.agent_id):
        raise CharlaError("offline", "No agent is available right now. Leave us a message instead.")
    chat_id = "c_" + secrets.token_urlsafe(12)
    limits.hit("start_chat", address)
    limits.hold_queue_place(address, chat_id)  # booked before the chat exists: a refusal leaves nothing behind
    chat = _create(
        principal, name_value, email_value, chat_id, visitor, lang or lines.language(visitor.language), chosen
    )
    # A visitor who chats is kept with their chats, not expired with anonymous ones (functions/visitors/privacy.py).
    actions: list[Action] = [Visitor.open_chat_id.set(chat.chat_id), Visitor.expires_at.remove()]
    if name_value:
        actions.append(Visitor.name.set(name_value))
    if email_value:
        actions.append(Visitor.email.set(email_value))
    visitor.update(actions=actions)
    if opener is not None:
        chat = opener.begin(chat)  # the greeting opens the transcript; its agent takes the chat
    if chat.status == "queued":
        chat = routing.route(chat.chat_id, candidates) or chat
    announce(chat)
    webhooks.emit("chat.started", view(chat))
    archive.index_quietly(chat)
    return chat, True


def _create(
    principal: Principal,
    name: str | None,
    email: str | None,
    chat_id: str,
    visitor: Visitor,
    lang: str,
    group: groups.Group | None = None,
) -> Chat:
    sweep_gate.work_coming()  # an open chat: the sweep must look at it
    now = clock.now_iso()
    conns = set(connections.connection_ids(principal))
    chat = Chat(
        chat_id,
        status="queued",
        visitor_id=principal.id,
        visitor_name=name,
        visitor_email=email,
        visitor_lang=lang,
        visitor_country=visitor.country,
        visitor_conns=conns or None,
        agent_names={},
        created_at=now,
        last_activity_at=now,
        queue_pk=shards.key(QUEUE, chat_id),
        queued_at=now,
        offer_pk=shards.key(OFFER, chat_id),
        open_pk=shards.key(OPEN, chat_id),
        page_url=visitor.current_url,
        page_title=visitor.current_title,
        group_id=group.group_id if group else None,
        group_name=group.name if group else None,
    )
    chat.save(condition=Chat.chat_id.does_not_exist())
    return chat


def announce(chat: Chat) -> None:
    """Tells everyone concerned about a chat's new state; a queued chat also goes to all agents."""
    frame = {"type": "chat", "chat": view(chat)}
    broadcast.to_chat(chat, frame)
    if chat.status == "queued":
        agent_notices.tell(f"chat:{chat.chat_id}", frame, exclude=chat.agent_conns or ())
        # Joining at the tail moves nobody else: only this chat hears its position.
        broadcast.to_chat(chat, queue_frame(chat), agent=False)


def _queue_frame(chat_id: str, position: int, per_place: float) -> dict[str, Any]:
    eta = queue_eta.eta_s(position, per_place)
    return {"type": "queue", "chat_id": chat_id, "position": position, "eta_s": eta}


def queue_frame(chat: Chat) -> dict[str, Any]:
    """A queued chat's own position: one COUNT Query of the queue up to it, and its wait (queue_eta).
    A chat with a group counts only its group's chats, and its group's accepting members."""
    per_place = queue_eta.seconds_per_place(chat.group_id)
    return _queue_frame(chat.chat_id, routing.queue_ahead_of(chat) + 1, per_place)


def send_queue_positions(limit: int = 100) -> None:
    """Tells the first `limit` queued chats their positions (the sweep: all of them). A chat with a group
    is placed among its group's chats; a chat without one among all of them."""
    waiting = routing.queued(limit)
    if not waiting:
        return
    pace: dict[str | None, float] = {}
    places: dict[str, int] = {}
    for position, chat in enumerate(waiting, start=1):
        group_id = chat.group_id
        if group_id:
            places[group_id] = places.get(group_id, 0) + 1
        if group_id not in pace:
            pace[group_id] = queue_eta.seconds_per_place(group_id)
        place = places[group_id] if group_id else position
        broadcast.to_chat(chat, _queue_frame(chat.chat_id, place, pace[group_id]), agent=False)


def queue_moved() -> None:
    """Chats left the queue: its head hears, at most every QUEUE_NOTICE_S whatever the traffic."""
    claimed = data.conditional(
        lambda: Settings(_QUEUE_NOTICE_ITEM).update(
            actions=[Settings.updated_at.set(clock.now_iso())],
            condition=Settings.updated_at.does_not_exist() | (Settings.updated_at <= clock.iso_ago(QUEUE_NOTICE_S)),
        )
    )
    if not claimed:
        return  # the head heard moments ago; the sweep catches up the rest
    send_queue_positions(QUEUE_NOTICE_HEAD)


def set_accepting(principal: Principal, accepting: bool) -> Agent:
    """An agent starts or stops taking chats: each of their consoles hears it, and one with free slots
    takes the oldest waiting chats.
    """
    if not principal.is_agent:
        raise CharlaError("forbidden", "Only agents have a status.")
    agent = agents.set_accepting(principal.id, accepting)
    _tell_status(agent)
    if agent.accepting:
        drain_queue()
    return agent


MISSED_CHAT = "missed_chat"  # a `status` frame's `reason` when the unanswered sweep stopped the agent


def stop_accepting_after_miss(agent_id: str, chat_id: str) -> Agent:
    """An agent let a chat go unanswered: like LiveChat, they stop getting new chats until they switch
    back, and each of their consoles is told which chat it was."""
    agent = agents.set_accepting(agent_id, False)
    _tell_status(agent, reason=MISSED_CHAT, chat_id=chat_id)
    return agent


def _tell_status(agent: Agent, **why: str) -> None:
    frame = {"type": "status", "accepting": bool(agent.accepting), "online": agent.online_conns > 0, **why}
    broadcast.to_connections(connections.connection_ids(Principal("agent", agent.agent_id)), frame)


def drain_queue(limit: int = 20, *, slot_freed: bool = False) -> list[Chat]:
    """Assigns the oldest waiting chats while an agent has a free slot. `slot_freed`: a chat closing
    made the room, so how long the queue took to move is learned (queue_eta)."""
    assigned = []
    left: list[str] = []  # their `queued_at`: how long the queue took to move (queue_eta)
    full: frozenset[str] = frozenset()  # groups none of whose members has a free slot
    for _ in range(limit):
        head = routing.next_queued(full)
        if head is None:
            break
        try:
            candidates = routing.routable_agents(head.group_id) if head.group_id else None
            chat = routing.route(head.chat_id, candidates)
        except CharlaError:
            continue  # taken meanwhile; look at the new head
        if chat is None:
            if head.group_id:
                full |= {head.group_id}  # its members are full: later chats of other groups may still go
                continue
            break  # nobody at all has a free slot
        assigned.append(chat)
        left.append(head.queued_at)
        announce_to_all_agents(chat)
    if assigned:
        queue_eta.left_queue(left, learn=slot_freed)
        queue_moved()
    return assigned


def announce_to_all_agents(chat: Chat) -> None:
    """A chat left the queue: its participants hear of it, and every agent's queue list drops it."""
    frame = {"type": "chat", "chat": view(chat)}
    broadcast.to_chat(chat, frame)
    agent_notices.tell(f"chat:{chat.chat_id}", frame, exclude=chat.agent_conns or ())


def accept(principal: Principal, chat_id: str) -> Chat:
    if not principal.is_agent:
        raise CharlaError("forbidden", "Only agents accept chats.")
    try:
        valid = isinstance(chat_id, str) and 0 < len(chat_id) <= 64
        current = Chat.get(chat_id, consistent_read=True) if valid else None
    except DoesNotExist:
        current = None
    if current is None:
        raise CharlaError("not_found", "No such chat.")
    if current.status != "queued":
        # Every agent sees the queue, so saying it was taken reveals nothing new.
        raise CharlaError("already_taken", "Another agent already took this chat.")
    group_members = groups.members(current.group_id) if current.group_id else None
    if group_members is not None and not principal.is_admin and principal.id not in group_members:
        raise CharlaError("forbidden", f"This chat waits for the {current.group_name} group.")
    chat = routing.accept(principal, chat_id)
    queue_eta.left_queue([current.queued_at or ""], learn=True)
    announce_to_all_agents(chat)
    queue_moved()
    archive.index_quietly(chat)
    return chat


def close(principal: Principal, chat_id: str) -> Chat:
    # Asked over the WebSocket, whose role dates from `$connect`: an admin's reach is re-checked.
    if agents.still_admin(principal):
        chat = access.chat_for_read(principal, chat_id)
    else:
        chat = access.chat_for_write(principal, chat_id)
    if principal.name:
        note = lines.line("closed_by", name=principal.name)
    else:
        note = lines.line("visitor_closed" if principal.kind == "visitor" else "agent_closed")
    return end(chat, closed_by=principal.key, note=note)


def leave_queue_for_ticket(principal: Principal, chat: Chat, ticket_id: str) -> Chat:
    """A queued visitor left a message instead of waiting (the queue-timeout offer): the chat keeps a link
    to the ticket and ends with a line saying so, so its place frees and no agent is ever given it.
    A chat that is no longer queued (an agent took it meanwhile, or it ended) goes on as it is."""
    still_queued = data.conditional(
        lambda: Chat(chat.chat_id).update(
            actions=[Chat.ticket_id.set(Chat.ticket_id | ticket_id)],  # a ticket made from it earlier stays its own
            condition=Chat.status == "queued",
        )
    )
    fresh = Chat.get(chat.chat_id, consistent_read=True)
    if not still_queued:
        return fresh
    return end(fresh, closed_by=principal.key, note=lines.line("left_message"))


def end(chat: Chat, *, closed_by: str, note: lines.Line) -> Chat:
    """Closes a chat once, whoever asks first; frees its agents and tells both sides why."""
    if chat.status == "closed":
        return chat
    closing = data.conditional(
        lambda: chat.update(
            actions=[
                Chat.status.set("closed"),
                Chat.closed_at.set(clock.now_iso()),
                Chat.closed_by.set(closed_by),
                Chat.queue_pk.remove(),
                Chat.queued_at.remove(),
                Chat.offer_pk.remove(),
                Chat.open_pk.remove(),
                Chat.unanswered_pk.remove(),
                Chat.awaiting_reply_since.remove(),
            ],
            condition=Chat.status != "closed",
        ),
        busy_message="Could not close the chat; try again.",
    )
    if not closing:
        return Chat.get(chat.chat_id, consistent_read=True)  # closed by someone else meanwhile
    _forget_open_chat(chat)
    for agent_id in chat.agent_ids or ():
        routing.release(agent_id, chat.chat_id)
    for agent_id in chat.invited_ids or ():
        data.write(partial(Agent(agent_id).update, actions=[Agent.invite_ids.delete({chat.chat_id})]))
    chat = post_system(chat, note, allow_closed=True)
    stats.chat_ended(chat)
    archive.index_quietly(chat)
    webhooks.emit("chat.ended", view(chat))
    announce_to_all_agents(chat)
    if chat.agent_ids:
        drain_queue(slot_freed=True)
    else:
        queue_moved()
    return chat


def _forget_open_chat(chat: Chat) -> None:
    data.conditional(  # False: the visitor already started another chat
        lambda: Visitor(chat.visitor_id).update(
            actions=[Visitor.open_chat_id.remove()],
            condition=Visitor.open_chat_id == chat.chat_id,
        )
    )


def open_chat_of_visitor(visitor_id: str) -> Chat | None:
    try:
        return open_chat_of(Visitor.get(visitor_id))
    except DoesNotExist:
        return None


def open_chat_of(visitor: Visitor) -> Chat | None:
    if not visitor.open_chat_id:
        return None
    try:
        chat = Chat.get(visitor.open_chat_id, consistent_read=True)
    except DoesNotExist:
        return None
    return chat if chat.status != "closed" else None


def lists_of_agent(principal: Principal) -> dict[str, list[dict[str, Any]]]:
    """The console's two lists: the agent's own chats and the queue everyone can take from."""
    agent = agents.get(principal.id)
    return {
        "chats": [view(chat) for chat in chats_of_agent(agent)],
        "queue": [view(chat) for chat in routing.queued()],
    }


def chats_of_agent(agent: Agent) -> list[Chat]:
    ids = sorted(agent.chat_ids or ())
    return [c for c in Chat.batch_get(ids)] if ids else []


def attach(chat_id: str, principal: Principal, connection_id: str) -> None:
    """Adds a new connection to a chat's fan-out list.

    A chat closed meanwhile has nothing to fan out; a write that still conflicts with a transaction
    after the retries raises, so the connect is refused and the client reconnects, rather than a tab
    that is open but never hears the chat's live messages.
    """
    attribute = Chat.visitor_conns if principal.kind == "visitor" else Chat.agent_conns
    data.conditional(
        lambda: Chat(chat_id).update(
            actions=[attribute.add({connection_id})],
            condition=Chat.chat_id.exists() & (Chat.status != "closed"),
        ),
        busy_message="Could not join the chat; reconnect.",
    )


def detach(chat_id: str, principal: Principal, connection_id: str) -> None:
    attribute = Chat.visitor_conns if principal.kind == "visitor" else Chat.agent_conns
    data.conditional(
        lambda: Chat(chat_id).update(actions=[attribute.delete({connection_id})], condition=Chat.chat_id.exists())
    )


def invitations_of_agent(agent: Agent) -> list[Chat]:
    ids = sorted(agent.invite_ids or ())
    return [c for c in Chat.batch_get(ids) if c.status == "active"] if ids else []


RATINGS = ("good", "bad")
MAX_COMMENT = 1000


def rate(principal: Principal, chat_id: str, rating: object, comment: object) -> Chat:
    if principal.kind != "visitor":
        raise CharlaError("forbidden", "Only the visitor rates a chat.")
    if rating not in RATINGS:
        raise bad_request('`rating` must be "good" or "bad".')
    if comment is not None and (not isinstance(comment, str) or len(comment) > MAX_COMMENT):
        raise bad_request(f"`comment` must be text of at most {MAX_COMMENT} characters.")
    chat = access.chat_for_write(principal, chat_id)
    previous = chat.rating
    actions: list[Action] = [Chat.rating.set(str(rating))]
    actions.append(Chat.rating_comment.set(comment) if comment else Chat.rating_comment.remove())
    chat.update(actions=actions)
    stats.chat_rated(chat, str(rating), previous)
    announce(chat)
    webhooks.emit("chat.rated", view(chat))
    if chat.status == "closed":  # an open chat's rating is indexed when it ends
        archive.index_quietly(chat)
    return chat


def post(
    principal: Principal,
    chat_id: str,
    client_msg_id: object,
    text: object,
    *,
    acknowledge: Callable[[messages.Stored], None],
    exclude: Iterable[str] = (),
    file_id: object = None,
) -> messages.Stored:
    """A participant's message (messages.post). The first one of a queued chat also updates every
    agent's queue card, which shows it: agents outside a queued chat don't get its messages."""
    stored = messages.post(
        principal, chat_id, client_msg_id, text, acknowledge=acknowledge, exclude=exclude, file_id=file_id
    )
    before = stored.chat
    if not stored.duplicate and before.status == "queued" and before.first_message is None:
        fresh = Chat.get(chat_id, consistent_read=True)
        if fresh.status == "queued":
            announce_to_all_agents(fresh)
    return stored


def post_system(chat: Chat, line: lines.Line, *, allow_closed: bool = False, agents_only: bool = False) -> Chat:
    """Adds a system line to the transcript, tells everyone in the chat, and returns the fresh chat.

    `agents_only`: a line about routing, which the visitor's copy reduces to its seq."""
    audience = messages.AGENTS if agents_only else None
    stored = messages.store(chat, text=line.text(), allow_closed=allow_closed, line=line, audience=audience)
    chat = Chat.get(chat.chat_id, consistent_read=True)
    frame = {"type": "message", "chat_id": chat.chat_id, "message": messages.view(stored.message)}
    broadcast.to_chat(chat, frame)
    return chat


HISTORY = 20


def visitor_profile(visitor_id: str) -> dict[str, Any]:
    """What the agent's info panel shows: who the visitor is and their previous chats, newest first."""
    try:
        visitor = Visitor.get(visitor_id)
    except DoesNotExist:
        raise CharlaError("not_found", "No such visitor.") from None
    if privacy.expired(visitor):
        raise CharlaError("not_found", "No such visitor.")
    # A verified email (functions/visitors/verified.py) brings its other visitor ids' chats, and a badge.
    history = verified.history(visitor, HISTORY)
    return {"visitor": {**identity.view(visitor), **verified.badge(visitor)}, "chats": [view(c) for c in history]}
