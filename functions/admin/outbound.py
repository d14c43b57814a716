"""Where Charla may send a request to a URL an admin typed (webhooks), and the only way it connects there.

The rule, checked when the URL is registered and again at every delivery:

- `https` to a public address, on port 443 or 8443, with no user name or password in the URL;
- a host that is an address literal, in any notation (dotted, decimal, hex, octal, short forms, IPv6,
  IPv4-mapped IPv6), must be a public unicast address; other forms than dotted decimal are refused
  even then, because resolvers read them differently;
- a name is resolved at delivery, once; every address in the answer must be public, and the
  connection goes to an address from that answer (TLS names the host for SNI and certificate
  verification), so a second lookup cannot lead it elsewhere (DNS rebinding);
- redirects are never followed: the registered URL is the only target.

A deployment may allow loopback receivers (the local stack does, so a developer's receiver on
127.0.0.1 works): with `CHARLA_WEBHOOK_ALLOW_LOOPBACK=1`, loopback addresses and the name
`localhost` are allowed, plain `http` to them too, and any port. AWS deployments never set it.

Failures are reported as a category, never as the error's text, so the delivery log cannot be read
as a port scanner's output.
"""

from __future__ import annotations

import http.client
import ipaddress
import os
import re
import socket
import ssl
import time
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from functions.core.errors import CharlaError, bad_request

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

LOOPBACK_SETTING = "CHARLA_WEBHOOK_ALLOW_LOOPBACK"
HTTPS_PORTS = (443, 8443)  # https and its IANA-registered alternative
MAX_ADDRESSES = 4  # addresses of one answer tried in turn, when one does not accept the connection

REFUSED = "url_not_allowed"  # the error code for a well-formed URL that Charla will not call

# Why a delivery attempt failed, as the delivery log shows it.
REFUSED_ADDRESS = "refused_address"  # the URL, or an address its host resolved to, is not allowed
DNS_FAILURE = "dns_failure"  # the name did not resolve
TIMEOUT = "timeout"  # no connection, TLS handshake or answer in time
CONNECT_FAILED = "connect_failed"  # refused, reset or closed, or the answer was not HTTP
TLS_ERROR = "tls_error"  # the handshake failed, or the certificate is not valid for the host
HTTP_STATUS = "http_status"  # an HTTP answer outside 2xx (redirects included)
CATEGORIES = (REFUSED_ADDRESS, DNS_FAILURE, TIMEOUT, CONNECT_FAILED, TLS_ERROR, HTTP_STATUS)

# Prefixes that carry an IPv4 address inside IPv6 and would reach it through a translator.
_EMBEDDING_V4 = (
    ipaddress.IPv6Network("64:ff9b::/96"),  # NAT64, RFC 6052
    ipaddress.IPv6Network("64:ff9b:1::/48"),  # local-use NAT64, RFC 8215
    ipaddress.IPv6Network("2002::/16"),  # 6to4
    ipaddress.IPv6Network("2001::/32"),  # Teredo
)
_NAME = re.compile(r"^[a-z0-9_-]+(\.[a-z0-9_-]+)*$")
_HEX = re.compile(r"^0x[0-9a-f]*$")
_DIGITS = {16: re.compile(r"^[0-9a-f]*$"), 8: re.compile(r"^[0-7]*$"), 10: re.compile(r"^[0-9]+$")}


def loopback_allowed() -> bool:
    """Read per call: a configuration value, set only by the local stack."""
    return os.environ.get(LOOPBACK_SETTING) == "1"


