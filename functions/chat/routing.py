"""Who gets a chat: the least busy accepting agent with a free slot; otherwise the FIFO queue.

Every assignment is one transaction conditional on the chat still being queued and on the agent
having a free slot, with the agent's count raised by an atomic ADD: exactly one agent wins each chat,
capacity is never exceeded, and concurrent starters share one agent's free slots instead of
invalidating each other's reads.
"""

from __future__ import annotations

import random
from functools import partial

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from functions.core import aws, clock, data, settings, shards
from functions.core.errors import CharlaError
from functions.core.principals import Principal
from functions.models import OPEN, QUEUE, ROUTABLE, UNANSWERED, Agent, Chat
from functions.realtime import connections
from functions.team import groups
from functions.team.agents import load_key

_CANDIDATES = 10
# Each failed attempt means another chat took a slot meanwhile, so this bounds the work per chat
# while letting a burst of starters settle on the free slots of ten agents.
ROUTE_ATTEMPTS = 30
# How many chats an agent may have gained since a starter read its count and still be given the chat.
SPREAD = 4


def capacity() -> int:
    return int(settings.get_settings()["max_chats_per_agent"])


def accepting_count(group_id: str | None = None) -> int:
    """How many agents take chats now (accepting, enabled, connected): a COUNT Query per shard; for a
    group, how many of its members do."""
    if group_id is not None:
        return len(routable_agents(group_id))
    return shards.total(lambda key: Agent.routing_index.count(key), ROUTABLE)


def routable_agents(group_id: str | None = None) -> list[Agent]:
    """The least busy accepting agents first (the routing index's order), at most `_CANDIDATES`; for a
    group, every accepting member, least busy first (one BatchGetItem of the members, never a Scan). A
    group deleted meanwhile is no group."""
    chosen = None if group_id is None else groups.members(group_id)
    if chosen is not None:
        found = Agent.batch_get(sorted(chosen)) if chosen else []
        return sorted((a for a in found if shards.is_key(ROUTABLE, a.routable_pk)), key=lambda a: a.load_key or "")
    return shards.merged(
        lambda key, page: Agent.routing_index.query(key, limit=_CANDIDATES, page_size=page),
        ROUTABLE,
        lambda agent: agent.load_key,
        limit=_CANDIDATES,
    )


def pick_agent(candidates: list[Agent], exclude: frozenset[str] = frozenset()) -> Agent | None:
    limit = capacity()
    for agent in candidates:
        if agent.agent_id not in exclude and agent.active_count < limit:
            return agent
    return None


def assign(chat_id: str, agent: Agent, *, enforce_capacity: bool = True, conns: set[str] | None = None) -> Chat | None:
    """Gives a queued chat to `agent`. None means the agent is full, no longer routable, or got busier
    than SPREAD chats beyond what we read (try the least busy again). `conns`: the agent's connections,
    when the caller has them already."""
    if conns is None:
        conns = set(connections.connection_ids(Principal("agent", agent.agent_id)))
    now = clock.now_iso()
    count = int(agent.active_count)
    chat_actions = [
        Chat.status.set("active"),
        Chat.assignee_id.set(agent.agent_id),
        Chat.agent_ids.add({agent.agent_id}),
        Chat.agent_names[agent.agent_id].set(agent.name),
        Chat.queue_pk.remove(),
        Chat.queued_at.remove(),
        Chat.offer_pk.remove(),
        Chat.open_pk.set(shards.key(OPEN, chat_id)),
        Chat.unanswered_pk.set(shards.key(UNANSWERED, chat_id)),
        Chat.assigned_at.set(now),
    ]
    if conns:
        chat_actions.append(Chat.agent_conns.add(conns))
    agent_condition = Agent.agent_id.exists()
    if enforce_capacity:
        # The routing index is read eventually consistently: an agent who just stopped accepting or
        # went offline may still be listed, and must not be given the chat. The SPREAD bound keeps a
        # burst of starters who all read the same least busy agent from piling onto that one.
        agent_condition = (
            (Agent.active_count < capacity()) & (Agent.active_count <= count + SPREAD) & Agent.routable_pk.exists()
        )
    for _attempt in data.attempts(busy_message="Could not assign the chat; try again."):
        try:
            with TransactWrite(connection=aws.dynamodb_connection()) as tx:
                tx.update(Chat(chat_id), actions=chat_actions, condition=Chat.status == "queued")
                tx.update(
                    Agent(agent.agent_id),
                    actions=[
                        Agent.active_count.add(1),
                        Agent.chat_ids.add({chat_id}),
                        Agent.last_assigned_at.set(now),
                        # Exact unless a concurrent assignment landed between our read and this write;
                        # the agent's next change rewrites it, and route() orders by the counts read.
                        Agent.load_key.set(load_key(count + 1, now)),
                    ],
                    condition=agent_condition,
                )
        except TransactWriteError as error:
            reasons = data.reasons(error)
            if reasons and reasons[0] == data.CHECK_FAILED:
                raise CharlaError("already_taken", "Another agent already took this chat.") from None
            if len(reasons) > 1 and reasons[1] == data.CHECK_FAILED:
                return None  # the agent changed meanwhile: the caller rereads the candidates
            if data.TX_CONFLICT in reasons or data.throttled(reasons):
                continue  # contended (on the chat or the agent) or throttled: the same writes, after a pause
            raise CharlaError("retry", "Could not assign the chat; try again.", retriable=True) from error
        break
    return Chat.get(chat_id, consistent_read=True)


