"""The fetch policy: which URLs the server side may fetch when the dashboard is hosted.

Internal targets are real servers on other loopback addresses (127.0.0.2, 127.0.0.3) that record
every request, so "refused" also means "nothing was sent". Name resolution is replaced where a
test needs a name that points somewhere; nothing leaves this machine.
"""

from __future__ import annotations

import json
import socket
import threading
from argparse import Namespace
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import flask
import pytest
import requests
from dash import Dash

from imageservice import fetchpolicy
from imageservice.auth import sign_in
from imageservice.client import ImageServiceClient
from imageservice.dash.imagemaplayer import current_policy, edit, register, with_policy
from imageservice.errors import FetchRefused, InvalidResponse, ServiceUnreachable
from imageservice.fetchpolicy import FetchPolicy
from imageservice.layer import ImageMapLayer
from imageservice.urls import View

SECRET = b"SECRET-INTERNAL-DATA"
SERVICE = "/arcgis/rest/services/S/ImageServer"
METADATA = {"currentVersion": 10.9, "name": "S", "bandCount": 1, "pixelType": "U8",
            "extent": {"xmin": 0, "ymin": 0, "xmax": 1, "ymax": 1, "spatialReference": {"wkid": 4326}}}
Answer = tuple[int, dict[str, str], bytes]


@dataclass
class Recorder:
    """A server on one loopback address: what it answers and the paths it was asked for."""

    base: str
    answer: Callable[[str], Answer]
    paths: list[str] = field(default_factory=list)


@contextmanager
def recording(host: str, answer: Callable[[str], Answer]) -> Iterator[Recorder]:
    """Serve `answer(path)` on `host` at an ephemeral port, recording each request's path."""
    recorder = Recorder("", answer)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            recorder.paths.append(self.path)
            status, headers, body = recorder.answer(self.path)
            self.send_response(status)
            for name, value in {"Content-Length": str(len(body)), **headers}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_GET

        def log_message(self, *args) -> None:
            pass

    httpd = ThreadingHTTPServer((host, 0), Handler)
    httpd.daemon_threads = True
    recorder.base = f"http://{host}:{httpd.server_port}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield recorder
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def secret_answer(_path: str) -> Answer:
    return 200, {"Content-Type": "text/plain"}, SECRET


@pytest.fixture
def internal() -> Iterator[Recorder]:
    """The internal host an attacker aims at: it answers every path with the secret."""
    with recording("127.0.0.2", secret_answer) as recorder:
        yield recorder


def resolving(monkeypatch: pytest.MonkeyPatch, names: dict[str, list[str]]) -> None:
    """Make the policy's name resolution answer `names` (host -> addresses), nothing else."""
    def getaddrinfo(host: str, port: int, *args, **kwargs) -> list:
        if host not in names:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        family = {4: socket.AF_INET, 6: socket.AF_INET6}
        return [(family[6 if ":" in a else 4], socket.SOCK_STREAM, 6, "", (a, port)) for a in names[host]]

    monkeypatch.setattr(fetchpolicy.socket, "getaddrinfo", getaddrinfo)


# --- the policy --------------------------------------------------------------------------------


@pytest.mark.parametrize("host", [
    "127.0.0.1", "127.0.0.2", "localhost", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
    "100.64.0.1", "0.0.0.0", "224.0.0.1", "240.0.0.1", "255.255.255.255", "192.0.2.1",
    "[::1]", "[::]", "[fe80::1]", "[fc00::1]", "[fd12:3456::1]", "[fec0::1]", "[ff02::1]",
    "[::ffff:127.0.0.1]", "[::ffff:10.0.0.1]", "[2002:7f00:1::]", "[64:ff9b::7f00:1]",
    "2130706433", "0x7f.1", "017700000001", "127.1",  # 127.0.0.1 in the spellings inet_aton reads
])
def test_non_public_addresses_are_refused(host: str) -> None:
    with pytest.raises(FetchRefused, match="is not allowed: the server fetches only public addresses"):
        FetchPolicy().check(f"http://{host}/arcgis/rest/services/S/ImageServer")


@pytest.mark.parametrize("url", ["https://8.8.8.8/arcgis/rest/services/S/ImageServer?f=json",
                                 "http://[2001:4860:4860::8888]:8080/arcgis/rest/services/S/ImageServer"])
