"""partition_heat: the busiest partition key value of every table and index, at 1,000× the 1× profile.

A scripted minute of the 1× profile of docs/operations.md ("Scaling on paper") runs through the real
handlers on moto: 20 agents with 2 tabs each, 100 open chats with a message every 15 s each, chats of
15 minutes (so ends and starts, each start routed and assigned), a ping per connection every 4
minutes, each chatting visitor moving to a new page every 2 minutes (a page view shown and left, and a
reconnect), and the minute's sweep. The simulated clock moves one second per step.

Every DynamoDB call is seen at the botocore layer (event hooks on every client), and what it costs
on each partition key value is derived from the items themselves, with the key schemas and
projections read from the tables' own definitions (DescribeTable):

- a write costs the table ceil(KB) units of the larger of the item's old and new image (twice in a
  transaction), and costs each GSI whose keys the old or new image carries: a put where the item
  enters, a delete where it leaves, both when its index keys move, and one write when an attribute
  the index projects changes (with ALL: any attribute)
  (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.ThroughputConsiderations.Writes);
  the images come from an unhooked client, before and after the call;
- a read costs ceil(4 KB) units of what it read (half for an eventually consistent read), charged to
  the partition key value its key condition names, or to each item's own key for GetItem and
  BatchGetItem (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html).

Scaling to 1,000×: a key value shared by all chats, connections or agents (the sharded index keys,
and the few tables keyed by a constant: stats by day, settings, bans, webhooks) carries 1,000 times
its 1× rate, spread evenly over its shards, and a Query of it reads 1,000 times the items it read at
1× (up to its Limit), since its partition holds 1,000 times as many. A key value that names one chat,
connection, visitor or agent carries at 1,000× what it carried at 1× (there are more of them, each as
busy): its busiest simulated second.
"""

from __future__ import annotations

import math
import os
import re
import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import botocore.session

from tests.bench.report import Check, Figure

SCALE = 1000
WCU_BUDGET = 1000
RCU_BUDGET = 3000

# The 1× profile (docs/operations.md, "Scaling on paper").
SECONDS = 60
AGENTS = 20
TABS_PER_AGENT = 2
CHATS = 100
MESSAGE_EVERY_S = 15
CHAT_LENGTH_S = 15 * 60
PING_EVERY_S = 4 * 60
PAGE_EVERY_S = 2 * 60
SWEEP_AT_S = 30

# Tables keyed by a value every chat or agent shares (the rest name one item's owner).
SHARED_TABLES = ("stats", "settings", "bans", "webhooks")
SHARED_INDEXES = (("tickets", "status_index"),)

_WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")
_READS = ("GetItem", "BatchGetItem", "Query", "TransactGetItems")


# --- item sizes, as DynamoDB counts them -------------------------------------------------------------


def _value_size(value: dict[str, Any]) -> int:
    (kind, inner), *_ = value.items()
    if kind == "S":
        return len(inner.encode("utf-8", "surrogatepass"))
    if kind == "N":
        return (len(inner.lstrip("-").replace(".", "")) + 1) // 2 + 1
    if kind == "B":
        return len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode()) for s in inner)
    if kind == "NS":
        return sum((len(n) + 1) // 2 + 1 for n in inner)
    if kind == "L":
        return 3 + sum(1 + _value_size(v) for v in inner)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + _value_size(v) for k, v in inner.items())
    return 0


def item_size(item: dict[str, Any] | None) -> int:
    return sum(len(name.encode()) + _value_size(value) for name, value in (item or {}).items())


def _scalar(value: dict[str, Any] | None) -> str | None:
    if not value:
        return None
    (_, inner), *_ = value.items()
    return str(inner)


# --- table definitions --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Index:
    name: str | None  # None: the table itself
    hash_key: str
    range_key: str | None
    projection: str  # ALL | KEYS_ONLY | INCLUDE (the table: ALL)
    included: tuple[str, ...] = ()


@dataclass
class Table:
    name: str
    short: str  # without the stage prefix
    keys: tuple[str, ...]
    indexes: dict[str | None, Index]

    def key_of(self, item: dict[str, Any]) -> dict[str, Any]:
        return {k: item[k] for k in self.keys if k in item}


