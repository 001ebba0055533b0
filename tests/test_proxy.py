"""The resource proxy end to end, against real upstream servers on 127.0.0.1.

Upstreams: the token-secured embedded ImageServer (`secure_url`), an open one with stub routes
that counts every request it receives (so a cached or refused request is seen not to arrive), and
a tiny app that answers every request with a redirect. The proxy runs in Flask's test client,
except where its real access log is inspected.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import time
from collections import Counter
from collections.abc import Callable, Iterator
from urllib.parse import urlencode, urljoin, urlsplit

import pytest
import requests
from flask import Flask, Response, redirect, request

from imageservice.proxy import ProxyConfig, install
from imageservice.proxy.tokens import RENEW_MARGIN, TokenSource
from imageservice.server.server import create_blueprint
from server_fixtures import (  # noqa: F401  (pytest fixtures)
    TOKEN_MINUTES,
    USERS,
    FakeClock,
    sample_root,
    secure_url,
    serving,
    services,
    token_clock,
)

SERVICE = "/arcgis/rest/services/SampleMultispectral/ImageServer"
ELEVATION = "/arcgis/rest/services/SampleElevation/ImageServer"
STUB = "/stub/ImageServer"
MOVED = "/arcgis/rest/services/Moved/ImageServer"
STUB_TOKEN = "stub-operator-token-5f2c9"
USER, PASSWORD = next(iter(USERS.items()))
TOKEN_REQUIRED = {"error": {"code": 499, "message": "Token Required", "details": []}}
INVALID_TOKEN = {"error": {"code": 498, "message": "Invalid Token", "details": []}}
PNG = b"\x89PNG\r\n\x1a\n"
EXPORT = {"bbox": "590000,4250000,620000,4280000", "bboxSR": "32610", "size": "32,32",
          "format": "png", "bandIds": "2,1,0", "f": "image"}
IDENTIFY = {"geometry": json.dumps({"x": 600000, "y": 4260000, "spatialReference": {"wkid": 32610}}),
            "geometryType": "esriGeometryPoint", "returnGeometry": "false", "f": "json"}


# -- upstreams -------------------------------------------------------------------------------------

def stub_routes(app: Flask) -> None:
    """Routes that misbehave in the ways the proxy must survive, under the allowed STUB prefix."""

    @app.route(STUB + "/echo")
    def echo() -> Response:
        seen = {"query": list(request.args.items(multi=True)),
                "cookie": request.headers.get("Cookie"), "authorization": request.headers.get("Authorization")}
        if request.args.get("f") == "html":  # like ArcGIS HTML pages, links repeat the token
            return Response(f'<a href="?token={request.args.get("token")}">next</a>', mimetype="text/html")
        return Response(json.dumps(seen), mimetype="application/json")

    @app.route(STUB + "/exportImage")
    def export_image() -> Response:  # the token echoed in a binary body and in every passed header
        token = request.args.get("token", "")
        body = PNG + b"\x00\x00\x00\x1ctEXtSource\x00?token=" + token.encode() + b"\x00\xff"
        return Response(body, content_type=f"image/png; name={token}.png", headers={
            "ETag": f'"{token}"', "Content-Disposition": f'inline; filename="{token}.png"',
            "Cache-Control": f"max-age=60, x-token={token}", "Expires": token, "Last-Modified": token})

    @app.route(STUB + "/chunked")
    def chunked() -> Response:  # no Content-Length: the cap must count while reading
        return Response((b"x" * 1000 for _ in range(10)), mimetype="application/octet-stream")

    @app.route(STUB + "/drip")
    def drip() -> Response:
        def chunks() -> Iterator[bytes]:
            for _ in range(10):
                time.sleep(0.1)
                yield b"x"
        return Response(chunks(), mimetype="application/octet-stream")

    @app.route(STUB + "/slow")
    def slow() -> Response:
        time.sleep(1.0)
        return Response("late", mimetype="text/plain")

    @app.route(STUB + "/headers")
    def headers() -> Response:
        return Response("ok", content_type="application/x-custom", headers={
            "Cache-Control": "max-age=60", "Keep-Alive": "timeout=5", "Proxy-Authenticate": "Basic",
            "Set-Cookie": "session=upstream", "X-Upstream-Secret": "1", "Access-Control-Allow-Origin": "*"})


@pytest.fixture(scope="module")
def hits() -> Counter:
    """Requests received by the counting upstreams, by path."""
    return Counter()


def counted(app: Flask, hits: Counter) -> Flask:
    @app.after_request
    def count(response: Response) -> Response:
        hits[request.path] += 1
        return response
    return app


@pytest.fixture(scope="module")
def upstream(services, hits) -> Iterator[str]:
    app = Flask("counting_upstream")
    app.register_blueprint(create_blueprint(services), url_prefix="/arcgis")
    stub_routes(app)
    with serving(counted(app, hits)) as url:
        yield url


@pytest.fixture(scope="module")
def redirector(upstream, hits) -> Iterator[str]:
    """Answers everything with a 302 to the allowed service on the counting upstream."""
    app = Flask("redirector")
    app.add_url_rule("/<path:anything>", "moved", lambda anything: redirect(f"{upstream}{SERVICE}?f=json", 302))
    with serving(counted(app, hits)) as url:
        yield url


def generate_token(secure: str) -> str:
    form = {"username": USER, "password": PASSWORD, "client": "requestip", "f": "json"}
    return requests.post(secure + "/arcgis/tokens/generateToken", data=form, timeout=10).json()["token"]


@pytest.fixture
def operator_token(secure_url) -> str:
    """A token the operator obtained and put in the configuration (SampleElevation); made per
    test, because tests that move the server's clock make it prune older tokens."""
    return generate_token(secure_url)


