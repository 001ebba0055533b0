"""The dashboard's sign-in callbacks as plain functions, against the token-secured embedded server."""

from __future__ import annotations

import pytest
from dash import no_update

from callbacks.auth import (
    MAX_TIMER_MS,
    NO_SERVICE,
    RETRY_MS,
    apply_session,
    auth_code,
    panel_state,
    prompt_for_event,
    prompt_reason,
    renewal_timer,
    renewed,
    sign_in_status,
    sign_in_target,
    signed_in,
    token_for,
    token_session,
    update_session,
)
from callbacks.service import image_status, open_service, proxy_for
from callbacks.urlstate import to_query
from components import ids
from components.authpanel import CLOSED_PROMPT
from imageservice.params import LayerParams
from imageservice.proxy import ProxyConfig
from server_fixtures import (  # noqa: F401  (pytest fixtures)
    TOKEN_MINUTES,
    USERS,
    sample_root,
    secure_url,
    services,
    token_clock,
)
from test_auth import REFUSED, SERVICE, free_port

USER, PASSWORD = next(iter(USERS.items()))
ELSEWHERE = "https://img.example.com/arcgis/rest/services/Landsat/ImageServer/"
NEEDS_SIGN_IN = "This service needs a sign-in: use “Sign in” at the top right."
REFUSED_TOKEN = "The token was refused (invalid or expired): sign in again with “Sign in” at the top right."


def service(secure_url: str) -> str:
    return secure_url + SERVICE + "/"


def layer_params(url: str, **options) -> dict:
    return LayerParams(url=url, **options).to_dict()


@pytest.fixture
def session(secure_url, token_clock) -> dict:
    """A username/password sign-in made at the server's (fake) time."""
    made, error = signed_in({"username": USER, "password": PASSWORD}, service(secure_url), token_clock.now)
    assert error == ""
    return made


# -- reading sessions and errors ----------------------------------------------------------------------

def test_a_token_is_used_only_on_the_server_it_was_issued_for():
    session = {"token": "t", "service": "http://h:81/arcgis/rest/services/A/ImageServer/"}
    assert token_for(session, "http://h:81/arcgis/rest/services/B/ImageServer/") == "t"
    assert token_for(session, "http://h:82/arcgis/rest/services/A/ImageServer/") is None
    assert token_for(session, "http://h:81/server/rest/services/A/ImageServer/") is None
    assert token_for(session, "https://h:81/arcgis/rest/services/A/ImageServer/") is None
    assert token_for(None, "http://h:81/arcgis/rest/services/A/ImageServer/") is None
    assert token_for(session, None) is None


def test_auth_errors_are_recognised_by_their_code():
    assert auth_code("Token Required (code 499)") == 499
    assert auth_code("Invalid Token (code 498): expired") == 498
    assert auth_code("Invalid or missing input parameters. (code 400): bad bandIds") is None
    assert auth_code(None) is None
    assert sign_in_status(499) == NEEDS_SIGN_IN
    assert sign_in_status(498) == REFUSED_TOKEN
    assert prompt_reason({"open": True, "code": 499}) == "This service needs a sign-in."
    assert prompt_reason({"open": True, "code": 498}) == ("The token was refused (invalid or expired). "
                                                          "Sign in again or use another token.")
    assert prompt_reason(CLOSED_PROMPT) == ""


def test_the_sign_in_goes_to_the_service_that_asked_else_the_layers():
    asked = {**CLOSED_PROMPT, "open": True, "pending": "open", "url": "http://a/arcgis/rest/services/A/ImageServer/"}
    params = layer_params("http://b/arcgis/rest/services/B/ImageServer")
    assert sign_in_target(asked, params) == asked["url"]
    assert sign_in_target(CLOSED_PROMPT, params) == params["url"]
    assert sign_in_target(CLOSED_PROMPT, None) is None


# -- signing in and the session -----------------------------------------------------------------------

def test_username_and_password_sign_in_through_generate_token(session, secure_url, token_clock):
    expires = int((token_clock.now + TOKEN_MINUTES * 60) * 1000)
    assert session == {"token": session["token"], "expires": expires, "renew_at": expires - 120_000,
                       "username": USER, "service": service(secure_url)}
    assert len(session["token"]) >= 40


def test_sign_in_errors_in_plain_words(secure_url, token_clock):
    now = token_clock.now
    assert signed_in({"username": USER, "password": "wrong"}, service(secure_url), now) == (
        no_update, f"Could not sign in: {REFUSED}")
    assert signed_in({"username": " ", "password": "x"}, service(secure_url), now) == (
        no_update, "Enter a username and a password.")
    assert signed_in({"username": USER, "password": PASSWORD}, None, now) == (no_update, NO_SERVICE)
    port = free_port()
    assert signed_in({"username": USER, "password": PASSWORD}, f"http://127.0.0.1:{port}{SERVICE}/", now) == (
        no_update, f"Could not sign in: Could not connect to 127.0.0.1:{port} to sign in.")
    assert signed_in(None, service(secure_url), now) == (no_update, no_update)


