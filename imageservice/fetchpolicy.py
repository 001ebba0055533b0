"""Which URLs the server side may fetch, so that a hosted dashboard is not a way into its network.

A visitor types a service URL and the server fetches it. Without a policy that lets anyone make the
server request an internal host (server-side request forgery). `FetchPolicy.check` allows:

- the listed service URL prefixes (internal services the operator chose), whatever their address;
- this app itself: its own port at an address of this machine, where it serves the embedded
  ImageServer under whatever name the browser used for the page;
- any other http(s) URL whose host resolves only to public addresses.

Everything else (loopback, private, link-local, shared, reserved, multicast, unspecified) is refused
before a connection is made. Every address a name resolves to is checked, so a public-looking name
that points inside is refused too. Clients given a policy do not follow redirects: a redirect
would be a fetch nobody checked. A name is resolved once for the check and again by the connection,
so a DNS server that changes its answer in between (DNS rebinding) is not covered.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, unquote, urlsplit

from imageservice.errors import FetchRefused, ServiceUnreachable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
DEFAULT_PORTS = {"http": 80, "https": 443}
NOT_PUBLIC = ("the server fetches only public addresses, the services its operator lists and "
              "this app's own server")


@dataclass(frozen=True)
class FetchPolicy:
    """`allowed`: service URL prefixes allowed at any address (whole path segments, e.g.
    "http://10.0.0.5/arcgis/rest/services"); `own_port`: the port this app listens on. Another
    server on this machine at that same port (on another address) would pass as this app."""

    allowed: tuple[str, ...] = ()
    own_port: int | None = None

    def check(self, url: str) -> None:
        """Return if the server may fetch `url`; raise FetchRefused (or ServiceUnreachable for a
        host that does not resolve) otherwise."""
        parts = _split(url)
        if any(_within(parts, _split(prefix)) for prefix in self.allowed):
            return
        addresses = _resolve(parts.hostname, _port(parts))
        own = _port(parts) == self.own_port and all(_on_this_machine(address) for address in addresses)
        if own or all(_is_public(address) for address in addresses):
            return
        raise FetchRefused(f"{parts.hostname} is not allowed: {NOT_PUBLIC}.")


def _split(url: str) -> SplitResult:
    """The URL's parts, refusing what could name one host to us and another to the connection
    (user information, backslashes, spaces) and paths that climb out of a prefix."""
    if not url.isascii() or not url.isprintable() or any(char in url for char in " \\"):
        raise FetchRefused("The URL contains spaces, backslashes or characters a browser would have encoded.")
    parts = urlsplit(url)
    try:
        parts.port
    except ValueError:
        raise FetchRefused("The URL's port is not a number from 0 to 65535.") from None
    if parts.scheme.lower() not in DEFAULT_PORTS or not parts.hostname:
        raise FetchRefused("Only http and https URLs with a host can be fetched.")
    if "@" in parts.netloc:
        raise FetchRefused("The URL may not contain user information (user@host).")
    segments = unquote(parts.path).replace("\\", "/").split("/")
    if "." in segments or ".." in segments:
        raise FetchRefused("The URL's path may not contain '.' or '..' segments.")
    return parts


def _port(parts: SplitResult) -> int:
    return parts.port or DEFAULT_PORTS[parts.scheme.lower()]


def _within(parts: SplitResult, prefix: SplitResult) -> bool:
    """Same scheme, host and port, and the path is the prefix's or below it."""
    if (parts.scheme.lower(), parts.hostname, _port(parts)) != (prefix.scheme.lower(), prefix.hostname, _port(prefix)):
        return False
    base = prefix.path.rstrip("/")
    return parts.path == base or parts.path.startswith(base + "/")


def _resolve(host: str, port: int) -> set[IPAddress]:
    """Every address `host` resolves to (an IP address resolves to itself)."""
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise ServiceUnreachable(f"Could not find the host {host}.") from None
    return {ipaddress.ip_address(str(answer[4][0]).split("%")[0]) for answer in answers}


def _is_public(address: IPAddress) -> bool:
    """A globally routed unicast address; an IPv4 address inside IPv6 (::ffff:a.b.c.d, 6to4) is
    judged as the IPv4 address it carries."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            return _is_public(embedded)
        if address.is_site_local:
            return False
    return address.is_global and not (address.is_multicast or address.is_reserved)


def _on_this_machine(address: IPAddress) -> bool:
    """Whether `address` belongs to this machine: only then can a socket be bound to it."""
    if address.is_loopback or address.is_unspecified:
        return True
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind((str(address), 0))
        except OSError:
            return False
    return True
