"""Who gets a chat: the least busy accepting agent with a free slot; otherwise the FIFO queue.

Every assignment is one transaction conditional on the chat still being queued and on the agent's
count being what we read, so exactly one agent wins and capacity is never exceeded.
"""

from __future__ import annotations

from functools import partial

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from functions.core import aws, clock, data, settings, shards
from functions.core.errors import CharlaError
from functions.core.principals import Principal
from functions.models import OPEN, QUEUE, ROUTABLE, UNANSWERED, Agent, Chat
from functions.realtime import connections
from functions.team.agents import load_key

_CANDIDATES = 10


def capacity() -> int:
    return int(settings.get_settings()["max_chats_per_agent"])


def routable_agents() -> list[Agent]:
    """The least busy accepting agents first (the routing index's order), at most `_CANDIDATES`."""
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


def assign(chat_id: str, agent: Agent, *, enforce_capacity: bool = True) -> Chat | None:
    """Gives a queued chat to `agent`. None means the agent changed meanwhile (try another)."""
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
    agent_condition = Agent.active_count == count
    if enforce_capacity:
        agent_condition &= Agent.active_count < capacity()
    for _attempt in data.attempts(busy_message="Could not assign the chat; try again."):
        try:
            with TransactWrite(connection=aws.dynamodb_connection()) as tx:
                tx.update(Chat(chat_id), actions=chat_actions, condition=Chat.status == "queued")
                tx.update(
                    Agent(agent.agent_id),
                    actions=[
                        Agent.active_count.set(count + 1),
                        Agent.chat_ids.add({chat_id}),
                        Agent.last_assigned_at.set(now),
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


def route(chat_id: str) -> Chat | None:
    """Tries the best candidates in turn; None leaves the chat in the queue."""
    tried: set[str] = set()
    # Concurrent starts race for the same least-busy agent; each loser rereads the candidates.
    for _ in range(6):
        agent = pick_agent(routable_agents(), frozenset(tried))
        if agent is None:
            return None
        chat = assign(chat_id, agent)
        if chat is not None:
            return chat
        tried.add(agent.agent_id)
    return None


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


def queued(limit: int = 100) -> list[Chat]:
    """The queue, oldest first: the only reader of `queue_index`'s items."""
    return shards.merged(
        lambda key, page: Chat.queue_index.query(key, limit=limit, page_size=page),
        QUEUE,
        lambda chat: chat.queued_at,
        limit=limit,
    )


def next_queued() -> Chat | None:
    return next(iter(queued(1)), None)


def queue_ahead_of(chat: Chat) -> int:
    """How many chats wait before `chat`: a COUNT Query per shard."""
    if not chat.queued_at:
        return 0
    mine = chat.queued_at
    return shards.total(lambda key: Chat.queue_index.count(key, Chat.queued_at < mine), QUEUE)
