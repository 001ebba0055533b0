"""The histogram tab in real headless Chromium, on the embedded sample service."""

from __future__ import annotations

import json

import flask
import pytest

import app as dashboard
from components import ids
from server_fixtures import sample_root  # noqa: F401  (pytest fixture)
from test_catalog_panel_browser import open_tab
from test_dashboard_controls import TIMEOUT, wait_for_overlay

pytestmark = pytest.mark.browser
BANDS = ["Blue", "Green", "Red", "NIR", "SWIR1", "SWIR2"]


def recording_app(sample_root):
    """The dashboard, with the geometry of every computeHistograms request it serves kept in a list."""
    app = dashboard.create_app(data_dir=sample_root)
    app.histogram_requests = []

    @app.server.before_request
    def record() -> None:
        if flask.request.path.endswith("/computeHistograms"):
            app.histogram_requests.append(json.loads(flask.request.args["geometry"]))

    return app


def traces(dash_duo) -> list[str]:
    return dash_duo.driver.execute_script(
        f"const g = document.querySelector('#{ids.HISTOGRAM_GRAPH} .js-plotly-plot');"
        "return g && g.data ? g.data.map(t => t.name) : [];")


def map_envelope(dash_duo) -> list[float]:
    """The main map's view in EPSG:3857, as the layer's view store computes it."""
    return dash_duo.driver.execute_script(
        "const map = window.imageMapLayer.mapOf('main'); const px = map.getPixelBounds();"
        "const sw = map.options.crs.project(map.unproject(px.getBottomLeft()));"
        "const ne = map.options.crs.project(map.unproject(px.getTopRight()));"
        "return [sw.x, sw.y, ne.x, ne.y];")


def test_the_histogram_shows_every_band_and_follows_a_pan(dash_duo, sample_root):
    app = recording_app(sample_root)
    dash_duo.start_server(app)
    dash_duo.wait_for_contains_text(f"#{ids.SERVICE_STATUS}", "SampleMultispectral", timeout=15)
    wait_for_overlay(dash_duo, lambda q: "bbox" in q, "no image shown")
    assert app.histogram_requests == []  # nothing is counted while the tab is closed
    open_tab(dash_duo, "Histogram")
    dash_duo._wait_for(lambda _: traces(dash_duo) == BANDS, timeout=TIMEOUT, msg="no histogram with six bands")
    dash_duo.wait_for_contains_text(f"#{ids.HISTOGRAM_STATUS}", "pixels with data in the view (raw values)",
                                    timeout=TIMEOUT)
    first = app.histogram_requests[-1]
    assert [first[k] for k in ("xmin", "ymin", "xmax", "ymax")] == pytest.approx(map_envelope(dash_duo), abs=0.01)
    assert first["spatialReference"] == {"wkid": 3857}

    dash_duo.driver.execute_script("window.imageMapLayer.mapOf('main').panBy([150, 80], {animate: false})")
    expected = map_envelope(dash_duo)
    dash_duo._wait_for(lambda _: app.histogram_requests[-1]["xmin"] != first["xmin"], timeout=TIMEOUT,
                       msg="no new computeHistograms request after the pan")
    panned = app.histogram_requests[-1]
    assert [panned[k] for k in ("xmin", "ymin", "xmax", "ymax")] == pytest.approx(expected, abs=0.01)
    assert panned["xmin"] > first["xmin"] and panned["ymin"] < first["ymin"]  # east and south

    dash_duo.find_element(f'#{ids.HISTOGRAM_BANDS} input[value="NIR"]').click()
    dash_duo._wait_for(lambda _: traces(dash_duo) == ["Blue", "Green", "Red", "SWIR1", "SWIR2"], timeout=TIMEOUT,
                       msg="NIR was not hidden")
    dash_duo.find_element(f'#{ids.HISTOGRAM_LOG} input').click()
    dash_duo._wait_for(lambda _: dash_duo.driver.execute_script(
        f"return document.querySelector('#{ids.HISTOGRAM_GRAPH} .js-plotly-plot')._fullLayout.yaxis.type") == "log",
        timeout=TIMEOUT, msg="the count axis did not turn logarithmic")
    requests_before = len(app.histogram_requests)
    dash_duo.find_element(f'#{ids.HISTOGRAM_APPLY_RULE} input').click()
    dash_duo._wait_for(lambda _: traces(dash_duo) == ["Red", "Green", "Blue"], timeout=TIMEOUT,
                       msg="no histogram of the rendered picture")
    assert len(app.histogram_requests) == requests_before + 1
    dash_duo.wait_for_contains_text(f"#{ids.HISTOGRAM_STATUS}", "after the rendering rule", timeout=TIMEOUT)
    assert dash_duo.get_logs() == []
