"""Signing in to a token-secured service in the dashboard, in real headless Chromium.

The secured server here runs on the real clock (the shared `secure_url` one runs on a fake clock,
which would make every token look long expired to the dashboard's renewal timer).
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlparse

import pytest
from flask import Flask

import app as dashboard
from components import ids
from imageservice.server.server import create_blueprint
from imageservice.server.tokens import Security
from server_fixtures import USERS, sample_root, serving, services  # noqa: F401  (pytest fixtures)
from test_auth import SERVICE
from test_catalog_panel_browser import open_tab
from test_dashboard import shown_image
from test_pixel_browser import band_table, click_map

pytestmark = pytest.mark.browser

USER, PASSWORD = next(iter(USERS.items()))
TIMEOUT = 15


@pytest.fixture(scope="module")
def live_secure_url(services) -> Iterator[str]:
    app = Flask("live_secure_imageserver")
    app.register_blueprint(create_blueprint(services, security=Security(USERS)), url_prefix="/arcgis")
    with serving(app) as url:
        yield url


def start(dash_duo, sample_root, service_url: str) -> None:
    dash_duo.start_server(dashboard.create_app(data_dir=sample_root, service_url=service_url))


def panel_open(dash_duo) -> bool:
    return dash_duo.find_element(f"#{ids.AUTH_PANEL}").is_displayed()


def wait_for_prompt(dash_duo, reason: str, status: str) -> None:
    dash_duo.wait_for_text_to_equal(f"#{ids.AUTH_REASON}", reason, timeout=TIMEOUT)
    dash_duo.wait_for_contains_text(f"#{ids.SERVICE_STATUS}", status, timeout=TIMEOUT)
    dash_duo._wait_for(lambda _: panel_open(dash_duo), timeout=TIMEOUT, msg="the sign-in panel did not open")


def sign_in(dash_duo, password: str = PASSWORD) -> None:
    username = dash_duo.find_element(f"#{ids.AUTH_USERNAME}")
    if username.get_attribute("value") != USER:  # kept from an earlier try
        username.send_keys(USER)
    dash_duo.find_element(f"#{ids.AUTH_PASSWORD}").send_keys(password)
    dash_duo.find_element(f"#{ids.AUTH_SIGN_IN}").click()


def use_token(dash_duo, token: str) -> None:
    field = dash_duo.find_element(f"#{ids.AUTH_TOKEN}")
    field.send_keys(token)
    dash_duo.find_element(f"#{ids.AUTH_USE_TOKEN}").click()


def image_token(dash_duo) -> str | None:
    image = shown_image(dash_duo)
    return parse_qs(urlparse(image["src"]).query).get("token", [None])[0] if image else None


def test_a_secured_service_asks_for_a_sign_in_and_then_runs_what_waited(dash_duo, sample_root, live_secure_url):
    start(dash_duo, sample_root, live_secure_url + SERVICE)
    wait_for_prompt(dash_duo, "This service needs a sign-in.", "This service needs a sign-in")
    click_map(dash_duo, (300, 300))  # identify has no service yet
    dash_duo.wait_for_text_to_equal(f"#{ids.PIXEL_STATUS}", "Open a service first, then click the map.",
                                    timeout=TIMEOUT)
    sign_in(dash_duo)
    dash_duo.wait_for_contains_text(f"#{ids.SERVICE_STATUS}", "SampleMultispectral: 6 bands", timeout=TIMEOUT)
    dash_duo._wait_for(lambda _: image_token(dash_duo), timeout=TIMEOUT, msg="no image with the token")
    dash_duo._wait_for(lambda _: not panel_open(dash_duo), timeout=TIMEOUT, msg="the panel stayed open")
    dash_duo.wait_for_text_to_equal(f"#{ids.AUTH_BUTTON}", USER, timeout=TIMEOUT)
    # The click's identify ran again, with the token; the catalog queries with it too.
    dash_duo._wait_for(lambda _: len(band_table(dash_duo)) == 6, timeout=TIMEOUT, msg="no band values")
    open_tab(dash_duo, "Catalog")
    dash_duo.wait_for_contains_text(f"#{ids.CATALOG_STATUS}", "in this view", timeout=TIMEOUT)
    assert dash_duo.find_element(f"#{ids.AUTH_PASSWORD}").get_attribute("value") == ""
    dash_duo.find_element(f"#{ids.AUTH_BUTTON}").click()
    dash_duo.wait_for_contains_text(f"#{ids.AUTH_STATUS}", f"Signed in as {USER} · token renews at ", timeout=TIMEOUT)
    assert "token" not in dash_duo.driver.current_url
    assert dash_duo.get_logs() == []


def test_a_refused_token_asks_again(dash_duo, sample_root, live_secure_url):
    start(dash_duo, sample_root, live_secure_url + SERVICE)
    wait_for_prompt(dash_duo, "This service needs a sign-in.", "This service needs a sign-in")
    refused = "The token was refused (invalid or expired). Sign in again or use another token."
    use_token(dash_duo, "not-a-token")  # opening the service answers 498
    wait_for_prompt(dash_duo, refused, "The token was refused (invalid or expired)")
    sign_in(dash_duo, "wrong")
    dash_duo.wait_for_text_to_equal(f"#{ids.AUTH_ERROR}", "Could not sign in: The server refused the sign-in: "
                                    "Unable to generate token. Invalid username or password.", timeout=TIMEOUT)
    sign_in(dash_duo)
    dash_duo._wait_for(lambda _: image_token(dash_duo), timeout=TIMEOUT, msg="no image with the token")
    # A bad token on an open layer: its image answers 498, the layer fires authenticationrequired.
    dash_duo.find_element(f"#{ids.AUTH_BUTTON}").click()
    use_token(dash_duo, "not-a-token-either")
    wait_for_prompt(dash_duo, refused, "The token was refused (invalid or expired)")
    dash_duo.wait_for_contains_text(f"#{ids.EVENTS_LOG}", "authenticationrequired", timeout=TIMEOUT)
