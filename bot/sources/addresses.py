"""Which network addresses are public: the guard that keeps URLs from making the bot read internal services.

An address is public when all of these hold:

- `ipaddress` calls it global (not loopback, private, link-local, shared, reserved, documentation...);
- no network of `DENIED` holds it: special-purpose ranges that no public web server uses, listed here as
  well because Python's own tables differ between releases (3.11.7 calls 192.0.0.9 and fec0::1 global);
- every IPv4 address embedded in it is public too. IPv6 forms that carry an IPv4 address reach that host
  through a translator or tunnel: IPv4-mapped `::ffff:127.0.0.1` and IPv4-compatible `::127.0.0.1`, NAT64
  `64:ff9b::7f00:1`, 6to4 `2002:7f00:1::` and Teredo all lead to 127.0.0.1, though only the first looks
  like it.

`check_address` raises `PrivateAddressError` for the others, naming the address; `check_host` applies it to
every address a host name resolves to (for refusing a URL when it is added, not only when it is fetched).
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import socket
from collections.abc import Sequence

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

FIX = "bot.fetch_private_addresses is off"

DENIED: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(network)
    for network in (
        "0.0.0.0/8",  # "this network"
        "10.0.0.0/8",
        "100.64.0.0/10",  # carrier-grade NAT
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local, cloud metadata
        "172.16.0.0/12",
        "192.0.0.0/24",  # IETF protocol assignments (PCP, TURN anycast, DS-Lite, NAT64 discovery)
        "192.0.2.0/24",
        "192.88.99.0/24",  # 6to4 relay anycast
        "192.168.0.0/16",
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, and the broadcast address
        "::/127",  # unspecified and loopback
        "64:ff9b:1::/48",  # NAT64 for local use: translates to the operator's own networks
        "100::/64",  # discard
        "2001:db8::/32",
        "3fff::/20",  # documentation
        "5f00::/16",  # segment routing
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated, still routed inside some sites)
        "ff00::/8",  # multicast
    )
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


class PrivateAddressError(OSError):
    """A connection to an address that is not public was refused."""


def embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address leads to through a translator or tunnel (often none)."""
    found: list[ipaddress.IPv4Address] = []
    if address.ipv4_mapped is not None:
        found.append(address.ipv4_mapped)
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)  # the Teredo server and the client behind it
    # :: and ::1 lie in ::/96 too, but they are the unspecified and the loopback address, not IPv4 hosts.
    if address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 1):
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def is_public(address: IPAddress) -> bool:
    """True when connecting to `address` reaches a public host (see the module doc)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        # ::ffff:a.b.c.d is the IPv4 host a.b.c.d itself (ipaddress calls every such address private).
        return is_public(address.ipv4_mapped)
    if not address.is_global or address.is_multicast or any(address in net for net in DENIED):
        return False
    if isinstance(address, ipaddress.IPv6Address):
        return all(is_public(inner) for inner in embedded_ipv4(address))
    return True


def check_address(host: str, trusted: Sequence[IPNetwork] = ()) -> None:
    """Raise PrivateAddressError unless `host` (an IP address, maybe with a %scope) is public or in a
    `trusted` network."""
    text = host.strip("[]").split("%", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise PrivateAddressError(errno.EACCES, f"{host} is not an IP address ({FIX})") from None
    if any(address in network for network in trusted):
        return
    if not is_public(address):
        raise PrivateAddressError(errno.EACCES, f"{describe(address)} is not a public address ({FIX})")


def describe(address: IPAddress) -> str:
    """The address, and the IPv4 addresses it leads to: `::7f00:1 (127.0.0.1)`."""
    inner = embedded_ipv4(address) if isinstance(address, ipaddress.IPv6Address) else []
    return f"{address} ({', '.join(map(str, inner))})" if inner else str(address)


def refused(error: BaseException) -> str | None:
    """The guard's refusal behind a failed connection (aiohttp wraps it in ClientConnectorError's
    `os_error`), as its one-line message; None for any other error."""
    cause = getattr(error, "os_error", error)
    return cause.strerror if isinstance(cause, PrivateAddressError) else None


async def check_host(
    host: str,
    port: int,
    trusted: Sequence[IPNetwork] = (),
    *,
    timeout: float = 2.0,  # noqa: ASYNC109 - a deadline for the name lookup only
) -> None:
    """Raise PrivateAddressError when `host` is, or resolves to, any address that is not public. A name
    that does not resolve within `timeout` seconds passes: fetching it fails later, and the connection guard
    still holds."""
    if not host or _is_ip(host):
        check_address(host, trusted)
        return
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout):
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, TimeoutError):
        return
    for address in sorted({str(sockaddr[0]) for *_, sockaddr in infos}):
        try:
            check_address(address, trusted)
        except PrivateAddressError as exc:
            raise PrivateAddressError(errno.EACCES, f"{host}: {exc.strerror}") from None


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    return True
