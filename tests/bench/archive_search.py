"""archive_search: items read and time for one archive search page and one filtered list, over 20,000 chats.

The history is 20,000 closed chats in the archive tables, written straight into moto in the shapes
`functions/chat/archive.py` writes (its own `_postings` names each chat's terms), as `seed.history` writes
the sweep's history: going through the handlers would take far longer than the measurement. Each chat
says "Ship to <country>?", one of 100 countries; ten agents share the chats and every other
one is rated good. The search is two words ("norway shi": the whole word and a prefix, 200 matching
chats); the list is one agent's good ratings (1,000 chats). A page reads at most 200 items whatever the
history, by construction: that is the budget.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from tests.bench.ddb import Window
from tests.bench.moto_env import batch_put, charla_on_moto
from tests.bench.report import Check, Figure

CHATS = 20_000
COUNTRIES = 100
AGENTS = 10
SEARCH = {"q": "norway shi"}
BUDGET = 200


def _seed() -> None:
    from functions.chat import archive
    from functions.core import clock
    from functions.models import ArchiveEntry, ArchivePosting

    newest = clock.now() - timedelta(days=1)
    countries = ["norway"] + [f"land{n}" for n in range(1, COUNTRIES)]
    entries: list[dict[str, Any]] = []
    postings: list[dict[str, Any]] = []
    for i in range(CHATS):
        chat_id = f"c_bench{i:07d}"
        started = clock.iso(newest - timedelta(minutes=30 * i))
        agent = f"agent-{i % AGENTS}"
        text = f"Ship to {countries[i % COUNTRIES].capitalize()}?"
        entry = ArchiveEntry(
            chat_id,
            sort_key=f"{started}#{chat_id}",
            status="closed",
            created_at=started,
            closed_at=started,
            visitor_id=f"v_bench{i}",
            agent_names={agent: agent},
            rating="good" if i % 2 else None,
            words=set(archive.words(text)),
            lines=[f"Visitor: {text}"],
            messages=1,
        )
        terms = archive._postings(entry)
        entry.postings = terms
        entries.append(entry.serialize())
        key = {"S": entry.sort_key}
        postings += [{"term": {"S": t}, "sort_key": key, "chat_id": {"S": chat_id}} for t in terms]
    batch_put(ArchiveEntry.Meta.table_name, entries)
    batch_put(ArchivePosting.Meta.table_name, postings)


def _measure() -> tuple[Window, Window, float, int, int, int]:
    from functions.chat import archive
    from functions.core.principals import Principal

    agent = Principal("agent", "agent-3", "Bench", "agent")
    with charla_on_moto() as counter:
        started = time.perf_counter()
        _seed()
        seeding_s = time.perf_counter() - started
        with counter.window() as search:
            began = time.perf_counter()
            found = archive.search(agent, dict(SEARCH))
            search_ms = (time.perf_counter() - began) * 1000
        with counter.window() as listed:
            page = archive.search(agent, {"agent": "me", "rating": "good"})
    if len(found["chats"]) != archive.DEFAULT_LIMIT or len(page["chats"]) != archive.DEFAULT_LIMIT:
        raise RuntimeError(f"a full page was expected: {len(found['chats'])} found, {len(page['chats'])} listed")
    return search, listed, search_ms, int(seeding_s), len(found["chats"]), len(page["chats"])


def run() -> list[Figure]:
    search, listed, search_ms, seeding_s, found, shown = _measure()
    value = {
        "chats": CHATS,
        "search_items_read": search.items_read,
        "search_ms": round(search_ms, 1),
        "list_items_read": listed.items_read,
    }
    return [
        Figure(
            "archive_search",
            value,
            checks=[
                Check("search_items_read", search.items_read, BUDGET),
                Check("list_items_read", listed.items_read, BUDGET),
            ],
            details=[
                f"search {SEARCH['q']!r}: {found} chats, {search.breakdown()}; "
                f"list agent=me&rating=good: {shown} chats, {listed.breakdown()}",
                f"history: {CHATS:,} archived chats and their postings, written with BatchWriteItem in {seeding_s} s",
            ],
        )
    ]
