"""Live visitor tracking: page views from the loader, and the console's list of visitors online now.

A page view costs at most two DynamoDB writes: one UpdateItem when the page is shown (`view`) and one
when it is left (`leave`, sent as a beacon). Both also read the visitor item once (GetItem), which
checks the credentials and tells whether a new visit began. A visitor who stays on one page sends a
`beat` every 4 minutes while the tab is visible: one more write per 4 minutes.

Presence lives on the visitor item: `online_pk` puts it in the sparse `online_index` (range key
`last_seen`, sharded) and `online_until` says when it ends. The list is a Query per shard whose key condition reads
only visitors seen within the last ONLINE_S, filtered on `online_until`; leaving a page shortens
`online_until` to a short grace, so the next page's view keeps the visitor listed without a gap.
Changes reach every agent's console as a `visitor` frame inside the coalesced `notices` frame
(functions/realtime/agent_notices.py): the page view only queues it. At most ANNOUNCE_MAX are queued per
visitor per ANNOUNCE_WINDOW_S (counted on the visitor item, so across Lambda instances). The console
re-reads the list every minute, so a change that was not pushed shows within a minute.
"""

from __future__ import annotations

import re
from typing import Any

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.update import Action

from functions.admin import bans
from functions.core import clock, data, shards, untrusted
from functions.core.errors import CharlaError, bad_request
from functions.models import ONLINE, Chat, Visitor
from functions.realtime import agent_notices
from functions.visitors import greetings, identity, limits, names, privacy

ONLINE_S = 300  # presence after a view or a beat
ANNOUNCE_WINDOW_S = 30
ANNOUNCE_MAX = 2  # a first view and the identity the site passes right after it both show at once
BEAT_S = 240  # how often a visible page says it is still there (widget/src/tracker.js)
LEAVE_GRACE_S = 20  # after a page is left: the next page's view normally comes well within this
VISIT_GAP_S = 30 * 60  # a page view after this long without one starts a new visit
MAX_LIST = 500
MAX_BODY = 16 * 1024  # the fields' own limits add up to about 5 KB
EVENTS = ("view", "beat", "leave")
_PAGE_VIEW_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_LIMITS = identity._CONTEXT_LIMITS  # the same bounds as the page context a chat starts with
# What the browser reports -> where the visitor item keeps it.
_PAGE = {
    "url": "current_url",
    "title": "current_title",
    "referrer": "referrer",
    "language": "language",
    "timezone": "timezone",
}
CHAT_STATES = {"queued": "queued", "active": "chatting"}  # anything else: browsing


def beacon_body(raw: str | bytes | None) -> dict[str, Any]:
    """`navigator.sendBeacon` posts text/plain (no CORS preflight, no headers): the JSON is parsed here."""
    if raw and len(raw) > MAX_BODY:
        raise bad_request("The page view is too large.")
    body = untrusted.parse_json(raw or b"{}")
    if not isinstance(body, dict):
        raise bad_request("The body must be a JSON object.")
    return body


def _text(body: dict[str, Any], key: str) -> str | None:
    # Refused past the limit, never cut: the loader cuts what the browser reports to these limits.
    return untrusted.text(body.get(key), key, _LIMITS[key])


