"""The operator's token for one allowed service: fixed in the configuration, or generated.

With a username and password the proxy signs in itself, as ArcGIS clients do: it reads the
server's `rest/info` for `authInfo.tokenServicesUrl`, POSTs to that generateToken endpoint, and
asks again shortly before the token expires or when the server calls it invalid (498). The
password is only ever sent to a token URL on the service's own origin or over https.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import requests

from resourceproxy.config import ProxyConfig, ServiceEntry
from resourceproxy.errors import ProxyError, Refused
from resourceproxy.forward import send
from resourceproxy.targets import Location, parse_location

RENEW_MARGIN = 120.0  # seconds before expiry at which a generated token is replaced (at most
# half its lifetime, so a server that hands out one-minute tokens does not get a sign-in per request)
TOKEN_MINUTES = 60
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
                self._token, expires = self._generate()
                self._renew_at = expires - min(RENEW_MARGIN, max(0.0, expires - now) / 2)
            return self._token

    def renew(self, stale: str) -> str | None:
        """A fresh token after `stale` was refused; a fixed token cannot be renewed (None)."""
        if not self.renewable:
            return None
        with self._lock:
            if self._token == stale:
                self._token = None
        return self.current()

    def _generate(self) -> tuple[str, float]:
        answer = send(self.session, "POST", self._token_url().url, self.config, form=[
            ("username", self.entry.username or ""), ("password", self.entry.password or ""),
            ("client", "requestip"), ("expiration", str(TOKEN_MINUTES)), ("f", "json")])
        data = answer.json if isinstance(answer.json, dict) else {}
        token, expires = data.get("token"), data.get("expires")
        if not isinstance(token, str) or not token or not isinstance(expires, (int, float)):
            error = data.get("error") if isinstance(data.get("error"), dict) else {}
            details = [str(d) for d in [error.get("message"), *error.get("details", [])] if d]
            raise ProxyError(502, SIGN_IN_FAILED, details or ["generateToken gave no token."])
        return token, expires / 1000.0

    def _token_url(self) -> Location:
        """`authInfo.tokenServicesUrl` from the server's rest/info, checked before any password goes there."""
        service = self.entry.location
        info_url = Location(service.scheme, service.host, service.port, self.entry.context_path + "/rest/info")
        info = send(self.session, "GET", info_url.url, self.config, query=[("f", "json")]).json
        auth = info.get("authInfo") if isinstance(info, dict) else None
        url = auth.get("tokenServicesUrl") if isinstance(auth, dict) else None
        if not isinstance(url, str) or not url:
            raise ProxyError(502, SIGN_IN_FAILED, ["The server does not advertise a token service."])
        try:
            location = parse_location(url)
        except Refused:
            raise ProxyError(502, SIGN_IN_FAILED, ["The token service URL is not usable."]) from None
        same_origin = (location.scheme, location.host, location.port) == (service.scheme, service.host, service.port)
        if not same_origin and location.scheme != "https":
            raise ProxyError(502, SIGN_IN_FAILED, ["The token service is on another origin and not on https."])
        return location
