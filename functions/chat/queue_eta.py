"""How long a queued visitor is told they will wait: the `queue` frame's `eta_s`.

The queue moves only when a slot frees, so a chat at position p waits for p slots to turn over. How
long one chat keeps one slot (`slot_s`) is measured from the queue itself: each time queued chats
leave it for agents because a slot turned over (a chat closed and its agent took the queue's head, or
an agent accepted one by hand), the time since the previous departure, or since the chat joined if it
joined later (the queue was empty meanwhile, and an empty queue measures nothing), is the queue's
interval between departures; times the slots accepting at that moment (accepting agents ×
`max_chats_per_agent`) it is one sample of `slot_s`. Several chats leaving at once give one interval
and then zeros, so the average is the queue's rate over that time. Departures with no slot turning
over (an agent starting to accept or coming back, the sweep's backstop) teach nothing, but the next
interval starts from them: a queue that waited all night for the first agent is not a slow team.

`slot_s` is an exponential moving average of the samples (weight `WEIGHT` for the newest), one item
in the settings table (`queue-pace`), written on the departure time read, so concurrent departures
each count once. Until anything is measured it is `DEFAULT_SLOT_S`.

eta_s = round(position × slot_s ÷ (max(accepting agents, 1) × max_chats_per_agent))

With nobody accepting, the estimate is for one agent coming back: the queue moves only then.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from pynamodb.expressions.update import Action

from functions.chat import routing
from functions.core import clock, data
from functions.models import Settings

PACE_ITEM = "queue-pace"  # values.slot_s; updated_at: when queued chats last left the queue
DEFAULT_SLOT_S = 120.0
WEIGHT = 0.3
_ATTEMPTS = 3


def slots_now(group_id: str | None = None) -> int:
    """The slots that turn over to empty the queue: accepting agents (at least one) × capacity; for a
    group's chats, its accepting members."""
    return max(routing.accepting_count(group_id), 1) * max(routing.capacity(), 1)


def seconds_per_place(group_id: str | None = None) -> float:
    """How many seconds each place in the queue is worth now: one GetItem, and a COUNT Query per shard
    (for a group's chats: one read of the groups and one BatchGetItem of its members)."""
    try:
        slot_s = float(Settings.get(PACE_ITEM).values.as_dict().get("slot_s", DEFAULT_SLOT_S))
    except Settings.DoesNotExist:
        slot_s = DEFAULT_SLOT_S
    return slot_s / slots_now(group_id)


def eta_s(position: int, per_place: float) -> int:
    return round(position * per_place)


def left_queue(queued_ats: Iterable[str], *, learn: bool) -> None:
    """Queued chats (their `queued_at`) were just given to agents: one sample each when `learn`,
    else only the moment the next interval starts from.

    A write lost to concurrent departures after a few tries is dropped: the average barely moves.
    """
    joined = sorted(at for at in queued_ats if at)
    if not joined:
        return
    slots = slots_now() if learn else 0
    for _attempt in range(_ATTEMPTS):
        try:
            item = Settings.get(PACE_ITEM, consistent_read=True)
            last, slot_s = item.updated_at, item.values.as_dict().get("slot_s")
        except Settings.DoesNotExist:
            last, slot_s = None, None
        now = clock.now_iso()
        since = last or ""
        for queued_at in joined if learn else ():
            start = max(since, queued_at)
            sample = max((clock.parse(now) - clock.parse(start)).total_seconds(), 0.0) * slots
            slot_s = sample if slot_s is None else float(slot_s) + WEIGHT * (sample - float(slot_s))
            since = max(start, now)  # the chats after it left at the same moment: intervals of 0
        actions: list[Action] = [Settings.updated_at.set(max(since, now))]
        if slot_s is not None:
            actions.append(Settings.values.set({"slot_s": round(float(slot_s), 1)}))
        condition = Settings.updated_at.does_not_exist() if last is None else Settings.updated_at == last
        if data.conditional(partial(Settings(PACE_ITEM).update, actions=actions, condition=condition)):
            return