def _seconds(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return None
    return int(min(value, 86_400))


def _credentials(body: dict[str, Any]) -> Visitor | None:
    """The visitor named in the body, if the secret matches; None for absent or wrong credentials."""
    visitor_id, secret = body.get("visitor_id"), body.get("secret")
    if not isinstance(visitor_id, str) or not isinstance(secret, str):
        return None
    if not visitor_id or not secret or len(visitor_id) > 64 or len(secret) > 128:
        return None
    try:
        visitor = Visitor.get(visitor_id)
    except DoesNotExist:
        return None
    return visitor if identity.secret_matches(visitor, secret) and not privacy.expired(visitor) else None


def page_view(
    body: dict[str, Any], *, user_agent: str | None, country: str | None, ip: str | None
) -> dict[str, Any] | None:
    """One event from the loader or widget. None: tracking is off and nothing was written."""
    if not privacy.tracking_on():
        return None
    event = body.get("event", "view")
    if event not in EVENTS:
        raise bad_request("`event` must be view, beat or leave.")
    page_view_id = body.get("pv")
    if not isinstance(page_view_id, str) or not _PAGE_VIEW_ID.match(page_view_id):
        raise bad_request("`pv` must be 1-32 characters of letters, digits, _ or -.")
    visitor = _credentials(body)
    if visitor is None and event != "view":
        raise CharlaError("unauthorized", "Missing or invalid visitor credentials.")
    if visitor is not None:
        bans.check(visitor.visitor_id, None)  # the address was checked with the origin
    context = {attribute: _text(body, key) for key, attribute in _PAGE.items()}
    for url in ("current_url", "referrer"):  # no query or fragment, but for the admin's allowed parameters
        context[url] = privacy.clean_url(context[url])
    context.update(
        user_agent=(user_agent or "")[:300] or None,
        country=(country or "")[:2].upper() or None,
        ip=privacy.stored_ip(ip),
    )
    if visitor is None:
        # A first page view (or credentials this deployment doesn't know): a new identity, in one write.
        limits.hit("identity", ip)  # identities are free: they are limited per address
        return _first_view(page_view_id, context)
    if event == "view":
        _view(visitor, page_view_id, context)
    elif not _refresh(visitor, page_view_id, event, _seconds(body.get("seconds"))):
        return {"visitor_id": visitor.visitor_id}  # a later page took over: nothing to say
    if event == "view":  # a beat or a leave changes only presence, which the console's re-read shows
        announce(visitor)
    return {"visitor_id": visitor.visitor_id, "greeting": greetings.pending(visitor) if event == "view" else None}


def _presence(visitor_id: str, now_iso: str, page_view_id: str) -> dict[str, Any]:
    return {
        "last_seen": now_iso,
        "online_pk": shards.key(ONLINE, visitor_id),
        "online_until": clock.epoch() + ONLINE_S,
        "page_view_id": page_view_id,
        "page_started_at": now_iso,
    }


def _first_view(page_view_id: str, context: dict[str, Any]) -> dict[str, Any]:
    now = clock.now_iso()
    fields = {k: v for k, v in context.items() if v is not None}
    visitor_id = identity.new_visitor_id()
    fields.update(_presence(visitor_id, now, page_view_id), visit_started_at=now)
    fields.update(announced_at=clock.epoch(), announced_count=1)  # this view's push counts in the window
    created = identity.create_identity(visitor_id, **fields)
    _push(Visitor(created["visitor_id"], created_at=now, **fields))  # what was stored, without reading it back
    return {**created, "greeting": None}


def _view(visitor: Visitor, page_view_id: str, context: dict[str, Any]) -> None:
    now = clock.now_iso()
    presence_now = _presence(visitor.visitor_id, now, page_view_id)
    actions: list[Action] = [getattr(Visitor, k).set(v) for k, v in presence_now.items()]
    actions.append(Visitor.page_seconds.remove())
    if visitor.expires_at is not None:  # still anonymous: retention runs from the last page view
        actions.append(Visitor.expires_at.set(privacy.retention_expiry()))
    for key, value in context.items():
        # The page's own fields go when absent (a page without a referrer); browser facts are kept.
        if value is not None or key in ("current_url", "current_title", "referrer", "ip"):
            actions.append(getattr(Visitor, key).set(value))
    seen = visitor.last_seen
    if seen is None or seen < clock.iso_ago(VISIT_GAP_S):
        # A new visit. Conditional on last_seen, so two tabs opening at once count it once.
        visit: list[Action] = [Visitor.visit_started_at.set(now)]
        if seen:
            visit.append(Visitor.visits.add(1))
        condition = Visitor.last_seen.does_not_exist() if seen is None else Visitor.last_seen == seen
        if data.conditional(lambda: visitor.update(actions=actions + visit, condition=condition)):
            return
    visitor.update(actions=actions, condition=Visitor.visitor_id.exists())


def _refresh(visitor: Visitor, page_view_id: str, event: str, seconds: int | None) -> bool:
    """A beat keeps the page's presence; a leave shortens it to a grace. False: another page is current."""
    if event == "beat":
        actions: list[Action] = [
            Visitor.last_seen.set(clock.now_iso()),
            Visitor.online_pk.set(shards.key(ONLINE, visitor.visitor_id)),
            Visitor.online_until.set(clock.epoch() + ONLINE_S),
        ]
        if visitor.expires_at is not None:
            actions.append(Visitor.expires_at.set(privacy.retention_expiry()))
    else:
        actions = [Visitor.online_until.set(clock.epoch() + LEAVE_GRACE_S)]
    if seconds is not None:
        actions.append(Visitor.page_seconds.set(seconds))
    return data.conditional(lambda: visitor.update(actions=actions, condition=Visitor.page_view_id == page_view_id))


# --- what agents see ----------------------------------------------------------------------------


def is_online(visitor: Visitor) -> bool:
    return visitor.online_until is not None and visitor.online_until > clock.epoch()


def row(visitor: Visitor, chat_status: str | None = None) -> dict[str, Any]:
    """One line of the console's Visitors list. Everything the browser reported is untrusted text."""
    return {
        "id": visitor.visitor_id,
        "name": visitor.name,
        **names.fields(visitor.visitor_id),
        "email": visitor.email,
        "verified": bool(visitor.verified_email),
        "url": visitor.current_url,
        "title": visitor.current_title,
        "referrer": visitor.referrer,
        "language": visitor.language,
        "timezone": visitor.timezone,
        "country": visitor.country,
        "user_agent": visitor.user_agent,
        "visits": int(visitor.visits),
        "visit_started_at": visitor.visit_started_at,
        "page_started_at": visitor.page_started_at,
        "page_seconds": int(visitor.page_seconds) if visitor.page_seconds is not None else None,
        "last_seen": visitor.last_seen,
        "online": is_online(visitor),
        "online_until": int(visitor.online_until) if visitor.online_until is not None else None,
        "chat_id": visitor.open_chat_id,
        "chat_state": CHAT_STATES.get(chat_status or "", "browsing"),
        # When this line was read: a `visitor` frame waits up to a few seconds in the notice queue, so
        # the console keeps a line it re-read meanwhile rather than this older one.
        "as_of": clock.now_iso(),
    }


def announce(visitor: Visitor) -> None:
    """Pushes the visitor's line to every agent, unless this visitor had their pushes for the window."""
    if _claim_push(visitor):
        _push(visitor)


def _claim_push(visitor: Visitor) -> bool:
    """Counts one push in the visitor's window with a conditional write; False when the window is full.

    `visitor` is the item as read before this request's own write, so its window is the one to count in.
    """
    now = clock.epoch()
    start = visitor.announced_at
    if start is not None and start > now - ANNOUNCE_WINDOW_S:
        if int(visitor.announced_count or 0) >= ANNOUNCE_MAX:
            return False  # no call at all: the flood costs nothing more
        actions: list[Action] = [Visitor.announced_count.add(1)]
        condition = (Visitor.announced_at == start) & (Visitor.announced_count < ANNOUNCE_MAX)
    else:
        actions = [Visitor.announced_at.set(now), Visitor.announced_count.set(1)]
        condition = Visitor.announced_at.does_not_exist() if start is None else Visitor.announced_at == start
    # False: another request counted first, and the window is its to fill.
    return data.conditional(
        lambda: Visitor(visitor.visitor_id).update(actions=actions, condition=condition & Visitor.visitor_id.exists())
    )


def _push(visitor: Visitor) -> None:
    """Queues the visitor's line for every agent's console: one SQS message, whatever the number of agents."""
    status = None
    if visitor.open_chat_id:
        try:
            status = Chat.get(visitor.open_chat_id).status
        except DoesNotExist:
            pass
    agent_notices.tell(f"visitor:{visitor.visitor_id}", {"type": "visitor", "visitor": row(visitor, status)})


def online(limit: int = MAX_LIST) -> list[dict[str, Any]]:
    """Visitors online now, most recently seen first: a Query per index shard, one BatchGet of open chats."""
    since, now = clock.iso_ago(ONLINE_S), clock.epoch()
    found = shards.merged(
        lambda key, page: Visitor.online_index.query(
            key,
            Visitor.last_seen > since,
            filter_condition=Visitor.online_until > now,
            scan_index_forward=False,
            limit=limit,
            page_size=page,
        ),
        ONLINE,
        lambda visitor: visitor.last_seen,
        limit=limit,
        newest_first=True,
    )
    chat_ids = sorted({v.open_chat_id for v in found if v.open_chat_id})
    statuses = {c.chat_id: c.status for c in Chat.batch_get(chat_ids)} if chat_ids else {}
    return [row(v, statuses.get(v.open_chat_id or "")) for v in found]
