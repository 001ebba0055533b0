"""Token-based security as ArcGIS Server does it: generateToken, then a token on every request.

Tokens are random (`secrets`) and only their SHA-256 digests are kept, so the token table never
holds a usable secret and a lookup reveals nothing through timing; passwords are compared with
`hmac.compare_digest`. Tokens are never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable, Mapping

from .args import Args
from .errors import ArcGISError, BadParameter, InvalidToken, TokenRequired

CLIENT_TYPES = ("referer", "requestip", "ip")


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


class Security:
    """Users, issued tokens and the check every protected request goes through.

    `token_minutes` is both the default lifetime and the longest one a client may ask for.
    `clock` returns epoch seconds; tests inject their own to expire tokens.
    """

    def __init__(self, users: dict[str, str], token_minutes: int = 60,
                 clock: Callable[[], float] = time.time) -> None:
        self.users = dict(users)
        self.token_minutes = token_minutes
        self.clock = clock
        self._expiries: dict[bytes, float] = {}
        self._lock = threading.Lock()

    def generate_token(self, args: Args) -> dict:
        """The generateToken operation: `{token, expires (epoch ms), ssl}` for valid credentials."""
        username = args.get("username")
        password = args.get("password")
        client = (args.get("client") or "requestip").lower()
        if client not in CLIENT_TYPES:
            raise BadParameter("'client' parameter is invalid.")
        if client == "referer" and not args.get("referer"):
            raise BadParameter("'referer' parameter is required when client is referer.")
        if not self._valid_user(username, password):
            raise ArcGISError(400, "Unable to generate token.", ["Invalid username or password."])
        minutes = args.integer("expiration", self.token_minutes)
        minutes = max(1, min(minutes, self.token_minutes))
        token = secrets.token_urlsafe(32)
        expires = self.clock() + minutes * 60
        with self._lock:
            self._prune()
            self._expiries[_digest(token)] = expires
        return {"token": token, "expires": int(expires * 1000), "ssl": False}

    def check(self, token: str | None) -> None:
        """Raise 499 when no token was sent, 498 when it is unknown or expired."""
        if not token:
            raise TokenRequired()
        with self._lock:
            expires = self._expiries.get(_digest(token))
        if expires is None or expires <= self.clock():
            raise InvalidToken()

    def _valid_user(self, username: str | None, password: str | None) -> bool:
        expected = self.users.get(username or "")
        if expected is None or password is None:
            return False
        return hmac.compare_digest(expected.encode("utf-8"), password.encode("utf-8"))

    def _prune(self) -> None:
        """Drop expired tokens so the table stays as small as the set of live sessions."""
        now = self.clock()
        for key in [k for k, expires in self._expiries.items() if expires <= now]:
            del self._expiries[key]


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
