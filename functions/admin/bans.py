"""The ban list: visitors, IP addresses and CIDR ranges refused at `$connect` and on visitor REST calls.

- A visitor ban is checked exactly, with a consistent GetItem of its key. In AWS, `$connect` and
  REST run in other Lambda functions than the admin's request, and the widget reconnects as soon
  as its socket is closed: a cached check would let the banned visitor straight back in.
- Address bans need the whole list for the CIDR match. It is small and read with one Query,
  cached for at most 60 s per Lambda instance like the settings (dropped at once in the instance
  that bans or unbans), so a range ban reaches every instance within a minute.

None of this is on the message path: checks run when a visitor connects or calls REST.
The banned visitors' open sockets are closed right away by functions/admin/ban_enforcement.py.
"""

from __future__ import annotations

import base64
import ipaddress
import re
from datetime import timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist

from functions.core import aws, clock, data
from functions.core.errors import CharlaError, bad_request
from functions.core.instance_cache import InstanceCache
from functions.core.principals import Principal
from functions.models import BAN, Ban

MAX_REASON = 500
MAX_HOURS = 24 * 365
# Refuse ranges so wide they would lock out much of the internet by a typo (0.0.0.0/0 and the like).
MIN_PREFIX = {4: 8, 6: 16}
VISITOR_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

_cache: InstanceCache[list[Ban]] = InstanceCache(lambda: list(Ban.query(BAN)))


@aws.on_reset
def forget() -> None:
    _cache.forget()


def _all() -> list[Ban]:
    return list(_cache.get())


def _live(ban: Ban) -> bool:
    # DynamoDB's TTL deletes lazily (moto never), so expiry is checked on every read.
    return ban.expires_at is None or ban.expires_at > clock.now()


def active() -> list[Ban]:
    return [b for b in _all() if _live(b)]


def refusal(visitor_id: str | None, ip: str | None) -> Ban | None:
    """The ban that refuses this visitor or address, if any."""
    if visitor_id and VISITOR_ID.match(visitor_id):
        try:
            ban = Ban.get(BAN, ban_id("visitor", visitor_id), consistent_read=True)
        except DoesNotExist:
            pass
        else:
            if _live(ban):
                return ban
    address = _address(ip)
    if address is None:
        return None
    for ban in active():
        if ban.kind == "ip":
            network = ipaddress.ip_network(ban.target)
            if address.version == network.version and address in network:
                return ban
    return None


def address_bans() -> list[Ban]:
    return [b for b in active() if b.kind == "ip"]


def check(visitor_id: str | None, ip: str | None) -> None:
    if refusal(visitor_id, ip) is not None:
        # Says no more than needed: the reason is for the team, not for the visitor.
        raise CharlaError("forbidden", "This chat is not available to you.")


def _address(ip: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not ip:
        return None
    try:
        return ipaddress.ip_address(ip.strip())
    except ValueError:
        return None


# --- changes ------------------------------------------------------------------------------------


def parse_network(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 64:
        raise bad_request("`ip` must be an IP address or a CIDR range such as 203.0.113.0/24.")
    try:
        network = ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        raise bad_request("`ip` must be an IP address or a CIDR range such as 203.0.113.0/24.") from None
    if network.prefixlen < MIN_PREFIX[network.version]:
        raise bad_request(f"That range is too wide; use at least /{MIN_PREFIX[network.version]}.")
    return str(network)


def parse_reason(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_REASON:
        raise bad_request(f"`reason` must be text of 1 to {MAX_REASON} characters.")
    return value.strip()


def parse_hours(value: object) -> float | None:
    """None or absent: until unbanned."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= MAX_HOURS:
        raise bad_request(f"`hours` must be a number above 0 and at most {MAX_HOURS}, or left out.")
    return float(value)


def parse_target(body: dict[str, Any]) -> tuple[str, str]:
    """(kind, target) from a body naming exactly one of `visitor_id` and `ip`."""
    has_visitor, has_ip = body.get("visitor_id") is not None, body.get("ip") is not None
    if has_visitor == has_ip:
        raise bad_request("Give exactly one of `visitor_id` and `ip`.")
    if has_visitor:
        visitor_id = body["visitor_id"]
        if not isinstance(visitor_id, str) or not VISITOR_ID.match(visitor_id):
            raise bad_request("`visitor_id` is not a visitor id.")
        return "visitor", visitor_id
    return "ip", parse_network(body["ip"])


def ban_id(kind: str, target: str) -> str:
    return f"{kind}#{target}"


def add(by: Principal, kind: str, target: str, reason: str, hours: float | None, chat_id: str | None = None) -> Ban:
    """Creates or replaces the ban of one visitor or network (banning twice updates reason and expiry)."""
    ban = Ban(
        BAN,
        ban_id(kind, target),
        kind=kind,
        target=target,
        reason=reason,
        created_by=by.id,
        created_by_name=by.name,
        created_at=clock.now_iso(),
        chat_id=chat_id,
        expires_at=clock.now() + timedelta(hours=hours) if hours else None,
    )
    ban.save()
    forget()
    return ban


def path_id(ban_id_: str) -> str:
    """The ban's id for REST paths: `ip#10.0.0.0/8` has a "/" and a "#", which paths can't carry."""
    return base64.urlsafe_b64encode(ban_id_.encode()).decode().rstrip("=")


def _from_path_id(value: str) -> str | None:
    if not isinstance(value, str) or not value or len(value) > 200:
        return None
    try:
        decoded = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    return decoded if decoded.startswith(("visitor#", "ip#")) else None


def remove(id_: str) -> None:
    """Unbans; `id_` is the `id` of the ban's view."""
    key = _from_path_id(id_)
    if key is None:
        raise CharlaError("not_found", "No such ban.")
    try:
        if not data.conditional(lambda: Ban(BAN, key).delete(condition=Ban.ban_id.exists())):
            raise CharlaError("not_found", "No such ban.")
    finally:
        forget()


def view(ban: Ban) -> dict[str, Any]:
    return {
        "id": path_id(ban.ban_id),
        "ban_id": ban.ban_id,
        "kind": ban.kind,
        "target": ban.target,
        "reason": ban.reason,
        "created_by": {"id": ban.created_by, "name": ban.created_by_name},
        "created_at": ban.created_at,
        "chat_id": ban.chat_id,
        "expires_at": clock.iso(ban.expires_at) if ban.expires_at else None,
    }


def list_view() -> list[dict[str, Any]]:
    forget()  # the admin's list is read fresh
    return sorted((view(b) for b in active()), key=lambda v: v["created_at"], reverse=True)