def describe(client: Any, prefix: str) -> dict[str, Table]:
    tables: dict[str, Table] = {}
    for name in client.list_tables()["TableNames"]:
        if not name.startswith(prefix):
            continue
        shape = client.describe_table(TableName=name)["Table"]
        schema = {k["KeyType"]: k["AttributeName"] for k in shape["KeySchema"]}
        indexes = {None: Index(None, schema["HASH"], schema.get("RANGE"), "ALL")}
        for gsi in shape.get("GlobalSecondaryIndexes", []):
            keys = {k["KeyType"]: k["AttributeName"] for k in gsi["KeySchema"]}
            projection = gsi["Projection"]
            indexes[gsi["IndexName"]] = Index(
                gsi["IndexName"],
                keys["HASH"],
                keys.get("RANGE"),
                projection["ProjectionType"],
                tuple(projection.get("NonKeyAttributes", ())),
            )
        keys_order = (schema["HASH"], *([schema["RANGE"]] if "RANGE" in schema else []))
        tables[name] = Table(name, name[len(prefix) :], keys_order, indexes)
    return tables


# --- the meter ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Partition:
    table: str
    index: str | None
    key: str

    @property
    def label(self) -> str:
        return f"{self.table}{'/' + self.index if self.index else ''}:{self.key}"


@dataclass
class QueryRead:
    """One Query, kept whole: at 1,000× it reads more items, up to its Limit."""

    second: int
    partition: Partition
    scanned: int
    bytes_read: int
    limit: int | None
    consistent: bool


