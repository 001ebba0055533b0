"""Swipe comparison in real headless Chromium: the compare layer, its clip and the divider."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlparse

import pytest
from selenium.webdriver.common.action_chains import ActionBuilder

from components import ids
from server_fixtures import sample_root  # noqa: F401  (pytest fixture)
from test_catalog_panel_browser import open_tab
from test_dashboard_controls import TIMEOUT, choose, open_dashboard

pytestmark = pytest.mark.browser


def compare_image(dash_duo) -> dict:
    """The compare layer's shown image URL's query, if an image in the swipe pane has loaded."""
    url = dash_duo.driver.execute_script(
        "const s = window.imageMapLayer.stateOf('compare'); if (!s || !s.url) { return null; }"
        "const img = [...document.querySelectorAll('.leaflet-swipe-pane img')].find(i => i.src === s.url);"
        "return img && img.complete && img.naturalWidth > 1 && img.style.opacity !== '0' ? s.url : null;")
    return parse_qs(urlparse(url).query) if url else {}


def geometry(dash_duo) -> dict:
    """The divider's centre, the pane's clip and the clip the map's layer coordinates call for."""
    return dash_duo.driver.execute_script("""
        const map = window.imageMapLayer.mapOf('main');
        const box = map.getContainer().getBoundingClientRect();
        const divider = document.querySelector('.swipe-divider').getBoundingClientRect();
        const x = divider.left + divider.width / 2 - box.left;
        const topLeft = map.containerPointToLayerPoint([0, 0]);
        const bottomRight = map.containerPointToLayerPoint(map.getSize());
        const cut = map.containerPointToLayerPoint([x, 0]);
        return {x: x, clip: getComputedStyle(map.getPane('swipe')).clip,
                expected: [topLeft.y, cut.x, bottomRight.y, topLeft.x],
                center: map.getCenter(), origin: map.getPixelOrigin(), width: box.width};""")


def clip_numbers(clip: str) -> list[float]:
    return [float(v) for v in re.findall(r"-?[\d.]+", clip)]


def divider_hidden(dash_duo) -> bool:
    return dash_duo.driver.execute_script("const d = document.querySelector('.swipe-divider'); return !d || d.hidden;")


def test_swipe_shows_another_rendering_left_of_a_draggable_divider(dash_duo, sample_root):
    open_dashboard(dash_duo, sample_root)
    open_tab(dash_duo, "Compare")
    assert divider_hidden(dash_duo)
    assert dash_duo.driver.execute_script("return window.imageMapLayer.stateOf('compare').url") is None

    dash_duo.find_element(f"#{ids.SWIPE_ENABLED} input").click()
    # The left side starts with the service's next template, so the difference shows at once.
    dash_duo.wait_for_contains_text(f"#{ids.SWIPE_STATUS}", "Left: Color Infrared. Right: Natural Color", timeout=TIMEOUT)
    choose(dash_duo, ids.SWIPE_RULE, "NDVI Colorized")
    dash_duo._wait_for(lambda _: compare_image(dash_duo).get("renderingRule") == ['{"rasterFunction":"NDVI Colorized"}'],
                       timeout=TIMEOUT, msg="the compare layer did not load an NDVI Colorized image")
    assert json.loads(compare_image(dash_duo)["renderingRule"][0]) == {"rasterFunction": "NDVI Colorized"}
    dash_duo.wait_for_text_to_equal(".swipe-side-label--left", "NDVI Colorized", timeout=TIMEOUT)
    assert dash_duo.find_element(".swipe-side-label--right").text == "Natural Color"

    before = geometry(dash_duo)
    assert before["x"] == pytest.approx(before["width"] / 2, abs=1)
    assert clip_numbers(before["clip"]) == pytest.approx(before["expected"], abs=0.5)

    handle = dash_duo.find_element(".swipe-handle")
    drag = ActionBuilder(dash_duo.driver)
    drag.pointer_action.move_to(handle).pointer_down()
    for _ in range(4):
        drag.pointer_action.move_by(-30, 5)
    drag.pointer_action.pointer_up()
    drag.perform()
    after = geometry(dash_duo)
    assert after["x"] == pytest.approx(before["x"] - 120, abs=1)
    assert clip_numbers(after["clip"]) == pytest.approx(after["expected"], abs=0.5)
    assert clip_numbers(after["clip"])[1] == pytest.approx(clip_numbers(before["clip"])[1] - 120, abs=1)
    assert (after["center"], after["origin"]) == (before["center"], before["origin"])  # the map did not pan

    dash_duo.driver.execute_script("window.imageMapLayer.mapOf('main').panBy([90, -40], {animate: false})")
    panned = geometry(dash_duo)
    assert panned["x"] == pytest.approx(after["x"], abs=1)
    assert clip_numbers(panned["clip"]) == pytest.approx(panned["expected"], abs=0.5)
    assert clip_numbers(panned["clip"])[1] == pytest.approx(clip_numbers(after["clip"])[1] + 90, abs=1)

    dash_duo.find_element(f"#{ids.SWIPE_ENABLED} input").click()
    dash_duo._wait_for(lambda _: divider_hidden(dash_duo), timeout=TIMEOUT, msg="the divider stayed")
    dash_duo._wait_for(lambda _: dash_duo.driver.execute_script("return window.imageMapLayer.stateOf('compare').url")
                       is None, timeout=TIMEOUT, msg="the compare layer kept drawing")
    assert dash_duo.driver.execute_script("return getComputedStyle(window.imageMapLayer.mapOf('main')"
                                          ".getPane('swipe')).clip") == "auto"
    assert dash_duo.get_logs() == []


