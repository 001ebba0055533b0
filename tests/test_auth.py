"""imageservice.auth (token service discovery, generateToken, renewal times) and the client's
498/499 handling, against the token-secured embedded server on 127.0.0.1."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest
import requests
from flask import Flask, redirect

from imageservice.auth import (
    NoTokenService,
    SignInError,
    SignInRefused,
    Token,
    check_token_service,
    discover_token_service,
    info_url,
    parse_token,
    server_root,
    sign_in,
    token_form,
    token_services_url,
)
from imageservice.client import ImageServiceClient
from imageservice.errors import AuthenticationRequired, ServiceUnreachable
from server_fixtures import (  # noqa: F401  (pytest fixtures)
    TOKEN_MINUTES,
    USERS,
    sample_root,
    secure_url,
    server_url,
    serving,
    services,
    token_clock,
)

SERVICE = "/arcgis/rest/services/SampleMultispectral/ImageServer"
USER, PASSWORD = next(iter(USERS.items()))
REFUSED = "The server refused the sign-in: Unable to generate token. Invalid username or password."
POINT = json.dumps({"x": -121.75, "y": 38.55, "spatialReference": {"wkid": 4326}})
IDENTIFY = {"geometry": POINT, "geometryType": "esriGeometryPoint", "returnGeometry": False}


# -- pure functions ---------------------------------------------------------------------------------

@pytest.mark.parametrize("url, root", [
    ("https://img.example.com/arcgis/rest/services/Landsat/ImageServer", "https://img.example.com/arcgis"),
    ("https://GIS.example.org:8443/server/rest/services/Folder/Ortho/ImageServer/?token=x",
     "https://gis.example.org:8443/server"),
    ("http://h/Rest/Services/X/ImageServer", "http://h"),
    ("http://h/elsewhere/X/ImageServer", "http://h/arcgis"),
])
def test_server_root(url, root):
    assert server_root(url) == root
    assert info_url(url) == root + "/rest/info"


def test_token_services_url_is_read_and_made_absolute():
    info = {"authInfo": {"isTokenBasedSecurity": True, "tokenServicesUrl": "https://h/portal/sharing/generateToken"}}
    assert token_services_url(info, "http://h/arcgis/rest/info") == "https://h/portal/sharing/generateToken"
    relative = {"authInfo": {"tokenServicesUrl": "/arcgis/tokens/generateToken"}}
    assert token_services_url(relative, "http://h:81/arcgis/rest/info") == "http://h:81/arcgis/tokens/generateToken"
    for info in ({"authInfo": {"isTokenBasedSecurity": False}}, {}, [], {"authInfo": {"tokenServicesUrl": " "}}):
        with pytest.raises(NoTokenService) as caught:
            token_services_url(info, "http://h:81/arcgis/rest/info")
        assert str(caught.value) == "h:81 does not offer a token sign-in (its rest/info names no token service)."
        assert caught.value.reasons == ["The server does not advertise a token service."]


def test_the_password_goes_only_to_the_same_origin_or_https():
    service = "http://h/arcgis/rest/services/X/ImageServer"
    check_token_service("http://h/arcgis/tokens/generateToken", service)
    check_token_service("http://h:80/arcgis/tokens/generateToken", service)
    check_token_service("https://login.example.com/sharing/generateToken", service)
    with pytest.raises(SignInError) as caught:
        check_token_service("http://login.example.com/generateToken", service)
    assert str(caught.value) == ("The token service login.example.com is on another server and not on https: "
                                 "the password is not sent there.")
    with pytest.raises(SignInError) as caught:
        check_token_service("http://h:8080/arcgis/tokens/generateToken", service)
    assert caught.value.reasons == ["The token service is on another origin and not on https."]
    with pytest.raises(SignInError) as caught:
        check_token_service("ftp://h/generateToken", service)
    assert caught.value.reasons == ["The token service URL is not usable."]


def test_token_form():
    assert token_form("u", "p", minutes=5) == {"username": "u", "password": "p", "client": "requestip",
                                               "expiration": "5", "f": "json"}


def test_parse_token():
    assert parse_token({"token": "abc", "expires": 1_700_000_060_000, "ssl": False}) == Token("abc", 1_700_000_060.0)
    assert parse_token({"token": "abc"}) == Token("abc", None)
    with pytest.raises(SignInRefused) as caught:
        parse_token({"error": {"code": 400, "message": "Unable to generate token.",
                               "details": ["Invalid username or password."]}})
    assert str(caught.value) == REFUSED
    assert caught.value.reasons == ["Unable to generate token.", "Invalid username or password."]
    with pytest.raises(SignInRefused, match=r"^The server refused the sign-in: Error code 403\.$"):
        parse_token({"error": {"code": 403}})
    for body in (None, [], {"token": ""}, {"expires": 5}):
        with pytest.raises(SignInError) as caught:
            parse_token(body)
        assert caught.value.reasons == ["generateToken gave no token."]


def test_renewal_two_minutes_before_expiry_or_halfway():
    token = Token("t", 10_000.0)
    assert token.renew_at(now=0.0) == 9_880.0
    assert token.renew_at(now=9_900.0) == 9_950.0  # 100 s left: renew halfway
    assert token.renew_at(now=20_000.0) == 10_000.0  # already expired: at once
    assert Token("t").renew_at(now=0.0) is None
    assert "t" not in repr(Token("secret-value", 1.0))


# -- against the secured embedded server --------------------------------------------------------------

def test_the_token_service_is_discovered_from_rest_info(secure_url):
    found = discover_token_service(requests.Session(), secure_url + SERVICE)
    assert found == secure_url + "/arcgis/tokens/generateToken"


def test_sign_in_gives_a_token_the_service_accepts(secure_url, token_clock):
    token = sign_in(requests.Session(), secure_url + SERVICE, USER, PASSWORD)
    assert token.expires == token_clock.now + TOKEN_MINUTES * 60
    root = requests.get(secure_url + SERVICE, params={"f": "json", "token": token.value}, timeout=10).json()
    assert root["name"] == "SampleMultispectral"


def test_a_wrong_password_is_refused_in_the_servers_words(secure_url):
    with pytest.raises(SignInRefused) as caught:
        sign_in(requests.Session(), secure_url + SERVICE, USER, "wrong")
    assert str(caught.value) == REFUSED


def test_a_server_without_token_security_says_so(server_url):
    with pytest.raises(NoTokenService) as caught:
        sign_in(requests.Session(), server_url + SERVICE, USER, PASSWORD)
    host = server_url.split("//")[1]
    assert str(caught.value) == f"{host} does not offer a token sign-in (its rest/info names no token service)."


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_server_says_so():
    port = free_port()
    with pytest.raises(ServiceUnreachable) as caught:
        sign_in(requests.Session(), f"http://127.0.0.1:{port}{SERVICE}", USER, PASSWORD, timeout=5)
    assert str(caught.value) == f"Could not connect to 127.0.0.1:{port} to sign in."


@pytest.fixture(scope="module")
def redirecting_url() -> Iterator[str]:
    """A server whose rest/info is fine but whose token service redirects (the POST must not follow)."""
    app = Flask("redirecting")
    app.add_url_rule("/arcgis/rest/info", "info", lambda: {"authInfo": {"tokenServicesUrl": "/arcgis/tokens/gen"}})
    app.add_url_rule("/arcgis/tokens/gen", "gen", lambda: redirect("https://elsewhere.example.com/gen", 307),
                     methods=["POST"])
    with serving(app) as url:
        yield url


def test_a_redirect_is_not_followed_with_the_password(redirecting_url):
    with pytest.raises(SignInError) as caught:
        sign_in(requests.Session(), redirecting_url + SERVICE, USER, PASSWORD)
    host = redirecting_url.split("//")[1]
    assert str(caught.value) == (f"{host} answered the sign-in with a redirect to https://elsewhere.example.com/gen, "
                                 "which is not followed: use the service's address as the server gives it.")


# -- the client: 499, 498, authenticate() and the replayed requests ------------------------------------

def test_499_without_a_token_and_498_with_a_bad_one(secure_url):
    with pytest.raises(AuthenticationRequired) as caught:
        ImageServiceClient(secure_url + SERVICE).metadata()
    assert (caught.value.code, caught.value.message) == (499, "Token Required")
    with pytest.raises(AuthenticationRequired) as caught:
        ImageServiceClient(secure_url + SERVICE, token="not-a-token").metadata()
    assert (caught.value.code, caught.value.message) == (498, "Invalid Token")


def test_requests_refused_for_want_of_a_token_run_again_after_authenticate(secure_url):
    events: list[dict] = []
    client = ImageServiceClient(secure_url + SERVICE, on_event=events.append)
    for call in (client.metadata, lambda: client.identify(IDENTIFY), lambda: client.query({"where": "1=1"})):
        with pytest.raises(AuthenticationRequired):
            call()
    assert [e["type"] for e in events].count("authenticationrequired") == 3
    token = sign_in(requests.Session(), secure_url + SERVICE, USER, PASSWORD)
    metadata, identified, queried = client.authenticate(token.value)
    assert metadata["name"] == "SampleMultispectral"
    assert identified["name"] == "Pixel" and identified["value"] != "NoData"
    assert len(queried["features"]) == 14
    assert client.authenticate(token.value) == []  # nothing is left pending
    assert client.metadata()["name"] == "SampleMultispectral"
