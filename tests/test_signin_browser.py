"""Sign-in to the dashboard in real headless Chromium: basic auth with the credentials in the
address, and OpenID Connect through a test identity provider (oidc-provider-mock) on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlparse

import oidc_provider_mock
import pytest
import requests
from jinja2 import ChoiceLoader, DictLoader
from selenium.webdriver.common.by import By

import app as dashboard
import signin
from components import ids
from pixel_fixtures import BANDS, CROP_POINT, SCENE_COUNT
from server_fixtures import sample_root, serving  # noqa: F401  (pytest fixture)
from signin import AuthConfig
from test_dashboard import shown_image
from test_imagemaplayer_browser import free_port
from test_pixel_browser import band_table, click_map, container_point
from test_signin import ALICE_HASH

pytestmark = pytest.mark.browser

TIMEOUT = 15
DASH_CALL = {"output": "x.children", "outputs": {"id": "x", "property": "children"}, "inputs": [],
             "changedPropIds": []}


@pytest.fixture
def identity_provider() -> Iterator[str]:
    """A test OpenID provider that signs in whoever types a name into its form. Its pages' frame
    is replaced by one without their stylesheet from the internet: the test stays on 127.0.0.1."""
    provider = oidc_provider_mock.app()
    frame = "<!doctype html><link rel=icon href=data:,><main>{% block content %}{{ content }}{% endblock %}</main>"
    offline = DictLoader({"_base.html": frame})
    provider.jinja_loader = ChoiceLoader([offline, provider.jinja_loader])
    with serving(provider, request_handler=None) as url:
        yield url


def start(dash_duo, app) -> str:
    """Serve `app` without opening it in the browser (the first answer is not the page); its root URL."""
    port = free_port()
    dash_duo.start_server(app, navigate=False, port=port)
    return f"http://127.0.0.1:{port}"


def wait_for_the_map(dash_duo) -> None:
    """A callback answered (the service opened on the server) and the embedded server's image shows."""
    dash_duo.wait_for_contains_text(f"#{ids.SERVICE_STATUS}", "SampleMultispectral: 6 bands", timeout=TIMEOUT)
    dash_duo._wait_for(lambda _: shown_image(dash_duo) is not None, timeout=TIMEOUT, msg="no image shown")


def test_basic_auth_signs_in_from_the_address(dash_duo, sample_root):
    config = AuthConfig.from_mapping({"users": {"alice": ALICE_HASH}}, {})
    root = start(dash_duo, dashboard.create_app(data_dir=sample_root, auth_config=config))
    assert requests.get(root + "/", timeout=10).status_code == 401
    assert requests.post(root + "/_dash-update-component", json=DASH_CALL, timeout=10).status_code == 401

    # Credentials in the address sign Chromium in; the page is then opened without them, as after
    # the browser's own sign-in dialog (fetch() refuses a page address that holds credentials).
    dash_duo.driver.get(f"http://alice:alice-pass@{urlparse(root).netloc}/")
    dash_duo.driver.get(root + "/")
    wait_for_the_map(dash_duo)
    assert shown_image(dash_duo)["src"].startswith(root + "/arcgis/rest/services/SampleMultispectral/")
    click_map(dash_duo, container_point(dash_duo, *CROP_POINT))  # identify, then a background callback
    dash_duo._wait_for(lambda _: len(band_table(dash_duo)) == len(BANDS), timeout=TIMEOUT, msg="no band values")
    dash_duo.wait_for_contains_text(f"#{ids.TEMPORAL_STATUS}", f"{SCENE_COUNT} scenes", timeout=20)
    assert dash_duo.get_logs() == []


def test_oidc_sends_to_the_identity_provider_and_back(dash_duo, sample_root, identity_provider, monkeypatch):
    monkeypatch.setenv(signin.CLIENT_SECRET_ENV, "dashboard-secret")
    monkeypatch.setenv(signin.SECRET_KEY_ENV, "session-signing-key")
    metadata = identity_provider + "/.well-known/openid-configuration"
    config = AuthConfig.from_mapping({"oidc": {"server_metadata_url": metadata, "client_id": "dashboard"}})
    root = start(dash_duo, dashboard.create_app(data_dir=sample_root, auth_config=config))
    authorize = identity_provider + "/oauth2/authorize?"
    for answer in (requests.get(root + "/", allow_redirects=False, timeout=10),
                   requests.post(root + "/_dash-update-component", json=DASH_CALL, allow_redirects=False, timeout=10)):
        assert answer.status_code == 302 and answer.headers["Location"].startswith(authorize)

    dash_duo.driver.get(root + "/")
    dash_duo._wait_for(lambda _: dash_duo.driver.current_url.startswith(authorize), timeout=TIMEOUT,
                       msg="not sent to the identity provider")
    dash_duo.driver.find_element(By.NAME, "sub").send_keys("alice@example.com")
    dash_duo.driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for_the_map(dash_duo)
    assert urlparse(dash_duo.driver.current_url).path == "/"  # back on the dashboard, not the provider
    assert dash_duo.get_logs() == []
