"""Token security of the embedded ImageServer: generateToken (POST only), 499/498 on every path,
expiry, tokens bound to their client, failed sign-ins slowed down, and that tokens and passwords
never reach the logs. Over real HTTP on 127.0.0.1, and through Flask's test client where a request
must come from another address."""

from __future__ import annotations

import http.client
import json
import logging
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from imageservice.server import tokens
from imageservice.server.args import Args
from imageservice.server.errors import ArcGISError, InvalidToken, TokenRequired
from imageservice.server.server import create_blueprint
from imageservice.server.tokens import Caller, Security, request_token
from server_fixtures import (  # noqa: F401  (pytest fixtures)
    TOKEN_MINUTES,
    USERS,
    FakeClock,
    sample_root,
    secure_url,
    server_url,
    services,
    token_clock,
)

SERVICE = "/arcgis/rest/services/SampleMultispectral/ImageServer"
USER, PASSWORD = next(iter(USERS.items()))
TOKEN_REQUIRED = {"error": {"code": 499, "message": "Token Required", "details": []}}
INVALID_TOKEN = {"error": {"code": 498, "message": "Invalid Token", "details": []}}
BAD_CREDENTIALS = {"error": {"code": 400, "message": "Unable to generate token.",
                             "details": ["Invalid username or password."]}}
POST_ONLY = {"error": {"code": 405, "message": "Method not supported.",
                       "details": ["generateToken takes a POST request with the username and password in its body."]}}
HERE = Caller("127.0.0.1")


def generate(base: str, **params: str) -> dict:
    form = {"username": USER, "password": PASSWORD, "client": "requestip", "f": "json", **params}
    response = requests.post(base + "/arcgis/tokens/generateToken", data=form, timeout=10)
    assert response.status_code == 200
    return response.json()


def root_json(base: str, **kwargs) -> dict:
    params = {"f": "json", **kwargs.pop("params", {})}
    response = requests.get(base + SERVICE, params=params, timeout=10, **kwargs)
    assert response.status_code == 200
    return response.json()


# -- Security and request_token on their own ---------------------------------------------------

def test_tokens_are_random_and_checked():
    clock = FakeClock(1000.0)
    security = Security({"a": "b"}, token_minutes=10, clock=clock)
    first = security.generate_token(Args({"username": "a", "password": "b"}), HERE)
    second = security.generate_token(Args({"username": "a", "password": "b"}), HERE)
    assert first["token"] != second["token"] and len(first["token"]) >= 40
    assert first == {"token": first["token"], "expires": 1_600_000, "ssl": False}
    security.check(first["token"], HERE)
    with pytest.raises(TokenRequired):
        security.check(None, HERE)
    with pytest.raises(InvalidToken):
        security.check(first["token"] + "x", HERE)
    clock.now = 1599.0
    security.check(first["token"], HERE)
    clock.now = 1600.0
    with pytest.raises(InvalidToken):
        security.check(first["token"], HERE)


def checked(security: Security, token: str, caller: Caller) -> bool:
    try:
        security.check(token, caller)
    except InvalidToken:
        return False
    return True


def test_tokens_are_bound_to_their_client():
    security = Security({"a": "b"}, clock=FakeClock())
    credentials = {"username": "a", "password": "b"}
    by_address = security.generate_token(Args(credentials), Caller("10.0.0.5"))["token"]
    assert checked(security, by_address, Caller("10.0.0.5", "http://anything/"))
    assert not checked(security, by_address, Caller("10.0.0.6"))
    referer = {"client": "referer", "referer": "https://maps.example.org/app/"}
    app = security.generate_token(Args({**credentials, **referer}), Caller("10.0.0.5"))["token"]
    assert checked(security, app, Caller("10.0.0.9", "https://maps.example.org/app/page?x=1"))
    assert checked(security, app, Caller("10.0.0.9", "https://MAPS.example.org/"))
    for referer in (None, "", "https://maps.example.org.evil.net/app/", "https://maps.example.org:8443/app/", "maps"):
        assert not checked(security, app, Caller("10.0.0.5", referer)), referer
    bare_host = security.generate_token(Args({**credentials, "client": "referer", "referer": "localhost:8050"}),
                                        HERE)["token"]
    assert checked(security, bare_host, Caller("10.0.0.9", "http://localhost:8050/"))
    named = security.generate_token(Args({**credentials, "client": "ip", "ip": "::0:1"}), Caller("10.0.0.5"))["token"]
    assert checked(security, named, Caller("::1")) and not checked(security, named, Caller("10.0.0.5"))


