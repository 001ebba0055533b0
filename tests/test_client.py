"""ImageServiceClient against a real HTTP server on 127.0.0.1 (stdlib http.server in a thread).

The fake server answers canned responses per path and records every request it receives, so
the tests check the exact query strings, methods and bodies that went over the wire. It also
acts as an esri-leaflet style proxy: `/proxy?<full target url>` answers for the target path.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from imageservice.client import ExportedImage, ImageServiceClient
from imageservice.errors import (
    ArcGISError,
    AuthenticationRequired,
    InvalidResponse,
    ServiceTimeout,
    ServiceUnreachable,
)

FIXTURES = Path(__file__).parent / "fixtures"
SERVICE = "/arcgis/rest/services/Landsat/ImageServer/"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24
IDENTIFY_PARAMS = {
    "returnGeometry": False,
    "geometry": {"x": -122.45, "y": 37.75, "spatialReference": {"wkid": 4326}},
    "geometryType": "esriGeometryPoint",
}
IDENTIFY_QUERY = (
    "returnGeometry=false"
    "&geometry=%7B%22x%22%3A-122.45%2C%22y%22%3A37.75%2C%22spatialReference%22%3A%7B%22wkid%22%3A4326%7D%7D"
    "&geometryType=esriGeometryPoint"
)


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@dataclass
class Received:
    method: str
    path: str
    query: str  # raw query string; for /proxy the full target URL
    form: dict[str, str] | None

    @property
    def params(self) -> dict[str, str]:
        """The decoded parameters, wherever they travelled (query string, proxied URL or form)."""
        if self.form is not None:
            return self.form
        query = urlsplit(self.query).query if self.path == "/proxy" else self.query
        return dict(parse_qsl(query, keep_blank_values=True))


# A route answers (status, content type, body) for a received request.
Answer = tuple[int, str, bytes]
Route = Callable[[Received], Answer]


def canned(status: int, content_type: str, body: bytes) -> Route:
    return lambda received: (status, content_type, body)


def json_route(name: str, status: int = 200) -> Route:
    return canned(status, "application/json", fixture_bytes(name))


def needs_token(good: str, answer: Route) -> Route:
    """Like a secured ArcGIS service: 499 without a token, 498 with a wrong one (both HTTP 200)."""

    def route(received: Received) -> Answer:
        token = received.params.get("token")
        if token == good:
            return answer(received)
        name = "error_token_required.json" if token is None else "error_invalid_token.json"
        return 200, "text/plain; charset=utf-8", fixture_bytes(name)

    return route


@dataclass
class FakeArcGIS:
    base: str
    routes: dict[str, Route] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.base + SERVICE

    def client(self, **options) -> ImageServiceClient:
        return ImageServiceClient(self.url, **options)


def make_handler(fake: FakeArcGIS) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _handle(self, form: dict[str, str] | None) -> None:
            path, _, query = self.path.partition("?")
            received = Received(self.command, path, query, form)
            fake.received.append(received)
            target = urlsplit(query).path if path == "/proxy" else path
            route = fake.routes.get(target, canned(404, "text/html", b"<html><body>Not Found</body></html>"))
            status, content_type, body = route(received)
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (the timeout test)

        def do_GET(self) -> None:
            self._handle(None)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            self._handle(dict(parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True)))

        def log_message(self, *args) -> None:
            pass

    return Handler


@pytest.fixture(scope="module")
def server() -> Iterator[FakeArcGIS]:
    fake = FakeArcGIS("")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(fake))
    httpd.daemon_threads = True
    fake.base = f"http://127.0.0.1:{httpd.server_port}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield fake
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture()
def fake(server: FakeArcGIS) -> FakeArcGIS:
    """The module's server with fresh routes and an empty request log."""
    server.routes.clear()
    server.received.clear()
    return server


@pytest.fixture()
def events() -> list[dict]:
    return []


def test_metadata_gets_the_root_with_a_trailing_slash_and_url_params(fake: FakeArcGIS) -> None:
    fake.routes[SERVICE] = json_route("sentinel2_landcover_root.json")
    client = ImageServiceClient(fake.url.rstrip("/") + "?foo=bar&baz=a%20b")
    root = client.metadata()
    assert root["name"] == "Sentinel2_10m_LandCover"
    assert fake.received == [Received("GET", SERVICE, "foo=bar&baz=a%20b&f=json", None)]