def route(chat_id: str, candidates: list[Agent] | None = None) -> Chat | None:
    """Gives a queued chat to the least busy agent with a free slot; None leaves it in the queue.

    Concurrent starters race for the same least-busy agent. A loser rereads only that agent, so it
    knows its true count, and tries again on whoever is now least busy: an agent is passed over only
    once it is full or no longer routable, so a chat is queued only when every candidate is full.
    """
    pool = {a.agent_id: a for a in (routable_agents() if candidates is None else candidates)}
    limit = capacity()
    conns: dict[str, set[str]] = {}
    for attempt in range(ROUTE_ATTEMPTS):
        free = sorted((a for a in pool.values() if a.active_count < limit), key=_load)
        if not free:
            return None
        # First the least busy (ties: least recently assigned). A loser of a race then picks at random
        # among the nearly least busy, so the losers of one rush spread out instead of herding again.
        near = [a for a in free if a.active_count <= free[0].active_count + SPREAD]
        agent = free[0] if attempt == 0 else random.choice(near)
        if agent.agent_id not in conns:
            conns[agent.agent_id] = set(connections.connection_ids(Principal("agent", agent.agent_id)))
        chat = assign(chat_id, agent, conns=conns[agent.agent_id])
        if chat is not None:
            return chat
        fresh = Agent.get(agent.agent_id, consistent_read=True)
        if shards.is_key(ROUTABLE, fresh.routable_pk):
            pool[agent.agent_id] = fresh
        else:
            del pool[agent.agent_id]
    return None


def _load(agent: Agent) -> tuple[int, str]:
    return int(agent.active_count), agent.last_assigned_at or ""


def accept(principal: Principal, chat_id: str) -> Chat:
    """An agent picks a chat from the queue by hand; capacity is theirs to judge."""
    for _ in range(3):
        agent = Agent.get(principal.id, consistent_read=True)
        chat = assign(chat_id, agent, enforce_capacity=False)
        if chat is not None:
            return chat
    raise CharlaError("retry", "Your chats changed meanwhile; try again.", retriable=True)


def claim(agent_id: str, chat_id: str) -> None:
    """Counts a chat the agent took on outside routing (a transfer or an accepted invitation)."""
    _count(agent_id, chat_id, +1)


def release(agent_id: str, chat_id: str) -> None:
    """Frees the agent's slot for a chat that closed or moved on."""
    _count(agent_id, chat_id, -1)


def _count(agent_id: str, chat_id: str, change: int) -> None:
    """Adds the chat to the agent's (+1) or takes it off (-1), keeping count and load key with it."""
    for _attempt in data.attempts(busy_message="Could not update the agent's chats; try again."):
        agent = Agent.get(agent_id, consistent_read=True)
        if (chat_id in (agent.chat_ids or set())) == (change > 0):
            return  # already done
        count = max(int(agent.active_count) + change, 0)
        chat_ids = Agent.chat_ids.add({chat_id}) if change > 0 else Agent.chat_ids.delete({chat_id})
        update = partial(
            agent.update,
            actions=[
                Agent.active_count.set(count),
                chat_ids,
                Agent.load_key.set(load_key(count, agent.last_assigned_at)),
            ],
            condition=Agent.active_count == agent.active_count,
        )
        if data.conditional(update):
            return
        # a concurrent change: reread and retry


SKIP_PAGE = 25  # queued chats read per Query when some groups' chats are skipped


def queued(limit: int = 100, *, skip_groups: frozenset[str] = frozenset()) -> list[Chat]:
    """The queue, oldest first: the only reader of `queue_index`'s items. `skip_groups`: leave out the
    chats of these groups (their members are full), so the queue's next chat for someone free is found."""
    skip = None
    if skip_groups:
        skip = Chat.group_id.does_not_exist() | ~Chat.group_id.is_in(*sorted(skip_groups))

    def page_size(page: int | None) -> int | None:
        # DynamoDB filters after it reads a page: skipped chats read a page at a time would cost a
        # Query each, so a filtered read takes them SKIP_PAGE at a time.
        return max(page or 1, SKIP_PAGE) if skip is not None else page

    return shards.merged(
        lambda key, page: Chat.queue_index.query(key, filter_condition=skip, limit=limit, page_size=page_size(page)),
        QUEUE,
        lambda chat: chat.queued_at,
        limit=limit,
    )


def next_queued(skip_groups: frozenset[str] = frozenset()) -> Chat | None:
    return next(iter(queued(1, skip_groups=skip_groups)), None)


def queue_ahead_of(chat: Chat) -> int:
    """How many chats wait before `chat`: a COUNT Query per shard. A chat with a group waits only
    behind its group's chats: only the group's members take them."""
    if not chat.queued_at:
        return 0
    mine = chat.queued_at
    same = (Chat.group_id == chat.group_id) if chat.group_id else None
    return shards.total(lambda key: Chat.queue_index.count(key, Chat.queued_at < mine, filter_condition=same), QUEUE)
