"""What Charla keeps about visitors: the admin settings that govern it.

`tracking` off: page views are refused and nothing about browsing is written. `ip_mode` says how much
of an IP address is stored anywhere (connections, visitors): `truncate`, the default, keeps an IPv4
address's /24 or an IPv6 address's /48 (enough for a network, not a household); `none` keeps
nothing; `full` keeps it whole. Export and erasure on request live in functions/visitors/data_requests.py.

Page URLs and referrers are kept without their fragment, credentials or query: a password-reset
link or a session token in a query string would otherwise reach every agent's Visitors list. Query
parameters named in `tracked_url_params` (say `utm_campaign`) stay.

`retention_days`: an anonymous visitor (no chat, no ticket) and what tracking wrote on it expire
that many days after their last page view, by the visitors table's DynamoDB TTL (`expires_at`).
DynamoDB deletes an expired item within a few days, not at once (and moto never does), so every read
that lets a visitor in treats an item past `expires_at` as absent (`expired`).
"""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from functions.core import clock, settings
from functions.models import Visitor

IP_MODES = ("truncate", "none", "full")
# How many leading bits of an address are kept when `ip_mode` is "truncate", by IP version. Ban enforcement
# matches stored addresses with the same table, so the two can't disagree.
TRUNCATED_PREFIX = {4: 24, 6: 48}


def tracking_on() -> bool:
    return bool(settings.get_settings()["tracking"])


def stored_ip(ip: str | None) -> str | None:
    """The part of an address the `ip_mode` setting lets Charla store (None: nothing)."""
    if not ip:
        return None
    mode = settings.get_settings()["ip_mode"]
    if mode == "none":
        return None
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return None  # not an address: nothing worth keeping
    if mode == "full":
        return str(address)
    network = ipaddress.ip_network(f"{address}/{TRUNCATED_PREFIX[address.version]}", strict=False)
    return str(network.network_address)


def clean_url(url: str | None) -> str | None:
    """A tracked URL without fragment, user:password@ or query, but for the allowed query parameters."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
        host = parts.netloc.rpartition("@")[2]  # credentials in a URL are never worth keeping
    except ValueError:
        return url.split("#", 1)[0].split("?", 1)[0]  # unparsable: keep what is surely not a query
    allowed = set(settings.get_settings()["tracked_url_params"])
    try:
        kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k in allowed] if allowed else []
        return urlunsplit((parts.scheme, host, parts.path, urlencode(kept), ""))
    except (ValueError, UnicodeError):
        return urlunsplit((parts.scheme, host, parts.path, "", ""))


def retention_expiry() -> datetime:
    """When an anonymous visitor touched now expires (the visitors table's TTL attribute)."""
    return datetime.fromtimestamp(clock.epoch() + int(settings.get_settings()["retention_days"]) * 86_400, UTC)


def expired(visitor: Visitor) -> bool:
    """Past its TTL, though DynamoDB may not have deleted it yet: treat it as gone."""
    return visitor.expires_at is not None and visitor.expires_at.timestamp() <= clock.epoch()
