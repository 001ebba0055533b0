"""A multidimensional service in real headless Chromium: pick a variable and a depth, see the image
follow, click the map for the profiles through time and depth, reload the link."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

import app as dashboard
from components import ids
from imageservice.params import to_epoch_ms
from server_fixtures import sample_root  # noqa: F401  (pytest fixture)
from test_dashboard import shown_image
from test_pixel_browser import click_map, container_point, js

pytestmark = pytest.mark.browser

CUBE = "/arcgis/rest/services/SampleOceanCube/ImageServer"
POINT = (37.5, -124.0)
DEPTHS = [-200.0, -100.0, -50.0, -25.0, -10.0, 0.0]


def control(dimension: str) -> str:
    """The CSS selector of a dimension's control (a pattern-matching id, JSON in the DOM)."""
    return "[id='" + json.dumps({"name": dimension, "type": ids.MD_DIMENSION}, separators=(",", ":")) + "']"


def choose(dash_duo, selector: str, value: str) -> None:
    dash_duo.find_element(selector).click()
    dash_duo.find_element(f'.dash-dropdown-option:has(input[value="{value}"])').click()


def definition_shown(dash_duo) -> list | None:
    image = shown_image(dash_duo)
    if image is None:
        return None
    rule = parse_qs(urlsplit(image["src"]).query).get("mosaicRule")
    return json.loads(rule[0]).get("multidimensionalDefinition") if rule else None


def test_pick_a_variable_and_a_depth_then_click_for_both_profiles(dash_duo, sample_root):
    dash_duo.start_server(dashboard.create_app(service_url=CUBE, data_dir=sample_root))
    dash_duo.wait_for_contains_text(f"#{ids.MD_UNITS}", "Sea water potential temperature, in degC", timeout=15)
    dash_duo._wait_for(lambda _: definition_shown(dash_duo) is not None, timeout=15, msg="no selection drawn")
    first = shown_image(dash_duo)["src"]
    assert definition_shown(dash_duo) == [
        {"variableName": "temperature", "dimensionName": "StdTime", "values": [to_epoch_ms("2025-01-15")], "isSlice": True},
        {"variableName": "temperature", "dimensionName": "StdZ", "values": [0.0], "isSlice": True}]

    choose(dash_duo, f"#{ids.MD_VARIABLE}", "salinity")
    # the dimension controls are rebuilt for the new variable before the depth is picked
    dash_duo._wait_for(lambda _: (definition_shown(dash_duo) or [{}])[0].get("variableName") == "salinity",
                       timeout=15, msg="the variable was not applied")
    choose(dash_duo, control("StdZ"), str(DEPTHS.index(-50.0)))
    wanted = [
        {"variableName": "salinity", "dimensionName": "StdTime", "values": [to_epoch_ms("2025-01-15")], "isSlice": True},
        {"variableName": "salinity", "dimensionName": "StdZ", "values": [-50.0], "isSlice": True}]
    dash_duo._wait_for(lambda _: definition_shown(dash_duo) == wanted, timeout=15, msg="the image did not follow")
    dash_duo.wait_for_contains_text(f"#{ids.MD_UNITS}", "Sea water salinity, in psu", timeout=5)
    dash_duo.wait_for_contains_text(f"#{ids.MD_LEGEND}", "High", timeout=10)  # the service's legend, ramp images
    assert js(dash_duo, f"return document.querySelectorAll('#{ids.MD_LEGEND} img').length") >= 2
    assert dash_duo.find_element(f"[id='{json.dumps({'name': 'StdZ', 'type': ids.MD_DIMENSION_LABEL}, separators=(',', ':'))}']").text == "-50 m"
    picture = shown_image(dash_duo)["src"]
    assert requests.get(picture, timeout=10).content != requests.get(first, timeout=10).content
    # the page URL keeps the selection, in the mosaic rule
    search = parse_qs(js(dash_duo, "return window.location.search").lstrip("?"))
    assert json.loads(search["mosaicRule"][0])["multidimensionalDefinition"] == wanted

    click_map(dash_duo, container_point(dash_duo, *POINT))
    dash_duo.wait_for_text_to_equal(f"#{ids.MD_PROFILE_STATUS}", (
        "salinity at this pixel: 12 along StdTime at -50 m; 6 along StdZ at 2025-01-15 00:00 UTC."),
                                    timeout=15)
    # The charts are drawn once plotly.js has loaded (with the first chart), after the status line.
    points = """return ['md-time-chart', 'md-level-chart'].map((id) => {
        const plot = document.querySelector('#' + id + ' .js-plotly-plot');
        return plot && plot.calcdata ? plot.calcdata[0].length : null; })"""
    dash_duo._wait_for(lambda _: js(dash_duo, points) == [12, 6], timeout=15, msg="the two profiles were not drawn")
    # the catalog's temporal profile would mix the variables' slices: it gives way to these
    assert js(dash_duo, f"return document.getElementById('{ids.TEMPORAL_SECTION}').hidden") is True
    assert dash_duo.get_logs() == []

    # a reload of the link opens the same selection
    dash_duo.driver.get(dash_duo.driver.current_url)
    dash_duo.wait_for_contains_text(f"#{ids.MD_UNITS}", "Sea water salinity, in psu", timeout=15)
    dash_duo.wait_for_text_to_equal(f"#{ids.MD_VARIABLE} .dash-dropdown-value, #{ids.MD_VARIABLE}", "salinity (psu)",
                                    timeout=10)
    dash_duo._wait_for(lambda _: definition_shown(dash_duo) == wanted, timeout=15, msg="the link lost the selection")

    # Play steps the time slider: the picture follows into the later months, at the same depth
    dash_duo.find_element(f"#{ids.MD_PLAY}").click()

    def later_month() -> bool:
        shown = definition_shown(dash_duo) or wanted
        return shown[0]["values"][0] > wanted[0]["values"][0] and shown[1] == wanted[1]

    dash_duo._wait_for(lambda _: later_month(), timeout=15, msg="Play did not step the time")
    dash_duo.find_element(f"#{ids.MD_PLAY}").click()
    dash_duo.wait_for_text_to_equal(f"#{ids.MD_PLAY}", "▶ Play", timeout=5)


def test_a_plain_service_shows_no_multidimensional_controls(dash_duo, sample_root):
    dash_duo.start_server(dashboard.create_app(data_dir=sample_root))
    dash_duo._wait_for(lambda _: shown_image(dash_duo) is not None, timeout=15, msg="no image shown")
    dash_duo.wait_for_contains_text(f"#{ids.SERVICE_STATUS}", "SampleMultispectral", timeout=10)
    assert js(dash_duo, f"return document.getElementById('{ids.MD_SECTION}').hidden") is True
    assert js(dash_duo, f"return document.getElementById('{ids.MD_PROFILES}').hidden") is True
    assert definition_shown(dash_duo) is None
