"""The `<prefix>proxy?<url>` route: allow-list check, cache, upstream exchange, browser answer.

One request goes: parse the target strictly -> find its allow-list entry -> look in the cache
(keyed on what the browser sent) -> otherwise add the operator token, send, retry once with a
fresh token after a 498 -> scrub the token -> cache if worth it -> route f=json hrefs through the
proxy. Refusals and failures answer in the ArcGIS error envelope with a 403/502/504 status.

The proxy's own address, for the hrefs it rewrites, is the configured `public_url` or else the
route's path on the page's origin, never the request's Host header: that is the client's to
choose, and a shared cache in front of the app would hand its hrefs to everyone.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

from flask import Flask, Response, request

from imageservice.proxy.cache import ResponseCache, cache_key, cacheable, storable
from imageservice.proxy.config import ProxyConfig
from imageservice.proxy.deadline import Deadline
from imageservice.proxy.errors import ProxyError, Refused
from imageservice.proxy.forward import Pairs, Upstream, new_session, redact_logs, send
from imageservice.proxy.rewrite import route_hrefs, scrub
from imageservice.proxy.targets import Target, parse_target
from imageservice.proxy.tokens import TokenSource

log = logging.getLogger(__name__)

ENDPOINT = "resourceproxy"
# Where install() keeps the proxy on the Flask server (imageservice.dash looks for it by this name).
EXTENSION = "imageservice.proxy"
FORM_TYPES = ("", "application/x-www-form-urlencoded")
# Proxied pages render as sandboxed documents: an upstream HTML page cannot run script on the
# dashboard's origin.
SAFETY_HEADERS = {"Content-Security-Policy": "sandbox", "X-Content-Type-Options": "nosniff"}


class ResourceProxy:
    """The proxy itself, apart from Flask's request: `answer` is what the route serves, and what
    the app's own server side gets in-process (`imageservice.proxy.inprocess`) instead of calling
    its own /proxy over HTTP, where a sign-in in front of the app would refuse it."""

    def __init__(self, config: ProxyConfig, *, path: str, clock: Callable[[], float] = time.time,
                 cache: ResponseCache) -> None:
        self.config = config
        self.path = path
        self.own_url = config.public_url.rstrip("/") + "/proxy" if config.public_url else path
        self.session = new_session()
        self.sources = {entry: TokenSource(entry, self.session, config, clock=clock) for entry in config.services}
        self.cache = cache

    def answer(self, method: str, raw: str, form: Pairs | None) -> Upstream:
        """The browser's answer for `<proxy>?<raw>`: the upstream's, or the error envelope."""
        raw = unwrapped(raw, self.own_url)
        try:
            target = parse_target(raw)
            entry = self.config.entry_for(target.location, method)
            if entry is None:
                raise Refused("This URL is not one of the services the proxy is configured for.")
            source = self.sources[entry]
            if source.operated:  # the operator's token replaces the browser's
                target = Target(target.location, without_token(target.query))
                form = None if form is None else without_token(form)
            upstream = self.fetch(method, target, form, source)
        except ProxyError as error:
            if isinstance(error, Refused):
                log.warning("refused %s %r: %s", method, raw.partition("?")[0][:200], error.details[0])
            return error_answer(error)
        return route_hrefs(upstream, self.own_url, self.config)

    def fetch(self, method: str, target: Target, form: Pairs | None, source: TokenSource) -> Upstream:
        """From the cache (keyed on what the browser sent) when it may be, else from upstream."""
        cached = cacheable(target.location)
        key = cache_key(method, target.location, [*target.query, *(form or [])])
        upstream = self.cache.get(key) if cached else None
        if upstream is None:
            upstream = self.exchange(method, target, form, source)
            if cached and storable(upstream):
                self.cache.put(key, upstream)
        return upstream

    def exchange(self, method: str, target: Target, form: Pairs | None, source: TokenSource) -> Upstream:
        """Send with the operator token, renewing it once if the server calls it invalid; the
        sign-in, the request and its retry together within max_seconds."""
        config = self.config
        with Deadline(config.max_seconds):
            token = source.current()
            upstream = send(self.session, method, target.location.url, config, **with_token(target.query, form, token))
            if token and upstream.error_code == 498:
                fresh = source.renew(token)
                if fresh:
                    token = fresh
                    upstream = send(self.session, method, target.location.url, config,
                                    **with_token(target.query, form, token))
        return scrub(upstream, token)


def install(server: Flask, config: ProxyConfig, *, prefix: str = "/",
            clock: Callable[[], float] = time.time) -> ResourceProxy:
    """Serve the proxy at `<prefix>proxy` on `server`; `clock` (epoch seconds) judges token expiry.
    The proxy is also kept in `server.extensions[EXTENSION]`, for the app's own server side."""
    redact_logs()
    resource_proxy = ResourceProxy(config, path=prefix.rstrip("/") + "/proxy", clock=clock,
                                   cache=ResponseCache(server, config))

    def proxy() -> Response:
        method = "POST" if request.method == "POST" else "GET"
        try:
            form = form_pairs()
        except ProxyError as error:
            return browser_response(error_answer(error))
        return browser_response(resource_proxy.answer(method, request.query_string.decode("latin-1"), form))

    server.add_url_rule(resource_proxy.path, ENDPOINT, proxy, methods=["GET", "POST"])
    server.extensions[EXTENSION] = resource_proxy
    return resource_proxy


def unwrapped(raw: str, own_url: str) -> str:
    """The target with one leading copy of this proxy's own URL removed.

    esri-leaflet-style clients wrap an f=json href in `proxy?` themselves; an href this proxy
    already routed would otherwise arrive as `proxy?<proxy>?<url>`.
    """
    own = own_url + "?"
    return raw[len(own):] if raw.startswith(own) else raw


def form_pairs() -> list[tuple[str, str]] | None:
    """A POST's form fields (None for GET); other body types are refused, not dropped."""
    if request.method != "POST":
        return None
    if request.mimetype not in FORM_TYPES:
        raise Refused("Only form-encoded (application/x-www-form-urlencoded) POST bodies are forwarded.")
    return list(request.form.items(multi=True))


def without_token(pairs: Pairs) -> list[tuple[str, str]]:
    return [(name, value) for name, value in pairs if name.lower() != "token"]


def with_token(query: Pairs, form: Pairs | None, token: str | None) -> dict:
    """`send` keyword arguments: the token in the form body of a POST, else in the query."""
    if not token:
        return {"query": query, "form": form}
    if form is not None:
        return {"query": query, "form": [*form, ("token", token)]}
    return {"query": [*query, ("token", token)], "form": None}


def browser_response(upstream: Upstream) -> Response:
    response = Response(upstream.body, status=upstream.status, content_type=upstream.content_type)
    response.headers.update({**upstream.headers, **SAFETY_HEADERS})
    return response


def error_answer(error: ProxyError) -> Upstream:
    """A refusal or failure in the ArcGIS error envelope, with the proxy's HTTP status."""
    return Upstream(error.status, "application/json", json.dumps(error.envelope()).encode())