@pytest.mark.parametrize("form, detail", [
    ({"client": "ip"}, "'ip' parameter is required when client is ip."),
    ({"client": "referer"}, "'referer' parameter is required when client is referer."),
    ({"expiration": "inf"}, "'expiration' parameter must be a finite number."),
    ({"expiration": "soon"}, "'expiration' parameter must be a finite number."),
    ({"expiration": "-5"}, "'expiration' parameter is invalid: at least 1 minute."),
    ({"expiration": "0"}, "'expiration' parameter is invalid: at least 1 minute."),
])
def test_bad_token_parameters_are_400(form, detail):
    security = Security({"a": "b"}, clock=FakeClock())
    with pytest.raises(ArcGISError) as caught:
        security.generate_token(Args({"username": "a", "password": "b", **form}), HERE)
    assert (caught.value.code, caught.value.details) == (400, [detail])


def sign_in(security: Security, password: str, caller: Caller = HERE, username: str = "a") -> int:
    """The code generateToken answers (200 for a token)."""
    try:
        security.generate_token(Args({"username": username, "password": password}), caller)
    except ArcGISError as error:
        return error.code
    return 200


def test_failed_sign_ins_lock_the_user_for_growing_times():
    clock = FakeClock(0.0)
    security = Security({"a": "b"}, clock=clock)
    assert [sign_in(security, "guess") for _ in range(tokens.FREE_FAILURES)] == [400] * tokens.FREE_FAILURES
    assert sign_in(security, "guess") == 400                   # the first failure past the free ones: locked 1 s
    assert sign_in(security, "b") == 429                       # even the right password, while locked
    for lock in (1.0, 2.0, 4.0, 8.0):
        clock.now += lock - 0.01
        assert sign_in(security, "guess", Caller(f"10.1.0.{int(lock)}")) == 429, lock
        clock.now += 0.01
        assert sign_in(security, "guess", Caller(f"10.2.0.{int(lock)}")) == 400, lock   # counted: the lock doubles
    clock.now += 16.0
    assert sign_in(security, "b") == 200                       # a success clears the count
    assert sign_in(security, "guess") == 400 and sign_in(security, "b") == 200


def test_failed_sign_ins_lock_the_address_for_every_user():
    clock = FakeClock(0.0)
    security = Security({"a": "b", "c": "d"}, clock=clock)
    for attempt in range(tokens.FREE_FAILURES + 1):
        assert sign_in(security, "x", username=f"user{attempt}") == 400
    assert sign_in(security, "d", username="c") == 429         # same address, another user
    assert sign_in(security, "d", Caller("10.0.0.7"), username="c") == 200
    with pytest.raises(ArcGISError) as caught:
        security.failures.check("c", "127.0.0.1")
    assert caught.value.details == ["Too many failed attempts: try again in 1 seconds."]


def test_locks_never_exceed_the_maximum_and_are_forgotten():
    clock = FakeClock(0.0)
    security = Security({"a": "b"}, clock=clock)
    for _ in range(tokens.FREE_FAILURES + 40):
        security.failures.record("a", "127.0.0.1")
    with pytest.raises(ArcGISError) as caught:
        security.failures.check("a", "127.0.0.1")
    assert caught.value.details == [f"Too many failed attempts: try again in {tokens.LOCK_MAX_SECONDS:.0f} seconds."]
    clock.now += tokens.FORGET_SECONDS
    security.failures.record("other", "10.9.9.9")              # forgetting happens as failures come in
    assert len(security.failures) == 2


def test_failure_counts_use_bounded_memory(monkeypatch):
    monkeypatch.setattr(tokens, "MAX_TRACKED", 50)
    security = Security({"a": "b"}, clock=FakeClock(0.0))
    for attempt in range(500):
        security.failures.record(f"user{attempt}", "127.0.0.1")
    assert len(security.failures) == 50
    with pytest.raises(ArcGISError):                            # the address, failing all along, is kept
        security.failures.check("someone", "127.0.0.1")


def test_request_token_sources():
    assert request_token(Args({"token": "p"}), {"Authorization": "Bearer h"}) == "p"
    assert request_token(Args({}), {"X-Esri-Authorization": "Bearer x1"}) == "x1"
    assert request_token(Args({}), {"Authorization": "bearer  a1 "}) == "a1"
    assert request_token(Args({}), {"Authorization": "Basic dXNlcjpwdw=="}) is None
    assert request_token(Args({"token": ""}), {}) is None


# -- over HTTP -----------------------------------------------------------------------------------

def test_info_advertises_token_security(secure_url, server_url):
    info = requests.get(secure_url + "/arcgis/rest/info", params={"f": "json"}, timeout=10).json()
    assert info == {"currentVersion": 11.1, "fullVersion": "11.1.0", "authInfo": {
        "isTokenBasedSecurity": True,
        "tokenServicesUrl": secure_url + "/arcgis/tokens/generateToken",
        "shortLivedTokenValidity": TOKEN_MINUTES}}
    open_info = requests.get(server_url + "/arcgis/rest/info", params={"f": "json"}, timeout=10).json()
    assert open_info["authInfo"] == {"isTokenBasedSecurity": False}