def test_public_addresses_are_allowed(url: str) -> None:
    FetchPolicy().check(url)


def test_every_address_of_a_name_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    resolving(monkeypatch, {"images.example": ["93.184.216.34", "2606:2800:220:1::1"],
                            "inside.example": ["10.0.0.7"],
                            "mixed.example": ["93.184.216.34", "192.168.0.9"],
                            "six.example": ["fd00::5"]})
    FetchPolicy().check("https://images.example/arcgis/rest/services/S/ImageServer")
    for name in ("inside.example", "mixed.example", "six.example"):
        with pytest.raises(FetchRefused, match=f"^{name} is not allowed"):
            FetchPolicy().check(f"https://{name}/arcgis/rest/services/S/ImageServer")


def test_a_name_that_does_not_resolve_is_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    resolving(monkeypatch, {})
    with pytest.raises(ServiceUnreachable, match="Could not find the host nowhere.example"):
        FetchPolicy().check("https://nowhere.example/arcgis/rest/services/S/ImageServer")


def test_a_listed_prefix_is_allowed_at_any_address_but_only_below_it() -> None:
    policy = FetchPolicy(allowed=("http://10.0.0.5:6080/arcgis/rest/services/Team/",))
    policy.check("http://10.0.0.5:6080/arcgis/rest/services/Team/Imagery/ImageServer/identify?f=json")
    policy.check("http://10.0.0.5:6080/arcgis/rest/services/Team")
    for url in ("http://10.0.0.5:6080/arcgis/rest/services/TeamB/ImageServer",  # a longer segment
                "http://10.0.0.5:6080/arcgis/rest/services/Other/ImageServer",
                "http://10.0.0.5:6081/arcgis/rest/services/Team/ImageServer",  # another port
                "https://10.0.0.5:6080/arcgis/rest/services/Team/ImageServer",  # another scheme
                "http://10.0.0.6:6080/arcgis/rest/services/Team/ImageServer"):
        with pytest.raises(FetchRefused, match="is not allowed"):
            policy.check(url)


@pytest.mark.parametrize("url", [
    "http://10.0.0.5:6080/arcgis/rest/services/Team/../../admin",
    "http://10.0.0.5:6080/arcgis/rest/services/Team/%2e%2e/%2E%2E/admin",
    "http://10.0.0.5:6080/arcgis/rest/services/Team/..%5c..%5cadmin",
    "http://8.8.8.8@127.0.0.1/arcgis/rest/services/S/ImageServer",
    "http://127.0.0.1\\@8.8.8.8/arcgis/rest/services/S/ImageServer",
    "http://8.8.8.8 /arcgis/rest/services/S/ImageServer",
    "http://8.8.8.8:99999/arcgis/rest/services/S/ImageServer",
    "file:///etc/passwd",
    "gopher://8.8.8.8/",
    "/arcgis/rest/services/S/ImageServer",
])
def test_disguised_or_non_http_urls_are_refused(url: str) -> None:
    with pytest.raises(FetchRefused):
        FetchPolicy(allowed=("http://10.0.0.5:6080/arcgis/rest/services/Team",)).check(url)


def test_this_app_is_allowed_at_its_own_port_on_this_machine_only() -> None:
    policy = FetchPolicy(own_port=8050)
    policy.check("http://127.0.0.1:8050/arcgis/rest/services/S/ImageServer")
    policy.check("http://localhost:8050/arcgis/rest/services/S/ImageServer")
    for url in ("http://127.0.0.1:8051/arcgis/rest/services/S/ImageServer",  # another port here
                "http://10.255.255.1:8050/arcgis/rest/services/S/ImageServer"):  # not this machine
        with pytest.raises(FetchRefused):
            policy.check(url)


# --- the client --------------------------------------------------------------------------------


def test_the_client_refuses_before_sending_anything(internal: Recorder) -> None:
    client = ImageServiceClient(internal.base + "/internal/admin/ImageServer", policy=FetchPolicy())
    with pytest.raises(FetchRefused, match="^127.0.0.2 is not allowed"):
        client.metadata()
    with pytest.raises(FetchRefused):
        client.identify({"geometry": "1,2"})
    assert internal.paths == []


