"""The catalog and service tabs of the dashboard in real headless Chromium, on the embedded sample service."""

from __future__ import annotations

import json

import pytest
import requests
from selenium.webdriver.common.actions.action_builder import ActionBuilder

from components import ids
from server_fixtures import sample_root  # noqa: F401  (pytest fixture)
from test_dashboard_controls import TIMEOUT, choose, open_dashboard, overlay_query, wait_for_overlay

pytestmark = pytest.mark.browser
QUERY = "/arcgis/rest/services/SampleMultispectral/ImageServer/query"
LOCK = "esriMosaicLockRaster"


def open_tab(dash_duo, label: str) -> None:
    next(tab for tab in dash_duo.find_elements(".inspector-tab") if tab.text.strip() == label).click()


def footprint_count(dash_duo) -> int:
    return dash_duo.driver.execute_script("return document.querySelectorAll('path.catalog-footprint').length")


def grid_rows(dash_duo) -> list[str]:
    """The ids of the rows the grid holds (all of them, not only those scrolled into view)."""
    return dash_duo.driver.execute_script(
        f"const ids = []; dash_ag_grid.getApi('{ids.CATALOG_GRID}').forEachNodeAfterFilterAndSort("
        "n => ids.push(n.id)); return ids;")


def selected_rows(dash_duo) -> list[str]:
    return dash_duo.driver.execute_script(
        f"return dash_ag_grid.getApi('{ids.CATALOG_GRID}').getSelectedNodes().map(n => n.id);")


def server_count(dash_duo, where: str) -> int:
    """What the server counts for the map's current view: the question the catalog tab asks."""
    south, west, north, east = dash_duo.driver.execute_script(
        "const b = window.imageMapLayer.mapOf('main').getBounds();"
        "return [b.getSouth(), b.getWest(), b.getNorth(), b.getEast()];")
    geometry = {"xmin": west, "ymin": south, "xmax": east, "ymax": north, "spatialReference": {"wkid": 4326}}
    answer = requests.get(dash_duo.server_url + QUERY, timeout=10, params={
        "f": "json", "where": where, "geometry": json.dumps(geometry), "geometryType": "esriGeometryEnvelope",
        "inSR": 4326, "spatialRel": "esriSpatialRelIntersects", "returnCountOnly": "true"}).json()
    return answer["count"]


def mosaic_rule(query: dict) -> dict | None:
    return json.loads(query["mosaicRule"][0]) if "mosaicRule" in query else None


def open_catalog(dash_duo, sample_root) -> None:
    open_dashboard(dash_duo, sample_root)
    open_tab(dash_duo, "Catalog")
    dash_duo.wait_for_contains_text(f"#{ids.CATALOG_STATUS}", "in this view", timeout=TIMEOUT)


def test_footprints_rows_and_the_server_agree_on_the_view(dash_duo, sample_root):
    open_catalog(dash_duo, sample_root)
    everything = server_count(dash_duo, "1=1")
    assert everything > 0
    dash_duo.wait_for_text_to_equal(f"#{ids.CATALOG_STATUS}", f"{everything} scenes in this view.", timeout=TIMEOUT)
    dash_duo._wait_for(lambda _: footprint_count(dash_duo) == everything, timeout=TIMEOUT, msg="footprints missing")
    assert len(grid_rows(dash_duo)) == everything

    box = dash_duo.find_element(f"#{ids.CATALOG_WHERE}")
    box.send_keys("CloudCover <= 10\n")
    clear = server_count(dash_duo, "CloudCover <= 10")
    assert 0 < clear < everything
    dash_duo.wait_for_text_to_equal(f"#{ids.CATALOG_STATUS}", f"{clear} scenes in this view match the filters.",
                                    timeout=TIMEOUT)
    dash_duo._wait_for(lambda _: footprint_count(dash_duo) == clear, timeout=TIMEOUT, msg="footprints not filtered")
    assert len(grid_rows(dash_duo)) == clear

    dash_duo.find_element(f"#{ids.CATALOG_SHOW_FOOTPRINTS} input").click()
    dash_duo._wait_for(lambda _: footprint_count(dash_duo) == 0, timeout=TIMEOUT, msg="footprints not hidden")
    box.clear()
    box.send_keys("Nonsense = 1\n")
    dash_duo.wait_for_text_to_equal(
        f"#{ids.CATALOG_WHERE_ERROR}",
        "The server refused the where clause: Invalid 'where' clause: unknown field 'Nonsense' at position 0.",
        timeout=TIMEOUT)
    assert dash_duo.get_logs() == []