@pytest.fixture
def entries(upstream, redirector, secure_url, operator_token) -> list[dict]:
    return [
        {"url": upstream + SERVICE},
        {"url": upstream + STUB, "token": STUB_TOKEN},
        {"url": redirector + MOVED},
        {"url": secure_url + SERVICE, "username": USER, "password": PASSWORD},
        {"url": secure_url + ELEVATION, "token": operator_token},
    ]


@pytest.fixture
def make_proxy(entries, tmp_path, token_clock) -> Callable[..., Flask]:
    """A fresh Flask app with the proxy installed (own cache folder); settings override the config."""
    def make(*, clock: Callable[[], float] = token_clock, prefix: str = "/", **settings) -> Flask:
        app = Flask("proxyhost")
        config = ProxyConfig.from_mapping({"services": entries, "cache_dir": str(tmp_path / "cache"), **settings})
        install(app, config, prefix=prefix, clock=clock)
        return app
    return make


@pytest.fixture
def proxy(make_proxy):
    return make_proxy().test_client()


def fetch(client, target: str, params: dict | None = None, method: str = "GET", **kwargs):
    """`<proxy>?<target>[?params]`, with the query string passed on exactly as written."""
    raw = target + ("?" + urlencode(params) if params else "")
    return client.open("/proxy", method=method, query_string=raw, **kwargs)


def direct(url: str, params: dict) -> requests.Response:
    return requests.get(url, params=params, timeout=10)


# -- operator tokens ------------------------------------------------------------------------------

def test_operator_token_opens_a_secure_service(proxy, secure_url, operator_token):
    assert direct(secure_url + ELEVATION, {"f": "json"}).json() == TOKEN_REQUIRED
    root = fetch(proxy, secure_url + ELEVATION, {"f": "json"})
    assert root.status_code == 200 and root.json["name"] == "SampleElevation"
    image = fetch(proxy, secure_url + ELEVATION + "/exportImage", {**EXPORT, "bandIds": ""})
    assert image.content_type == "image/png" and image.data.startswith(PNG)
    assert operator_token.encode() not in root.data


def test_username_and_password_sign_in_through_generate_token(proxy, secure_url):
    assert direct(secure_url + SERVICE + "/exportImage", EXPORT).json() == TOKEN_REQUIRED
    root = fetch(proxy, secure_url + SERVICE + "/", {"f": "json"})  # esri-leaflet's metadata URL
    assert root.status_code == 200 and root.json["name"] == "SampleMultispectral"
    image = fetch(proxy, secure_url + SERVICE + "/exportImage", EXPORT)
    assert image.status_code == 200 and image.data.startswith(PNG)
    # esri-leaflet POSTs long requests as forms; a token the browser sends is replaced.
    posted = fetch(proxy, secure_url + SERVICE + "/exportImage", method="POST", data={**EXPORT, "token": "browser"})
    assert posted.status_code == 200 and posted.data == image.data