def test_a_proxy_is_checked_like_the_service(internal: Recorder) -> None:
    """The connection goes to the proxy, so that is the URL the policy judges."""
    client = ImageServiceClient("https://8.8.8.8/arcgis/rest/services/S/ImageServer",
                                proxy=internal.base + "/relay", policy=FetchPolicy())
    with pytest.raises(FetchRefused, match="^127.0.0.2 is not allowed"):
        client.metadata()
    assert internal.paths == []


def test_a_redirect_is_not_followed(internal: Recorder) -> None:
    def redirect(_path: str) -> Answer:
        return 302, {"Location": internal.base + "/internal/admin"}, b""

    with recording("127.0.0.3", redirect) as listed:
        client = ImageServiceClient(listed.base + SERVICE, policy=FetchPolicy(allowed=(listed.base + "/arcgis",)))
        with pytest.raises(InvalidResponse, match="redirect.*not followed"):
            client.metadata()
        assert len(listed.paths) == 1
    assert internal.paths == []


def test_a_listed_service_is_fetched() -> None:
    def service(_path: str) -> Answer:
        return 200, {"Content-Type": "application/json"}, json.dumps(METADATA).encode()

    with recording("127.0.0.3", service) as listed:
        layer = ImageMapLayer(listed.base + SERVICE, policy=FetchPolicy(allowed=(listed.base + SERVICE,)))
        assert layer.metadata()["name"] == "S"
        assert [path.split("?")[0] for path in listed.paths] == [SERVICE + "/"]


def test_the_layer_passes_its_policy_to_the_client_it_builds(internal: Recorder) -> None:
    layer = ImageMapLayer(internal.base + "/internal/admin/ImageServer", policy=FetchPolicy())
    for request in (layer.metadata, lambda: layer.identify().at(1.0, 2.0).run(), lambda: layer.query().run()):
        with pytest.raises(FetchRefused):
            request()
    assert internal.paths == []


def test_without_a_policy_the_client_fetches_anything(internal: Recorder) -> None:
    """Single-user mode on loopback: any URL, the body still not repeated."""
    with pytest.raises(InvalidResponse) as caught:
        ImageServiceClient(internal.base + "/internal/admin/ImageServer").metadata()
    assert len(internal.paths) == 1
    assert SECRET.decode() not in str(caught.value)


@pytest.mark.parametrize(("status", "content_type", "operation", "words"), [
    (200, "text/plain", "metadata", "the response is not JSON (HTTP 200, text/plain)"),
    (500, "text/html", "query", "answered HTTP 500 Internal Server Error (text/html)"),
    (200, "image/png", "image", "neither an image (PNG, JPEG, TIFF, GIF, BMP) nor JSON (HTTP 200, image/png)"),
])
def test_a_non_arcgis_body_is_never_repeated(status: int, content_type: str, operation: str, words: str) -> None:
    with recording("127.0.0.2", lambda _path: (status, {"Content-Type": content_type}, SECRET)) as server:
        client = ImageServiceClient(server.base + SERVICE)
        calls = {"metadata": client.metadata, "query": lambda: client.query({}),
                 "image": lambda: client.export_image({"f": "image", "format": "png"})}
        with pytest.raises(InvalidResponse) as caught:
            calls[operation]()
    assert words in str(caught.value)
    assert SECRET.decode() not in str(caught.value)


def test_json_where_an_image_was_asked_is_not_repeated() -> None:
    body = json.dumps({"note": SECRET.decode()}).encode()
    with recording("127.0.0.2", lambda _path: (200, {"Content-Type": "application/json"}, body)) as server:
        client = ImageServiceClient(server.base + SERVICE)
        with pytest.raises(InvalidResponse, match="answered f=image with JSON instead of an image") as caught:
            client.export_image({"f": "image"})
        with pytest.raises(InvalidResponse, match="has no href") as no_href:
            ImageMapLayer(server.base + SERVICE, f="json").export_url(View(0.0, 0.0, 1.0, 1.0, 10, 10))
    assert SECRET.decode() not in str(caught.value) + str(no_href.value)


# --- sign-in -----------------------------------------------------------------------------------


def test_sign_in_asks_nothing_of_a_refused_server(internal: Recorder) -> None:
    with pytest.raises(FetchRefused):
        sign_in(requests.Session(), internal.base + SERVICE, "analyst", "pass", policy=FetchPolicy())
    assert internal.paths == []


