"""What Charla keeps about visitors: the two admin settings that govern it.

`tracking` off: page views are refused and nothing about browsing is written. `ip_mode` says how much
of an IP address is stored anywhere (connections, visitors): `truncate`, the default, keeps an IPv4
address's /24 or an IPv6 address's /48 (enough for a network, not a household); `none` keeps
nothing; `full` keeps it whole. Export and erasure on request live in functions/visitors/data_requests.py.
"""

from __future__ import annotations

import ipaddress

from functions.core import settings

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
