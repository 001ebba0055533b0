"""One upstream HTTP exchange under the proxy's rules: no redirects, a size cap, time limits.

The body is read in chunks and the exchange is abandoned as soon as it passes `max_bytes`, so a
huge or endless answer costs at most that much; the caller's `Deadline` cuts it off at
`max_seconds`, however slowly the bytes arrive. Only the URL without its query is ever logged:
the query may hold the operator's token, and so may the text of a `requests` exception, which is
therefore never logged or shown. urllib3's debug log and werkzeug's access log print whole URLs,
so `redact_logs()` masks secrets in both.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from http.cookiejar import DefaultCookiePolicy
from dataclasses import dataclass, field
from functools import cached_property

import requests

from imageservice.proxy.config import ProxyConfig
from imageservice.proxy.deadline import DeadlineAdapter
from imageservice.proxy.errors import TOO_SLOW, ProxyError, Refused

log = logging.getLogger(__name__)

CHUNK = 64 * 1024
# End-to-end headers worth keeping; hop-by-hop ones, cookies, CORS and lengths (the body may have
# been decoded) are dropped by not being listed.
PASSED_HEADERS = ("Cache-Control", "Content-Disposition", "ETag", "Expires", "Last-Modified")
Pairs = Sequence[tuple[str, str]]
SECRET_PARAM = re.compile(r"\b(token|password)=[^&\s\"']*", re.IGNORECASE)
URL_LOGGERS = ("urllib3.connectionpool", "werkzeug")


class RedactSecrets(logging.Filter):
    """Masks `token=` and `password=` values in a log record's final text."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = SECRET_PARAM.sub(r"\1=***", record.getMessage())
        record.args = None
        return True


def redact_logs() -> None:
    """Put RedactSecrets on the loggers that print request URLs (once each)."""
    for name in URL_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())


@dataclass
class Upstream:
    """What the server answered, reduced to what the browser may see."""

    status: int
    content_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @cached_property
    def json(self) -> object:
        """The body as JSON when it is a JSON object, else None (images, HTML, JSONP)."""
        if not self.body.lstrip()[:1] == b"{":
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def error_code(self) -> int | None:
        """The `code` of an ArcGIS error envelope (servers send them with HTTP 200), else None."""
        error = self.json.get("error") if isinstance(self.json, dict) else None
        return error.get("code") if isinstance(error, dict) else None


def new_session() -> requests.Session:
    """The proxy's one Session: connection reuse, but no cookie jar, because cookies one
    server set for one browser's request must not ride along on another browser's; and
    connection pools that honour a `Deadline`."""
    session = requests.Session()
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    for scheme in ("http://", "https://"):
        session.mount(scheme, DeadlineAdapter())
    return session


def send(session: requests.Session, method: str, url: str, config: ProxyConfig,
         *, query: Pairs = (), form: Pairs | None = None) -> Upstream:
    """Send one request to `url` (no query: that goes in `query`) and read the capped answer;
    inside a `Deadline`, which bounds the time it takes."""
    too_large = ProxyError(502, "The server's answer is larger than the proxy allows.",
                           [f"The limit is {config.max_bytes} bytes."])
    try:
        with session.request(method, url, params=list(query), data=list(form) if form is not None else None,
                             stream=True, allow_redirects=False,
                             timeout=(config.connect_timeout, config.read_timeout)) as response:
            if 300 <= response.status_code < 400:
                log.warning("refused a redirect from %s", url)
                raise Refused("The server answered with a redirect, which the proxy does not follow.")
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > config.max_bytes:
                raise too_large
            body = bytearray()
            for chunk in response.iter_content(CHUNK):
                body += chunk
                if len(body) > config.max_bytes:
                    raise too_large
            headers = {name: response.headers[name] for name in PASSED_HEADERS if name in response.headers}
            content_type = response.headers.get("Content-Type", "application/octet-stream")
            return Upstream(response.status_code, content_type, bytes(body), headers)
    except requests.Timeout:
        log.warning("timed out: %s %s", method, url)
        raise ProxyError(504, TOO_SLOW) from None
    except requests.RequestException as exc:
        log.warning("failed: %s %s (%s)", method, url, type(exc).__name__)
        raise ProxyError(502, "The server could not be reached.") from None