def test_metadata_with_max_age_reuses_a_recent_root_of_the_same_url_and_token(fake: FakeArcGIS) -> None:
    """Opening a service reads its root in several callbacks at once: one request serves them all."""
    fake.routes[SERVICE] = json_route("sentinel2_landcover_root.json")
    first = ImageServiceClient(fake.url).metadata(max_age=60)
    again = ImageServiceClient(fake.url).metadata(max_age=60)  # another client, as in another callback
    assert again == first and len(fake.received) == 1
    ImageServiceClient(fake.url, token="other").metadata(max_age=60)  # another token: its own request
    ImageServiceClient(fake.url).metadata()  # no max_age: always asks
    assert [r.params.get("token") for r in fake.received] == [None, "other", None]


def test_identify_sends_the_exact_query_string(fake: FakeArcGIS) -> None:
    fake.routes[SERVICE + "identify"] = json_route("landsat_identify_catalog.json")
    response = fake.client().identify(IDENTIFY_PARAMS)
    assert response["value"] == "17, 22, 39, 45"
    assert fake.received == [Received("GET", SERVICE + "identify", IDENTIFY_QUERY + "&f=json", None)]


def test_long_requests_are_posted_as_a_form(fake: FakeArcGIS) -> None:
    fake.routes[SERVICE + "query"] = json_route("query_featureset_webmercator.json")
    where = "OBJECTID IN (" + ",".join(str(i) for i in range(600)) + ")"
    client = fake.client(token="tok", request_params={"foo": "bar"})
    assert client.query({"where": where, "outFields": "*"})["features"][0]["attributes"]["OBJECTID"] == 99
    assert fake.received == [
        Received("POST", SERVICE + "query", "", {"where": where, "outFields": "*", "token": "tok", "foo": "bar", "f": "json"})
    ]


def test_proxy_prefixes_every_request(fake: FakeArcGIS) -> None:
    fake.routes[SERVICE + "identify"] = json_route("raster_dataset_identify.json")
    client = fake.client(proxy=fake.base + "/proxy", token="tok")
    assert client.identify(IDENTIFY_PARAMS)["value"] == "-17.5575"
    target = f"{fake.url}identify?{IDENTIFY_QUERY}&token=tok&f=json"
    assert fake.received == [Received("GET", "/proxy", target, None)]


def test_token_and_request_params_go_on_every_path(fake: FakeArcGIS) -> None:
    fake.routes[SERVICE] = json_route("sentinel2_landcover_root.json")
    fake.routes[SERVICE + "identify"] = json_route("landsat_identify_catalog.json")
    fake.routes[SERVICE + "query"] = json_route("query_featureset_webmercator.json")
    fake.routes[SERVICE + "exportImage"] = lambda r: (
        (200, "image/png", PNG) if r.params["f"] == "image" else (200, "text/plain", fixture_bytes("export_image_json.json"))
    )
    fake.routes[SERVICE + "computeHistograms"] = canned(200, "application/json", b'{"histograms": []}')
    client = fake.client(token="tok", proxy=fake.base + "/proxy", request_params={"foo": "bar"})
    client.metadata()
    client.identify({"geometryType": "esriGeometryPoint"})
    client.query({"where": "1=1"})
    client.export_image({"bbox": "0,0,1,1", "f": "json"})
    client.export_image({"bbox": "0,0,1,1", "f": "image"})
    client.request("computeHistograms", {"geometryType": "esriGeometryEnvelope"})
    assert [(r.path, urlsplit(r.query).path, r.params) for r in fake.received] == [
        ("/proxy", SERVICE, {"token": "tok", "foo": "bar", "f": "json"}),
        ("/proxy", SERVICE + "identify", {"geometryType": "esriGeometryPoint", "token": "tok", "foo": "bar", "f": "json"}),
        ("/proxy", SERVICE + "query", {"where": "1=1", "token": "tok", "foo": "bar", "f": "json"}),
        ("/proxy", SERVICE + "exportImage", {"bbox": "0,0,1,1", "f": "json", "token": "tok", "foo": "bar"}),
        ("/proxy", SERVICE + "exportImage", {"bbox": "0,0,1,1", "f": "image", "token": "tok", "foo": "bar"}),
        (
            "/proxy",
            SERVICE + "computeHistograms",
            {"geometryType": "esriGeometryEnvelope", "token": "tok", "foo": "bar", "f": "json"},
        ),
    ]


def test_a_token_in_the_url_becomes_the_client_token(fake: FakeArcGIS) -> None:
    client = ImageServiceClient(fake.url + "?token=abc&foo=bar")
    assert (client.token, client.request_params) == ("abc", {"foo": "bar"})


