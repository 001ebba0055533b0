"""Sign-in to the dashboard with dash-auth: basic auth for a small team, or OpenID Connect.

The proxy adds the operator's credentials to whatever request reaches it, so a dashboard that
others can reach must know who is asking. The configuration is a TOML or JSON file, like the
proxy's: unknown keys are errors, and secrets (password hashes, the client secret, the session
key) stay out of `repr` and, but for the hashes, out of the file. See docs/hosting.md.

`python signin.py` prints a password hash for the `users` table.
"""

from __future__ import annotations

import getpass
import hashlib
import ipaddress
import json
import os
import re
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dash import Dash
from werkzeug.security import check_password_hash, generate_password_hash

from imageservice.proxy import ProxyConfig

CONFIG_ENV = "IMAGESERVICE_AUTH_CONFIG"
USERS_ENV = "IMAGESERVICE_AUTH_USERS"
CLIENT_SECRET_ENV = "IMAGESERVICE_OIDC_CLIENT_SECRET"
SECRET_KEY_ENV = "IMAGESERVICE_SECRET_KEY"
PUBLIC_ENV = "IMAGESERVICE_PUBLIC"
HASH_METHODS = ("scrypt", "pbkdf2")  # what werkzeug.security writes and checks


def password_hash(name: str, value: object) -> str:
    """A stored hash as werkzeug writes it (`method$salt$hash`); a plain password is an error, so
    a cleartext password in the file fails at start-up instead of never matching."""
    if not isinstance(value, str) or value.count("$") != 2 or value.split(":")[0] not in HASH_METHODS:
        raise ValueError(f"user {name!r}: give the password's hash (`python signin.py` prints one), "
                         "not the password")
    return value


def users_from_text(text: str) -> dict[str, str]:
    """`name:hash` pairs separated by spaces, commas or new lines (IMAGESERVICE_AUTH_USERS)."""
    users = {}
    for pair in re.split(r"[\s,]+", text.strip()):
        if pair:
            name, sep, value = pair.partition(":")
            if not sep or not name:
                raise ValueError(f"{USERS_ENV}: each user is name:hash, not {pair[:20]!r}...")
            users[name] = password_hash(name, value)
    return users


@dataclass
class OidcSettings:
    """One identity provider; the client secret comes from the environment, never the file."""

    server_metadata_url: str
    client_id: str
    client_secret: str = field(repr=False)
    name: str = "idp"  # in the redirect URI to register: <dashboard>/oidc/<name>/callback
    scope: str = "openid email"
    https: bool = False  # behind a TLS-terminating proxy: https redirect URI, Secure session cookie

    @classmethod
    def from_mapping(cls, data: object, environ: Mapping[str, str]) -> OidcSettings:
        known = {"server_metadata_url", "client_id", "name", "scope", "https"}
        if not isinstance(data, Mapping) or set(data) - known:
            raise ValueError(f"[oidc] may have only {sorted(known)}")
        missing = sorted({"server_metadata_url", "client_id"} - set(data))
        if missing:
            raise ValueError(f"[oidc] needs {' and '.join(missing)}")
        if not all(isinstance(data[key], str) for key in set(data) - {"https"}) \
                or not isinstance(data.get("https", False), bool):
            raise ValueError("[oidc] settings are text, but `https`, which is true or false")
        secret = environ.get(CLIENT_SECRET_ENV)
        if not secret:
            raise ValueError(f"{CLIENT_SECRET_ENV} is not set: the identity provider's client secret for "
                             "this dashboard comes from the environment")
        return cls(client_secret=secret, **data)