def test_generate_token_by_post(secure_url, token_clock):
    answer = generate(secure_url)
    assert set(answer) == {"token", "expires", "ssl"}
    assert answer["expires"] == int((token_clock.now + TOKEN_MINUTES * 60) * 1000)
    assert answer["ssl"] is False
    other = generate(secure_url, client="referer", referer="http://localhost/app", expiration="5")
    assert other["expires"] == int((token_clock.now + 300) * 1000)
    assert other["token"] != answer["token"]


def test_generate_token_refuses_get_and_credentials_in_the_url(secure_url, server_url):
    address = secure_url + "/arcgis/tokens/generateToken"
    credentials = {"username": USER, "password": PASSWORD, "f": "json"}
    assert requests.get(address, params=credentials, timeout=10).json() == POST_ONLY
    assert requests.get(address, params={"f": "json"}, timeout=10).json() == POST_ONLY
    assert requests.post(address, params=credentials, timeout=10).json() == POST_ONLY
    assert requests.post(address + "?f=json&%70assword=x", data=credentials, timeout=10).json() == POST_ONLY
    assert requests.get(server_url + "/arcgis/tokens/generateToken", params=credentials, timeout=10).json() == POST_ONLY


def secure_client(services: dict) -> FlaskClient:
    """Flask's test client for a secured server of its own (so its locks and tokens stay its own);
    a request can come from any address through `environ_base`."""
    app = Flask("secure_test_client")
    security = Security(USERS, clock=FakeClock())
    app.register_blueprint(create_blueprint(services, security=security), url_prefix="/arcgis")
    return app.test_client()


def test_tokens_are_bound_over_http(services):
    """A token is checked against the address and Referer of each request."""
    client = secure_client(services)

    def token_from(address: str, **form: str) -> str:
        answer = client.post("/arcgis/tokens/generateToken", environ_base={"REMOTE_ADDR": address},
                             data={"username": USER, "password": PASSWORD, "f": "json", **form})
        return answer.get_json()["token"]

    def root(token: str, address: str, referer: str | None = None) -> dict:
        headers = {"Referer": referer} if referer else {}
        return client.get(SERVICE, query_string={"f": "json", "token": token}, headers=headers,
                          environ_base={"REMOTE_ADDR": address}).get_json()

    requestip = token_from("10.0.0.5")
    assert root(requestip, "10.0.0.5")["name"] == "SampleMultispectral"
    assert root(requestip, "10.0.0.6") == INVALID_TOKEN
    referer = token_from("10.0.0.5", client="referer", referer="https://maps.example.org/app")
    assert root(referer, "10.0.0.8", "https://maps.example.org/app/view")["name"] == "SampleMultispectral"
    assert root(referer, "10.0.0.5") == INVALID_TOKEN
    assert root(referer, "10.0.0.5", "https://elsewhere.example.org/") == INVALID_TOKEN


def test_wrong_passwords_over_http_end_in_a_lock(services):
    client = secure_client(services)
    answers = [client.post("/arcgis/tokens/generateToken",
                           data={"username": USER, "password": f"guess{n}", "f": "json"}).get_json()
               for n in range(tokens.FREE_FAILURES + 2)]
    assert answers[:-1] == [BAD_CREDENTIALS] * (tokens.FREE_FAILURES + 1)
    assert answers[-1] == {"error": {"code": 429, "message": "Unable to generate token.",
                                     "details": ["Too many failed attempts: try again in 1 seconds."]}}


def test_generate_token_caps_expiration(secure_url, token_clock):
    answer = generate(secure_url, expiration="100000")
    assert answer["expires"] == int((token_clock.now + TOKEN_MINUTES * 60) * 1000)


@pytest.mark.parametrize("username, password", [(USER, "wrong"), ("nobody", PASSWORD), (USER, ""), ("", "")])
def test_generate_token_rejects_bad_credentials(secure_url, username, password):
    assert generate(secure_url, username=username, password=password) == BAD_CREDENTIALS


def test_generate_token_rejects_unknown_client(secure_url):
    assert generate(secure_url, client="cookie")["error"]["details"] == ["'client' parameter is invalid."]


def test_generate_token_without_security(server_url):
    answer = generate(server_url)
    assert answer == {"error": {"code": 400, "message": "Unable to generate token.",
                                "details": ["Token based security is not enabled."]}}


