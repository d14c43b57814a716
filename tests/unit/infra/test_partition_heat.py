"""The partition_heat bench's cost rules: what a write costs each GSI, derived from the item's images."""

from __future__ import annotations

from tests.bench.partition_heat import HeatMeter, Index, Partition, Table, item_size

CHATS = Table(
    "charla-dev-chats",
    "chats",
    ("chat_id",),
    {
        None: Index(None, "chat_id", None, "ALL"),
        "open_index": Index("open_index", "open_pk", "last_activity_at", "KEYS_ONLY"),
        "queue_index": Index("queue_index", "queue_pk", "queued_at", "ALL"),
    },
)


def chat(**attributes: str) -> dict:
    return {"chat_id": {"S": "c1"}, **{k: {"S": v} for k, v in attributes.items()}}


def writes(old: dict | None, new: dict | None, index: str) -> list[tuple[Partition, int]]:
    meter = HeatMeter(side_client=None, tables={CHATS.name: CHATS})
    return meter._index_writes(CHATS, CHATS.indexes[index], old, new)


def test_an_unchanged_keys_only_entry_costs_nothing_and_a_moved_sort_key_costs_a_delete_and_a_put():
    old = chat(open_pk="open#3", last_activity_at="t1", text="a")
    assert writes(old, chat(open_pk="open#3", last_activity_at="t1", text="b"), "open_index") == []
    moved = writes(old, chat(open_pk="open#3", last_activity_at="t2"), "open_index")
    assert moved == [(Partition("chats", "open_index", "open#3"), 1)] * 2


def test_an_all_projection_pays_for_any_change_and_entering_or_leaving_costs_one_write():
    queued = chat(queue_pk="queue#1", queued_at="t1", last_seq="1")
    assert writes(queued, chat(queue_pk="queue#1", queued_at="t1", last_seq="2"), "queue_index") == [
        (Partition("chats", "queue_index", "queue#1"), 1)
    ]
    assert writes(None, queued, "queue_index") == [(Partition("chats", "queue_index", "queue#1"), 1)]
    assert writes(queued, chat(last_seq="2"), "queue_index") == [(Partition("chats", "queue_index", "queue#1"), 1)]
    assert writes(chat(), chat(text="x"), "queue_index") == []  # never in the index


def test_item_sizes_count_names_and_values_in_bytes():
    assert item_size({"ab": {"S": "héllo"}}) == 2 + 6
    assert item_size({"n": {"N": "12345"}}) == 1 + 4
