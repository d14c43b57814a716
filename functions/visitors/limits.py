"""Per-address limits on what anonymous callers can do: the one home for every such rule.

A visitor identity is free (a page view without credentials mints one), so limits kept per visitor
alone stop nobody. These limits are per address as well: the caller's address as `rest.source_ip`
derives it for REST, and the WebSocket event's `sourceIp` for frames. An IPv4 address counts
alone; an IPv6 address counts with its /64, which one household or office is given whole.

Each rule is a fixed-window counter: one conditional UpdateItem (`ADD hits :one` if `hits` is
below the limit) on an item keyed by rule, address and window number. DynamoDB applies a
conditional update atomically, so concurrent callers can't overshoot; a refused call writes
nothing. No read comes first and no Scan is needed. Items carry a TTL of two windows.

Queued chats are capped differently, since a chat leaves the queue by many paths (an agent takes
it, it is closed, the sweep): one item per address holds the ids of its chats that may be
waiting, at most MAX_QUEUED. When it is full, the ids are checked (one consistent BatchGet) and
those no longer queued are dropped; only if all still wait is the new chat refused.

The address is never stored as such: the key holds a keyed hash (HMAC-SHA256 with the
organisation's identity secret, truncated), so the table says nothing about who came, whatever
`ip_mode` says.

Why these numbers (docs/protocol.md, "Per-address limits"): a real office or school behind one
NAT must not meet them in normal use. A browser mints its identity once and keeps it, so a new one
per address means a new browser, profile or private window: 60 in 10 minutes is a roomful of
people all opening the site for the first time at once. Twenty new chats an hour from one address
is far beyond what one office asks one support team; 10 offline messages an hour likewise (each
visitor is also held to helpdesk.offline_form.PER_HOUR). Three chats waiting at once from one address
still lets colleagues queue side by side, while a script can hold at most three places in line.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from dataclasses import dataclass
from datetime import timedelta

from pynamodb.exceptions import UpdateError
from pynamodb.expressions.condition import size

from functions.core import clock
from functions.core.errors import CharlaError
from functions.models import Chat, RateCounter


@dataclass(frozen=True)
class Rule:
    limit: int
    window_s: int
    message: str


RULES = {
    # POST /visitor/identity and page views without (valid) credentials.
    "identity": Rule(60, 600, "Too many new visitors from your network; try again in a few minutes."),
    # start_chat frames that open a new chat (joining the open one is free).
    "start_chat": Rule(20, 3600, "Too many chats started from your network; try again later."),
    # POST /visitor/offline.
    "offline_form": Rule(10, 3600, "Too many messages sent from your network; try again later."),
}
MAX_QUEUED = 3  # chats waiting in the queue at once from one address
_QUEUED_TTL = timedelta(days=1)  # refreshed on every new chat; queued chats are swept long before
_V6_PREFIX = 64


def address_key(address: str | None) -> str:
    """The counter key of an address: a keyed hash of the address (IPv6: its /64)."""
    text = "unknown"  # no address at all (never on AWS): such callers share one allowance
    if address:
        try:
            parsed = ipaddress.ip_address(address.strip())
        except ValueError:
            text = "invalid"
        else:
            if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped:
                parsed = parsed.ipv4_mapped
            if isinstance(parsed, ipaddress.IPv6Address):
                text = str(ipaddress.ip_network(f"{parsed}/{_V6_PREFIX}", strict=False))
            else:
                text = str(parsed)
    from functions.visitors import verified  # verified -> tracking -> limits: imported when first needed

    return hmac.new(verified.secret().encode(), text.encode(), hashlib.sha256).hexdigest()[:32]


def hit(rule_name: str, address: str | None) -> None:
    """Counts one `rule_name` action from `address`, or refuses it with `rate_limited` (HTTP 429)."""
    rule = RULES[rule_name]
    window = clock.epoch() // rule.window_s
    counter = RateCounter(f"{rule_name}#{address_key(address)}#{window}")
    try:
        counter.update(
            actions=[
                RateCounter.hits.add(1),
                RateCounter.expires_at.set(clock.now() + timedelta(seconds=2 * rule.window_s)),
            ],
            condition=RateCounter.hits.does_not_exist() | (RateCounter.hits < rule.limit),
        )
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            raise CharlaError("rate_limited", rule.message) from None
        raise


def hold_queue_place(address: str | None, chat_id: str) -> None:
    """Books one of the address's MAX_QUEUED places for `chat_id`, or refuses with `queue_full`."""
    counter = RateCounter(f"queued#{address_key(address)}")
    for attempt in range(2):
        try:
            counter.update(
                actions=[
                    RateCounter.chat_ids.add({chat_id}),
                    RateCounter.expires_at.set(clock.now() + _QUEUED_TTL),
                ],
                condition=RateCounter.chat_ids.does_not_exist() | (size(RateCounter.chat_ids) < MAX_QUEUED),
            )
            return
        except UpdateError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
        if attempt or not _release_finished(counter):
            break
    raise CharlaError("queue_full", "Several chats from your network are already waiting; leave us a message instead.")


def _release_finished(counter: RateCounter) -> bool:
    """Drops the held ids whose chats no longer wait (taken, closed, or never created). False: none."""
    try:
        held = set(RateCounter.get(counter.counter_key, consistent_read=True).chat_ids or ())
    except RateCounter.DoesNotExist:
        return True
    waiting = {c.chat_id for c in Chat.batch_get(held, consistent_read=True) if c.status == "queued"}
    finished = held - waiting
    if not finished:
        return False
    counter.update(actions=[RateCounter.chat_ids.delete(finished)])
    return True
