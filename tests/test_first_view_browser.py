"""The index page's first view in real headless Chromium: the first image is asked for before Dash
has drawn the map (bench.browser_pan measures how much sooner it is on screen), for the very view
the map then opens at, so it is fetched once."""

from __future__ import annotations

import pytest

import app as dashboard
from server_fixtures import sample_root  # noqa: F401  (pytest fixture)
from test_dashboard import shown_image

pytestmark = pytest.mark.browser

# Every exportImage URL given to an <img>, and whether the map existed yet.
WATCH = """window.__asked = [];
const src = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, 'src');
Object.defineProperty(HTMLImageElement.prototype, 'src', {
    configurable: true,
    get: function () { return src.get.call(this); },
    set: function (value) {
        src.set.call(this, value);
        if (String(value).includes('/exportImage')) {
            window.__asked.push({src: src.get.call(this),
                                 mapExisted: Boolean(document.querySelector('.leaflet-container'))});
        }
    },
});"""
EXPORTS = "return performance.getEntriesByType('resource').map((e) => e.name).filter((n) => n.includes('/exportImage'))"


def open_page(dash_duo, sample_root, size: tuple[int, int], path: str = "/") -> None:
    driver = dash_duo.driver
    driver.set_window_size(*size)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": WATCH})
    dash_duo.start_server(dashboard.create_app(data_dir=sample_root))
    if path != "/":
        driver.get(dash_duo.server_url + path)
    dash_duo._wait_for(lambda _: shown_image(dash_duo) is not None, timeout=20, msg="the layer drew no image")
    dash_duo._wait_for(lambda d: not d.find_elements("css selector", ".first-view"), timeout=10,
                       msg="the first view's shell stayed over the page")


@pytest.mark.parametrize("size", [(1200, 900), (1500, 760)])
def test_the_first_image_is_asked_for_before_the_map_exists_for_the_view_it_opens_at(dash_duo, sample_root, size):
    open_page(dash_duo, sample_root, size)
    asked = dash_duo.driver.execute_script("return window.__asked")
    first = asked[0]
    assert not first["mapExisted"], asked
    # The layer asked for the very same view (bbox and size), so the browser fetched it once.
    assert shown_image(dash_duo)["src"] == first["src"]
    assert dash_duo.driver.execute_script(EXPORTS) == [first["src"]]
    assert dash_duo.get_logs() == []


# Start times of the first exportImage and of Dash's first script (not its stylesheets).
STARTS = """const entries = performance.getEntriesByType('resource');
const first = (found) => Math.min(...entries.filter(found).map((e) => e.startTime));
return [first((e) => e.name.includes('/exportImage')),
        first((e) => e.name.includes('/_dash-component-suites/') && e.initiatorType === 'script')];"""


def test_the_first_image_is_asked_for_before_dashs_scripts(dash_duo, sample_root):
    # Fetched alongside, Dash's scripts (several MB) hold up the picture's request and answer.
    open_page(dash_duo, sample_root, (1200, 900))
    image, scripts = dash_duo.driver.execute_script(STARTS)
    assert image < scripts, (image, scripts)
    assert dash_duo.find_element(".leaflet-container")  # and the page came up after it
    assert dash_duo.get_logs() == []


def test_a_shared_link_opens_without_the_first_view(dash_duo, sample_root):
    # A query string restores another view (callbacks/urlstate.py): no picture for the default one.
    open_page(dash_duo, sample_root, (1200, 900), f"/?service={dashboard.DEFAULT_SERVICE_URL}&bandIds=4,3,2")
    dash_duo._wait_for(lambda _: "bandIds=4%2C3%2C2" in (shown_image(dash_duo) or {}).get("src", ""), timeout=20,
                       msg="the link's bands were not drawn")
    asked = dash_duo.driver.execute_script("return window.__asked")
    assert asked and all(a["mapExisted"] for a in asked), asked
    assert not dash_duo.driver.execute_script("return document.querySelector('.first-view')")
