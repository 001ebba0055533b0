"""The operator's token for one allowed service: fixed in the configuration, or generated.

With a username and password the proxy signs in itself through `imageservice.auth` (the server's
`rest/info` names the generateToken endpoint; the password goes only to the service's own origin or
to https), and asks again shortly before the token expires or when the server calls it invalid
(498). On top of that, the token service URL must pass the proxy's own rules for where it sends
requests (`parse_location`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import requests

from imageservice.auth import (
    RENEW_MARGIN,
    TOKEN_MINUTES,
    SignInError,
    Token,
    discover_token_service,
    generate_token,
)
from imageservice.errors import ImageServiceError, ServiceTimeout
from imageservice.proxy.config import ProxyConfig, ServiceEntry
from imageservice.proxy.errors import TOO_SLOW, ProxyError, Refused
from imageservice.proxy.targets import parse_location

__all__ = ["RENEW_MARGIN", "TOKEN_MINUTES", "SIGN_IN_FAILED", "TokenSource"]
SIGN_IN_FAILED = "The proxy could not sign in to the server."


class TokenSource:
    """`current()` gives the token to add (None for a public service); `renew()` after a 498."""

    def __init__(self, entry: ServiceEntry, session: requests.Session, config: ProxyConfig,
                 *, clock: Callable[[], float] = time.time) -> None:
        self.entry = entry
        self.session = session
        self.config = config
        self.clock = clock
        self._token: str | None = None
        self._renew_at = 0.0  # epoch seconds
        self._lock = threading.Lock()

    @property
    def renewable(self) -> bool:
        return bool(self.entry.username)

    @property
    def operated(self) -> bool:
        """Whether the operator supplies the token (fixed or generated) for this service."""
        return bool(self.entry.token) or self.renewable

    def current(self) -> str | None:
        if not self.renewable:
            return self.entry.token
        with self._lock:
            now = self.clock()
            if self._token is None or now >= self._renew_at:
                token = self._generate()
                self._token = token.value
                # A server that gives no expiry is trusted for the minutes asked for (a 498 renews anyway).
                renew_at = token.renew_at(now)
                self._renew_at = now + TOKEN_MINUTES * 60 - RENEW_MARGIN if renew_at is None else renew_at
            return self._token

    def renew(self, stale: str) -> str | None:
        """A fresh token after `stale` was refused; a fixed token cannot be renewed (None)."""
        if not self.renewable:
            return None
        with self._lock:
            if self._token == stale:
                self._token = None
        return self.current()

    def _generate(self) -> Token:
        """Sign in; every failure becomes the proxy's 502 (504 for a timeout) with the reasons."""
        timeout = (self.config.connect_timeout, self.config.read_timeout)
        try:
            token_url = discover_token_service(self.session, self.entry.url, timeout=timeout)
            parse_location(token_url)
            return generate_token(self.session, token_url, self.entry.username or "", self.entry.password or "",
                                  minutes=TOKEN_MINUTES, timeout=timeout)
        except Refused:
            raise ProxyError(502, SIGN_IN_FAILED, ["The token service URL is not usable."]) from None
        except SignInError as error:
            raise ProxyError(502, SIGN_IN_FAILED, error.reasons) from None
        except ServiceTimeout:
            raise ProxyError(504, TOO_SLOW) from None
        except ImageServiceError:
            raise ProxyError(502, "The server could not be reached.") from None