class HeatMeter:
    """Hooks every DynamoDB client created while installed; reads item images with its own, unhooked one."""

    def __init__(self, side_client: Any, tables: dict[str, Table]) -> None:
        self.side = side_client
        self.tables = tables
        self.second = 0
        self.recording = False
        self.writes: dict[Partition, dict[int, float]] = defaultdict(lambda: defaultdict(float))
        self.reads: dict[Partition, dict[int, float]] = defaultdict(lambda: defaultdict(float))
        self.queries: list[QueryRead] = []
        self._lock = threading.Lock()
        self._original: Any = None

    @contextmanager
    def installed(self) -> Iterator[HeatMeter]:
        original = botocore.session.Session.create_client
        meter = self

        def create_client(session: botocore.session.Session, *args: Any, **kwargs: Any) -> Any:
            client = original(session, *args, **kwargs)
            if client.meta.service_model.service_name == "dynamodb":
                client.meta.events.register("before-parameter-build.dynamodb", meter._before, "charla-heat-before")
                client.meta.events.register("after-call.dynamodb", meter._after, "charla-heat-after")
            return client

        botocore.session.Session.create_client = create_client  # type: ignore[method-assign]
        try:
            yield self
        finally:
            botocore.session.Session.create_client = original  # type: ignore[method-assign]

    # -- images

    def _image(self, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        return self.side.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")

    def _write_targets(self, operation: str, params: dict[str, Any]) -> list[tuple[str, dict[str, Any], int]]:
        """(table, key, multiplier) for each item a write touches."""
        targets: list[tuple[str, dict[str, Any], int]] = []
        if operation in ("PutItem", "UpdateItem", "DeleteItem"):
            table = self.tables[params["TableName"]]
            key = params.get("Key") or table.key_of(params["Item"])
            targets.append((table.name, key, 1))
        elif operation == "TransactWriteItems":
            for entry in params["TransactItems"]:
                (kind, body), *_ = entry.items()
                table = self.tables[body["TableName"]]
                key = body.get("Key") or table.key_of(body["Item"])
                targets.append((table.name, key, 0 if kind == "ConditionCheck" else 2))
        elif operation == "BatchWriteItem":
            for name, requests in params["RequestItems"].items():
                table = self.tables[name]
                for request in requests:
                    body = request.get("PutRequest") or request.get("DeleteRequest")
                    targets.append((name, body.get("Key") or table.key_of(body["Item"]), 1))
        return targets

    def _before(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if not self.recording:
            return
        if model.name in _READS:
            context["charla_heat_params"] = params
        elif model.name in _WRITES:
            targets = self._write_targets(model.name, params)
            context["charla_heat"] = [(t, k, m, self._image(t, k)) for t, k, m in targets]

    def _after(self, model: Any, parsed: dict[str, Any], http_response: Any, context: dict[str, Any], **_: Any) -> None:
        if not self.recording:
            return
        ok = http_response.status_code < 300
        if model.name in _WRITES and "charla_heat" in context:
            for table, key, multiplier, old in context.pop("charla_heat"):
                new = self._image(table, key) if ok else old
                self._charge_write(table, key, multiplier, old, new, ok)
        elif model.name in _READS and ok:
            self._charge_read(model.name, context.get("charla_heat_params") or {}, parsed)

    # -- writes

    def _charge_write(
        self, table_name: str, key: dict[str, Any], multiplier: int, old: Any, new: Any, ok: bool
    ) -> None:
        table = self.tables[table_name]
        base = Partition(table.short, None, _scalar(key[table.keys[0]]) or "")
        units = max(1, math.ceil(max(item_size(old), item_size(new)) / 1024)) * max(multiplier, 1)
        with self._lock:
            self.writes[base][self.second] += units
            if not ok or multiplier == 0:
                return  # a refused condition or a condition check: the table pays, no index changes
            for index in table.indexes.values():
                if index.name is None:
                    continue
                for partition, index_units in self._index_writes(table, index, old, new):
                    self.writes[partition][self.second] += index_units

    def _index_writes(self, table: Table, index: Index, old: Any, new: Any) -> list[tuple[Partition, int]]:
        def entry(item: Any) -> tuple[str, str | None] | None:
            if not item or index.hash_key not in item or (index.range_key and index.range_key not in item):
                return None
            return _scalar(item[index.hash_key]) or "", _scalar(item.get(index.range_key)) if index.range_key else None

        def projected(item: Any) -> dict[str, Any]:
            if index.projection == "ALL":
                return dict(item)
            names = {*table.keys, index.hash_key, *([index.range_key] if index.range_key else []), *index.included}
            return {k: v for k, v in item.items() if k in names}

        def units(item: Any) -> int:
            return max(1, math.ceil(item_size(projected(item)) / 1024))

        before, after = entry(old), entry(new)
        found: list[tuple[Partition, int]] = []
        if before and after and before == after:
            if projected(old) != projected(new):
                found.append((Partition(table.short, index.name, after[0]), units(new)))
            return found
        if before:
            found.append((Partition(table.short, index.name, before[0]), units(old)))
        if after:
            found.append((Partition(table.short, index.name, after[0]), units(new)))
        return found

    # -- reads

    def _charge_read(self, operation: str, params: dict[str, Any], parsed: dict[str, Any]) -> None:
        factor = 1.0 if params.get("ConsistentRead") else 0.5
        with self._lock:
            if operation == "GetItem":
                table = self.tables[params["TableName"]]
                partition = Partition(table.short, None, _scalar(params["Key"][table.keys[0]]) or "")
                size = item_size(parsed.get("Item"))
                self.reads[partition][self.second] += max(1, math.ceil(size / 4096)) * factor
            elif operation == "BatchGetItem":
                for name, request in params["RequestItems"].items():
                    table = self.tables[name]
                    factor = 1.0 if request.get("ConsistentRead") else 0.5
                    found = {
                        _scalar(item[table.keys[0]]): item for item in (parsed.get("Responses") or {}).get(name, [])
                    }
                    for key in request["Keys"]:
                        value = _scalar(key[table.keys[0]]) or ""
                        size = item_size(found.get(value))
                        self.reads[Partition(table.short, None, value)][self.second] += (
                            max(1, math.ceil(size / 4096)) * factor
                        )
            elif operation == "Query":
                table = self.tables[params["TableName"]]
                index = table.indexes[params.get("IndexName")]
                value = _hash_value(params, index.hash_key)
                items = parsed.get("Items") or []
                scanned = int(parsed.get("ScannedCount", parsed.get("Count", len(items))))
                sizes = [item_size(i) for i in items]
                average = sum(sizes) / len(sizes) if sizes else 256
                read = sum(sizes) + max(scanned - len(items), 0) * average
                partition = Partition(table.short, index.name, value)
                self.queries.append(
                    QueryRead(self.second, partition, scanned, int(read), params.get("Limit"), factor == 1.0)
                )
                self.reads[partition][self.second] += max(1, math.ceil(read / 4096)) * factor


def _hash_value(params: dict[str, Any], hash_key: str) -> str:
    """The value the key condition gives the hash key: `#n = :v` or `name = :v`."""
    names = params.get("ExpressionAttributeNames") or {}
    values = params.get("ExpressionAttributeValues") or {}
    for name, placeholder in re.findall(r"(#?\w+)\s*=\s*(:\w+)", params.get("KeyConditionExpression", "")):
        if names.get(name, name) == hash_key:
            return _scalar(values.get(placeholder)) or ""
    return "?"


# --- scaling --------------------------------------------------------------------------------------------


def _shard_prefix(partition: Partition) -> str | None:
    """The sharded index key this partition is a shard of, if any."""
    from functions import models
    from functions.core import shards

    for prefix in (
        models.QUEUE,
        models.OFFER,
        models.OPEN,
        models.UNANSWERED,
        models.ROUTABLE,
        models.TEAM,
        models.LIVE,
        models.AGENT,
        models.ONLINE,
    ):
        if partition.index is not None and shards.is_key(prefix, partition.key):
            return prefix
    return None


def _shared(partition: Partition) -> bool:
    return (
        _shard_prefix(partition) is not None
        or (partition.index is None and partition.table in SHARED_TABLES)
        or (partition.table, partition.index) in SHARED_INDEXES
    )


def _group(partition: Partition) -> Partition:
    """Shards of one key count as one spread evenly: at 1,000× the hash evens out what a minute at 1× doesn't."""
    prefix = _shard_prefix(partition)
    return Partition(partition.table, partition.index, f"{prefix}#*") if prefix else partition


def scaled(meter: HeatMeter, shard_count: int) -> tuple[dict[Partition, float], dict[Partition, float]]:
    """Units per second per partition key value at SCALE."""
    wcu: dict[Partition, float] = defaultdict(float)
    rcu: dict[Partition, float] = defaultdict(float)
    for partition, per_second in meter.writes.items():
        group = _group(partition)
        if _shared(partition):
            spread = shard_count if group != partition else 1
            wcu[group] += sum(per_second.values()) / SECONDS * SCALE / spread
        else:
            wcu[group] = max(wcu[group], max(per_second.values()))
    query_units: dict[Partition, float] = defaultdict(float)
    for query in meter.queries:
        if not _shared(query.partition):
            continue
        group = _group(query.partition)
        spread = shard_count if group != query.partition else 1
        average = query.bytes_read / query.scanned if query.scanned else 256
        items = query.scanned * SCALE
        if query.limit is not None:
            items = min(items, query.limit)
        units = max(1, math.ceil(items * average / 4096)) * (1.0 if query.consistent else 0.5)
        query_units[group] += units / SECONDS * SCALE / spread
    for partition, per_second in meter.reads.items():
        group = _group(partition)
        if _shared(partition):
            if partition.index is None:  # GetItem and BatchGetItem of a shared item: the rate scales, not the size
                rcu[group] += sum(per_second.values()) / SECONDS * SCALE
        else:
            rcu[group] = max(rcu[group], max(per_second.values()))
    for group, units in query_units.items():
        rcu[group] += units
    return dict(wcu), dict(rcu)


# --- the workload -----------------------------------------------------------------------------------------


class Workload:
    """The 1× profile, played second by second through the real handlers."""

    def __init__(self) -> None:
        from functions.core import settings

        settings.save_settings({"max_chats_per_agent": 6})
        self.visitors = 0
        self.agents = [self._agent(i) for i in range(AGENTS)]
        self.chats: list[dict[str, Any]] = []
        for i in range(CHATS):
            self.chats.append(self._chat(offset=i))  # spread evenly: each activity's phase is its own

    def _agent(self, i: int) -> list[Any]:
        from tests.support.actors import Socket, new_agent

        principal = new_agent(f"Agent {i}")
        return [Socket(principal) for _ in range(TABS_PER_AGENT)]

    def _address(self) -> str:
        self.visitors += 1
        return f"10.{self.visitors // 200}.{self.visitors % 200}.1"

    def _page(self, chat: dict[str, Any] | None, ip: str, creds: dict[str, str] | None, pv: str, event: str) -> Any:
        from functions.visitors import tracking

        body = {"pv": pv, "event": event, "url": f"https://shop.example/{pv}", "title": "Shop", **(creds or {})}
        return tracking.page_view(body, user_agent="Mozilla/5.0", country="ES", ip=ip)

    def _chat(self, offset: int) -> dict[str, Any]:
        from functions.core.principals import Principal
        from tests.support.actors import Socket, start_chat

        ip = self._address()
        answer = self._page(None, ip, None, "p0", "view")
        creds = {"visitor_id": answer["visitor_id"], "secret": answer["secret"]}
        socket = Socket(Principal("visitor", creds["visitor_id"]), ip=ip)
        chat_id = start_chat(socket)["chat_id"]
        agent = self._agent_socket(chat_id)
        if agent is not None:  # agents answer within seconds: the unanswered sweep has nothing to move
            agent.send({"action": "send", "chat_id": chat_id, "client_msg_id": "hi", "text": "Hi, how can I help?"})
        return {
            "ip": ip,
            "creds": creds,
            "socket": socket,
            "chat_id": chat_id,
            "agent": agent,
            "offset": offset,
            "n": 0,
            "pages": 0,
        }

    def _agent_socket(self, chat_id: str) -> Any:
        from functions.models import Chat

        assignee = Chat.get(chat_id).assignee_id
        for tabs in self.agents:
            if tabs[0].principal.id == assignee:
                return tabs[0]
        return None

    def step(self, second: int) -> None:
        import app as charla
        from infra.local.events import scheduled_event

        for index, chat in enumerate(list(self.chats)):
            offset = chat["offset"]
            if (second + offset) % MESSAGE_EVERY_S == 0:
                chat["n"] += 1
                sender = chat["socket"] if chat["n"] % 2 or chat["agent"] is None else chat["agent"]
                sender.send(
                    {
                        "action": "send",
                        "chat_id": chat["chat_id"],
                        "client_msg_id": f"m{chat['n']}",
                        "text": "Hello there",
                    }
                )
            if (second + offset * PAGE_EVERY_S // CHATS) % PAGE_EVERY_S == 0:
                self._new_page(chat)
            if (second + offset * CHAT_LENGTH_S // CHATS) % CHAT_LENGTH_S == 0:
                chat["socket"].send({"action": "close", "chat_id": chat["chat_id"]})
                self.chats[index] = self._chat(offset=chat["offset"])
        sockets = [tab for tabs in self.agents for tab in tabs] + [c["socket"] for c in self.chats]
        for number, socket in enumerate(sockets):
            if (second + number * 7) % PING_EVERY_S == 0:
                socket.send({"action": "ping"})
        if second == SWEEP_AT_S:
            charla.sweep(scheduled_event("charla-dev-sweep", "us-east-1"), None)

    def _new_page(self, chat: dict[str, Any]) -> None:
        """The visitor leaves one page and opens the next: a leave, a view, and a new socket."""
        from functions.core.principals import Principal
        from tests.support.actors import Socket

        pv = f"p{chat['pages']}"
        chat["pages"] += 1
        self._page(chat, chat["ip"], chat["creds"], pv, "leave")
        chat["socket"].close()
        self._page(chat, chat["ip"], chat["creds"], f"p{chat['pages']}", "view")
        chat["socket"] = Socket(Principal("visitor", chat["creds"]["visitor_id"]), ip=chat["ip"])


def measure() -> tuple[dict[Partition, float], dict[Partition, float], HeatMeter]:
    import time_machine

    from functions.core import aws, shards
    from tests.bench.moto_env import charla_on_moto, dynamodb_client

    with charla_on_moto():
        side = dynamodb_client()
        meter = HeatMeter(side, describe(side, os.environ.get("CHARLA_TABLE_PREFIX", "charla-dev") + "-"))
        with meter.installed():
            aws.reset()  # every client from now on is a hooked one
            start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
            with time_machine.travel(start, tick=True):
                workload = Workload()
            meter.recording = True
            for second in range(SECONDS):
                meter.second = second
                with time_machine.travel(start + timedelta(minutes=5, seconds=second), tick=False):
                    workload.step(second)
            meter.recording = False
        shard_count = shards.count()
        wcu, rcu = scaled(meter, shard_count)
        aws.reset()
    return wcu, rcu, meter


def run() -> list[Figure]:
    wcu, rcu, meter = measure()
    hottest_w = max(wcu, key=lambda p: wcu[p])
    hottest_r = max(rcu, key=lambda p: rcu[p])
    peak_w, peak_r = wcu[hottest_w], rcu[hottest_r]
    hottest = hottest_w if peak_w / WCU_BUDGET >= peak_r / RCU_BUDGET else hottest_r
    value = {
        "scale": SCALE,
        "peak_wcu_per_key": round(peak_w),
        "peak_rcu_per_key": round(peak_r),
        "hottest": hottest.label,
    }
    top_w = sorted(wcu.items(), key=lambda kv: -kv[1])[:5]
    top_r = sorted(rcu.items(), key=lambda kv: -kv[1])[:5]
    details = [
        "writes at 1,000×: " + ", ".join(f"{p.label} {round(u):,}" for p, u in top_w),
        "reads at 1,000×: " + ", ".join(f"{p.label} {round(u):,}" for p, u in top_r),
        f"1× minute played: {sum(sum(s.values()) for s in meter.writes.values()):,.0f} WCU, "
        f"{sum(sum(s.values()) for s in meter.reads.values()):,.0f} RCU, {len(meter.queries)} queries",
    ]
    return [
        Figure(
            "partition_heat",
            value,
            checks=[
                Check("peak_wcu_per_key", round(peak_w), WCU_BUDGET),
                Check("peak_rcu_per_key", round(peak_r), RCU_BUDGET),
            ],
            details=details,
        )
    ]