def is_public(ip: IPAddress) -> bool:
    """A globally routable unicast address: nothing private, loopback, link-local, unique-local,
    multicast, reserved, shared (CGNAT), documentation, or IPv4 carried inside IPv6."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id or ip.ipv4_mapped or ip.is_site_local or any(ip in net for net in _EMBEDDING_V4):
            return False
    return bool(
        ip.is_global
        and not (ip.is_multicast or ip.is_reserved or ip.is_private or ip.is_loopback)
        and not (ip.is_link_local or ip.is_unspecified)
    )


def allowed(ip: IPAddress) -> bool:
    return is_public(ip) or (ip.is_loopback and loopback_allowed())


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # ASCII: the IDNA form of a name, or an address literal (IPv6 without brackets)
    ip: IPAddress | None  # set when the host is an address literal
    port: int
    path: str  # path and query, as sent on the request line

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if isinstance(self.ip, ipaddress.IPv6Address) else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def target(url: object, *, field: str = "url") -> Target:
    """The URL's parts if Charla may call it; else `bad_request` (malformed) or `url_not_allowed`."""
    if not isinstance(url, str) or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        raise bad_request(f"`{field}` must be a URL without spaces or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port  # raises for a port that is not a number in range
    except ValueError:
        raise bad_request(f"`{field}` is not a valid URL.") from None
    if parts.scheme not in ("https", "http"):
        raise CharlaError(REFUSED, f"`{field}` must be an https URL.")
    if "@" in parts.netloc:
        raise CharlaError(REFUSED, f"`{field}` must not hold a user name or password.")
    if not parts.hostname or port == 0:
        raise bad_request(f"`{field}` needs a host (and a port, if any, from 1 to 65535).")
    host, ip = _host(parts.hostname, "[" in parts.netloc, field)
    loopback = ip.is_loopback if ip is not None else host == "localhost" or host.endswith(".localhost")
    if loopback and not loopback_allowed():
        raise CharlaError(REFUSED, f"`{field}` must not point at this machine (loopback).")
    if ip is not None and not allowed(ip):
        raise CharlaError(REFUSED, f"`{field}` must point at a public address, not {ip}.")
    if ip is not None and isinstance(ip, ipaddress.IPv4Address) and host != str(ip):
        raise CharlaError(REFUSED, f"`{field}` must write an IPv4 address as {ip}.")
    if parts.scheme == "http" and not loopback:
        raise CharlaError(REFUSED, f"`{field}` must use https (plain http only to loopback, where allowed).")
    port = port if port is not None else (443 if parts.scheme == "https" else 80)
    if parts.scheme == "https" and port not in HTTPS_PORTS and not loopback_allowed():
        raise CharlaError(REFUSED, f"`{field}` must use port 443 or 8443.")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if not path.startswith("/") or not path.isascii():
        raise bad_request(f"`{field}` must have an ASCII path (percent-encode other characters).")
    return Target(parts.scheme, host, ip, port, path)


def _host(raw: str, bracketed: bool, field: str) -> tuple[str, IPAddress | None]:
    if bracketed:
        if "%" in raw:
            raise CharlaError(REFUSED, f"`{field}` must not name a network interface (zone id).")
        try:
            return raw, ipaddress.IPv6Address(raw)
        except ValueError:
            raise bad_request(f"`{field}` has an invalid IPv6 address.") from None
    try:
        # IDNA first: it maps look-alikes (full-width digits, ideographic dots) to what they resolve as.
        host = raw.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise bad_request(f"`{field}` has an invalid host name.") from None
    labels = host.split(".")
    if len(labels) > 1 and labels[-1] == "":
        labels.pop()
    if labels and _is_number(labels[-1]):
        ip = _ipv4(labels)
        if ip is None:
            raise bad_request(f"`{field}` has an invalid IPv4 address.")
        return host, ip
    if not _NAME.match(host):
        raise bad_request(f"`{field}` has an invalid host name.")
    return host, None


def _is_number(label: str) -> bool:
    return label.isdigit() or bool(_HEX.match(label))


def _ipv4(labels: list[str]) -> ipaddress.IPv4Address | None:
    """The WHATWG URL standard's IPv4 parser, which is also what inet_aton and getaddrinfo accept:
    1 to 4 parts, each decimal, 0x-hex or 0-octal, the last filling the remaining bytes."""
    if not 1 <= len(labels) <= 4:
        return None
    numbers = []
    for label in labels:
        if label.startswith("0x"):
            digits, base = label[2:], 16
        elif len(label) > 1 and label.startswith("0"):
            digits, base = label[1:], 8
        else:
            digits, base = label, 10
        if not _DIGITS[base].match(digits):
            return None
        numbers.append(int(digits, base) if digits else 0)
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(numbers)):
        return None
    value = last + sum(n << (8 * (3 - i)) for i, n in enumerate(head))
    return ipaddress.IPv4Address(value)


