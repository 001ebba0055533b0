"""The dashboard page in real headless Chromium."""

from __future__ import annotations

import pytest

import app as dashboard
from components import ids
from components.basemaps import basemap_layers


def test_no_basemap_means_no_tile_layer():
    assert basemap_layers("none") == []
    (layer,) = basemap_layers("osm")
    assert layer.url.startswith("https://tile.openstreetmap.org/")


def test_command_line_defaults():
    args = dashboard.parse_args([])
    assert (args.host, args.port, args.basemap) == ("127.0.0.1", 8050, "none")
    assert args.service_url == dashboard.DEFAULT_SERVICE_URL
    args = dashboard.parse_args(["--host", "0.0.0.0", "--port", "9000", "--basemap", "osm"])
    assert (args.host, args.port, args.basemap) == ("0.0.0.0", 9000, "osm")


@pytest.mark.browser
def test_page_shows_a_map_and_the_service_url(dash_duo):
    app = dashboard.create_app(data_dir=None)
    dash_duo.start_server(app)
    dash_duo.wait_for_element(".leaflet-container")
    assert dash_duo.find_element(f"#{ids.SERVICE_URL}").get_attribute("value") == dashboard.DEFAULT_SERVICE_URL
    assert dash_duo.find_elements(".leaflet-tile") == []
    assert dash_duo.get_logs() == []
