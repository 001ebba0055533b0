"""HTTP client for one ArcGIS ImageServer: esri-leaflet's Service (token, proxy, events, auth queue).

Requests are built by `urls.prepare` (one serializer for everything); this module only sends
them and turns answers into dicts, bytes or exceptions. Transport failures are mapped inside
the transport `except`; everything the server said is judged afterwards, outside it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests

from imageservice import urls
from imageservice.errors import (
    ArcGISError,
    AuthenticationRequired,
    ImageServiceError,
    InvalidResponse,
    ServiceTimeout,
    ServiceUnreachable,
)
from imageservice.fetchpolicy import FetchPolicy
from imageservice.params import normalize_url
from imageservice.wire import serialize_params

EventHandler = Callable[[dict], None]
AUTH_CODES = (498, 499)
IMAGE_MAGIC = (
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",  # JPEG
    b"II*\x00",  # TIFF, little-endian
    b"MM\x00*",  # TIFF, big-endian
    b"II+\x00",  # BigTIFF
    b"MM\x00+",
    b"GIF87a",
    b"GIF89a",
    b"BM",
)
# Raw pixel formats have no magic number: only an error body can be told apart from them.
RAW_FORMATS = ("bip", "bsq", "lerc")
# How old a root JSON `metadata(max_age=...)` may reuse when an app reads it in several places at
# once (opening a service: its layer, attribution, tools): seconds.
METADATA_MAX_AGE = 60.0
METADATA_CACHE_SIZE = 256
# Root JSONs by (base_url, token, proxy, request params): (time fetched, answer). Process-wide, so
# that every callback of a page opening a service shares one fetch.
_metadata_cache: dict[tuple, tuple[float, dict]] = {}
_metadata_lock = threading.Lock()


@dataclass(frozen=True)
class ExportedImage:
    """An f=json exportImage answer. The server fits the extent to the size's aspect ratio, so
    the extent here, not the bbox asked for, is where the picture goes."""

    href: str
    width: int
    height: int
    extent: tuple[float, float, float, float]  # xmin, ymin, xmax, ymax in spatial_reference
    spatial_reference: dict
    scale: float

    @property
    def wkid(self) -> int | None:
        """The current EPSG code: latestWkid (3857) over the Esri one (102100) when both are given."""
        return self.spatial_reference.get("latestWkid") or self.spatial_reference.get("wkid")

    @classmethod
    def from_json(cls, response: Mapping[str, Any]) -> ExportedImage:
        try:
            extent = response["extent"]
            return cls(
                href=str(response["href"]),
                width=int(response["width"]),
                height=int(response["height"]),
                extent=tuple(float(extent[key]) for key in ("xmin", "ymin", "xmax", "ymax")),
                spatial_reference=dict(extent.get("spatialReference") or {}),
                scale=float(response.get("scale") or 0),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise InvalidResponse(f"exportImage f=json response lacks a usable {error}: {str(response)[:200]}") from None


@dataclass(frozen=True)
class _Call:
    """One service request, kept so it can be replayed after authenticate()."""

    path: str
    params: Mapping[str, Any]
    method: str  # esri-leaflet's service method: "get", "post" or "request" (GET or POST by length)
    parse: Callable[[requests.Response, str], Any]


class ImageServiceClient:
    """A requests.Session bound to one ImageServer root, with token, proxy and timeout."""

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        proxy: str | None = None,
        timeout: float = 30.0,
        session: requests.Session | None = None,
        request_params: Mapping[str, str] | None = None,
        on_event: EventHandler | None = None,
        policy: FetchPolicy | None = None,
        auth: requests.auth.AuthBase | tuple[str, str] | None = None,
        cookies: Mapping[str, str] | None = None,
    ) -> None:
        """`url` may carry a query string (?foo=bar): it rides along on every request, like
        esri-leaflet's requestParams. A token found there becomes the client's token, so that
        authenticate() can replace it. With a `policy` (a server fetching URLs its visitors
        typed), every request's URL, the proxy's when there is one, is checked before it is sent
        and redirects are not followed. `auth` (any requests auth: a (user, password) pair,
        HTTPDigestAuth, a Kerberos/NTLM AuthBase) and `cookies` are esri-leaflet's
        withCredentials for Python: servers behind web-tier authentication or a session cookie."""
        self.base_url, url_params = normalize_url(url)
        self.request_params = {**url_params, **(request_params or {})}
        url_token = self.request_params.pop("token", None)
        self.token = token or url_token
        self.proxy = proxy
        self.timeout = timeout
        self.session = session or requests.Session()
        if auth is not None:
            self.session.auth = auth
        self.session.cookies.update(cookies or {})
        self.on_event = on_event
        self.policy = policy
        self._pending: list[_Call] = []

    # --- public operations --------------------------------------------------------------------

    def request(self, path: str, params: Mapping[str, Any]) -> dict:
        """Any JSON operation or resource under the service root (e.g. "computeHistograms"),
        sent as GET, or as POST when the URL would pass 2000 characters."""
        return self._run(_Call(path, params, "request", _parse_json))

    def get(self, path: str, params: Mapping[str, Any]) -> dict:
        """Like request(), always as GET (esri-leaflet's service.get)."""
        return self._run(_Call(path, params, "get", _parse_json))

    def post(self, path: str, params: Mapping[str, Any]) -> dict:
        """Like request(), always as POST (esri-leaflet's service.post)."""
        return self._run(_Call(path, params, "post", _parse_json))

    def metadata(self, max_age: float = 0.0) -> dict:
        """The service root JSON (GET <base_url>?f=json). With `max_age` (seconds), an answer this
        client's URL, token and proxy got at most that long ago is reused without a request."""
        key = (self.base_url, self.token, self.proxy, tuple(sorted(self.request_params.items())))
        if max_age > 0:
            with _metadata_lock:
                fetched, root = _metadata_cache.get(key, (0.0, None))
            if root is not None and time.monotonic() - fetched <= max_age:
                return root
        root = self.get("", {})
        with _metadata_lock:
            if len(_metadata_cache) >= METADATA_CACHE_SIZE:
                _metadata_cache.clear()  # a bound, not an LRU: refetching a root now and then is cheap
            _metadata_cache[key] = (time.monotonic(), root)
        return root

    def identify(self, params: Mapping[str, Any]) -> dict:
        return self.request("identify", params)

    def query(self, params: Mapping[str, Any]) -> dict:
        return self.request("query", params)

    def export_image(self, params: Mapping[str, Any]) -> dict | bytes:
        """f=json (the default) gives the JSON with `href`; f=image gives the image bytes,
        checked by their magic number because servers send error JSON with image types."""
        if str(params.get("f", "json")) != "image":
            return self.request("exportImage", params)
        raw = str(params.get("format", "")).lower() in RAW_FORMATS
        return self._run(_Call("exportImage", params, "request", _image_parser(raw)))

    def exported_image(self, params: Mapping[str, Any]) -> ExportedImage:
        """exportImage f=json, typed: href with the size, extent and spatial reference it covers."""
        return ExportedImage.from_json(self.export_image({**params, "f": "json"}))

    def authenticate(self, token: str) -> list:
        """Use `token` from now on and replay the requests that failed with 498/499, in order.

        Returns one entry per replayed request: its result, or the ImageServiceError it raised.
        A replay that fails with 498/499 again stays pending for the next authenticate().
        """
        self.token = token
        pending, self._pending = self._pending, []
        results: list = []
        for call in pending:
            try:
                results.append(self._run(call))
            except ImageServiceError as error:
                results.append(error)
        return results

    # --- machinery ----------------------------------------------------------------------------

    def _run(self, call: _Call) -> Any:
        """Send one call with esri-leaflet's events around it."""
        url = self.base_url + call.path
        prepared = urls.prepare(
            self.base_url,
            call.path,
            call.params,
            token=self.token,
            proxy=self.proxy,
            request_params=self.request_params,
            method=call.method,
        )
        # esri-leaflet fires requeststart before it adds the token, request params and f=json
        self._emit("requeststart", {"url": url, "params": serialize_params(call.params), "method": call.method})
        event = {"url": url, "params": _sent_params(prepared), "method": call.method}
        try:
            result = call.parse(self._send(prepared), url)
        except ImageServiceError as error:
            self._failed(call, event, error)
            raise
        self._emit("requestsuccess", {**event, "response": result})
        self._emit("requestend", event)
        return result

    def _send(self, prepared: urls.PreparedRequest) -> requests.Response:
        """The transport alone: the policy's check and connection problems are handled here."""
        host = urlsplit(prepared.url).netloc
        if self.policy is not None:
            self.policy.check(prepared.url)
        try:
            response = self.session.request(prepared.method, prepared.url, data=prepared.data,
                                            timeout=self.timeout, allow_redirects=self.policy is None)
        except requests.Timeout as error:
            raise ServiceTimeout(f"{host} did not answer within {self.timeout:g} s") from error
        except requests.RequestException as error:
            raise ServiceUnreachable(f"Could not connect to {host}: {_root_cause(error)}") from error
        if response.is_redirect:
            where = response.headers.get("Location", "elsewhere")
            raise InvalidResponse(f"{host} answered with a redirect to {where}, which is not followed here: "
                                  "open the service at the address the server gives")
        return response

    def _failed(self, call: _Call, event: dict, error: ImageServiceError) -> None:
        """esri-leaflet's order: authenticationrequired, requesterror, requestend."""
        if isinstance(error, AuthenticationRequired):
            # The replay must use the new token, not one that was baked into the params.
            self._pending.append(_Call(call.path, _without_token(call.params), call.method, call.parse))
            self._emit("authenticationrequired", {**event, "authenticate": self.authenticate})
        message = error.message if isinstance(error, ArcGISError) else str(error)
        self._emit("requesterror", {**event, "code": error.code, "message": message})
        self._emit("requestend", event)

    def _emit(self, event_type: str, payload: dict) -> None:
        if self.on_event is not None:
            self.on_event({"type": event_type, **payload})


# --- response parsing (outside any transport except) ------------------------------------------


def _parse_json(response: requests.Response, url: str) -> dict:
    body = _load_json(response.content)
    _raise_for_error(body, response, url)
    if not isinstance(body, dict):
        kind = "not JSON" if body is None else f"JSON {type(body).__name__}, not an object"
        raise InvalidResponse(f"{url} is not an ArcGIS ImageServer: the response is {kind} ({_describe(response)})")
    return body


def _image_parser(raw: bool) -> Callable[[requests.Response, str], bytes]:
    def parse(response: requests.Response, url: str) -> bytes:
        content = response.content
        if response.status_code < 400 and content.startswith(IMAGE_MAGIC):
            return content
        body = _load_json(content)
        _raise_for_error(body, response, url)
        if body is not None:
            raise InvalidResponse(f"{url} answered f=image with JSON instead of an image ({_describe(response)})")
        if raw:
            return content
        raise InvalidResponse(
            f"{url} answered with neither an image (PNG, JPEG, TIFF, GIF, BMP) nor JSON ({_describe(response)})"
        )

    return parse


def _raise_for_error(body: Any, response: requests.Response, url: str) -> None:
    """An ArcGIS error envelope (whatever the HTTP status) or an HTTP error status (498/499 as
    a status alone still means "authenticate")."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        code = int(error.get("code") or response.status_code)
        details = error.get("details") or []
        details = [details] if isinstance(details, str) else [str(d) for d in details]
        kind = AuthenticationRequired if code in AUTH_CODES else ArcGISError
        extended = error.get("extendedCode")
        extended_code = extended if isinstance(extended, int) and not isinstance(extended, bool) else None
        raise kind(code, str(error.get("message") or "Unknown error"), details, url, extended_code)
    if response.status_code in AUTH_CODES:
        raise AuthenticationRequired(response.status_code, response.reason or "Authentication required", [], url)
    if response.status_code >= 400:
        status = f"HTTP {response.status_code} {response.reason}"
        raise InvalidResponse(f"{url} answered {status} ({_content_type(response)})")


def _load_json(content: bytes) -> Any:
    """The decoded JSON, or None when the bytes are not JSON (the content type is not trusted)."""
    try:
        return json.loads(content)
    except ValueError:
        return None


def _describe(response: requests.Response) -> str:
    """Status and content type, never the body: it may be anything a server has, and the message
    reaches whoever typed the URL."""
    return f"HTTP {response.status_code}, {_content_type(response)}"


def _content_type(response: requests.Response) -> str:
    return response.headers.get("Content-Type") or "no content type"


def _root_cause(error: BaseException) -> str:
    """The innermost reason ("[Errno 111] Connection refused"), not urllib3's wrapper text."""
    while True:
        reason = getattr(error, "reason", None)
        inner = reason if isinstance(reason, BaseException) else error.__cause__ or error.__context__
        if inner is None and error.args and isinstance(error.args[0], BaseException):
            inner = error.args[0]
        if inner is None:
            return str(error)
        error = inner


def _sent_params(prepared: urls.PreparedRequest) -> dict[str, str]:
    """The parameters as they went out (token, request params and f included)."""
    if prepared.data is not None:
        return dict(prepared.data)
    return dict(parse_qsl(prepared.url.rsplit("?", 1)[1], keep_blank_values=True))


def _without_token(params: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in params.items() if key != "token"}