def test_sign_in_sends_no_password_to_a_refused_token_service(internal: Recorder) -> None:
    """The server's rest/info may name any token service: it is checked before the POST."""
    def info(_path: str) -> Answer:
        body = {"authInfo": {"isTokenBasedSecurity": True, "tokenServicesUrl": "https://10.0.0.9/tokens"}}
        return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()

    with recording("127.0.0.3", info) as listed:
        with pytest.raises(FetchRefused, match="^10.0.0.9 is not allowed"):
            sign_in(requests.Session(), listed.base + SERVICE, "analyst", "pass",
                    policy=FetchPolicy(allowed=(listed.base + "/arcgis",)))
        assert [path.split("?")[0] for path in listed.paths] == ["/arcgis/rest/info"]


# --- the Dash component ------------------------------------------------------------------------


def test_edit_uses_the_policy_registered_on_the_app() -> None:
    policy = FetchPolicy(own_port=8050)
    app = Dash(__name__)
    register(app, fetch_policy=policy)
    params = {"url": "http://127.0.0.2:9/internal/admin/ImageServer"}
    with app.server.app_context():
        assert current_policy() is policy
        with pytest.raises(FetchRefused):
            edit(params).metadata()
    assert current_policy() is None  # a script, outside any app


def test_an_app_registered_without_a_policy_has_none() -> None:
    app = Dash(__name__)
    register(app)
    with app.server.test_request_context():
        assert flask.has_app_context() and current_policy() is None
        assert edit({"url": "http://127.0.0.2:9/x/ImageServer"}).client.policy is None


def test_a_background_job_runs_with_the_apps_policy() -> None:
    """A Celery worker runs background callbacks outside any request: `with_policy` gives them the
    app's context, where `edit` finds the policy."""
    policy = FetchPolicy()
    app = Dash(__name__)
    register(app, fetch_policy=policy)
    assert with_policy(app, current_policy)() is policy


def test_the_temporal_profile_uses_the_apps_policy(internal: Recorder) -> None:
    from callbacks.pixel import run_profile

    app = Dash(__name__)
    register(app, fetch_policy=FetchPolicy())
    params = {"url": internal.base + "/internal/admin/ImageServer"}
    service = {"date_field": "AcquisitionDate", "has_catalog": True, "current_version": 10.9,
               "object_id_field": "OBJECTID", "has_name": True, "band_names": ["b1"], "fields": []}
    point = {"lat": 1.0, "lng": 2.0}
    series, message = with_policy(app, run_profile)(lambda _text: None, point, params, service)
    assert series is None and "is not allowed" in message
    assert internal.paths == []


# --- when it is on -----------------------------------------------------------------------------


@pytest.mark.parametrize(("argv", "environ"), [([], {}), (["--host", "localhost"], {}), (["--host", "::1"], {})])
def test_one_person_on_this_machine_may_open_anything(argv: list[str], environ: dict,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import app as dashboard

    monkeypatch.delenv("IMAGESERVICE_HOSTED", raising=False)
    assert dashboard.fetch_policy_for(dashboard.parse_args(argv)) is None


@pytest.mark.parametrize(("argv", "hosted"), [(["--host", "0.0.0.0", "--port", "8060"], ""),
                                              (["--port", "8060", "--hosted"], ""), (["--port", "8060"], "1")])
def test_a_hosted_dashboard_fetches_by_the_policy(argv: list[str], hosted: str, tmp_path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import app as dashboard

    monkeypatch.setenv("IMAGESERVICE_HOSTED", hosted)
    config = tmp_path / "proxy.json"
    config.write_text(json.dumps({"services": [{"url": "http://10.0.0.5:6080/arcgis/rest/services/Team"}]}))
    policy = dashboard.fetch_policy_for(dashboard.parse_args([*argv, "--proxy-config", str(config)]))
    assert policy == FetchPolicy(allowed=("http://10.0.0.5:6080/arcgis/rest/services/Team",), own_port=8060)


def test_a_dashboard_that_asks_for_sign_in_is_hosted() -> None:
    import app as dashboard

    args = Namespace(host="127.0.0.1", port=8060, hosted=False, auth_config=object(), proxy_config=None)
    assert dashboard.fetch_policy_for(args) == FetchPolicy(own_port=8060)
