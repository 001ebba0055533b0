"""The ImageMapLayerAIO component with `proxy="/proxy"` in real headless Chromium, drawing a
token-secured service whose token only the proxy knows."""

from __future__ import annotations

import pytest
from dash import Dash

from imageservice.dash import ImageMapLayerAIO
from imageservice.proxy import ProxyConfig, install
from server_fixtures import USERS, sample_root, secure_url, services, token_clock  # noqa: F401  (pytest fixtures)
from test_imagemaplayer_browser import SERVICE_PATH, js, start, visible_images, wait_shown

pytestmark = pytest.mark.browser


def test_a_secured_service_draws_through_the_proxy_in_both_f_modes(dash_duo, services, secure_url, token_clock):
    user, password = next(iter(USERS.items()))

    def setup(app: Dash) -> None:
        entry = {"url": secure_url + SERVICE_PATH, "username": user, "password": password}
        install(app.server, ProxyConfig.from_mapping({"services": [entry], "cache_timeout": 0}), clock=token_clock)

    start(dash_duo, services, lambda root: [
        ImageMapLayerAIO(secure_url + SERVICE_PATH, aio_id="x", proxy="/proxy"),
        ImageMapLayerAIO(secure_url + SERVICE_PATH, aio_id="y", proxy="/proxy", f="json", opacity=0.5),
    ], setup=setup)
    image_url = wait_shown(dash_duo, "x")["url"]
    href_url = wait_shown(dash_duo, "y")["url"]
    assert image_url.startswith(f"/proxy?{secure_url}{SERVICE_PATH}/exportImage?")
    # esri-leaflet's `proxy?href` around an href the proxy already routed through itself (by path,
    # never by the Host header, as no public_url is configured).
    assert href_url.startswith(f"/proxy?/proxy?{secure_url}/arcgis/rest/directories/arcgisoutput/")
    images = visible_images(dash_duo)
    assert len(images) == 2 and all(image["loaded"] for image in images)
    fetched = js(dash_duo, "return performance.getEntriesByType('resource').map(e => e.name).join(' ')")
    assert "token" not in fetched and "token" not in image_url + href_url
    assert dash_duo.get_logs() == []