def test_generated_token_is_renewed_before_it_expires(entries, secure_url, token_clock):
    entry = ProxyConfig.from_mapping({"services": entries}).services[3]
    source = TokenSource(entry, requests.Session(), ProxyConfig(services=[]), clock=token_clock)
    start = token_clock.now
    try:
        first = source.current()
        assert source.current() == first
        token_clock.now = start + TOKEN_MINUTES * 60 - RENEW_MARGIN - 1
        assert source.current() == first
        token_clock.now += 1
        second = source.current()
        assert second != first
        assert direct(secure_url + SERVICE, {"f": "json", "token": second}).json()["name"] == "SampleMultispectral"
    finally:
        token_clock.now = start


def test_token_called_invalid_is_renewed_and_the_request_retried(make_proxy, secure_url, token_clock):
    frozen = FakeClock(token_clock.now)  # the proxy's clock: it never sees the token age
    proxy = make_proxy(clock=frozen, cache_timeout=0).test_client()
    start = token_clock.now
    try:
        assert fetch(proxy, secure_url + SERVICE, {"f": "json"}).json["name"] == "SampleMultispectral"
        token_clock.now = start + 2 * TOKEN_MINUTES * 60  # the server now answers 498 to that token
        assert fetch(proxy, secure_url + SERVICE, {"f": "json"}).json["name"] == "SampleMultispectral"
    finally:
        token_clock.now = start


def test_a_fixed_token_the_server_refuses_passes_its_error_through(make_proxy, secure_url):
    proxy = make_proxy(services=[{"url": secure_url + ELEVATION, "token": "revoked"}]).test_client()
    answer = fetch(proxy, secure_url + ELEVATION, {"f": "json"})
    assert (answer.status_code, answer.json) == (200, INVALID_TOKEN)


def test_wrong_password_is_a_plain_502(make_proxy, secure_url):
    proxy = make_proxy(services=[{"url": secure_url + SERVICE, "username": USER, "password": "wrong"}]).test_client()
    answer = fetch(proxy, secure_url + SERVICE, {"f": "json"})
    assert answer.status_code == 502
    assert answer.json == {"error": {"code": 502, "message": "The proxy could not sign in to the server.",
                                     "details": ["Unable to generate token.", "Invalid username or password."]}}


def test_tokens_never_reach_the_browser_or_the_logs(make_proxy, secure_url, upstream, operator_token, caplog):
    caplog.set_level(logging.DEBUG)
    bodies = []
    # werkzeug's own request handler, so its unredacted access log line is what is checked.
    with serving(make_proxy(), request_handler=None) as base:
        def get(target: str, params: dict) -> requests.Response:
            answer = requests.get(f"{base}/proxy?{target}?{urlencode(params)}", timeout=10)
            assert answer.status_code == 200
            bodies.append(answer.content)
            return answer

        get(secure_url + ELEVATION, {"f": "json"})
        get(secure_url + SERVICE, {"f": "pjson"})
        get(secure_url + SERVICE, {"f": "html"})
        exported = get(secure_url + SERVICE + "/exportImage", {**EXPORT, "f": "json"}).json()
        bodies.append(requests.get(urljoin(base, exported["href"]), timeout=10).content)
        echoed = get(upstream + STUB + "/echo", {"f": "json"}).json()
        page = get(upstream + STUB + "/echo", {"f": "html"})
    # The stub saw the operator token; the browser sees only the mask.
    assert echoed["query"] == [["f", "json"], ["token", "***"]]
    assert page.text == '<a href="?token=***">next</a>'
    assert all(operator_token.encode() not in body and STUB_TOKEN.encode() not in body for body in bodies)
    assert not any(re.search(rb"token=(?!\*\*\*)", body) for body in bodies)
    logged = caplog.text
    assert f'"GET /proxy?{secure_url}{ELEVATION}?f=json HTTP/1.1" 200' in logged  # the access log line
    assert "token=***" in logged  # urllib3's debug lines, masked
    assert operator_token not in logged and STUB_TOKEN not in logged and PASSWORD not in logged
    assert not re.search(r"token=(?!\*\*\*)", logged)