# --- the connection ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int | None  # the HTTP status, when there was an answer
    category: str | None  # None: delivered (2xx)


class _Failed(Exception):
    def __init__(self, category: str) -> None:
        super().__init__(category)
        self.category = category


def resolve(target: Target) -> list[IPAddress]:
    """The host's addresses, from one lookup, each allowed; else `_Failed`."""
    if target.ip is not None:
        return [target.ip]
    try:
        answer = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise _Failed(DNS_FAILURE) from None
    found: list[IPAddress] = []
    for family, _, _, _, sockaddr in answer:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        try:
            ip = ipaddress.ip_address(str(sockaddr[0]))
        except ValueError:
            raise _Failed(REFUSED_ADDRESS) from None
        if ip not in found:
            found.append(ip)
    if not found:
        raise _Failed(DNS_FAILURE)
    if not all(allowed(ip) for ip in found):
        raise _Failed(REFUSED_ADDRESS)  # one bad address taints the answer: a rebinding host mixes them
    if target.scheme == "http" and not all(ip.is_loopback for ip in found):
        raise _Failed(REFUSED_ADDRESS)
    return found


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> Answer:
    """POSTs `body` to `url` under the rule above; never raises for anything the far end does."""
    try:
        where = target(url)
    except CharlaError:
        return Answer(None, REFUSED_ADDRESS)  # registered before the rule, or it changed since
    try:
        addresses = resolve(where)
        sock = _connect(addresses, where.port, timeout)
        return _exchange(sock, where, body, headers, timeout)
    except _Failed as failed:
        return Answer(None, failed.category)


def _connect(addresses: list[IPAddress], port: int, timeout: float) -> socket.socket:
    """A TCP connection to the first address of the checked list that accepts one, and to no other."""
    deadline = time.monotonic() + timeout
    category = CONNECT_FAILED
    for ip in addresses[:MAX_ADDRESSES]:
        left = deadline - time.monotonic()
        if left <= 0:
            category = TIMEOUT
            break
        family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(left)
        try:
            sock.connect((str(ip), port))
            return sock
        except TimeoutError:
            category = TIMEOUT
        except OSError:
            category = CONNECT_FAILED
        sock.close()
    raise _Failed(category)


def _exchange(sock: socket.socket, where: Target, body: bytes, headers: dict[str, str], timeout: float) -> Answer:
    connection = http.client.HTTPConnection(where.host, where.port, timeout=timeout)
    try:
        sock.settimeout(timeout)
        if where.scheme == "https":
            # SNI and the certificate check use the URL's host, not the address connected to.
            sock = _tls_context(os.environ.get("SSL_CERT_FILE")).wrap_socket(sock, server_hostname=where.host)
        connection.sock = sock  # http.client sends on this socket and never opens another
        connection.request("POST", where.path, body=body, headers={**headers, "Host": where.host_header})
        # http.client never follows a redirect. The body is not read: the status is the answer.
        status = int(connection.getresponse().status)
    except TimeoutError:
        raise _Failed(TIMEOUT) from None
    except ssl.SSLError:  # the certificate check's failure is one too
        raise _Failed(TLS_ERROR) from None
    except (http.client.HTTPException, OSError, ValueError):
        raise _Failed(CONNECT_FAILED) from None
    finally:
        connection.close()
        sock.close()
    return Answer(status, None if 200 <= status < 300 else HTTP_STATUS)


@lru_cache(maxsize=4)
def _tls_context(ca_file: str | None) -> ssl.SSLContext:
    # The system's trust store (SSL_CERT_FILE, where set, replaces it: OpenSSL reads it here).
    del ca_file  # the cache key only: a changed trust store gets a fresh context
    return ssl.create_default_context()