def test_export_image_json_returns_the_href_document(fake: FakeArcGIS) -> None:
    fake.routes[SERVICE + "exportImage"] = json_route("export_image_json.json")
    response = fake.client().export_image({"bbox": "0,0,1,1", "size": "1100,1100", "f": "json"})
    assert response == json.loads(fixture_bytes("export_image_json.json"))
    assert fake.received[0].query == "bbox=0%2C0%2C1%2C1&size=1100%2C1100&f=json"


def test_exported_image_types_the_json_answer(fake: FakeArcGIS) -> None:
    fake.routes[SERVICE + "exportImage"] = json_route("export_image_json.json")
    exported = fake.client().exported_image({"bbox": "0,0,1,1", "size": "1100,1100", "f": "image"})
    assert exported == ExportedImage(
        href=json.loads(fixture_bytes("export_image_json.json"))["href"],
        width=1100,
        height=1100,
        extent=(-776083.3849566554, -1206734.539927719, -773596.9441131485, -1204248.099084212),
        spatial_reference={"wkid": 102067, "latestWkid": 5514},
        scale=0.0,
    )
    assert exported.wkid == 5514
    assert fake.received[0].params["f"] == "json"


def test_an_exported_image_without_an_extent_is_an_invalid_response(fake: FakeArcGIS) -> None:
    fake.routes[SERVICE + "exportImage"] = canned(200, "application/json", b'{"href": "http://x/a.png", "width": 1, "height": 1}')
    with pytest.raises(InvalidResponse, match="^exportImage f=json response lacks a usable 'extent'"):
        fake.client().exported_image({})


def test_export_image_bytes_are_returned_when_they_are_an_image(fake: FakeArcGIS) -> None:
    fake.routes[SERVICE + "exportImage"] = canned(200, "image/png", PNG)
    assert fake.client().export_image({"format": "png", "f": "image"}) == PNG


def test_an_arcgis_error_served_as_an_image_is_raised(fake: FakeArcGIS) -> None:
    fake.routes[SERVICE + "exportImage"] = canned(200, "image/tiff", fixture_bytes("error_size_limit.json"))
    with pytest.raises(ArcGISError) as caught:
        fake.client().export_image({"format": "tiff", "f": "image"})
    error = caught.value
    assert (error.code, error.message, error.details) == (
        400,
        "Invalid or missing input parameters.",
        ["The requested image exceeds the size limit."],
    )
    assert error.url == fake.url + "exportImage"
    assert str(error) == "Invalid or missing input parameters. (code 400): The requested image exceeds the size limit."


def test_an_arcgis_error_keeps_its_extended_code(fake: FakeArcGIS) -> None:
    fake.routes[SERVICE + "exportImage"] = json_route("error_size_limit.json")
    fake.routes[SERVICE + "query"] = json_route("error_unable.json")
    client = fake.client()
    with pytest.raises(ArcGISError) as sized:
        client.export_image({"f": "json"})
    with pytest.raises(ArcGISError) as unable:
        client.query({"where": "nonsense"})
    assert (sized.value.extended_code, unable.value.extended_code) == (-2147024809, None)


def test_bytes_that_are_neither_image_nor_json_are_rejected(fake: FakeArcGIS) -> None:
    fake.routes[SERVICE + "exportImage"] = canned(200, "image/png", b"\x00\x01garbage")
    expected = r"exportImage answered with neither an image \(PNG, JPEG, TIFF, GIF, BMP\) nor JSON"
    with pytest.raises(InvalidResponse, match=expected):
        fake.client().export_image({"format": "png", "f": "image"})


def test_json_instead_of_an_image_is_rejected(fake: FakeArcGIS) -> None:
    fake.routes[SERVICE + "exportImage"] = json_route("export_image_json.json")
    with pytest.raises(InvalidResponse, match="answered f=image with JSON instead of an image"):
        fake.client().export_image({"f": "image"})


def test_raw_pixel_formats_have_no_magic_and_are_returned(fake: FakeArcGIS) -> None:
    fake.routes[SERVICE + "exportImage"] = canned(200, "application/octet-stream", b"\x00\x01\x02\x03\xff")
    assert fake.client().export_image({"format": "bip", "f": "image"}) == b"\x00\x01\x02\x03\xff"


# --- errors ------------------------------------------------------------------------------------


def test_a_closed_port_is_service_unreachable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = ImageServiceClient(f"http://127.0.0.1:{port}/arcgis/rest/services/S/ImageServer")
    with pytest.raises(ServiceUnreachable) as caught:
        client.metadata()
    assert str(caught.value) == f"Could not connect to 127.0.0.1:{port}: [Errno 111] Connection refused"
    assert caught.value.code == 500