def test_a_pasted_token_is_used_as_it_is_and_not_renewed():
    url = "http://h/arcgis/rest/services/A/ImageServer/"
    assert token_session("  abc  ", url, 0.0) == (
        {"token": "abc", "expires": None, "renew_at": None, "username": None, "service": url}, "")
    assert token_session("", url, 0.0) == (no_update, "Paste a token first.")
    assert token_session("abc", None, 0.0) == (no_update, NO_SERVICE)


def test_the_renewal_timer_ticks_once_when_renewal_is_due():
    assert renewal_timer({"renew_at": 100_000}, now=40.0) == (60_000, False)
    assert renewal_timer({"renew_at": 100_000}, now=200.0) == (1000, False)
    assert renewal_timer({"renew_at": 10**15}, now=0.0) == (MAX_TIMER_MS, False)
    assert renewal_timer({"renew_at": None}, now=0.0) == (no_update, True)
    assert renewal_timer(None, now=0.0) == (no_update, True)


def test_renewal_two_minutes_before_expiry(session, secure_url, token_clock):
    credentials = {"username": USER, "password": PASSWORD}
    early = session["renew_at"] / 1000 - 60
    assert renewed(session, credentials, early) == {"interval": 60_000, "disabled": False}
    due = session["renew_at"] / 1000
    fresh = renewed(session, credentials, due)
    assert fresh["session"]["token"] != session["token"]
    assert fresh["session"]["username"] == USER and fresh["error"] == ""
    assert (fresh["interval"], fresh["disabled"]) == (fresh["session"]["renew_at"] - int(due * 1000), False)
    assert renewed(session, None, due) == {"disabled": True}


def test_a_refused_renewal_stops_and_an_unreachable_server_is_tried_again(session, secure_url):
    due = session["renew_at"] / 1000
    refused = renewed(session, {"username": USER, "password": "changed"}, due)
    assert refused == {"error": f"Could not renew the token: {REFUSED} Sign in again.", "credentials": None,
                       "disabled": True}
    port = free_port()
    gone = {**session, "service": f"http://127.0.0.1:{port}{SERVICE}/"}
    assert renewed(gone, {"username": USER, "password": PASSWORD}, due) == {
        "error": f"Could not renew the token yet (Could not connect to 127.0.0.1:{port} to sign in.); "
                 "trying again shortly.", "interval": RETRY_MS, "disabled": False}


def test_update_session_dispatches_on_what_was_pressed(secure_url, token_clock):
    asked = {**CLOSED_PROMPT, "open": True, "code": 499, "pending": "open", "url": service(secure_url)}
    now = token_clock.now
    out = update_session(ids.AUTH_CREDENTIALS, {"username": USER, "password": PASSWORD}, None, None, asked, None, now)
    assert out["session"]["username"] == USER and out["error"] == "" and out["credentials"] is no_update
    assert (out["interval"], out["disabled"]) == (TOKEN_MINUTES * 60_000 - 120_000, False)
    wrong = update_session(ids.AUTH_CREDENTIALS, {"username": USER, "password": "x"}, None, None, asked, None, now)
    assert wrong == {"session": no_update, "error": f"Could not sign in: {REFUSED}", "credentials": None,
                     "token": no_update, "interval": no_update, "disabled": no_update}
    pasted = update_session(ids.AUTH_USE_TOKEN, None, "abc", out["session"], asked, None, now)
    assert pasted == {"session": {"token": "abc", "expires": None, "renew_at": None, "username": None,
                                  "service": service(secure_url)},
                      "error": "", "credentials": None, "token": "", "interval": no_update, "disabled": True}
    assert update_session(ids.AUTH_SIGN_OUT, None, None, out["session"], CLOSED_PROMPT, None, now) == {
        "session": None, "error": "", "credentials": None, "token": no_update, "interval": no_update,
        "disabled": True}
    assert update_session(ids.AUTH_RENEW, None, None, None, CLOSED_PROMPT, None, now)["disabled"] is True


# -- the prompt and what a sign-in runs again -------------------------------------------------------------

def test_the_layers_authenticationrequired_opens_the_prompt_once():
    params = layer_params("http://h/arcgis/rest/services/A/ImageServer")
    asked = {"type": "authenticationrequired", "time": 2, "code": 498}
    prompt = prompt_for_event(asked, CLOSED_PROMPT, params)
    assert prompt == {"open": True, "code": 498, "pending": "layer", "url": params["url"], "seen": 2}
    assert prompt_for_event(asked, {**prompt, "open": False}, params) is no_update
    assert prompt_for_event({**asked, "time": 3}, {**prompt, "open": False}, params)["seen"] == 3
    assert prompt_for_event(None, None, None) is no_update


def test_a_sign_in_reopens_a_service_that_could_not_open():
    session = {"token": "t", "service": "http://h/arcgis/rest/services/A/ImageServer/"}
    asked = {**CLOSED_PROMPT, "open": True, "code": 499, "pending": "open", "url": session["service"], "seen": 7}
    assert apply_session(session, None, asked, 2) == {
        "params": no_update, "retry": 3, "prompt": {**asked, "open": False, "pending": None, "url": None}}


