"""The dashboard behind its resource proxy, in real headless Chromium: a token-secured service the
proxy's allow-list names opens with the operator's token added on the server, and that token is
nowhere the browser could see it (page source, callback requests and responses, image URLs, the
page URL) nor in the dashboard's logs."""

from __future__ import annotations

import logging
from urllib.parse import urlparse

import flask
import pytest
import requests

import app as dashboard
from components import ids
from imageservice.proxy import ProxyConfig
from signin import AuthConfig
from server_fixtures import USERS, sample_root, secure_url, services, token_clock  # noqa: F401  (pytest fixtures)
from test_auth import SERVICE
from test_auth_browser import TIMEOUT, panel_open
from test_catalog_panel_browser import open_tab
from test_dashboard import overlay_images, shown_image
from test_pixel_browser import band_table, click_map
from test_signin import ALICE_HASH
from test_signin_browser import start

pytestmark = pytest.mark.browser


@pytest.fixture
def operator_token(secure_url) -> str:
    user, password = next(iter(USERS.items()))
    form = {"username": user, "password": password, "client": "requestip", "f": "json"}
    return requests.post(secure_url + "/arcgis/tokens/generateToken", data=form, timeout=10).json()["token"]


def test_the_operator_token_never_reaches_the_browser(dash_duo, sample_root, secure_url, operator_token, tmp_path,
                                                      caplog):
    caplog.set_level(logging.DEBUG)
    config = ProxyConfig.from_mapping({"services": [{"url": secure_url + SERVICE, "token": operator_token}],
                                       "cache_dir": str(tmp_path / "cache")})
    app = dashboard.create_app(data_dir=sample_root, service_url=secure_url + SERVICE, proxy_config=config)
    exchanged: list[bytes] = []  # every request and answer body the dashboard's server handled

    @app.server.after_request
    def record(response: flask.Response) -> flask.Response:
        exchanged.append(flask.request.full_path.encode() + b" " + flask.request.get_data())
        if not response.direct_passthrough:
            exchanged.append(response.get_data())
        return response

    dash_duo.start_server(app)
    dash_duo.wait_for_contains_text(f"#{ids.SERVICE_STATUS}", "SampleMultispectral: 6 bands", timeout=TIMEOUT)
    dash_duo._wait_for(lambda _: shown_image(dash_duo) is not None, timeout=TIMEOUT, msg="no image shown")
    src = shown_image(dash_duo)["src"]
    assert src.startswith(f"{dash_duo.server_url}/proxy?{secure_url}{SERVICE}/exportImage?")
    click_map(dash_duo, (300, 300))  # identify, on the server, through the proxy
    dash_duo._wait_for(lambda _: len(band_table(dash_duo)) == 6, timeout=TIMEOUT, msg="no band values")
    open_tab(dash_duo, "Catalog")  # query, on the server, through the proxy
    dash_duo.wait_for_contains_text(f"#{ids.CATALOG_STATUS}", "in this view", timeout=TIMEOUT)
    assert not panel_open(dash_duo)

    secret = operator_token.encode()
    proxy_param = f'"proxy":"{dash_duo.server_url}/proxy"'.encode()
    assert any(proxy_param in body for body in exchanged)  # the callback answers were recorded
    assert any(body.startswith(b"/proxy?") for body in exchanged)
    assert [body for body in exchanged if secret in body] == []
    assert operator_token not in dash_duo.driver.page_source
    assert operator_token not in dash_duo.driver.current_url
    assert [image["src"] for image in overlay_images(dash_duo) if operator_token in image["src"]] == []
    assert any("/proxy?" in record.getMessage() for record in caplog.records)  # the access log was captured
    assert [record.getMessage() for record in caplog.records if operator_token in record.getMessage()] == []
    assert dash_duo.get_logs() == []


def test_behind_a_sign_in_the_proxied_service_opens_and_identifies(dash_duo, sample_root, secure_url, operator_token,
                                                                  tmp_path):
    """The callbacks reach the app's own proxy in-process: over HTTP, the sign-in in front of the
    app would answer their requests with 401 ("Could not open the service: ... HTTP 401")."""
    config = ProxyConfig.from_mapping({"services": [{"url": secure_url + SERVICE, "token": operator_token}],
                                       "cache_dir": str(tmp_path / "cache")})
    auth = AuthConfig.from_mapping({"users": {"alice": ALICE_HASH}}, {})
    app = dashboard.create_app(data_dir=sample_root, service_url=secure_url + SERVICE, proxy_config=config,
                               auth_config=auth)
    root = start(dash_duo, app)
    dash_duo.driver.get(f"http://alice:alice-pass@{urlparse(root).netloc}/")
    dash_duo.driver.get(root + "/")
    dash_duo.wait_for_contains_text(f"#{ids.SERVICE_STATUS}", "SampleMultispectral: 6 bands", timeout=TIMEOUT)
    dash_duo._wait_for(lambda _: shown_image(dash_duo) is not None, timeout=TIMEOUT, msg="no image shown")
    assert shown_image(dash_duo)["src"].startswith(f"{root}/proxy?{secure_url}{SERVICE}/exportImage?")
    click_map(dash_duo, (300, 300))  # identify, on the server, through the proxy
    dash_duo._wait_for(lambda _: len(band_table(dash_duo)) == 6, timeout=TIMEOUT, msg="no band values")
    open_tab(dash_duo, "Catalog")  # query, on the server, through the proxy
    dash_duo.wait_for_contains_text(f"#{ids.CATALOG_STATUS}", "in this view", timeout=TIMEOUT)
    assert requests.get(f"{root}/proxy?{secure_url}{SERVICE}?f=json", timeout=10).status_code == 401
