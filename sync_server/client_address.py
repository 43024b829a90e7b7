"""The address a request comes from, for throttling sign-ins: the TCP peer, or behind trusted proxies the
right-most ``X-Forwarded-For`` hop they did not add themselves.

Anyone can send ``X-Forwarded-For``; only hops appended by a proxy we trust are facts. Walking the header from the
right, every trusted address is one of our proxies and the first untrusted one is the client as our outermost
proxy saw it. Hops to its left were written by the client and are ignored. With no trusted proxies (the default)
the header is ignored entirely.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

__all__ = ["Networks", "client_address", "parse_networks"]

Networks = tuple[IPv4Network | IPv6Network, ...]


@lru_cache(maxsize=8)
def parse_networks(text: str) -> Networks:
    """``"10.0.0.0/8, 192.168.1.5"`` → networks (a bare address is a /32 or /128); ValueError on a bad entry."""
    return tuple(ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip())


def _parse(address: str) -> IPv4Address | IPv6Address | None:
    try:
        return ip_address(address.strip())
    except ValueError:
        return None


def _trusted(address: IPv4Address | IPv6Address, trusted: Networks) -> bool:
    return any(address in network for network in trusted)


def client_address(peer: str | None, forwarded_for: Iterable[str], trusted: Sequence[IPv4Network | IPv6Network]) -> str:
    """The client's address: ``peer`` unless it is a trusted proxy, then the right-most untrusted forwarded hop."""
    if not peer:
        return "unknown"
    current = _parse(peer)
    if current is None or not trusted or not _trusted(current, tuple(trusted)):
        return peer
    hops = [hop for header in forwarded_for for hop in header.split(",") if hop.strip()]
    for hop in reversed(hops):
        parsed = _parse(hop)
        if parsed is None:
            break  # not an address: written by someone we do not trust, so the last trusted hop is the client
        current = parsed
        if not _trusted(parsed, tuple(trusted)):
            break
    return str(current)
