"""What a GIS analyst looks for on the map: a scale bar, the cursor's coordinates, a legend of the
current rendering, a way home to the service's extent, a word when basemap tiles fail or while
the first image comes, and a map that does not leave the image floating on grey without a basemap."""

from __future__ import annotations

import re
import time

import pytest
from flask import request
from selenium.webdriver.common.actions.action_builder import ActionBuilder

import app as dashboard
from callbacks.basemap import NO_BASEMAP_REASON
from components import basemaps, ids
from components.mapaids import HOME_TITLE
from imageservice.server.server import create_app as create_imageserver
from server_fixtures import sample_root, serving  # noqa: F401  (pytest fixture)
from test_dashboard_controls import TIMEOUT, choose, open_dashboard

pytestmark = pytest.mark.browser
MAP = "window.imageMapLayer.mapOf('main')"


def legend_text(dash_duo) -> str:
    return dash_duo.driver.execute_script(f"return document.getElementById('{ids.MAP_LEGEND}').innerText")


def test_scale_bar_coordinates_legend_and_home(dash_duo, sample_root):
    open_dashboard(dash_duo, sample_root)
    assert re.fullmatch(r"\d+ k?m", dash_duo.find_element(".leaflet-control-scale-line").text)

    box = dash_duo.find_element(".leaflet-container").rect
    move = ActionBuilder(dash_duo.driver)
    move.pointer_action.move_to_location(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    move.perform()
    dash_duo._wait_for(lambda _: re.fullmatch(r"38\.\d{5}, -121\.\d{5}", dash_duo.find_element(".map-coordinates").text),
                       timeout=TIMEOUT, msg="no coordinates under the cursor")

    dash_duo._wait_for(lambda _: legend_text(dash_duo).startswith("Service default (Natural Color)"), timeout=TIMEOUT,
                       msg="no legend for the service's default rendering")
    assert len(legend_text(dash_duo).split("\n")) > 1          # what the colours show, under the name
    choose(dash_duo, ids.RENDERING_RULE, "NDVI Colorized")
    dash_duo._wait_for(lambda _: legend_text(dash_duo).startswith("NDVI Colorized"), timeout=TIMEOUT,
                       msg="the legend did not follow the rendering rule")
    assert len(legend_text(dash_duo).split("\n")) > 1

    home = dash_duo.driver.execute_script(f"const c = {MAP}.getCenter(); return [c.lat, c.lng, {MAP}.getZoom()]")
    dash_duo.driver.execute_script(f"{MAP}.setView([38.9, -121.2], 13, {{animate: false}})")
    button = dash_duo.find_element(".easy-button-button")
    assert button.get_attribute("title") == HOME_TITLE
    button.click()
    dash_duo._wait_for(lambda _: dash_duo.driver.execute_script(
        f"const c = {MAP}.getCenter(); return [c.lat, c.lng, {MAP}.getZoom()]") == pytest.approx(home, abs=1e-3),
        timeout=TIMEOUT, msg="the home button did not return to the service's extent")


def test_without_a_basemap_the_map_shows_a_grid_and_front_back_says_why_it_is_off(dash_duo, sample_root, monkeypatch):
    # A basemap whose tiles cannot load, as offline: its server refuses every connection.
    monkeypatch.setitem(basemaps.BASEMAPS, "osm", {**basemaps.BASEMAPS["osm"], "url": "http://127.0.0.1:9/{z}/{x}/{y}.png"})
    open_dashboard(dash_duo, sample_root)
    assert "map--no-basemap" in dash_duo.find_element(".leaflet-container").get_attribute("class")
    positions = dash_duo.find_elements(f"#{ids.POSITION} input")
    assert positions and all(not p.is_enabled() for p in positions)
    assert dash_duo.find_element(f"#{ids.POSITION} [title]").get_attribute("title") == NO_BASEMAP_REASON
    assert not dash_duo.find_element(".map-tile-error").is_displayed()

    choose(dash_duo, ids.BASEMAP_CHOICE, "osm")
    dash_duo._wait_for(lambda _: dash_duo.find_element(".map-tile-error").is_displayed(), timeout=TIMEOUT,
                       msg="no note that the basemap's tiles failed")
    assert "map--no-basemap" not in dash_duo.find_element(".leaflet-container").get_attribute("class")
    assert all(p.is_enabled() for p in dash_duo.find_elements(f"#{ids.POSITION} input"))


def test_a_note_says_the_first_image_is_coming(dash_duo, sample_root):
    """A slow first image (here a server that takes 3 s) shows a note until it arrives."""
    server = create_imageserver(sample_root)

    @server.before_request
    def slow_images():
        if request.path.endswith("/exportImage"):
            time.sleep(3)

    with serving(server) as base:
        dash_duo.start_server(dashboard.create_app(
            data_dir=None, service_url=base + "/arcgis/rest/services/SampleMultispectral/ImageServer"))
        dash_duo.wait_for_element(".map-first-image", timeout=TIMEOUT)
        assert "first image" in dash_duo.find_element(".map-first-image").text
        dash_duo._wait_for(lambda _: not dash_duo.find_elements(".map-first-image"), timeout=20,
                           msg="the note stayed after the first image")
