"""Making an upstream answer fit for the browser: no operator token, hrefs through the proxy.

ArcGIS HTML pages and some error texts repeat the request's token, so every textual body is
scrubbed of it. An exportImage `f=json` answer points its `href` at the server's output folder;
when that folder is allowed, the href is rewritten to `<proxy>?<href>` so the image is fetched
through the proxy too (where the token is added again server-side).
"""

from __future__ import annotations

import dataclasses
import json
from urllib.parse import quote_plus, urlencode

from imageservice.proxy.config import ProxyConfig
from imageservice.proxy.errors import Refused
from imageservice.proxy.forward import Upstream
from imageservice.proxy.targets import parse_target

TEXT_MARKERS = ("text/", "json", "javascript", "xml", "html")
MASK = b"***"


def scrub(upstream: Upstream, token: str | None) -> Upstream:
    """`upstream` with every copy of `token` (plain or URL-encoded) in a textual body masked."""
    if not token or not any(marker in upstream.content_type.lower() for marker in TEXT_MARKERS):
        return upstream
    body = upstream.body
    for form in {token, quote_plus(token)}:
        body = body.replace(form.encode("utf-8"), MASK)
    return upstream if body == upstream.body else dataclasses.replace(upstream, body=body)


def proxied_href(href: str, proxy_url: str, config: ProxyConfig) -> str:
    """`<proxy_url>?<href>` (without any token) when the proxy would forward href, else href."""
    try:
        target = parse_target(href)
    except Refused:
        return href
    if config.entry_for(target.location, "GET") is None:
        return href
    query = [(name, value) for name, value in target.query if name.lower() != "token"]
    return f"{proxy_url}?{target.location.url}" + (f"?{urlencode(query)}" if query else "")


def route_hrefs(upstream: Upstream, proxy_url: str, config: ProxyConfig) -> Upstream:
    """`upstream` with a top-level JSON `href` (exportImage f=json) sent through the proxy."""
    data = upstream.json
    href = data.get("href") if isinstance(data, dict) else None
    if not isinstance(href, str):
        return upstream
    routed = proxied_href(href, proxy_url, config)
    if routed == href:
        return upstream
    return dataclasses.replace(upstream, body=json.dumps({**data, "href": routed}).encode("utf-8"))