def test_swipe_compares_dates(dash_duo, sample_root):
    open_dashboard(dash_duo, sample_root)
    open_tab(dash_duo, "Compare")
    dash_duo.find_element(f"#{ids.SWIPE_ENABLED} input").click()
    choose(dash_duo, ids.SWIPE_RULE, "Natural Color")  # the same rendering: only the dates differ
    dash_duo.find_element(f"#{ids.SWIPE_DATES_ON} input").click()
    dash_duo._wait_for(lambda _: "time" in compare_image(dash_duo), timeout=TIMEOUT,
                       msg="the compare layer did not load an image for other dates")
    start, end = (int(v) for v in compare_image(dash_duo)["time"][0].split(","))
    assert start == end == dash_duo.driver.execute_script(
        f"return document.querySelector('#{ids.SWIPE_DATES} [role=slider]').getAttribute('aria-valuenow') * 1")
    label = dash_duo.find_element(".swipe-side-label--left").text
    assert label.startswith("Natural Color · 2025-") and dash_duo.find_element(
        ".swipe-side-label--right").text == "Natural Color · all dates"
    assert dash_duo.get_logs() == []


def test_the_left_side_shows_only_the_other_dates_and_a_click_there_reports_them(dash_duo, sample_root):
    open_dashboard(dash_duo, sample_root)
    open_tab(dash_duo, "Compare")
    dash_duo.find_element(f"#{ids.SWIPE_ENABLED} input").click()
    choose(dash_duo, ids.SWIPE_RULE, "Natural Color")
    dash_duo.find_element(f"#{ids.SWIPE_DATES_ON} input").click()
    dash_duo._wait_for(lambda _: "time" in compare_image(dash_duo), timeout=TIMEOUT,
                       msg="the compare layer did not load an image for other dates")
    # the main layer is clipped to the right of the divider: it cannot show through on the left
    place = geometry(dash_duo)
    main_clip = clip_numbers(dash_duo.driver.execute_script(
        "return getComputedStyle(window.imageMapLayer.mapOf('main').getPane('mainimage')).clip"))
    assert main_clip[3] == pytest.approx(place["expected"][1], abs=1)  # its left edge is the divider
    left = dash_duo.find_element(".swipe-side-label--left").text
    date = left.split(" · ")[1]
    box = dash_duo.find_element(".leaflet-container").rect
    click = ActionBuilder(dash_duo.driver)
    click.pointer_action.move_to_location(box["x"] + place["x"] - 120, box["y"] + box["height"] / 2).click()
    click.perform()
    dash_duo.wait_for_contains_text(f"#{ids.PIXEL_STATUS}", f"Left side of the swipe: {left}.", timeout=TIMEOUT)
    # identify asked for the left side's dates: every scene it lists is from that date
    dash_duo._wait_for(lambda _: scene_dates(dash_duo), timeout=TIMEOUT, msg="no scenes listed")
    assert {day[:10] for day in scene_dates(dash_duo)} == {date}
    assert dash_duo.get_logs() == []


def scene_dates(dash_duo) -> list[str]:
    return dash_duo.driver.execute_script(
        "const rows = []; dash_ag_grid.getApi(arguments[0]).forEachNode(n => rows.push(n.data.AcquisitionDate));"
        "return rows", ids.PIXEL_CATALOG_GRID)