def test_ticked_scenes_lock_the_mosaic_through_band_changes_until_cleared(dash_duo, sample_root):
    open_catalog(dash_duo, sample_root)
    dash_duo._wait_for(lambda _: "3" in grid_rows(dash_duo), timeout=TIMEOUT, msg="scene 3 not listed")
    before = overlay_query(dash_duo)
    assert mosaic_rule(before) is None

    dash_duo.find_element(f"#{ids.CATALOG_GRID} .ag-row[row-id='3'] input[type=checkbox]").click()
    query = wait_for_overlay(dash_duo, lambda q: mosaic_rule(q) == {"mosaicMethod": LOCK, "lockRasterIds": [3]},
                             "the image was not locked to scene 3")
    assert query["bbox"] == before["bbox"]
    dash_duo.wait_for_text_to_equal(f"#{ids.CATALOG_SELECTION}", "Map locked to 1 scene (ID 3).", timeout=TIMEOUT)
    selected_paths = "return document.querySelectorAll('path.catalog-footprint[stroke=\"#0ea5e9\"]').length"
    dash_duo._wait_for(lambda _: dash_duo.driver.execute_script(selected_paths) == 1, timeout=TIMEOUT,
                       msg="the locked scene's footprint is not drawn apart")

    # The control panel rebuilds the mosaic rule on every change: the lock must survive it.
    choose(dash_duo, ids.BAND_PRESET, "Color Infrared")
    query = wait_for_overlay(dash_duo, lambda q: q.get("bandIds") == ["3,2,1"], "bandIds did not change")
    assert mosaic_rule(query) == {"mosaicMethod": LOCK, "lockRasterIds": [3]}

    dash_duo.find_element(f"#{ids.CATALOG_GRID} .ag-row[row-id='5'] input[type=checkbox]").click()
    wait_for_overlay(dash_duo, lambda q: mosaic_rule(q) == {"mosaicMethod": LOCK, "lockRasterIds": [3, 5]},
                     "scene 5 was not added to the lock")

    dash_duo.find_element(f"#{ids.CATALOG_CLEAR}").click()
    query = wait_for_overlay(dash_duo, lambda q: "mosaicRule" not in q, "Clear did not remove the lock")
    assert query["bandIds"] == ["3,2,1"]
    dash_duo._wait_for(lambda _: selected_rows(dash_duo) == [], timeout=TIMEOUT, msg="rows still ticked")
    dash_duo.wait_for_text_to_equal(f"#{ids.CATALOG_SELECTION}", "Tick scenes to show only them on the map.",
                                    timeout=TIMEOUT)
    assert not dash_duo.find_element(f"#{ids.CATALOG_CLEAR}").is_enabled()
    assert dash_duo.get_logs() == []


def test_the_service_tab_describes_the_service(dash_duo, sample_root):
    open_dashboard(dash_duo, sample_root)
    open_tab(dash_duo, "Service")
    content = f"#{ids.INFO_CONTENT}"
    dash_duo.wait_for_contains_text(content, "6: Blue, Green, Red, NIR, SWIR1, SWIR2", timeout=TIMEOUT)
    assert "EPSG:32610, WGS 84 / UTM zone 10N" in dash_duo.find_element(content).text
    link = dash_duo.find_element(f"{content} a.info-link")
    assert link.get_attribute("href") == dash_duo.server_url + "/arcgis/rest/services/SampleMultispectral/ImageServer"
    assert dash_duo.get_logs() == []


# A point on a footprint's outline that the outline itself takes (the topmost of the scenes that
# share it), and that footprint's scene id: [x, y, id] in whole page pixels, or null.
OUTLINE_POINT = """
const map = window.imageMapLayer.mapOf('main');
const box = map.getContainer().getBoundingClientRect();
const layers = [];
map.eachLayer(l => { if (l.feature && l._path) { layers.push(l); } });
for (const layer of layers) {
    const path = layer._path, matrix = path.getScreenCTM(), length = path.getTotalLength();
    for (let t = 0; t < length; t += 7) {
        const p = path.getPointAtLength(t);
        const x = Math.round(matrix.a * p.x + matrix.c * p.y + matrix.e);
        const y = Math.round(matrix.b * p.x + matrix.d * p.y + matrix.f);
        if (x > box.left + 60 && x < box.right - 20 && y > box.top + 90 && y < box.bottom - 20 &&
            document.elementFromPoint(x, y) === path) { return [x, y, layer.feature.id]; }
    }
}
return null;
"""
# What takes the pointer at the map's centre.
AT_CENTRE = """
const box = window.imageMapLayer.mapOf('main').getContainer().getBoundingClientRect();
const element = document.elementFromPoint((box.left + box.right) / 2, (box.top + box.bottom) / 2);
return element.getAttribute('class') || element.tagName;
"""


def test_footprints_belong_to_the_catalog_tab_and_a_click_on_one_selects_its_scene(dash_duo, sample_root):
    open_catalog(dash_duo, sample_root)
    dash_duo._wait_for(lambda _: footprint_count(dash_duo) > 0, timeout=TIMEOUT, msg="no footprints")
    open_tab(dash_duo, "Pixel")
    dash_duo._wait_for(lambda _: footprint_count(dash_duo) == 0, timeout=TIMEOUT, msg="footprints outside the tab")
    open_tab(dash_duo, "Catalog")
    dash_duo._wait_for(lambda _: footprint_count(dash_duo) > 0, timeout=TIMEOUT, msg="footprints not back")
    # inside the footprints the pointer reaches the map: no footprint lights up under it
    assert "catalog-footprint" not in dash_duo.driver.execute_script(AT_CENTRE)
    x, y, scene = dash_duo.driver.execute_script(OUTLINE_POINT)
    click = ActionBuilder(dash_duo.driver)
    click.pointer_action.move_to_location(x, y)
    click.pointer_action.click()
    click.perform()
    wait_for_overlay(dash_duo, lambda q: mosaic_rule(q) == {"mosaicMethod": LOCK, "lockRasterIds": [scene]},
                     "the clicked footprint's scene was not selected")
    dash_duo.wait_for_text_to_equal(f"#{ids.CATALOG_SELECTION}", f"Map locked to 1 scene (ID {scene}).",
                                    timeout=TIMEOUT)
    dash_duo._wait_for(lambda _: selected_rows(dash_duo) == [str(scene)], timeout=TIMEOUT, msg="its row not ticked")
    # the click selected, it did not identify: the catalog tab stays open
    assert dash_duo.find_element(".inspector-tab--selected").text.strip() == "Catalog"
    assert dash_duo.get_logs() == []