def test_token_is_scrubbed_from_headers_and_binary_bodies(proxy, upstream, hits, tmp_path):
    sent = direct(upstream + STUB + "/exportImage", {"f": "image", "token": STUB_TOKEN})
    before = hits[STUB + "/exportImage"]
    for _ in range(2):  # from the server, then from the cache
        answer = fetch(proxy, upstream + STUB + "/exportImage", {"f": "image"})
        assert answer.status_code == 200
        assert not [value for value in answer.headers.values() if STUB_TOKEN in value]
        assert (answer.content_type, answer.headers["ETag"], answer.headers["Content-Disposition"]) == (
            "image/png; name=***.png", '"***"', 'inline; filename="***.png"')
        # A binary body keeps its length: only the token's bytes change.
        assert answer.data == sent.content.replace(STUB_TOKEN.encode(), b"*" * len(STUB_TOKEN))
    assert hits[STUB + "/exportImage"] == before + 1
    assert not any(STUB_TOKEN.encode() in path.read_bytes() for path in (tmp_path / "cache").iterdir())


def test_f_json_href_is_routed_through_the_proxy(proxy, secure_url):
    exported = fetch(proxy, secure_url + SERVICE + "/exportImage", {**EXPORT, "f": "json"})
    href = exported.json["href"]
    assert re.fullmatch(rf"/proxy\?{re.escape(secure_url)}/arcgis/rest/directories/arcgisoutput/"
                        r"SampleMultispectral_ImageServer/_ags_[0-9a-f]{32}\.png", href)
    assert exported.json["width"] == 32
    image = proxy.get(href)
    assert image.status_code == 200 and image.data.startswith(PNG)
    # esri-leaflet wraps the href in `proxy?` itself: the proxy unwraps its own prefix once.
    wrapped = proxy.get("/proxy?" + href)
    assert wrapped.status_code == 200 and wrapped.data == image.data


@pytest.mark.parametrize(("prefix", "settings", "own"), [
    ("/", {}, "/proxy"),
    ("/app/", {}, "/app/proxy"),
    ("/", {"public_url": "https://maps.example.org/team/"}, "https://maps.example.org/team/proxy"),
    ("/app/", {"public_url": "https://maps.example.org:8443"}, "https://maps.example.org:8443/proxy"),
])
def test_f_json_hrefs_never_follow_the_host_header(make_proxy, secure_url, prefix, settings, own):
    client = make_proxy(prefix=prefix, **settings).test_client()
    target = f"{secure_url}{SERVICE}/exportImage?{urlencode({**EXPORT, 'f': 'json'})}"
    exported = client.get(prefix + "proxy", query_string=target, headers={"Host": "evil.example"})
    href = exported.json["href"]
    assert href.startswith(f"{own}?{secure_url}/arcgis/rest/directories/arcgisoutput/")
    # The layer wraps the href in its own `proxy?`; the proxy takes one copy of its address off.
    image = client.get(prefix + "proxy", query_string=href)
    assert image.status_code == 200 and image.data.startswith(PNG)


# -- refusals -------------------------------------------------------------------------------------

TRICKS = [
    "{up}" + ELEVATION + "?f=json",  # same server, service not on the list
    "{up}/arcgis/rest/info?f=json",
    "{up}" + SERVICE + "X?f=json",
    "{up}" + SERVICE + "/../../SampleElevation/ImageServer?f=json",
    "{up}" + SERVICE + "/%2e%2e/%2e%2e/SampleElevation/ImageServer?f=json",
    "{up}" + SERVICE + "%2F..%2F..%2FSampleElevation%2FImageServer?f=json",
    "{up}" + SERVICE + "\\..\\..\\SampleElevation\\ImageServer?f=json",
    "{up}" + SERVICE + "/..;/..;/SampleElevation/ImageServer?f=json",
    "{up}" + SERVICE + "/%252e%252e/%252e%252e/SampleElevation/ImageServer?f=json",
    "http://localhost:{port}" + SERVICE + "?f=json",
    "http://127.0.0.1:{port}@127.0.0.1:{port}" + SERVICE + "?f=json",
    "http://x@127.0.0.1:{port}" + SERVICE + "?f=json",
    "http://%31%32%37.0.0.1:{port}" + SERVICE + "?f=json",
    "http://2130706433:{port}" + SERVICE + "?f=json",
    "http://127.1:{port}" + SERVICE + "?f=json",
    "http://127.0.0.1.:{port}" + SERVICE + "?f=json",
    "http://127.0.0.1:{port}\\@127.0.0.1:{port}" + SERVICE,
    "https://127.0.0.1:{port}" + SERVICE + "?f=json",
    "http://127.0.0.1:{other}" + SERVICE + "?f=json",
    "ftp://127.0.0.1:{port}" + SERVICE,
    "gopher://127.0.0.1:{port}/_GET%20/",
    "file:///etc/passwd",
    "javascript:alert(document.cookie)",
    "data:text/html,<script>alert(1)</script>",
    "http%3A%2F%2F127.0.0.1%3A{port}" + SERVICE.replace("/", "%2F"),
    "//127.0.0.1:{port}" + SERVICE,
    "",
]


