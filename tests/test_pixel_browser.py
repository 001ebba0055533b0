"""The pixel inspector in real headless Chromium: real pointer clicks on the dashboard's map."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.actions.action_builder import ActionBuilder

import app as dashboard
from components import ids
from pixel_fixtures import BANDS, CROP_POINT, NO_DATA_POINT, SCENE_COUNT, read_pixel, scene_path
from server_fixtures import sample_root  # noqa: F401  (pytest fixture)
from test_dashboard import shown_image
from test_dashboard_controls import choose

pytestmark = pytest.mark.browser

MAP = "window.imageMapLayer.mapOf('main')"


def js(dash_duo, script: str, *args):
    return dash_duo.driver.execute_script(script, *args)


def open_dashboard(dash_duo, sample_root) -> None:
    dash_duo.start_server(dashboard.create_app(data_dir=sample_root))
    dash_duo._wait_for(lambda _: shown_image(dash_duo) is not None, timeout=15, msg="no image shown")


def click_map(dash_duo, point: tuple[int, int]) -> tuple[float, float]:
    """A real pointer click at a container pixel of the map; returns the lat/lng Leaflet gives it."""
    box = dash_duo.find_element(".leaflet-container").rect
    action = ActionBuilder(dash_duo.driver)
    action.pointer_action.move_to_location(box["x"] + point[0], box["y"] + point[1]).click()
    action.perform()
    return tuple(js(dash_duo, f"const ll = {MAP}.containerPointToLatLng(arguments[0]); return [ll.lat, ll.lng]",
                    list(point)))


def container_point(dash_duo, lat: float, lng: float) -> tuple[int, int]:
    x, y = js(dash_duo, f"const p = {MAP}.latLngToContainerPoint([arguments[0], arguments[1]]); return [p.x, p.y]",
              lat, lng)
    return round(x), round(y)


def band_table(dash_duo) -> list[list[str]]:
    return js(dash_duo, """return [...document.querySelectorAll('#pixel-grid .ag-row')]
        .sort((a, b) => a.getAttribute('row-index') - b.getAttribute('row-index'))
        .map(r => [r.querySelector('[col-id=band]').innerText, r.querySelector('[col-id=value]').innerText])""")


def catalog_rows(dash_duo) -> list[dict]:
    return js(dash_duo, """const rows = [];
        dash_ag_grid.getApi(arguments[0]).forEachNode(n => rows.push(n.data)); return rows""", ids.PIXEL_CATALOG_GRID)


def test_a_click_shows_the_pixel_the_scenes_under_it_and_its_temporal_profile(dash_duo, sample_root):
    open_dashboard(dash_duo, sample_root)
    dash_duo.find_element(".inspector-tab:nth-child(2)").click()  # the catalog tab: a click brings the pixel back
    lat, lng = click_map(dash_duo, container_point(dash_duo, *CROP_POINT))
    dash_duo._wait_for(lambda _: len(band_table(dash_duo)) == len(BANDS), timeout=10, msg="no band values shown")
    assert dash_duo.find_element(".inspector-tab--selected").text == "Pixel"
    scenes = catalog_rows(dash_duo)
    assert len(scenes) == SCENE_COUNT
    top = [scene["Name"] for scene in scenes if scene["visibility"] == 1]
    assert len(top) == 1
    expected = read_pixel(scene_path(sample_root, top[0]), lat, lng)
    assert band_table(dash_duo) == [[band, f"{value:g}"] for band, value in zip(BANDS, expected)]
    for scene in scenes:
        assert [scene[band] for band in BANDS] == read_pixel(scene_path(sample_root, scene["Name"]), lat, lng)
    assert js(dash_duo, "return document.querySelectorAll('.leaflet-overlay-pane path[fill=\"#d6336c\"]').length") == 1
    dash_duo.wait_for_contains_text(f"#{ids.TEMPORAL_STATUS}", f"{SCENE_COUNT} scenes", timeout=20)
    # The chart is drawn once plotly.js has loaded (with the first chart), after the status line.
    points = "const plot = document.querySelector('#temporal-chart .js-plotly-plot'); return plot && plot.data && plot.data[0].x.length"
    dash_duo._wait_for(lambda _: js(dash_duo, points) == SCENE_COUNT, timeout=15, msg="the temporal profile was not drawn")
    assert dash_duo.get_logs() == []


def test_nodata_and_outside_clicks_say_so(dash_duo, sample_root):
    open_dashboard(dash_duo, sample_root)
    click_map(dash_duo, container_point(dash_duo, *NO_DATA_POINT))
    dash_duo.wait_for_text_to_equal(f"#{ids.PIXEL_STATUS}", "No data at this point.", timeout=10)
    north = js(dash_duo, f"return {MAP}.containerPointToLatLng([{MAP}.getSize().x / 2, 4]).lat")
    assert north > NO_DATA_POINT[0] + 0.2  # the fitted map shows space north of the extent
    click_map(dash_duo, (container_point(dash_duo, *NO_DATA_POINT)[0], 4))
    dash_duo.wait_for_text_to_equal(f"#{ids.PIXEL_STATUS}", "This point is outside the service's extent.", timeout=10)
    assert not dash_duo.find_element(f"#{ids.PIXEL_RESULTS}").is_displayed()
    assert not dash_duo.find_element(f"#{ids.TEMPORAL_SECTION}").is_displayed()


def chart_types(dash_duo) -> list[str]:
    return js(dash_duo, f"const plot = document.querySelector('#{ids.PIXEL_SPECTRAL} .js-plotly-plot');"
                        "return plot && plot.data ? plot.data.map(t => t.type) : []")


def test_values_after_the_rendering_rule_are_named_by_its_output_and_not_charted_as_a_spectrum(dash_duo, sample_root):
    open_dashboard(dash_duo, sample_root)
    choose(dash_duo, ids.RENDERING_RULE, "Natural Color")
    dash_duo._wait_for(lambda _: "Natural" in (shown_image(dash_duo) or {}).get("src", ""), timeout=10,
                       msg="the template was not drawn")
    click_map(dash_duo, container_point(dash_duo, *CROP_POINT))
    dash_duo._wait_for(lambda _: len(band_table(dash_duo)) == len(BANDS), timeout=10, msg="no band values shown")
    assert [band for band, _ in band_table(dash_duo)] == BANDS
    dash_duo.find_element(f"#{ids.PIXEL_APPLY_RULE} input").click()
    dash_duo._wait_for(lambda _: len(band_table(dash_duo)) == 3, timeout=10, msg="no rule output shown")
    assert [band for band, _ in band_table(dash_duo)] == ["Shown red (Red)", "Shown green (Green)", "Shown blue (Blue)"]
    dash_duo._wait_for(lambda _: chart_types(dash_duo) == ["bar"], timeout=10, msg="the rule output is charted as lines")
    assert dash_duo.get_logs() == []


def scripts_loaded(dash_duo, name: str) -> int:
    return js(dash_duo, "return performance.getEntriesByType('resource').filter(e => e.name.includes(arguments[0])).length",
              name)


def test_plotly_loads_with_the_first_chart_not_with_the_page(dash_duo, sample_root):
    # plotly.js (4.8 MB) loaded and parsed with the page held up the map's first image by a second.
    open_dashboard(dash_duo, sample_root)
    dash_duo.wait_for_contains_text(f"#{ids.SERVICE_STATUS}", "6 bands", timeout=10)
    assert scripts_loaded(dash_duo, "plotly") == 0
    click_map(dash_duo, container_point(dash_duo, *CROP_POINT))
    dash_duo.wait_for_element(f"#{ids.PIXEL_SPECTRAL} .js-plotly-plot", timeout=15)
    assert scripts_loaded(dash_duo, "plotly") == 1
    assert dash_duo.get_logs() == []
