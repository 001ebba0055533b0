"""Token-based security as ArcGIS Server does it: generateToken, then a token on every request.

Tokens are random (`secrets`) and only their SHA-256 digests are kept, so the token table never
holds a usable secret and a lookup reveals nothing through timing; passwords are compared with
`hmac.compare_digest`. Tokens are never logged.

A token is bound to the client it was made for, as `client` asks: `referer` tokens are accepted
only with a Referer header from the same host (and port) as the `referer` given, `ip` tokens only
from the `ip` given, and `requestip` tokens (the default) only from the address that asked.

Wrong passwords slow an attacker down: see `FailedAttempts`.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from .args import Args
from .errors import ArcGISError, BadParameter, InvalidToken, TokenRequired

MAX_TOKENS = 100_000                     # live tokens kept; the oldest go first beyond it
FREE_FAILURES = 10                       # failed sign-ins in a row before a lock
LOCK_START_SECONDS = 1.0                 # the first lock; each further failure doubles it ...
LOCK_MAX_SECONDS = 300.0                 # ... up to this
FORGET_SECONDS = 3600.0                  # failures are forgotten this long after the last one
MAX_TRACKED = 10_000                     # user names and addresses with failures kept at most


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


@dataclass(frozen=True)
class Caller:
    """Who sent a request: the client address and the Referer header."""
    address: str
    referer: str | None = None


@dataclass(frozen=True)
class Binding:
    """What a token is bound to: an address (`ip`) or the host of a web app (`referer`)."""
    kind: str
    value: str

    def admits(self, caller: Caller) -> bool:
        if self.kind == "referer":
            return referer_host(caller.referer) == self.value
        return normal_address(caller.address) == self.value


def referer_host(text: str | None) -> str:
    """The lower-case host[:port] of a referer URL or of a bare `host[:port]`; '' when there is none."""
    try:
        netloc = urlsplit(text if "//" in text else "//" + text).netloc if text else ""
    except ValueError:
        return ""
    return netloc.rpartition("@")[2].lower()


def normal_address(text: str) -> str:
    """An IP address in its canonical spelling (IPv6 compressed); other text as it is."""
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return text


class FailedAttempts:
    """Failed sign-ins per user name and per client address.

    After FREE_FAILURES in a row, each further failure locks that user name (or address) for twice
    as long as the lock before, from LOCK_START_SECONDS up to LOCK_MAX_SECONDS; while locked, even
    the right password is refused, so guessing gets a few tries per lock period. A success clears
    both counts. At most MAX_TRACKED entries are kept (those idle longest go first), and an entry
    is forgotten FORGET_SECONDS after its last failure.
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        # ("user" | "address", name) -> (failures in a row, locked until, last failure), oldest first
        self._entries: OrderedDict[tuple[str, str], tuple[int, float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, username: str, address: str) -> None:
        """Raise 429 while the user name or the address is locked."""
        now = self.clock()
        with self._lock:
            until = max(self._entries.get(key, (0, 0.0, 0.0))[1] for key in self._keys(username, address))
        if until > now:
            raise ArcGISError(429, "Unable to generate token.",
                              [f"Too many failed attempts: try again in {math.ceil(until - now)} seconds."])

    def record(self, username: str, address: str) -> None:
        """Count a failure for the user name and the address, locking them past FREE_FAILURES."""
        now = self.clock()
        with self._lock:
            for key in self._keys(username, address):
                failures = self._entries.pop(key, (0, 0.0, now))[0] + 1
                excess = failures - FREE_FAILURES
                lock = 0.0 if excess <= 0 else min(LOCK_MAX_SECONDS, LOCK_START_SECONDS * 2 ** min(excess - 1, 30))
                self._entries[key] = (failures, now + lock, now)
            self._forget(now)

    def clear(self, username: str, address: str) -> None:
        with self._lock:
            for key in self._keys(username, address):
                self._entries.pop(key, None)

    def __len__(self) -> int:
        return len(self._entries)

    @staticmethod
    def _keys(username: str, address: str) -> tuple[tuple[str, str], tuple[str, str]]:
        return ("user", username), ("address", normal_address(address))

    def _forget(self, now: float) -> None:
        """Drop the entries idle for FORGET_SECONDS, then the oldest beyond MAX_TRACKED."""
        while self._entries:
            key, (_, _, last) = next(iter(self._entries.items()))
            if len(self._entries) <= MAX_TRACKED and now - last < FORGET_SECONDS:
                break
            del self._entries[key]


class Security:
    """Users, issued tokens and the check every protected request goes through.

    `token_minutes` is both the default lifetime and the longest one a client may ask for.
    `clock` returns epoch seconds; tests inject their own to expire tokens and locks.
    """

    def __init__(self, users: dict[str, str], token_minutes: int = 60,
                 clock: Callable[[], float] = time.time) -> None:
        self.users = dict(users)
        self.token_minutes = token_minutes
        self.clock = clock
        self.failures = FailedAttempts(clock)
        self._tokens: OrderedDict[bytes, tuple[float, Binding]] = OrderedDict()
        self._lock = threading.Lock()

    def generate_token(self, args: Args, caller: Caller) -> dict:
        """The generateToken operation: `{token, expires (epoch ms), ssl}` for valid credentials."""
        binding = self.binding(args, caller)
        minutes = self.minutes(args)
        username, password = args.get("username") or "", args.get("password")
        self.failures.check(username, caller.address)
        if not self._valid_user(username, password):
            self.failures.record(username, caller.address)
            raise ArcGISError(400, "Unable to generate token.", ["Invalid username or password."])
        self.failures.clear(username, caller.address)
        token = secrets.token_urlsafe(32)
        expires = self.clock() + minutes * 60
        with self._lock:
            self._prune()
            self._tokens[_digest(token)] = (expires, binding)
        return {"token": token, "expires": int(expires * 1000), "ssl": False}

    def check(self, token: str | None, caller: Caller) -> None:
        """Raise 499 when no token was sent, 498 when it is unknown, expired or bound to another client."""
        if not token:
            raise TokenRequired()
        with self._lock:
            entry = self._tokens.get(_digest(token))
        if entry is None or entry[0] <= self.clock() or not entry[1].admits(caller):
            raise InvalidToken()

    def binding(self, args: Args, caller: Caller) -> Binding:
        """The client the token is for, from `client` (`requestip` when not given)."""
        client = (args.get("client") or "requestip").lower()
        if client == "referer":
            host = referer_host(args.get("referer"))
            if not host:
                raise BadParameter("'referer' parameter is required when client is referer.")
            return Binding("referer", host)
        if client == "ip":
            address = args.get("ip")
            if not address:
                raise BadParameter("'ip' parameter is required when client is ip.")
            return Binding("ip", normal_address(address))
        if client == "requestip":
            return Binding("ip", normal_address(caller.address))
        raise BadParameter("'client' parameter is invalid.")

    def minutes(self, args: Args) -> int:
        """The `expiration` asked for, at least 1 minute, at most `token_minutes`."""
        minutes = args.integer("expiration", self.token_minutes)
        if minutes < 1:
            raise BadParameter("'expiration' parameter is invalid: at least 1 minute.")
        return min(minutes, self.token_minutes)

    def _valid_user(self, username: str, password: str | None) -> bool:
        expected = self.users.get(username)
        if expected is None or password is None:
            return False
        return hmac.compare_digest(expected.encode("utf-8"), password.encode("utf-8"))

    def _prune(self) -> None:
        """Drop expired tokens, then the oldest beyond MAX_TOKENS, so the table stays as small as
        the set of live sessions."""
        now = self.clock()
        for key in [k for k, (expires, _) in self._tokens.items() if expires <= now]:
            del self._tokens[key]
        while len(self._tokens) >= MAX_TOKENS:
            self._tokens.popitem(last=False)


def request_token(args: Args, headers: Mapping[str, str]) -> str | None:
    """The token a request carries: `token` parameter, `X-Esri-Authorization` or `Authorization`."""
    token = args.get("token")
    if token:
        return token
    for header in ("X-Esri-Authorization", "Authorization"):
        scheme, _, value = (headers.get(header) or "").strip().partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    return None
