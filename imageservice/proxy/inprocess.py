"""The app's own resource proxy as a requests transport, for the app's server side.

Callbacks open proxied services through `<app>/proxy` like the browser does, so the operator's
token is added in one place. Calling that route over HTTP from inside the app would go through
the app's sign-in (and another worker); this adapter hands such requests to the proxy in-process
instead: the same allow-list, token, cache and scrubbing, no network and no sign-in to pass.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

import requests
from requests.adapters import BaseAdapter

from imageservice.proxy.routes import ResourceProxy


class InProcessAdapter(BaseAdapter):
    """Answers `<proxy URL>?<target>` requests with `ResourceProxy.answer`; mount it on the proxy URL."""

    def __init__(self, proxy: ResourceProxy) -> None:
        super().__init__()
        self.proxy = proxy

    def send(self, request: requests.PreparedRequest, **_: object) -> requests.Response:
        method = "POST" if request.method == "POST" else "GET"
        raw = request.url.split("?", 1)[1] if "?" in request.url else ""
        answer = self.proxy.answer(method, raw, form_of(request) if method == "POST" else None)
        response = requests.Response()
        response.status_code = answer.status
        response.headers.update({**answer.headers, "Content-Type": answer.content_type})
        response._content = answer.body
        response.url = request.url
        response.request = request
        response.encoding = requests.utils.get_encoding_from_headers(response.headers)
        return response

    def close(self) -> None:
        """Nothing to close: no connection is ever opened here."""


def form_of(request: requests.PreparedRequest) -> list[tuple[str, str]]:
    """A form-encoded request body as pairs (what the route reads from Flask's request.form)."""
    body = request.body or ""
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    return parse_qsl(text, keep_blank_values=True)