@dataclass
class AuthConfig:
    """Who may use the dashboard: `users` (basic auth, name -> password hash) or `oidc`."""

    users: dict[str, str] = field(default_factory=dict, repr=False)
    oidc: OidcSettings | None = None
    secret_key: str | None = field(default=None, repr=False)  # signs the session cookie
    # Digests of name, hash and password that matched: the browser sends basic-auth credentials
    # with every request, and a password hash is meant to be slow.
    _verified: set[bytes] = field(default_factory=set, init=False, repr=False)

    def __post_init__(self) -> None:
        if bool(self.users) == bool(self.oidc):
            raise ValueError("sign-in needs either users (basic auth) or [oidc], and not both")
        if self.oidc and not self.secret_key:
            raise ValueError(f"{SECRET_KEY_ENV} is not set: OpenID Connect keeps the sign-in in a session "
                             "cookie signed with it, the same in every process")

    @classmethod
    def from_mapping(cls, data: object, environ: Mapping[str, str] = os.environ) -> AuthConfig:
        """From parsed TOML/JSON: a `users` table, or an `oidc` table; secrets from `environ`."""
        if not isinstance(data, Mapping):
            raise ValueError("the sign-in configuration must be a JSON object or TOML table")
        unknown = sorted(set(data) - {"users", "oidc"})
        if unknown:
            raise ValueError(f"unknown sign-in settings: {', '.join(unknown)}")
        users = data.get("users", {})
        if not isinstance(users, Mapping):
            raise ValueError("users is a table of name = password hash")
        users = {name: password_hash(name, value) for name, value in users.items()}
        users |= users_from_text(environ.get(USERS_ENV, ""))
        oidc = None if "oidc" not in data else OidcSettings.from_mapping(data["oidc"], environ)
        return cls(users=users, oidc=oidc, secret_key=environ.get(SECRET_KEY_ENV) or None)

    @classmethod
    def from_file(cls, path: str | os.PathLike, environ: Mapping[str, str] = os.environ) -> AuthConfig:
        """A `.toml` file, or JSON for any other name."""
        text = Path(path).read_text(encoding="utf-8")
        data = tomllib.loads(text) if str(path).lower().endswith(".toml") else json.loads(text)
        return cls.from_mapping(data, environ)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> AuthConfig | None:
        """The file IMAGESERVICE_AUTH_CONFIG names, or only IMAGESERVICE_AUTH_USERS; None when
        neither is set (no sign-in)."""
        if environ.get(CONFIG_ENV):
            return cls.from_file(environ[CONFIG_ENV], environ)
        if environ.get(USERS_ENV, "").strip():
            return cls.from_mapping({}, environ)
        return None

    def check(self, username: str, password: str) -> bool:
        """dash-auth's basic-auth check against the stored hash, remembered once it matched."""
        stored = self.users.get(username)
        if stored is None:
            return False
        digest = hashlib.sha256("\0".join((username, stored, password)).encode()).digest()
        if digest in self._verified:
            return True
        if not check_password_hash(stored, password):
            return False
        self._verified.add(digest)
        return True


def protect(app: Dash, config: AuthConfig, open_routes: list[str]) -> None:
    """Ask for sign-in on every route of the app's server but `open_routes` (Flask route syntax).

    With no open route nothing is public; with some, dash-auth also leaves Dash's own scripts,
    layout and callback list public (never the page, a callback's answer or the proxy)."""
    from dash_auth import BasicAuth, OIDCAuth

    public = open_routes or None
    key = config.secret_key or secrets.token_hex(32)  # basic auth keeps only a cache in the session
    if config.oidc is None:
        BasicAuth(app, auth_func=config.check, public_routes=public, secret_key=key)
        return
    oidc = config.oidc
    auth = OIDCAuth(app, secret_key=key, force_https_callback=oidc.https, secure_session=oidc.https,
                    public_routes=public)
    auth.register_provider(oidc.name, client_id=oidc.client_id, client_secret=oidc.client_secret,
                           server_metadata_url=oidc.server_metadata_url, client_kwargs={"scope": oidc.scope})


def is_loopback(host: str) -> bool:
    """Whether listening on `host` keeps the dashboard on this machine (127.0.0.0/8, ::1, localhost)."""
    name = host.strip("[]")
    if name.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def exposure_problem(host: str, proxy: ProxyConfig | None, auth: AuthConfig | None, public: bool) -> str | None:
    """Why the dashboard must not start as asked, or None: listening beyond this machine while
    the proxy holds operator credentials hands them to anyone who reaches it, unless people sign
    in or the operator says the dashboard is meant to be public."""
    operated = [entry.url for entry in (proxy.services if proxy else []) if entry.token or entry.username]
    if not operated or auth is not None or public or is_loopback(host):
        return None
    return (f"Refusing to start: the dashboard would listen on {host} without sign-in, and its proxy adds the "
            f"operator's credentials for {', '.join(operated)} to the requests of anyone who reaches it. "
            f"Configure sign-in (--auth-config FILE or {CONFIG_ENV}, see docs/hosting.md), listen on 127.0.0.1, "
            f"or pass --public ({PUBLIC_ENV}=1) if everyone who can reach it may use those credentials.")


def main() -> None:
    """Prompt for a password twice and print its hash for the `users` table."""
    password = getpass.getpass("Password: ")
    if not password or password != getpass.getpass("Again: "):
        raise SystemExit("The passwords were empty or differed; nothing printed.")
    print(generate_password_hash(password))


if __name__ == "__main__":
    main()
