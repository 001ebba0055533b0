"""Reading the URL after `proxy?` strictly, and normalising it into the one URL that is sent.

Whatever is checked against the allow-list is exactly what gets forwarded: the target is parsed
once into a `Location` (scheme, host, port, normalised path) and the request is rebuilt from it.
Anything a browser would not send on its own, or that could mean one host or path to us and
another to the network stack or the server (userinfo, percent-encoded or numeric-trick hosts,
backslashes, encoded slashes, dot segments in any disguise), is refused rather than repaired.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from imageservice.proxy.errors import Refused

DEFAULT_PORTS = {"http": 80, "https": 443}
# Host names and dotted IPv4 addresses only, in lower case, without a trailing dot.
HOST = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*")
NUMERIC_HOST = re.compile(r"[0-9.]+|0x.*|.*\.0x.*")
ENCODED_SEPARATOR = re.compile(r"%(2f|5c)", re.IGNORECASE)
SEPARATOR = re.compile(r"[/\\]")
MAX_DECODINGS = 4
# Characters kept as they are when the decoded path is encoded again.
PATH_SAFE = "/!$&'()*+,;=:@-._~"


@dataclass(frozen=True)
class Location:
    """An http(s) URL without query: what the allow-list compares and what is forwarded."""

    scheme: str
    host: str
    port: int
    path: str  # decoded and normalised; starts with "/"

    @property
    def url(self) -> str:
        port = "" if DEFAULT_PORTS[self.scheme] == self.port else f":{self.port}"
        return f"{self.scheme}://{self.host}{port}{quote(self.path, safe=PATH_SAFE)}"

    def within(self, prefix: Location) -> bool:
        """Same scheme, host and port, and the path is the prefix's or below it (whole segments)."""
        if (self.scheme, self.host, self.port) != (prefix.scheme, prefix.host, prefix.port):
            return False
        base = prefix.path.rstrip("/")
        return self.path == base or self.path.startswith(base + "/")


@dataclass(frozen=True)
class Target:
    """A proxied request's destination and its query parameters, in order."""

    location: Location
    query: list[tuple[str, str]]


def parse_target(raw: str) -> Target:
    """The URL after `proxy?`, query included; raises Refused for anything unusual."""
    if not raw:
        raise Refused("No URL was given: call the proxy as <proxy>?<service URL>.")
    if any(char in raw for char in "\\#") or not raw.isascii() or not raw.isprintable() or " " in raw:
        raise Refused("The URL contains characters a browser would have encoded "
                      "(backslash, space, '#', control or non-ASCII characters).")
    base, _, query = raw.partition("?")
    return Target(parse_location(base), parse_qsl(query, keep_blank_values=True))


def parse_location(url: str) -> Location:
    """An absolute http(s) URL without query, checked and normalised."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise Refused("The URL is malformed.") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not url.lower().startswith(scheme + "://"):
        raise Refused("Only http and https URLs are forwarded.")
    if "@" in parts.netloc or "%" in parts.netloc:
        raise Refused("The host part may not contain user information or percent-encoding.")
    host = parts.hostname or ""
    if not HOST.fullmatch(host) or (NUMERIC_HOST.fullmatch(host) and not is_dotted_quad(host)):
        raise Refused("The host is not a plain host name or dotted IPv4 address.")
    return Location(scheme, host, DEFAULT_PORTS[scheme] if port is None else port, normalise_path(parts.path))


def is_dotted_quad(host: str) -> bool:
    """Four decimal octets without leading zeros: the one IPv4 spelling that is not a disguise."""
    octets = host.split(".")
    return len(octets) == 4 and all(o.isdigit() and str(int(o)) == o and int(o) < 256 for o in octets)


def normalise_path(path: str) -> str:
    """Decode, refuse separators hidden by encoding and dot segments, collapse repeated slashes."""
    if ENCODED_SEPARATOR.search(path):
        raise Refused("Encoded slashes or backslashes are not allowed in the path.")
    try:
        decoded = unquote(path, errors="strict") if path else "/"
    except UnicodeDecodeError:
        raise Refused("The path is not valid UTF-8.") from None
    if not decoded.isprintable():
        raise Refused("The path contains control characters.")
    if has_dot_segment(path):
        raise Refused("The path may not contain '.' or '..' segments, "
                      "also not encoded (once or more) or with ';' parameters.")
    kept = [segment for segment in decoded.split("/") if segment]
    trailing = "/" if decoded.endswith("/") and kept else ""
    return "/" + "/".join(kept) + trailing


def has_dot_segment(path: str) -> bool:
    """Whether any hop could read a segment as `.` or `..`: one that decodes more than once
    (`%252e%252e`), or Tomcat, under ArcGIS Enterprise, which drops `;` parameters (`..;x`)."""
    segments = SEPARATOR.split(fully_unquoted(path))
    return any(segment.split(";", 1)[0] in (".", "..") for segment in segments)


def fully_unquoted(text: str) -> str:
    """`text` percent-decoded until nothing changes; refused if that takes more than a few
    rounds, which no real path needs and which would let one long URL cost quadratic time."""
    for _ in range(MAX_DECODINGS):
        decoded = unquote(text)
        if decoded == text:
            return text
        text = decoded
    raise Refused("The path is percent-encoded too many times over.")
