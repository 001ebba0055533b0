"""Token sign-in to an ArcGIS server: find its token service, ask it for a token, know when to renew.

ArcGIS servers name their generateToken endpoint in `<context>/rest/info` (authInfo.tokenServicesUrl);
a client POSTs a username and password there and gets `{token, expires}`. The URL and parsing steps
are pure functions; the two HTTP calls go through the caller's requests.Session. The dashboard's
sign-in and the resource proxy's operator sign-in both use this module, so the logic exists once.

The password is sent only to a token service on the service's own origin or on https, and never
through a redirect (a 3xx is an error, not followed). A server signing in for its visitors passes
its fetch policy: both URLs are checked against it before anything is sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from imageservice.errors import ImageServiceError, ServiceTimeout, ServiceUnreachable
from imageservice.fetchpolicy import FetchPolicy

# A generated token is replaced this many seconds before it expires, or halfway through its life if
# that is shorter (a server handing out one-minute tokens must not get a sign-in per request).
RENEW_MARGIN = 120.0
TOKEN_MINUTES = 60
DEFAULT_CONTEXT = "/arcgis"
SERVICES = "/rest/services"
Timeout = float | tuple[float, float]


class SignInError(ImageServiceError):
    """Signing in failed. `str()` says why in plain words; `reasons` are the short facts behind it
    (the server's own words when it refused)."""

    def __init__(self, message: str, reasons: list[str]) -> None:
        super().__init__(message)
        self.reasons = reasons


class NoTokenService(SignInError):
    """The server does not offer token sign-in (no usable authInfo.tokenServicesUrl)."""


class SignInRefused(SignInError):
    """The token service answered with an error: a wrong username or password, usually."""


@dataclass(frozen=True)
class Token:
    """A token and when it expires (epoch seconds; None when unknown, e.g. a pasted token)."""

    value: str = field(repr=False)
    expires: float | None = None

    def renew_at(self, now: float) -> float | None:
        """When to ask for the next token (epoch seconds); None when the expiry is unknown."""
        if self.expires is None:
            return None
        return self.expires - min(RENEW_MARGIN, max(0.0, self.expires - now) / 2)


# --- pure functions ------------------------------------------------------------------------------


def server_root(service_url: str) -> str:
    """`https://host/arcgis` for `https://host/arcgis/rest/services/X/ImageServer`: where a
    server's rest/info lives and what one token is good for. `/arcgis` when the path names no
    `/rest/services`."""
    parts = urlsplit(service_url)
    path = parts.path
    index = path.lower().find(SERVICES)
    context = path[:index] if index >= 0 else DEFAULT_CONTEXT
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{context.rstrip('/')}"


def info_url(service_url: str) -> str:
    return server_root(service_url) + "/rest/info"


def token_services_url(info: Any, info_address: str) -> str:
    """authInfo.tokenServicesUrl of a rest/info answer, made absolute; NoTokenService without one."""
    auth = info.get("authInfo") if isinstance(info, dict) else None
    url = auth.get("tokenServicesUrl") if isinstance(auth, dict) else None
    if not isinstance(url, str) or not url.strip():
        raise NoTokenService(
            f"{_host(info_address)} does not offer a token sign-in (its rest/info names no token service).",
            ["The server does not advertise a token service."])
    return urljoin(info_address, url.strip())


def check_token_service(token_url: str, service_url: str) -> None:
    """The password may go only to an http(s) token service on the service's own origin, or to
    one on https."""
    parts = urlsplit(token_url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise SignInError(f"The token service address {token_url!r} is not an http(s) URL.",
                          ["The token service URL is not usable."])
    if parts.scheme.lower() != "https" and _origin(token_url) != _origin(service_url):
        raise SignInError(
            f"The token service {_host(token_url)} is on another server and not on https: "
            "the password is not sent there.",
            ["The token service is on another origin and not on https."])


def token_form(username: str, password: str, *, minutes: int = TOKEN_MINUTES) -> dict[str, str]:
    """generateToken's form. `requestip` binds the token to the address that asked for it, which
    works for the machine that signs in (and for a browser on that same machine)."""
    return {"username": username, "password": password, "client": "requestip",
            "expiration": str(minutes), "f": "json"}


def parse_token(body: Any) -> Token:
    """The Token in a generateToken answer, or the server's refusal as SignInRefused."""
    if not isinstance(body, dict):
        raise SignInError("The token service did not answer with JSON.", ["generateToken gave no token."])
    error = body.get("error")
    if isinstance(error, dict):
        details = error.get("details") or []
        details = [details] if isinstance(details, str) else details
        reasons = [str(r) for r in [error.get("message"), *details] if r]
        reasons = reasons or [f"Error code {error.get('code')}."]
        raise SignInRefused("The server refused the sign-in: " + " ".join(reasons), reasons)
    token, expires = body.get("token"), body.get("expires")
    if not isinstance(token, str) or not token:
        raise SignInError("The token service answered without a token.", ["generateToken gave no token."])
    known = isinstance(expires, (int, float)) and not isinstance(expires, bool)
    return Token(token, expires / 1000.0 if known else None)


# --- the HTTP calls ------------------------------------------------------------------------------


def discover_token_service(session: requests.Session, service_url: str, *, timeout: Timeout = 20.0,
                           policy: FetchPolicy | None = None) -> str:
    """The token service URL a service's server advertises, checked as safe for a password."""
    address = info_url(service_url)
    response = _send(session, "GET", address, timeout, policy, params={"f": "json"})
    if response.status_code >= 400:
        raise NoTokenService(
            f"{_host(address)} does not offer a token sign-in (rest/info answered HTTP {response.status_code}).",
            ["The server does not advertise a token service."])
    token_url = token_services_url(_json(response), address)
    check_token_service(token_url, service_url)
    return token_url


def generate_token(session: requests.Session, token_url: str, username: str, password: str, *,
                   minutes: int = TOKEN_MINUTES, timeout: Timeout = 20.0, policy: FetchPolicy | None = None) -> Token:
    """POST the credentials to a token service (already checked by `check_token_service`)."""
    form = token_form(username, password, minutes=minutes)
    response = _send(session, "POST", token_url, timeout, policy, data=form)
    return parse_token(_json(response))


def sign_in(session: requests.Session, service_url: str, username: str, password: str, *,
            minutes: int = TOKEN_MINUTES, timeout: Timeout = 20.0, policy: FetchPolicy | None = None) -> Token:
    """A token for the server of `service_url`, through the token service its rest/info names."""
    token_url = discover_token_service(session, service_url, timeout=timeout, policy=policy)
    return generate_token(session, token_url, username, password, minutes=minutes, timeout=timeout, policy=policy)


def _send(session: requests.Session, method: str, url: str, timeout: Timeout, policy: FetchPolicy | None,
          **kwargs: Any) -> requests.Response:
    """One request without redirects, checked against `policy` first; only transport failures
    are handled here."""
    if policy is not None:
        policy.check(url)
    try:
        response = session.request(method, url, timeout=timeout, allow_redirects=False, **kwargs)
    except requests.Timeout:
        raise ServiceTimeout(f"{_host(url)} did not answer in time to sign in.") from None
    except requests.RequestException:
        raise ServiceUnreachable(f"Could not connect to {_host(url)} to sign in.") from None
    if response.is_redirect:
        where = response.headers.get("Location", "elsewhere")
        raise SignInError(f"{_host(url)} answered the sign-in with a redirect to {where}, which is not "
                          "followed: use the service's address as the server gives it.",
                          ["The server answered with a redirect."])
    return response


def _json(response: requests.Response) -> Any:
    try:
        return json.loads(response.content)
    except ValueError:
        raise SignInError(f"{_host(response.url)} did not answer the sign-in with JSON: is it an ArcGIS server?",
                          ["The answer is not JSON."]) from None


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or ""), parts.port or {"http": 80, "https": 443}.get(scheme)


def _host(url: str) -> str:
    return urlsplit(url).netloc or url
