"""Caching of exportImage, identify and service-root answers with Flask-Caching.

Filesystem by default, Redis when a Redis URL is configured. The key is a digest of the method,
the normalised target URL and every parameter the browser sent (query and form, sorted, so their
order does not matter); the operator's token is added only after the key is made, so it is never
part of one. Only answers worth repeating are kept: HTTP 200 images and JSON objects that are not
ArcGIS error envelopes. A cache that fails (Redis down) is skipped, never fatal.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections.abc import Sequence

from flask import Flask
from flask_caching import Cache

from imageservice.proxy.config import ProxyConfig
from imageservice.proxy.forward import Upstream
from imageservice.proxy.targets import Location

log = logging.getLogger(__name__)

CACHED_RESOURCES = ("imageserver", "exportimage", "identify")  # last path segment, lower case
KEY_PREFIX = "resourceproxy:"


def backend_config(config: ProxyConfig) -> dict:
    """Flask-Caching settings for the configured backend (NullCache when caching is off)."""
    common = {"CACHE_DEFAULT_TIMEOUT": config.cache_timeout, "CACHE_KEY_PREFIX": KEY_PREFIX,
              "CACHE_NO_NULL_WARNING": True}
    if config.cache_timeout == 0:
        return {**common, "CACHE_TYPE": "NullCache"}
    if config.redis_url:
        return {**common, "CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": config.redis_url}
    return {**common, "CACHE_TYPE": "FileSystemCache", "CACHE_DIR": config.cache_dir}


def cache_key(method: str, location: Location, params: Sequence[tuple[str, str]]) -> str:
    text = json.dumps([method, location.url, sorted(params)], separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def cacheable(location: Location) -> bool:
    """A service root, exportImage or identify."""
    return location.path.rstrip("/").rsplit("/", 1)[-1].lower() in CACHED_RESOURCES


def storable(upstream: Upstream) -> bool:
    if upstream.status != 200 or upstream.error_code is not None:
        return False
    return upstream.content_type.startswith("image/") or isinstance(upstream.json, dict)


class ResponseCache:
    """The Flask-Caching cache of one installed proxy."""

    def __init__(self, server: Flask, config: ProxyConfig) -> None:
        self.cache = Cache(config=backend_config(config))
        self.cache.init_app(server)

    def get(self, key: str) -> Upstream | None:
        try:
            return self.cache.get(key)
        except Exception as exc:  # any backend failure: answer from upstream instead
            log.warning("proxy cache read failed (%s)", type(exc).__name__)
            return None

    def put(self, key: str, upstream: Upstream) -> None:
        try:
            # A copy without the parsed JSON that Upstream keeps next to the body.
            self.cache.set(key, dataclasses.replace(upstream))
        except Exception as exc:
            log.warning("proxy cache write failed (%s)", type(exc).__name__)