@pytest.mark.parametrize("trick", TRICKS)
def test_tricks_are_refused_before_reaching_any_server(proxy, upstream, redirector, hits, trick):
    raw = trick.format(up=upstream, port=urlsplit(upstream).port, other=urlsplit(redirector).port)
    before = hits.total()
    answer = fetch(proxy, raw)
    assert answer.status_code == 403
    assert answer.json["error"]["code"] == 403
    assert answer.json["error"]["message"] == "The proxy refused this request."
    assert hits.total() == before


def test_json_post_bodies_are_refused(proxy, upstream, hits):
    before = hits.total()
    answer = fetch(proxy, upstream + SERVICE + "/exportImage", method="POST", json=EXPORT)
    assert answer.status_code == 403
    assert answer.json["error"]["details"] == [
        "Only form-encoded (application/x-www-form-urlencoded) POST bodies are forwarded."]
    assert hits.total() == before


def test_redirects_are_refused_not_followed(proxy, redirector, hits):
    before = hits[SERVICE]
    answer = fetch(proxy, redirector + MOVED, {"f": "json"})
    assert answer.status_code == 403
    assert answer.json["error"]["details"] == ["The server answered with a redirect, which the proxy does not follow."]
    assert "Location" not in answer.headers
    assert hits[MOVED] >= 1 and hits[SERVICE] == before


# -- limits ---------------------------------------------------------------------------------------

def test_size_cap_counts_exactly(make_proxy, upstream):
    def export(**settings):
        return fetch(make_proxy(cache_timeout=0, **settings).test_client(), upstream + SERVICE + "/exportImage", EXPORT)

    size = len(export().data)
    exact = export(max_bytes=size)
    assert exact.status_code == 200 and len(exact.data) == size
    over = export(max_bytes=size - 1)
    assert over.status_code == 502
    assert over.json["error"] == {"code": 502, "message": "The server's answer is larger than the proxy allows.",
                                  "details": [f"The limit is {size - 1} bytes."]}


def test_size_cap_without_content_length(make_proxy, upstream):
    fits = fetch(make_proxy(max_bytes=10_000).test_client(), upstream + STUB + "/chunked")
    assert fits.status_code == 200 and fits.data == b"x" * 10_000
    assert fetch(make_proxy(max_bytes=9_999).test_client(), upstream + STUB + "/chunked").status_code == 502


def test_time_limits(make_proxy, upstream):
    slow = fetch(make_proxy(read_timeout=0.2).test_client(), upstream + STUB + "/slow")
    assert (slow.status_code, slow.json["error"]["message"]) == (504, "The server took too long to answer.")
    drip = fetch(make_proxy(max_seconds=0.3).test_client(), upstream + STUB + "/drip")
    assert (drip.status_code, drip.json["error"]["message"]) == (504, "The server took too long to answer.")


def test_unreachable_server_is_a_plain_502(make_proxy):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}/arcgis/rest/services/Gone/ImageServer"
    answer = fetch(make_proxy(services=[{"url": closed}]).test_client(), closed, {"f": "json"})
    assert (answer.status_code, answer.json["error"]["message"]) == (502, "The server could not be reached.")


