"""Which push endpoints the service may call (SSRF): https URLs whose host resolves to public addresses only, so
that nobody can make the service call hosts of the operator's network by subscribing with their address.

PUSH_ALLOW_LOCAL_ENDPOINTS (tests) also admits http and the loopback addresses, for a push service running on the
test machine; private, link-local, shared and reserved addresses stay refused even then. The check runs when a
subscription is made and again before every push (a name may resolve elsewhere by then), and the push connects
only to addresses the same rule admits (PublicResolver): a name that resolves to a public address for the check
and to a private one for the connection (DNS rebinding) gets no connection. An IPv6 address that carries an IPv4
address (IPv4-mapped, 6to4, NAT64's well-known prefix, Teredo) is judged by the IPv4 address it reaches.
"""

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from aiohttp import ThreadedResolver
from aiohttp.abc import AbstractResolver, ResolveResult

MAX_LENGTH = 2048


# RFC 6052's well-known prefix: 64:ff9b::a.b.c.d is a.b.c.d, through whatever NAT64 gateway the network has.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class Refused(ValueError):
    """The endpoint is not one the service may call; the message says why."""


class Unresolved(Refused):
    """The endpoint's host name did not resolve: perhaps for good, perhaps a resolver's passing failure."""


def _reached(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """The addresses a packet to `ip` ends up at: the IPv4 ones an IPv6 address embeds, else `ip` itself.
    (Python's `is_global` judges most of these by their IPv6 prefix, which says nothing of where they lead.)"""
    if isinstance(ip, ipaddress.IPv4Address):
        return [ip]
    if ip.ipv4_mapped is not None:
        return [ip.ipv4_mapped]
    if ip.sixtofour is not None:
        return [ip.sixtofour]
    if ip.teredo is not None:
        return list(ip.teredo)  # the Teredo server and the client behind it
    if ip in _NAT64:
        return [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)]
    return [ip]


def admitted(address: str, allow_local: bool) -> bool:
    reached = _reached(ipaddress.ip_address(address.split("%")[0]))
    if all(ip.is_loopback for ip in reached):
        return allow_local
    return all(ip.is_global and not ip.is_multicast for ip in reached)


async def check(endpoint: str, allow_local: bool) -> None:
    """Refused unless `endpoint` may be called (see the module's doc)."""
    if len(endpoint) > MAX_LENGTH:
        raise Refused(f"must be at most {MAX_LENGTH} characters")
    try:
        parts = urlsplit(endpoint)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise Refused("must be a URL such as https://push.example.com/…") from None
    schemes = ("https", "http") if allow_local else ("https",)
    if parts.scheme not in schemes or not parts.hostname:
        raise Refused("must be an https:// URL of a push service")
    if parts.username or parts.password:
        raise Refused("must not carry a user name or password")
    try:
        found = await asyncio.get_running_loop().getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise Unresolved(f"names a host that does not resolve ({parts.hostname})") from None
    if not found or not all(admitted(info[4][0], allow_local) for info in found):
        raise Refused("must be on a public address (not a private, loopback or link-local one)")


class PublicResolver(AbstractResolver):
    """aiohttp's name resolution for push connections: the addresses a name resolves to, all of them admitted, or
    OSError. (aiohttp connects to an IP address written in the URL without resolving it; `check` covers those.)"""

    def __init__(self, allow_local: bool) -> None:
        self._inner = ThreadedResolver()
        self._allow_local = allow_local

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        if not found or not all(admitted(result["host"], self._allow_local) for result in found):
            raise OSError(f"{host} resolves to an address this service may not call")
        return found

    async def close(self) -> None:
        await self._inner.close()