def test_a_sign_in_puts_the_token_on_the_layer_and_a_sign_out_takes_it_off():
    session = {"token": "t", "service": "http://h/arcgis/rest/services/A/ImageServer/"}
    params = layer_params("http://h/arcgis/rest/services/B/ImageServer", band_ids=[3, 2, 1])
    asked = {**CLOSED_PROMPT, "open": True, "code": 498, "pending": "layer", "url": params["url"]}
    out = apply_session(session, params, asked, 0)
    assert out["params"] == {**params, "token": "t"}
    assert out["retry"] is no_update and out["prompt"]["open"] is False
    signed_out = apply_session(None, out["params"], CLOSED_PROMPT, 0)
    assert signed_out == {"params": params, "retry": no_update, "prompt": no_update}
    other = layer_params(ELSEWHERE, token="theirs")
    assert apply_session(session, other, CLOSED_PROMPT, 0) == {"params": no_update, "retry": no_update,
                                                               "prompt": no_update}


def test_the_panel_opens_for_a_prompt_and_closes_after_a_sign_in():
    asked = {**CLOSED_PROMPT, "open": True, "code": 499}
    signed = {"token": "t"}
    assert panel_state({ids.AUTH_PROMPT}, asked, None, True) == (False, "This service needs a sign-in.")
    assert panel_state({ids.AUTH_PROMPT}, CLOSED_PROMPT, None, False) == (no_update, "")
    assert panel_state({ids.AUTH_BUTTON}, CLOSED_PROMPT, None, True) == (False, "")
    assert panel_state({ids.AUTH_BUTTON}, CLOSED_PROMPT, None, False) == (True, "")
    assert panel_state({ids.AUTH_CLOSE}, asked, None, False) == (True, "This service needs a sign-in.")
    assert panel_state({ids.AUTH_SESSION}, CLOSED_PROMPT, signed, False) == (True, "")
    assert panel_state({ids.AUTH_SESSION}, CLOSED_PROMPT, None, False) == (no_update, "")
    # A refused token: the sign-in and the new prompt arrive together, and the prompt wins.
    assert panel_state({ids.AUTH_SESSION, ids.AUTH_PROMPT}, asked, signed, False) == (
        False, "This service needs a sign-in.")


# -- opening a secured service ----------------------------------------------------------------------------

def test_opening_a_secured_service_asks_for_a_sign_in_then_opens_with_the_token(secure_url, session):
    status, css, params, viewport, options, prompt = open_service(service(secure_url), None, None, None, None)
    assert (status, css, params, viewport, options) == (NEEDS_SIGN_IN, "service-status error", no_update,
                                                         no_update, no_update)
    assert prompt == {**CLOSED_PROMPT, "open": True, "code": 499, "pending": "open", "url": service(secure_url)}
    status, css, params, viewport, options, answered = open_service(service(secure_url), None, None, session, prompt)
    assert status.startswith("SampleMultispectral: 6 bands") and css == "service-status"
    assert params["token"] == session["token"] and params["proxy"] is None
    assert viewport["transition"] == "fitBounds" and len(options["time"]["dates"]) == 14  # the catalog query too
    assert answered == {**prompt, "open": False, "pending": None, "url": None}


def test_a_refused_token_asks_again(secure_url):
    bad = {"token": "not-a-token", "service": service(secure_url)}
    status, _, params, _, _, prompt = open_service(service(secure_url), None, None, bad, CLOSED_PROMPT)
    assert (status, params, prompt["code"], prompt["open"]) == (REFUSED_TOKEN, no_update, 498, True)
    assert image_status({"error": "Invalid Token (code 498)"}) == (REFUSED_TOKEN, "service-status error")
    assert image_status({"error": "Token Required (code 499)"}) == (NEEDS_SIGN_IN, "service-status error")


def test_a_service_the_proxy_allows_is_opened_through_it(secure_url):
    config = ProxyConfig.from_mapping({"services": [{"url": secure_url + SERVICE, "token": "operator"}]})
    proxy = "http://127.0.0.1:9/proxy"
    assert proxy_for(config, service(secure_url), proxy) == proxy
    assert proxy_for(config, secure_url + "/arcgis/rest/services/SampleElevation/ImageServer", proxy) is None
    assert proxy_for(config, "http://127.0.0.1:1/x@y/ImageServer", proxy) is None
    assert proxy_for(config, "http://0x7f.0.0.1/arcgis/rest/services/X/ImageServer", proxy) is None
    assert proxy_for(None, service(secure_url), proxy) is None


def test_the_page_url_never_holds_a_token_or_the_proxy():
    params = layer_params(ELSEWHERE + "?token=secret-token", proxy="http://127.0.0.1:9/proxy", band_ids=[3, 2, 1])
    assert params["token"] == "secret-token"
    assert to_query(params) == ("?service=https%3A%2F%2Fimg.example.com%2Farcgis%2Frest%2Fservices%2FLandsat"
                                "%2FImageServer%2F&bandIds=3%2C2%2C1")