# -- passthrough ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "params"), [
    ("/exportImage", {**EXPORT, "bbox": "not,a,box"}),  # HTTP 200 + error JSON, even for f=image
    ("/noSuchOperation", {"f": "json"}),
    ("/identify", {**IDENTIFY, "geometry": "{"}),
])
def test_arcgis_errors_pass_through_unchanged_and_uncached(proxy, upstream, hits, path, params):
    expected = direct(upstream + SERVICE + path, params)
    before = hits[SERVICE + path]
    for _ in range(2):
        answer = fetch(proxy, upstream + SERVICE + path, params)
        assert (answer.status_code, answer.content_type, answer.data) == (
            200, expected.headers["Content-Type"], expected.content)
    assert hits[SERVICE + path] == before + 2


def test_headers_end_to_end_only(proxy, upstream):
    answer = fetch(proxy, upstream + STUB + "/headers")
    assert answer.content_type == "application/x-custom" and answer.data == b"ok"
    assert answer.headers["Cache-Control"] == "max-age=60"
    assert answer.headers["Content-Security-Policy"] == "sandbox"
    dropped = ("Keep-Alive", "Proxy-Authenticate", "Set-Cookie", "X-Upstream-Secret", "Access-Control-Allow-Origin")
    assert not [name for name in dropped if name in answer.headers]
    echoed = fetch(proxy, upstream + STUB + "/echo", {"f": "json"},
                   headers={"Cookie": "dash=session", "Authorization": "Bearer browser"}).json
    assert (echoed["cookie"], echoed["authorization"]) == (None, None)


def test_install_under_a_prefix(make_proxy, upstream):
    client = make_proxy(prefix="/app/").test_client()
    assert client.get("/app/proxy", query_string=f"{upstream}{SERVICE}?f=json").json["name"] == "SampleMultispectral"
    assert client.get("/proxy", query_string=f"{upstream}{SERVICE}?f=json").status_code == 404


# -- cache ----------------------------------------------------------------------------------------

def test_repeated_requests_are_served_from_the_cache(proxy, upstream, hits):
    for path, params in (("", {"f": "json"}), ("/exportImage", EXPORT), ("/identify", IDENTIFY)):
        before = hits[SERVICE + path]
        first = fetch(proxy, upstream + SERVICE + path, params)
        again = fetch(proxy, upstream + SERVICE + path, dict(reversed(params.items())))  # order does not matter
        assert first.status_code == again.status_code == 200 and first.data == again.data
        assert hits[SERVICE + path] == before + 1


def test_query_is_not_cached(proxy, upstream, hits):
    before = hits[SERVICE + "/query"]
    for _ in range(2):
        assert fetch(proxy, upstream + SERVICE + "/query", {"where": "1=1", "f": "json"}).status_code == 200
    assert hits[SERVICE + "/query"] == before + 2


@pytest.mark.parametrize("change", [
    {"bbox": "590000,4250000,620000,4280001"}, {"bboxSR": "102100"}, {"size": "32,33"}, {"format": "jpg"},
    {"bandIds": "0,1,2"}, {"f": "json"}, {"noData": "0"}, "POST",
])
def test_a_request_differing_in_one_parameter_reaches_the_server(proxy, upstream, hits, change):
    url = upstream + SERVICE + "/exportImage"
    before = hits[SERVICE + "/exportImage"]
    assert fetch(proxy, url, EXPORT).status_code == 200
    assert fetch(proxy, url, EXPORT).status_code == 200
    if change == "POST":
        assert fetch(proxy, url, method="POST", data=EXPORT).status_code == 200
    else:
        assert fetch(proxy, url, {**EXPORT, **change}).status_code == 200
    assert hits[SERVICE + "/exportImage"] == before + 2


def test_cached_files_hold_no_token(make_proxy, secure_url, operator_token, tmp_path):
    proxy = make_proxy().test_client()
    assert fetch(proxy, secure_url + ELEVATION, {"f": "json"}).status_code == 200
    assert fetch(proxy, secure_url + ELEVATION + "/identify", IDENTIFY).status_code == 200
    stored = [path.read_bytes() for path in (tmp_path / "cache").iterdir()]
    assert len(stored) >= 2
    assert not any(operator_token.encode() in data for data in stored)


def test_a_failing_redis_cache_is_skipped(make_proxy, upstream, hits):
    proxy = make_proxy(redis_url="redis://127.0.0.1:1/0").test_client()
    before = hits[SERVICE]
    for _ in range(2):
        assert fetch(proxy, upstream + SERVICE, {"f": "json"}).json["name"] == "SampleMultispectral"
    assert hits[SERVICE] == before + 2
