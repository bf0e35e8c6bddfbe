"""Pure: which addresses and URLs the issuer pre-flight may fetch.

The pre-flight fetches a URL a tenant wrote, then one that URL's answer names (``jwks_uri``).
Unfenced, that is a request forgery from inside the management cluster: loopback, the instance
metadata service (``169.254.169.254``), the cluster's own services and pods. An issuer EKS can
use is on the public internet, over HTTPS (EKS fetches it from AWS's network), so the fence
refuses every other scheme and every address that is not globally routable: loopback,
link-local, the private ranges (where a cluster's service and pod ranges live), shared and
reserved ranges. An admin whose issuers live on private addresses (a private CA, a VPC endpoint
the management cluster shares with EKS) allows those ranges by name; one whose cluster uses
public ranges for its services or pods denies those by name.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

import yarl

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

EMBEDDING = tuple(
    ipaddress.ip_network(n) for n in ("::/96", "64:ff9b::/96", "64:ff9b:1::/48", "2002::/16")
)
"""IPv6 ranges that carry an IPv4 address inside (IPv4-compatible, NAT64, 6to4): Python calls
some of them global, but through a NAT64 gateway ``64:ff9b::a00:5`` is 10.0.0.5. Refused unless
allowed by name. (``::ffff:0:0/96``, IPv4-mapped, is unwrapped and judged as IPv4.)"""

_NUMERIC = re.compile(r"(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]*))*", re.IGNORECASE)
"""A host of digits and dots (or hex): an IPv4 address in some spelling (``2130706433``,
``127.1``, ``0x7f.0.0.1``) that resolvers accept and a canonical check would miss."""


def parse_cidrs(text: str) -> tuple[Network, ...]:
    """Comma-separated CIDRs (``10.0.0.0/8, fd00::/8``); a bare address is a /32 or /128.

    Raises ``ValueError`` naming the entry that is not one.
    """
    found: list[Network] = []
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        try:
            found.append(ipaddress.ip_network(entry, strict=False))
        except ValueError as error:
            raise ValueError(f"{entry!r} is not a CIDR (like 10.0.0.0/8 or fd00::/8)") from error
    return tuple(found)


@dataclass(frozen=True)
class IssuerFence:
    """What the pre-flight may connect to: public addresses, plus the admin's ``allow``, minus
    the admin's ``deny`` (which wins: a cluster's own ranges stay refused inside an allowed
    one)."""

    allow: tuple[Network, ...] = ()
    deny: tuple[Network, ...] = ()

    def permits(self, address: str) -> bool:
        """Whether the pre-flight may connect to ``address`` (an IP, as a resolver gives it)."""
        ip = _address(address)
        if ip is None or _within(ip, self.deny):
            return False
        if _within(ip, self.allow):
            return True
        if _within(ip, EMBEDDING):
            return False
        return ip.is_global and not ip.is_multicast


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address ``text`` names, an IPv4-mapped one as its IPv4 (``None``: not an IP)."""
    try:
        ip = ipaddress.ip_address(text.split("%", 1)[0])  # drop an IPv6 zone id
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped  # ::ffff:127.0.0.1 is loopback, whatever its spelling
    return ip


def _within(
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address, networks: tuple[Network, ...]
) -> bool:
    """Whether ``ip`` is in one of ``networks`` (those of its own IP version)."""
    return any(ip in network for network in networks if network.version == ip.version)


def connect_host(url: str) -> str:
    """The host aiohttp will connect to for ``url``: IDNA-normalised by yarl, as aiohttp does
    (127.0.0.1 written in fullwidth digits, or with ideographic full stops, becomes
    ``127.0.0.1``), without a
    trailing dot. Raises ``ValueError`` for a URL yarl cannot parse."""
    host = yarl.URL(url).host or ""
    return host.rstrip(".")


def literal_refusal(host: str, fence: IssuerFence) -> str | None:
    """Why a host written as an address may not be fetched, or ``None`` (a name, or a
    permitted address). An address is never looked up, so the fence must judge it here."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if _NUMERIC.fullmatch(host):
            return f"{host} is an address in a spelling the operator does not fetch"
        return None
    return None if fence.permits(host) else f"{host} is not a public address"


def scheme_refusal(url: str) -> str | None:
    """Why the pre-flight will not fetch ``url``, or ``None``: EKS fetches over HTTPS only,
    and a plain-HTTP fetch of a tenant's URL would send it through no TLS check at all."""
    try:
        parsed = yarl.URL(url)
        host = parsed.host
    except (ValueError, TypeError):
        return f"{url!r} is not a URL"
    if parsed.scheme != "https":
        return f"{url!r} is not an https URL"
    if not host:
        return f"{url!r} names no host"
    return None
