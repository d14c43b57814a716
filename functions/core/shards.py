"""Sharded hash keys of the sparse indexes: the one home of the sharding rule.

A constant hash key (`open`, `live`, `queue`, ...) puts every item of an index in one partition, and
one partition takes at most 1,000 write units and 3,000 read units a second
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html). So
each such key is spread over `count()` shards: shard 0 keeps the bare name (`queue`) and shard k is
`queue#k`; an item's shard comes from a stable hash of its own id, never Python's `hash()` (salted
per process). Keeping shard 0 bare means items written before sharding, and any install with one
shard, are simply in shard 0: readers find them with no migration.

Writers set the key as an attribute: no extra DynamoDB call. Readers query every shard and merge by
the index's sort key, so they return what one Query of the unsharded index returned, in its order.

Changing the shard count: writers use `CHARLA_INDEX_SHARDS` at once; readers query up to the largest
count this install has ever used, recorded in the settings table (item `index-shards`), so items
written under a larger earlier count are still read after the count is lowered.
"""

from __future__ import annotations

import hashlib
import heapq
import math
import os
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from pynamodb.exceptions import UpdateError

from functions.core import aws
from functions.core.instance_cache import InstanceCache

T = TypeVar("T")

ENV = "CHARLA_INDEX_SHARDS"
DEFAULT = 8
MOST = 64  # a reader makes one Query per shard; more shards than this would make every reader slow
RECORD = "index-shards"  # the settings item holding the largest count ever used


def count() -> int:
    """The shards writers spread new keys over (`CHARLA_INDEX_SHARDS`, default 8)."""
    raw = os.environ.get(ENV, "").strip()
    if not raw:
        return DEFAULT
    if not raw.isdigit() or not 1 <= int(raw) <= MOST:
        raise RuntimeError(f"{ENV} must be a whole number from 1 to {MOST}, not {raw!r}.")
    return int(raw)


def shard_of(item_id: str, shards: int) -> int:
    digest = hashlib.blake2b(item_id.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shards


def name(prefix: str, shard: int) -> str:
    return prefix if shard == 0 else f"{prefix}#{shard}"


def key(prefix: str, item_id: str) -> str:
    """The hash key value of the item `item_id` in the index whose key is named `prefix`."""
    return name(prefix, shard_of(item_id, count()))


def is_key(prefix: str, value: str | None) -> bool:
    """Is `value` one of `prefix`'s shards (whatever the count it was written under)?"""
    if value is None:
        return False
    if value == prefix:
        return True
    head, _, number = value.partition("#")
    return head == prefix and number.isdigit() and 0 < int(number) < MOST


# --- readers --------------------------------------------------------------------------------


def _load_recorded() -> int:
    """The largest count recorded; with none, the default (shard 0 holds whatever came before sharding)."""
    from functions.models import Settings  # the models import functions.core; this module is below them

    try:
        return int(Settings.get(RECORD).values.as_dict().get("most", DEFAULT))
    except Settings.DoesNotExist:
        return DEFAULT


_recorded = InstanceCache(_load_recorded)


@aws.on_reset
def forget() -> None:
    _recorded.forget()


def _record(shards: int) -> None:
    """Raises the recorded largest count to `shards`; a conditional write, so it never lowers it."""
    from functions.models import Settings

    most = Settings.values["most"]  # type: ignore[index]
    try:
        Settings(RECORD).update(
            actions=[Settings.values.set({"most": shards})],
            condition=Settings.values.does_not_exist() | most.does_not_exist() | (most < shards),
        )
    except UpdateError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
    _recorded.forget()


def read_count() -> int:
    """Shards a reader queries: this instance's count, or more if a larger one was ever used.

    Only a count above the default is ever recorded (a write, once): under the default nothing is.
    """
    shards = count()
    recorded = _recorded.get()
    if shards > recorded:
        _record(shards)  # once per instance and count raised: the next read sees it recorded
        return shards
    return recorded


def keys(prefix: str) -> list[str]:
    return [name(prefix, shard) for shard in range(read_count())]


def merged(
    query: Callable[[str, int | None], Iterable[T]],
    prefix: str,
    sort_key: Callable[[T], Any],
    *,
    limit: int | None = None,
    newest_first: bool = False,
) -> list[T]:
    """Runs `query(hash_key, page_size)` on every shard of `prefix` and merges the answers by sort key.

    `query` must return a lazy iterator (a PynamoDB query) over its shard's items in the index's order
    (`newest_first` says which), at most `limit` of them, fetched `page_size` at a time. The first
    `limit` of the merge are then exactly the first `limit` items the unsharded index would have
    answered, in the same order; and since the merge pulls a shard's next page only once it has used
    the last, the shards together read at most `limit` plus one page each (about twice `limit`),
    not `limit` each.
    """
    hash_keys = keys(prefix)
    page = math.ceil(limit / len(hash_keys)) if limit else None
    answers = [query(hash_key, page) for hash_key in hash_keys]
    rows = heapq.merge(*answers, key=sort_key, reverse=newest_first)
    found: list[T] = []
    for row in rows:
        if limit is not None and len(found) >= limit:
            break
        found.append(row)
    return found


def total(count_shard: Callable[[str], int], prefix: str) -> int:
    """The sum of a COUNT query over every shard of `prefix`."""
    return sum(count_shard(hash_key) for hash_key in keys(prefix))
