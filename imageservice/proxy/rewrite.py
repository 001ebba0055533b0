"""Making an upstream answer fit for the browser: no operator token, hrefs through the proxy.

ArcGIS HTML pages and some error texts repeat the request's token, and a server may echo it in
a header (ETag, Content-Disposition) or a binary body (an image's metadata), so every body and
every header passed on is scrubbed of it. A binary body is masked byte for byte rather than
refused: the image still works, and the token is gone all the same. An exportImage `f=json` answer points its `href` at the server's output folder;
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
MASK = "***"


def scrub(upstream: Upstream, token: str | None) -> Upstream:
    """`upstream` with every copy of `token` (plain or URL-encoded) masked in its body, its
    Content-Type and the other headers passed on."""
    if not token:
        return upstream
    binary = not any(marker in upstream.content_type.lower() for marker in TEXT_MARKERS)
    # Latin-1 maps each byte to one character and back, so a binary body keeps its bytes.
    body = masked(upstream.body.decode("latin-1"), token, keep_length=binary).encode("latin-1")
    content_type = masked(upstream.content_type, token)
    headers = {name: masked(value, token) for name, value in upstream.headers.items()}
    if (body, content_type, headers) == (upstream.body, upstream.content_type, upstream.headers):
        return upstream
    return dataclasses.replace(upstream, body=body, content_type=content_type, headers=headers)


def masked(text: str, token: str, *, keep_length: bool = False) -> str:
    """`text` with `token`, plain or URL-encoded, replaced by `***`; or by as many `*` as it has
    characters with `keep_length`, so offsets inside a binary file (a TIFF's tags) still hold."""
    for form in {token, quote_plus(token)}:
        text = text.replace(form, "*" * len(form) if keep_length else MASK)
    return text


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
