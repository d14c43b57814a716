"""The chat archive: every chat, newest first, filtered and searched without a Scan.

Each chat has an `ArchiveEntry` (what a result shows, the chat's normalised words, its transcript lines)
and `ArchivePosting` items, one per term, sorted by when the chat started:

- `all`, `status:<open|closed>`, `agent:<id>`, `rating:<good|bad|none>`, `tag:<id>`: the filters;
- `w:<word>` for each distinct word of the transcript, the visitor's name and email;
- `p:<prefix>` for the first 2, 3 and 4 letters of each word: the last word typed matches as a prefix.

A page queries the postings of one term (the driver: a whole word if any, else the last word's prefix,
else the most selective filter), reads the entries of those chats in one BatchGetItem, and keeps the ones
the entry says match every word and every filter. The entry is the truth: a posting left behind by a
race between two re-indexings is filtered out like any non-match. A page reads at most `_ROUNDS` batches
of `_BATCH` postings and entries, so at most 200 items whatever the history; a rare match may need the
next page, which the cursor continues from.

Chats are indexed off the message path: when one starts, is accepted, is rated and when it ends
(`index_chat`, called by functions/chat/chats.py), and whenever another feature changes what the archive
filters on (tags). So an open chat is listed with what it had when last indexed (the agents a later
assignment or transfer adds are filtered on from its end), and every closed chat with all of it.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import unicodedata
from datetime import date, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import Condition

from functions.core import clock, paging
from functions.core.errors import CharlaError, bad_request
from functions.core.principals import Principal
from functions.models import ArchiveEntry, ArchivePosting, Chat, Message
from functions.visitors import names

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 25
MAX_LIMIT = 50
MAX_QUERY = 200
MAX_WORD = 40
MAX_WORDS = 400  # distinct words indexed per chat: a bound on the postings one chat costs
MAX_LINE = 300
MAX_LINES = 200  # with MAX_LINE, ≤ 240 KB even in 4-byte characters: the entry stays under DynamoDB's 400 KB item
PREFIXES = (2, 3, 4)
CSV_ROWS = 1000
_BATCH = 50
_ROUNDS = 2  # postings + entries per round ≤ 2 × _BATCH, so one page reads ≤ 200 items
_WORD = re.compile(r"[^\W_]+")
_CURSOR = re.compile(r"^\d{4}-\d\d-\d\dT[\d:.]+Z#[\w-]{1,64}$")
_ID = re.compile(r"^[\w-]{1,128}$")
STATUSES = ("open", "closed")
RATINGS = ("good", "bad", "none")


# --- words -----------------------------------------------------------------------------------


def normalise(text: str) -> str:
    """Case and accents folded away: "ENVÍO" and "envío" are both "envio"."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in folded if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """Distinct normalised words, in order of appearance (one letter is no word to search by)."""
    found: dict[str, None] = {}
    for word in _WORD.findall(normalise(text)):
        word = word[:MAX_WORD]
        if len(word) >= 2:
            found.setdefault(word, None)
    return list(found)


class Query:
    """What was asked: whole words that must each be in the chat, and the last word, which may be a prefix."""

    def __init__(self, text: str) -> None:
        asked = words(text)
        self.whole = asked[:-1]
        self.prefix = asked[-1] if asked else None

    def __bool__(self) -> bool:
        return self.prefix is not None

    def matches(self, have: set[str]) -> bool:
        if not all(word in have for word in self.whole):
            return False
        return self.prefix is None or any(word.startswith(self.prefix) for word in have)

    def score(self, line: str) -> int:
        have = set(words(line))
        score = sum(word in have for word in self.whole)
        if self.prefix and any(word.startswith(self.prefix) for word in have):
            score += 1
        return score


# --- indexing --------------------------------------------------------------------------------


def sort_key(chat: Chat) -> str:
    return f"{chat.created_at}#{chat.chat_id}"


def index_chat(chat: Chat) -> ArchiveEntry:
    """(Re)indexes one chat from its current state and transcript; idempotent and cheap to repeat.

    Call it after anything the archive lists or filters by changes (status, agents, rating, tags, the
    transcript). It writes only the postings that changed: two GetItems of the chat and one of the entry,
    one Query per 1 MB of transcript, the changed postings in BatchWriteItem, and one PutItem of the entry.

    The chat is read again here, not taken from the caller, and once more after the write: two indexings
    racing (a tag and the chat's end) would otherwise leave whichever wrote last, even from an older read.
    When the chat moved meanwhile, it is indexed again, so the entry ends as the chat is.
    """
    for _attempt in range(3):
        chat = Chat.get(chat.chat_id, consistent_read=True)
        entry = _write(chat)
        now = Chat.get(chat.chat_id, consistent_read=True)
        if _state(now) == _state(chat):
            break
    return entry


def _state(chat: Chat) -> tuple[object, ...]:
    """What the entry shows of a chat: when it changes, the entry is stale."""
    return (chat.status, chat.last_seq, chat.rating, sorted(chat.tags or ()), sorted(chat.agent_ids or ()))


def _write(chat: Chat) -> ArchiveEntry:
    try:
        previous = ArchiveEntry.get(chat.chat_id, consistent_read=True).postings or set()
    except DoesNotExist:
        previous = set()
    entry = _entry(chat)
    wanted = _postings(entry)
    key = entry.sort_key
    with ArchivePosting.batch_write() as batch:
        for term in sorted(wanted - previous):
            batch.save(ArchivePosting(term, key, chat_id=chat.chat_id))
        for term in sorted(previous - wanted):
            batch.delete(ArchivePosting(term, key))
    entry.postings = wanted
    entry.save()
    return entry


def index_quietly(chat: Chat) -> None:
    """`index_chat` where the chat's own change has already happened: a failure is logged, and the chat is
    indexed again at its next change or by the backfill (docs/operations.md), not undone or refused."""
    try:
        index_chat(chat)
    except Exception:
        log.exception("archive: could not index chat %s", chat.chat_id)


def forget_chat(chat_id: str) -> None:
    """Removes a chat from the archive (a visitor's data erased)."""
    try:
        entry = ArchiveEntry.get(chat_id, consistent_read=True)
    except DoesNotExist:
        return
    with ArchivePosting.batch_write() as batch:
        for term in sorted(entry.postings or ()):
            batch.delete(ArchivePosting(term, entry.sort_key))
    entry.delete()


def _entry(chat: Chat) -> ArchiveEntry:
    lines: list[str] = []
    found: dict[str, None] = {}
    count = 0
    for message in Message.query(chat.chat_id):
        if message.kind != "text" or message.sender == "system":
            continue
        count += 1
        visitor = names.display(chat.visitor_name, chat.visitor_id)
        who = message.sender_name or (visitor if message.sender == "visitor" else "Agent")
        if len(lines) < MAX_LINES:
            lines.append(f"{who}: {message.text}"[:MAX_LINE])
        for word in words(message.text):
            if len(found) < MAX_WORDS:
                found.setdefault(word, None)
    for word in words(f"{chat.visitor_name or ''} {chat.visitor_email or ''}"):
        found.setdefault(word, None)
    return ArchiveEntry(
        chat.chat_id,
        sort_key=sort_key(chat),
        status="closed" if chat.status == "closed" else "open",
        created_at=chat.created_at,
        closed_at=chat.closed_at,
        visitor_id=chat.visitor_id,
        visitor_name=chat.visitor_name,
        visitor_email=chat.visitor_email,
        agent_names={a: (chat.agent_names.as_dict() if chat.agent_names else {}).get(a) for a in chat.agent_ids or ()},
        rating=chat.rating,
        tags=set(chat.tags) if chat.tags else None,
        ticket_id=chat.ticket_id,
        words=set(found) or None,
        lines=lines,
        messages=count,
    )


def _postings(entry: ArchiveEntry) -> set[str]:
    terms = {"all", f"status:{entry.status}", f"rating:{entry.rating or 'none'}"}
    terms |= {f"agent:{a}" for a in _agents(entry)}
    terms |= {f"tag:{t}" for t in entry.tags or ()}
    for word in entry.words or ():
        terms.add(f"w:{word}")
        terms |= {f"p:{word[:n]}" for n in PREFIXES if len(word) >= n}
    return terms


def _agents(entry: ArchiveEntry) -> dict[str, Any]:
    return entry.agent_names.as_dict() if entry.agent_names else {}


# --- reading ---------------------------------------------------------------------------------


class Filters:
    def __init__(self, principal: Principal, params: dict[str, Any]) -> None:
        self.status = _choice(params.get("status"), "status", STATUSES)
        self.rating = _choice(params.get("rating"), "rating", RATINGS)
        self.agent = _id(params.get("agent"), "agent")
        if self.agent == "me":
            self.agent = principal.id
        self.tag = _id(params.get("tag"), "tag")
        self.since = _day(params.get("from"), "from")
        until = _day(params.get("to"), "to")
        self.before = str(date.fromisoformat(until) + timedelta(days=1)) if until else None
        if self.since and self.before and self.since >= self.before:
            raise bad_request("`to` must be on or after `from`.")
        query = params.get("q") or ""
        if not isinstance(query, str) or len(query) > MAX_QUERY:
            if isinstance(query, str):
                raise CharlaError("too_long", f"`q` is limited to {MAX_QUERY} characters.", field="q")
            raise bad_request("`q` must be text.", field="q")
        self.text = query.strip()
        self.query = Query(self.text)
        if self.text and not self.query and not _looks_like_ref(self.text):
            raise bad_request("`q` needs a word of at least two letters or digits.")

    def driver(self) -> str:
        """The posting list to walk: the longest whole word, else the last word's prefix, else a filter."""
        if self.query.whole:
            return "w:" + max(self.query.whole, key=len)
        if self.query.prefix:
            prefix = self.query.prefix
            return "p:" + prefix if len(prefix) <= PREFIXES[-1] else "p:" + prefix[: PREFIXES[-1]]
        if self.agent:
            return f"agent:{self.agent}"
        if self.tag:
            return f"tag:{self.tag}"
        if self.rating:
            return f"rating:{self.rating}"
        if self.status:
            return f"status:{self.status}"
        return "all"

    def wanted(self, entry: ArchiveEntry) -> bool:
        return (
            (self.status is None or entry.status == self.status)
            and (self.rating is None or (entry.rating or "none") == self.rating)
            and (self.agent is None or self.agent in _agents(entry))
            and (self.tag is None or self.tag in (entry.tags or ()))
            and (self.since is None or entry.created_at >= self.since)
            and (self.before is None or entry.created_at < self.before)
            and self.query.matches(set(entry.words or ()))
        )


def search(principal: Principal, params: dict[str, Any]) -> dict[str, Any]:
    """One page of the archive, newest first: `{"chats": [...], "next_cursor": ...}`."""
    filters = Filters(principal, params)
    cursor = paging.decode(params.get("cursor"), _CURSOR)
    limit = paging.limit(params.get("limit"), default=DEFAULT_LIMIT, most=MAX_LIMIT)
    if _looks_like_ref(filters.text):
        return {"chats": _by_ref(filters), "next_cursor": None}
    found, position = _page(filters, cursor, limit)
    return {"chats": [view(e, filters.query) for e in found], "next_cursor": paging.encode(position)}


def _page(filters: Filters, cursor: str | None, limit: int) -> tuple[list[ArchiveEntry], str | None]:
    driver = filters.driver()
    upper = cursor or filters.before
    page: list[ArchiveEntry] = []
    position = cursor
    for _ in range(_ROUNDS):
        top = position or upper
        condition: Condition | None
        if filters.since:
            condition = ArchivePosting.sort_key.between(filters.since, top or "9999")
        else:
            condition = ArchivePosting.sort_key < top if top else None
        read = list(ArchivePosting.query(driver, condition, scan_index_forward=False, limit=_BATCH))
        postings = [p for p in read if position is None or p.sort_key < position]
        ids = {p.chat_id for p in postings}
        entries = {e.chat_id: e for e in ArchiveEntry.batch_get(ids)} if ids else {}
        for posting in postings:
            position = posting.sort_key
            entry = entries.get(posting.chat_id)
            if entry and entry.sort_key == posting.sort_key and filters.wanted(entry):
                page.append(entry)
                if len(page) == limit:
                    return page, position
        if len(read) < _BATCH:
            return page, None
    return page, position


def _looks_like_ref(text: str) -> bool:
    return bool(re.fullmatch(r"#?c_[\w-]{6,62}", text))


def _by_ref(filters: Filters) -> list[dict[str, Any]]:
    try:
        entry = ArchiveEntry.get(filters.text.lstrip("#"))
    except DoesNotExist:
        return []
    filters.query = Query("")
    return [view(entry, filters.query)] if filters.wanted(entry) else []


def view(entry: ArchiveEntry, query: Query) -> dict[str, Any]:
    agents = _agents(entry)
    return {
        "chat_id": entry.chat_id,
        "status": entry.status,
        "created_at": entry.created_at,
        "closed_at": entry.closed_at,
        "visitor": {"id": entry.visitor_id, "name": entry.visitor_name, "email": entry.visitor_email}
        | names.fields(entry.visitor_id),
        "agents": [{"id": a, "name": agents[a]} for a in sorted(agents)],
        "rating": entry.rating,
        "tags": sorted(entry.tags or ()),
        "ticket_id": entry.ticket_id,
        "messages": int(entry.messages),
        "match": _matching_line(entry, query),
    }


def _matching_line(entry: ArchiveEntry, query: Query) -> str | None:
    """The transcript line holding the most of the words asked for (the first such); None when only the
    visitor's name or email matched, or nothing was asked."""
    if not query:
        return None
    best: str | None = None
    best_score = 0
    for line in entry.lines or ():
        score = query.score(str(line))
        if score > best_score:
            best, best_score = str(line), score
            if score == len(query.whole) + 1:
                break
    return best


# --- CSV -------------------------------------------------------------------------------------

CSV_COLUMNS = (
    "chat_id",
    "status",
    "created_at",
    "closed_at",
    "visitor_name",
    "visitor_email",
    "agents",
    "rating",
    "tags",
    "ticket_id",
    "messages",
)


def to_csv(principal: Principal, params: dict[str, Any]) -> str:
    """The filtered list as CSV, up to `CSV_ROWS` rows, each page read as the console reads it."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    page_params = {k: v for k, v in params.items() if k not in ("cursor", "limit")}
    rows, cursor = 0, None
    filters = Filters(principal, page_params)
    for _ in range(CSV_ROWS // MAX_LIMIT * 4):
        if _looks_like_ref(filters.text):
            chats, cursor = _by_ref(filters), None
        else:
            found, cursor = _page(filters, cursor, MAX_LIMIT)
            chats = [view(e, filters.query) for e in found]
        for chat in chats[: CSV_ROWS - rows]:
            writer.writerow(_row(chat))
            rows += 1
        if cursor is None or rows >= CSV_ROWS:
            break
    return out.getvalue()


def _row(chat: dict[str, Any]) -> list[str]:
    values = [
        chat["chat_id"],
        chat["status"],
        chat["created_at"],
        chat["closed_at"] or "",
        chat["visitor"]["name"] or "",
        chat["visitor"]["email"] or "",
        "; ".join(a["name"] or a["id"] for a in chat["agents"]),
        chat["rating"] or "",
        "; ".join(chat["tags"]),
        chat["ticket_id"] or "",
        str(chat["messages"]),
    ]
    return [safe_cell(v) for v in values]


def safe_cell(value: str) -> str:
    """A cell a spreadsheet shows as text: one starting with = + - @ or a control character is a formula
    to Excel and LibreOffice (OWASP, "CSV Injection"), so it gets a leading apostrophe."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


# --- parameters ------------------------------------------------------------------------------


def _choice(value: object, name: str, allowed: tuple[str, ...]) -> str | None:
    if value in (None, ""):
        return None
    if value not in allowed:
        raise bad_request(f"`{name}` must be one of {', '.join(allowed)}.")
    return str(value)


def _id(value: object, name: str) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not _ID.match(value):
        raise bad_request(f"`{name}` must be an id (letters, digits, _ or -).")
    return value


def _day(value: object, name: str) -> str | None:
    return None if value in (None, "") else str(clock.day_param(value, name))
