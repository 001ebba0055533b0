"""The status line and the loading indicator as an analyst sees them, in real headless Chromium."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.keys import Keys

from components import ids
from server_fixtures import sample_root  # noqa: F401  (pytest fixture)
from test_dashboard_controls import TIMEOUT, open_dashboard, wait_for_overlay

pytestmark = pytest.mark.browser

REFUSED_RULE = '{"rasterFunction": "NoSuchFunction"}'


def type_custom_rule(dash_duo, text: str) -> None:
    """Replaces the custom rule box's text; the rule is read when the box loses focus."""
    box = dash_duo.find_element(f"#{ids.CUSTOM_RULE}")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.BACKSPACE)
    if text:
        box.send_keys(text)
    dash_duo.find_element(f"#{ids.NO_DATA}").click()


def status(dash_duo) -> tuple[str, str]:
    element = dash_duo.find_element(f"#{ids.SERVICE_STATUS}")
    return element.text, element.get_attribute("class")


def wait_for_refusal(dash_duo) -> None:
    type_custom_rule(dash_duo, REFUSED_RULE)
    dash_duo.wait_for_contains_text(f"#{ids.SERVICE_STATUS}", "The image could not be drawn", timeout=TIMEOUT)
    assert "error" in status(dash_duo)[1].split()


def wait_for_description(dash_duo) -> None:
    dash_duo._wait_for(lambda _: status(dash_duo)[0].startswith("SampleMultispectral: 6 bands"), timeout=TIMEOUT,
                       msg="the status line did not go back to the service description")
    assert status(dash_duo)[1].split() == ["service-status"]


def test_a_newer_good_image_clears_the_red_error(dash_duo, sample_root):
    """A refused rule's red error gives way to the service description once a good image loads."""
    open_dashboard(dash_duo, sample_root)
    wait_for_refusal(dash_duo)
    type_custom_rule(dash_duo, '{"rasterFunction": "NDVI Colorized"}')
    wait_for_overlay(dash_duo, lambda q: q.get("renderingRule") == ['{"rasterFunction":"NDVI Colorized"}'],
                     "the good rule's image did not load")
    wait_for_description(dash_duo)
    assert dash_duo.get_logs() == []


def test_going_back_to_the_held_image_clears_the_red_error(dash_duo, sample_root):
    """Clearing the refused rule returns to the picture already on screen: no new request, and
    the red error gives way all the same."""
    open_dashboard(dash_duo, sample_root)
    wait_for_refusal(dash_duo)
    type_custom_rule(dash_duo, "")
    wait_for_description(dash_duo)
    assert dash_duo.get_logs() == []


# Holds every exportImage the page asks for, so the layer stays loading as long as the test needs.
HOLD_IMAGES = """
const src = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, "src");
Object.defineProperty(HTMLImageElement.prototype, "src", {configurable: true, get() { return src.get.call(this); },
    set(value) { if (!String(value).includes("/exportImage")) { src.set.call(this, value); } }});
"""

# The boxes (left, top, right, bottom) of the zoom control, the map, and each pseudo-element of the
# map that spins: their offsets, sizes, padding and borders as the browser resolved them.
MEASURE = """
const map = document.querySelector(".leaflet-container");
const rect = (r) => [r.left, r.top, r.right, r.bottom];
const m = map.getBoundingClientRect();
const px = (s, name) => parseFloat(s.getPropertyValue(name)) || 0;
const spinners = [];
for (const pseudo of ["::before", "::after"]) {
    const s = getComputedStyle(map, pseudo);
    if (!s.animationName.includes("imagemaplayer-spin")) { continue; }
    const extra = s.boxSizing === "border-box" ? [0, 0] :
        [px(s, "padding-left") + px(s, "padding-right") + px(s, "border-left-width") + px(s, "border-right-width"),
         px(s, "padding-top") + px(s, "padding-bottom") + px(s, "border-top-width") + px(s, "border-bottom-width")];
    const left = m.left + map.clientLeft + px(s, "left"), top = m.top + map.clientTop + px(s, "top");
    spinners.push([left, top, left + px(s, "width") + extra[0], top + px(s, "height") + extra[1]]);
}
return {zoom: rect(map.querySelector(".leaflet-control-zoom").getBoundingClientRect()), map: rect(m),
        spinners: spinners};
"""


def test_the_loading_indicator_keeps_off_the_zoom_control(dash_duo, sample_root):
    """While an image loads, a small indicator shows inside the map and not over its zoom buttons."""
    open_dashboard(dash_duo, sample_root)
    run = dash_duo.driver.execute_script
    run(HOLD_IMAGES)
    run("window.imageMapLayer.mapOf('main').panBy([150, 0], {animate: false})")
    dash_duo.wait_for_element(".leaflet-container.imagemaplayer-loading", timeout=TIMEOUT)
    boxes = run(MEASURE)
    assert len(boxes["spinners"]) == 1, boxes
    (left, top, right, bottom), zoom, whole = boxes["spinners"][0], boxes["zoom"], boxes["map"]
    assert not (left < zoom[2] and zoom[0] < right and top < zoom[3] and zoom[1] < bottom), boxes
    assert right - left <= 32 and bottom - top <= 32, boxes  # an indicator, not a disc
    assert whole[0] <= left and right <= whole[2] and whole[1] <= top and bottom <= whole[3], boxes
