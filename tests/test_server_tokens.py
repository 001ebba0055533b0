"""Token security of the embedded ImageServer: generateToken, 499/498 on every path, expiry, and
that tokens and passwords never reach the logs. Over real HTTP on 127.0.0.1."""

from __future__ import annotations

import logging

import pytest
import requests

from imageservice.server.args import Args
from imageservice.server.errors import InvalidToken, TokenRequired
from imageservice.server.tokens import Security, request_token
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
    first = security.generate_token(Args({"username": "a", "password": "b"}))
    second = security.generate_token(Args({"username": "a", "password": "b"}))
    assert first["token"] != second["token"] and len(first["token"]) >= 40
    assert first == {"token": first["token"], "expires": 1_600_000, "ssl": False}
    security.check(first["token"])
    with pytest.raises(TokenRequired):
        security.check(None)
    with pytest.raises(InvalidToken):
        security.check(first["token"] + "x")
    clock.now = 1599.0
    security.check(first["token"])
    clock.now = 1600.0
    with pytest.raises(InvalidToken):
        security.check(first["token"])


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


def test_generate_token_post_and_get(secure_url, token_clock):
    answer = generate(secure_url)
    assert set(answer) == {"token", "expires", "ssl"}
    assert answer["expires"] == int((token_clock.now + TOKEN_MINUTES * 60) * 1000)
    assert answer["ssl"] is False
    got = requests.get(secure_url + "/arcgis/tokens/generateToken", timeout=10, params={
        "username": USER, "password": PASSWORD, "client": "referer", "referer": "http://localhost/app",
        "expiration": "5", "f": "json"}).json()
    assert got["expires"] == int((token_clock.now + 300) * 1000)
    assert got["token"] != answer["token"]


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
    assert [s["name"] for s in listing["services"]] == ["SampleElevation", "SampleMultispectral"]


def test_f_json_href_accepts_trailing_token(secure_url):
    token = generate(secure_url)["token"]
    exported = requests.get(secure_url + SERVICE + "/exportImage", timeout=10, params={
        "f": "json", "format": "png", "size": "20,20", "token": token}).json()
    image = requests.get(exported["href"] + "?token=" + token, timeout=10)
    assert image.headers["Content-Type"] == "image/png"
    assert image.content.startswith(b"\x89PNG")


def test_secrets_never_logged(secure_url, caplog):
    caplog.set_level(logging.DEBUG)
    token = generate(secure_url)["token"]
    requests.get(secure_url + "/arcgis/tokens/generateToken", timeout=10,
                 params={"username": USER, "password": PASSWORD, "f": "json"})
    root_json(secure_url, params={"token": token})
    root_json(secure_url, headers={"X-Esri-Authorization": f"Bearer {token}"})
    server_side = [r for r in caplog.records if not r.name.startswith("urllib3")]   # the test's own client
    logged = "\n".join(record.getMessage() for record in server_side)
    assert "token=***" in logged
    assert token not in logged and PASSWORD not in logged