def test_a_slow_server_is_a_timeout(fake: FakeArcGIS) -> None:
    def slow(received: Received) -> Answer:
        time.sleep(1.0)
        return 200, "application/json", b"{}"

    fake.routes[SERVICE + "identify"] = slow
    port = urlsplit(fake.base).port
    with pytest.raises(ServiceTimeout) as caught:
        fake.client(timeout=0.2).identify({})
    assert str(caught.value) == f"127.0.0.1:{port} did not answer within 0.2 s"


def test_an_html_page_is_not_an_image_server(fake: FakeArcGIS) -> None:
    fake.routes[SERVICE] = canned(200, "text/html", b"<!DOCTYPE html><html><body>Sign in</body></html>")
    with pytest.raises(InvalidResponse) as caught:
        fake.client().metadata()
    assert str(caught.value) == (
        f"{fake.url} is not an ArcGIS ImageServer: the response is not JSON "
        "(HTTP 200, text/html)"
    )


def test_an_http_error_page_names_the_status(fake: FakeArcGIS) -> None:
    fake.routes[SERVICE + "query"] = canned(500, "text/html", b"<html>Internal Server Error</html>")
    with pytest.raises(InvalidResponse) as caught:
        fake.client().query({})
    assert str(caught.value) == (
        f"{fake.url}query answered HTTP 500 Internal Server Error (text/html)"
    )


def test_an_http_error_with_an_arcgis_body_is_an_arcgis_error(fake: FakeArcGIS) -> None:
    body = b'{"error": {"code": 500, "message": "Error exporting image", "details": null}}'
    fake.routes[SERVICE + "exportImage"] = canned(500, "application/json", body)
    with pytest.raises(ArcGISError) as caught:
        fake.client().export_image({"f": "json"})
    assert (caught.value.code, caught.value.details, str(caught.value)) == (500, [], "Error exporting image (code 500)")


def test_an_error_in_a_200_answer_is_an_arcgis_error(fake: FakeArcGIS) -> None:
    fake.routes[SERVICE + "query"] = json_route("error_unable.json")
    with pytest.raises(ArcGISError) as caught:
        fake.client().query({"where": "nonsense"})
    assert type(caught.value) is ArcGISError
    assert str(caught.value) == "Unable to complete operation. (code 400)"


@pytest.mark.parametrize(("name", "code", "message"), [
    ("error_token_required.json", 499, "Token Required"),
    ("error_invalid_token.json", 498, "Invalid Token"),
])
def test_token_errors_are_authentication_required(fake: FakeArcGIS, name: str, code: int, message: str) -> None:
    fake.routes[SERVICE + "identify"] = json_route(name)
    with pytest.raises(AuthenticationRequired) as caught:
        fake.client().identify({})
    assert (caught.value.code, caught.value.message) == (code, message)


def test_a_bare_499_status_is_authentication_required(fake: FakeArcGIS) -> None:
    fake.routes[SERVICE + "identify"] = canned(499, "text/html", b"<html>Token Required</html>")
    with pytest.raises(AuthenticationRequired) as caught:
        fake.client().identify({})
    assert (caught.value.code, caught.value.url) == (499, fake.url + "identify")


def test_the_timeout_is_always_passed_to_the_injected_session(fake: FakeArcGIS) -> None:
    fake.routes[SERVICE] = json_route("sentinel2_landcover_root.json")
    seen: list[object] = []

    class RecordingSession(requests.Session):
        def request(self, method, url, **kwargs):
            seen.append(kwargs.get("timeout"))
            return super().request(method, url, **kwargs)

    ImageServiceClient(fake.url, session=RecordingSession()).metadata()
    ImageServiceClient(fake.url, session=RecordingSession(), timeout=5).metadata()
    assert seen == [30.0, 5]


# --- events and the authentication queue -------------------------------------------------------


def test_events_of_a_successful_request(fake: FakeArcGIS, events: list[dict]) -> None:
    fake.routes[SERVICE + "identify"] = json_route("raster_dataset_identify.json")
    client = fake.client(proxy=fake.base + "/proxy", token="tok", on_event=events.append)
    response = client.identify({"geometryType": "esriGeometryPoint"})
    params = {"geometryType": "esriGeometryPoint", "token": "tok", "f": "json"}
    base = {"url": fake.url + "identify", "params": params, "method": "request"}
    assert events == [
        {"type": "requeststart", **base, "params": {"geometryType": "esriGeometryPoint"}},
        {"type": "requestsuccess", **base, "response": response},
        {"type": "requestend", **base},
    ]


