"""What the proxy may forward to and its limits, from a JSON or TOML file (see docs/proxy.md).

Unknown keys are errors, so a misspelt `pasword` fails at start-up instead of silently sending
requests without credentials. Secrets are kept out of `repr`, so logging a config leaks nothing.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from imageservice.proxy.errors import Refused
from imageservice.proxy.targets import Location, parse_location

CONFIG_ENV = "IMAGESERVICE_PROXY_CONFIG"
REDIS_ENV = "REDIS_URL"
SERVICES_PATH = re.compile(r"^(.*?)/rest/services(?:/|$)")
OUTPUT_DIRECTORY = "/rest/directories/arcgisoutput"


def services_context(path: str) -> str | None:
    """`/arcgis` for `/arcgis/rest/services/...`; None for a path outside an ArcGIS services tree."""
    match = SERVICES_PATH.match(path)
    return None if match is None else match[1]


def checked_location(what: str, url: str) -> Location:
    """`url` read by the proxy's own rules for targets; a ValueError at start-up if it breaks one."""
    try:
        return parse_location(url)
    except Refused as refused:
        raise ValueError(f"{what} {url!r}: {refused.details[0]}") from None


def check_public_url(url: object) -> None:
    """An absolute http(s) address by the rules for targets, without query or fragment."""
    if not isinstance(url, str):
        raise ValueError(f"proxy setting public_url must be an http(s) URL, not {url!r}")
    checked_location("public_url", url)
    if "?" in url or "#" in url:
        raise ValueError(f"public_url {url!r}: the app's address takes no query or fragment")


@dataclass(eq=False)  # compared and hashed by identity: each entry has its own token source
class ServiceEntry:
    """One allowed service URL prefix and the operator's credentials for it, if any."""

    url: str
    token: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    location: Location = field(init=False, repr=False)
    # Where the server keeps exportImage f=json outputs (`href`s); None for non-ArcGIS paths.
    output: Location | None = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.location = checked_location("service URL", self.url.rstrip("/"))
        if self.token and self.username:
            raise ValueError(f"service {self.url!r}: give either a token or a username, not both")
        if bool(self.username) != bool(self.password):
            raise ValueError(f"service {self.url!r}: a username needs a password and the other way round")
        context = services_context(self.location.path)
        self.output = None if context is None else Location(
            self.location.scheme, self.location.host, self.location.port, context + OUTPUT_DIRECTORY)


@dataclass
class ProxyConfig:
    """The allow-list and the limits; every field but `services` has a working default."""

    services: list[ServiceEntry]
    max_bytes: int = 50 * 2**20
    connect_timeout: float = 5.0
    read_timeout: float = 60.0
    max_seconds: float = 120.0  # the whole upstream exchange, however slowly bytes trickle in
    cache_dir: str = ".cache/resourceproxy"
    cache_timeout: int = 300  # seconds; 0 turns the cache off
    redis_url: str | None = field(default=None, repr=False)  # may hold a password
    public_url: str | None = None  # the app's address as browsers reach it (where `prefix` is)

    def __post_init__(self) -> None:
        if self.public_url is not None:
            check_public_url(self.public_url)
        for name in ("max_bytes", "connect_timeout", "read_timeout", "max_seconds"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f"proxy setting {name} must be a positive number, not {value!r}")
        if isinstance(self.cache_timeout, bool) or not isinstance(self.cache_timeout, int) or self.cache_timeout < 0:
            raise ValueError("proxy setting cache_timeout must be a whole number of seconds >= 0, "
                             f"not {self.cache_timeout!r}")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> ProxyConfig:
        """From parsed JSON/TOML: `services` is a list of tables with `url` and optional credentials."""
        if not isinstance(data, Mapping):
            raise ValueError("the proxy configuration must be a JSON object or TOML table")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown proxy settings: {', '.join(unknown)}")
        entry_keys = {"url", "token", "username", "password"}
        services = []
        for entry in data.get("services") or []:
            if (not isinstance(entry, Mapping) or "url" not in entry or set(entry) - entry_keys
                    or not all(isinstance(value, str) for value in entry.values())):
                raise ValueError(f"each service needs a 'url' and may have only {sorted(entry_keys)}, as text")
            services.append(ServiceEntry(**entry))
        return cls(**{**data, "services": services})

    @classmethod
    def from_file(cls, path: str | os.PathLike) -> ProxyConfig:
        """A `.toml` file, or JSON for any other name."""
        text = Path(path).read_text(encoding="utf-8")
        data = tomllib.loads(text) if str(path).lower().endswith(".toml") else json.loads(text)
        return cls.from_mapping(data)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> ProxyConfig | None:
        """The file named by IMAGESERVICE_PROXY_CONFIG (None when unset: no proxy), with
        REDIS_URL, when set, choosing the Redis cache."""
        path = environ.get(CONFIG_ENV)
        if not path:
            return None
        config = cls.from_file(path)
        if environ.get(REDIS_ENV):
            config.redis_url = environ[REDIS_ENV]
        return config

    def entry_for(self, location: Location, method: str) -> ServiceEntry | None:
        """The most specific allowed entry covering `location`; output files only for GET."""
        matches = [entry for entry in self.services
                   if location.within(entry.location)
                   or (method == "GET" and entry.output is not None and location.within(entry.output))]
        return max(matches, key=lambda entry: len(entry.location.path), default=None)