def test_missing_token_is_499_on_every_service_path(secure_url):
    assert root_json(secure_url) == TOKEN_REQUIRED
    for operation, params in [
        ("exportImage", {"bbox": "0,0,1,1", "f": "image"}),
        ("identify", {"geometry": "0,0", "f": "json"}),
        ("query", {"where": "1=1", "f": "json"}),
        ("keyProperties", {"f": "json"}),
        ("computeHistograms", {"f": "json"}),
        ("getSamples", {"f": "json"}),
        ("nosuchop", {"f": "json"}),
    ]:
        response = requests.get(f"{secure_url}{SERVICE}/{operation}", params=params, timeout=10)
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("application/json")
        assert response.json() == TOKEN_REQUIRED, operation
    posted = requests.post(secure_url + SERVICE + "/identify", data={"geometry": "0,0", "f": "json"}, timeout=10)
    assert posted.json() == TOKEN_REQUIRED


def test_unknown_token_is_498(secure_url):
    assert root_json(secure_url, params={"token": "not-a-token"}) == INVALID_TOKEN
    assert root_json(secure_url, headers={"X-Esri-Authorization": "Bearer forged"}) == INVALID_TOKEN


def test_token_accepted_from_parameter_and_headers(secure_url):
    token = generate(secure_url)["token"]
    assert root_json(secure_url, params={"token": token})["name"] == "SampleMultispectral"
    assert root_json(secure_url, headers={"X-Esri-Authorization": f"Bearer {token}"})["name"] == "SampleMultispectral"
    assert root_json(secure_url, headers={"Authorization": f"Bearer {token}"})["name"] == "SampleMultispectral"
    posted = requests.post(secure_url + SERVICE, data={"f": "json", "token": token}, timeout=10).json()
    assert posted["name"] == "SampleMultispectral"


def test_token_expires(secure_url, token_clock):
    token = generate(secure_url, expiration="2")["token"]
    start = token_clock.now
    try:
        token_clock.now = start + 119
        assert root_json(secure_url, params={"token": token})["name"] == "SampleMultispectral"
        token_clock.now = start + 120
        assert root_json(secure_url, params={"token": token}) == INVALID_TOKEN
    finally:
        token_clock.now = start


def test_directory_and_info_stay_open(secure_url):
    listing = requests.get(secure_url + "/arcgis/rest/services", params={"f": "json"}, timeout=10).json()
    assert [s["name"] for s in listing["services"]] == [
        "SampleElevation", "SampleLandCover", "SampleMultispectral", "SampleOceanCube", "SampleWind"]


def test_f_json_href_accepts_trailing_token(secure_url):
    token = generate(secure_url)["token"]
    exported = requests.get(secure_url + SERVICE + "/exportImage", timeout=10, params={
        "f": "json", "format": "png", "size": "20,20", "token": token}).json()
    image = requests.get(exported["href"] + "?token=" + token, timeout=10)
    assert image.headers["Content-Type"] == "image/png"
    assert image.content.startswith(b"\x89PNG")


def server_log(caplog: pytest.LogCaptureFixture) -> str:
    server_side = [r for r in caplog.records if not r.name.startswith("urllib3")]   # the test's own client
    return "\n".join(record.getMessage() for record in server_side)


def test_secrets_never_logged(secure_url, caplog):
    caplog.set_level(logging.DEBUG)
    token = generate(secure_url)["token"]
    requests.get(secure_url + "/arcgis/tokens/generateToken", timeout=10,
                 params={"username": USER, "password": PASSWORD, "f": "json"})
    root_json(secure_url, params={"token": token})
    root_json(secure_url, headers={"X-Esri-Authorization": f"Bearer {token}"})
    logged = server_log(caplog)
    assert "token=***" in logged
    assert token not in logged and PASSWORD not in logged


def raw_get(base: str, target: str) -> dict:
    """GET `target` exactly as written (requests would decode `%74` to `t` before sending)."""
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request("GET", target)
        return json.loads(connection.getresponse().read())
    finally:
        connection.close()


def test_secrets_under_encoded_names_never_logged(secure_url, caplog):
    """The server accepts `%74oken` as `token` (and ` TOKEN`): the log masks what it parsed."""
    caplog.set_level(logging.DEBUG)
    token = generate(secure_url)["token"]
    for name in ("%74oken", "%20TOKEN", "toke%6E"):
        assert raw_get(secure_url, f"{SERVICE}?f=json&{name}={token}")["name"] == "SampleMultispectral"
    assert raw_get(secure_url, f"/arcgis/tokens/generateToken?f=json&username={USER}&pass%77ord={PASSWORD}") == \
        POST_ONLY
    logged = server_log(caplog)
    assert token not in logged and PASSWORD not in logged
    assert logged.count("token=***") == 2 and "TOKEN=***" in logged and "password=***" in logged