def test_metadata_events_use_the_get_method(fake: FakeArcGIS, events: list[dict]) -> None:
    fake.routes[SERVICE] = json_route("sentinel2_landcover_root.json")
    fake.client(on_event=events.append).metadata()
    assert [(e["type"], e["url"], e["method"], e["params"]) for e in events] == [
        ("requeststart", fake.url, "get", {}),
        ("requestsuccess", fake.url, "get", {"f": "json"}),
        ("requestend", fake.url, "get", {"f": "json"}),
    ]


def test_get_and_post_keep_their_http_method_and_name_it_in_events(fake: FakeArcGIS, events: list[dict]) -> None:
    fake.routes[SERVICE + "query"] = json_route("query_featureset_webmercator.json")
    client = fake.client(on_event=events.append)
    client.get("query", {"where": "x" * 3000})
    client.post("query", {"where": "1=1"})
    assert [r.method for r in fake.received] == ["GET", "POST"]
    assert [e["method"] for e in events if e["type"] == "requeststart"] == ["get", "post"]


def test_an_answer_that_is_not_json_carries_code_500(fake: FakeArcGIS) -> None:
    fake.routes[SERVICE + "query"] = canned(200, "text/html", b"<html>maintenance</html>")
    with pytest.raises(InvalidResponse) as caught:
        fake.client().query({})
    assert caught.value.code == 500
    assert "is not an ArcGIS ImageServer: the response is not JSON" in str(caught.value)


def test_events_of_a_failed_request(fake: FakeArcGIS, events: list[dict]) -> None:
    fake.routes[SERVICE + "query"] = canned(502, "text/html", b"<html>Bad Gateway</html>")
    with pytest.raises(InvalidResponse) as caught:
        fake.client(on_event=events.append).query({"where": "1=1"})
    base = {"url": fake.url + "query", "params": {"where": "1=1", "f": "json"}, "method": "request"}
    assert events == [
        {"type": "requeststart", **base, "params": {"where": "1=1"}},
        {"type": "requesterror", **base, "code": 500, "message": str(caught.value)},
        {"type": "requestend", **base},
    ]


def test_token_failures_are_replayed_in_order_by_authenticate(fake: FakeArcGIS, events: list[dict]) -> None:
    fake.routes[SERVICE + "identify"] = needs_token("good", json_route("landsat_identify_catalog.json"))
    fake.routes[SERVICE] = needs_token("good", json_route("sentinel2_landcover_root.json"))
    client = fake.client(on_event=events.append)
    with pytest.raises(AuthenticationRequired):
        client.identify(IDENTIFY_PARAMS)
    with pytest.raises(AuthenticationRequired):
        client.metadata()
    base = {"url": fake.url + "identify", "params": {**dict(parse_qsl(IDENTIFY_QUERY)), "f": "json"}, "method": "request"}
    assert events[:4] == [
        {"type": "requeststart", **base, "params": dict(parse_qsl(IDENTIFY_QUERY))},
        {"type": "authenticationrequired", **base, "authenticate": client.authenticate},
        {"type": "requesterror", **base, "code": 499, "message": "Token Required"},
        {"type": "requestend", **base},
    ]

    events.clear()
    fake.received.clear()
    identified, root = client.authenticate("good")
    assert (identified["value"], root["name"]) == ("17, 22, 39, 45", "Sentinel2_10m_LandCover")
    assert [(r.path, r.query) for r in fake.received] == [
        (SERVICE + "identify", IDENTIFY_QUERY + "&token=good&f=json"),
        (SERVICE, "token=good&f=json"),
    ]
    assert [(e["type"], e["url"]) for e in events] == [
        ("requeststart", fake.url + "identify"),
        ("requestsuccess", fake.url + "identify"),
        ("requestend", fake.url + "identify"),
        ("requeststart", fake.url),
        ("requestsuccess", fake.url),
        ("requestend", fake.url),
    ]
    assert client.authenticate("other") == []  # nothing left to replay


def test_a_replay_that_fails_again_stays_pending(fake: FakeArcGIS) -> None:
    fake.routes[SERVICE + "query"] = needs_token("good", json_route("query_featureset_webmercator.json"))
    client = ImageServiceClient(fake.url + "?token=expired")
    with pytest.raises(AuthenticationRequired) as first:
        client.query({"where": "1=1", "token": "expired"})
    assert first.value.code == 498

    (wrong,) = client.authenticate("wrong")
    assert isinstance(wrong, AuthenticationRequired) and wrong.code == 498
    (result,) = client.authenticate("good")
    assert result["features"][1]["attributes"]["OBJECTID"] == 7
    assert [r.params["token"] for r in fake.received] == ["expired", "wrong", "good"]
