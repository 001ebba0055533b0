"""bind_popup and attribution of the ImageMapLayerAIO component in real headless Chromium.

Identify requests are server-side (the popup callback), so they are counted on the test app's
Flask server rather than with the browser's resource timing.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import flask
import pytest
from dash import Dash, Input, Output, State, html
from selenium.webdriver.common.actions.action_builder import ActionBuilder

from imageservice.dash import ImageMapLayerAIO
from imageservice import ImageMapLayer
from imageservice.server.sampledata import COPYRIGHT
from server_fixtures import sample_root, services  # noqa: F401  (pytest fixtures)
from test_imagemaplayer_browser import SERVICE_PATH, js, start, wait_shown, wait_until
from test_popup import CREDIT, credited_services  # noqa: F401  (pytest fixture)

pytestmark = pytest.mark.browser

ATTRIBUTION = ".leaflet-control-attribution"
# The open popup of layer x's map: where it points and what it says (null when none is open).
OPEN_POPUP = """
const map = window.imageMapLayer.mapOf('x');
let popup = null;
map.eachLayer(l => { if (l instanceof L.Popup && l.isOpen()) { popup = l; } });
if (!popup) { return null; }
const element = popup.getElement();
return {lat: popup.getLatLng().lat, lng: popup.getLatLng().lng,
        text: element.querySelector('.leaflet-popup-content').innerText, className: element.className};
"""


def value_text(error, results, response) -> str:
    """A popup function returning markup as a plain string: it must show as text."""
    return f"<b>{results['pixel']['properties']['value']}</b>"


def count_identify(app: Dash, started: list[str], delay_first: float = 0.0) -> None:
    """Record every identify request the embedded server gets; optionally hold back the first."""
    @app.server.before_request
    def record() -> None:
        if flask.request.path.endswith("/identify"):
            started.append(flask.request.args["geometry"])
            if delay_first and len(started) == 1:
                time.sleep(delay_first)


def open_app(dash_duo, services, fn, started: list[str], *, delay_first: float = 0.0,
             setup: Callable[[Dash], None] | None = None, extra: list | None = None,
             popup_options: dict | None = None) -> str:
    def configure(app: Dash) -> None:
        count_identify(app, started, delay_first)
        if setup:
            setup(app)

    root = start(dash_duo, services, lambda root: [
        ImageMapLayerAIO(root + SERVICE_PATH, aio_id="x").bind_popup(fn, popup_options)], extra=extra, setup=configure)
    wait_shown(dash_duo, "x")
    return root


def click_at(dash_duo, x: int, y: int, double: bool = False) -> tuple[float, float]:
    """Click the map at container point (x, y); returns the clicked lat/lng."""
    lat, lng = js(dash_duo, "const ll = window.imageMapLayer.mapOf('x').containerPointToLatLng([arguments[0], arguments[1]]);"
                            "return [ll.lat, ll.lng]", x, y)
    box = dash_duo.find_element(".leaflet-container").rect
    action = ActionBuilder(dash_duo.driver)
    pointer = action.pointer_action.move_to_location(box["x"] + x, box["y"] + y)
    pointer.double_click() if double else pointer.click()
    action.perform()
    return lat, lng


def open_popup(dash_duo) -> dict | None:
    return js(dash_duo, OPEN_POPUP)


def wait_popup_at(dash_duo, lat: float, lng: float) -> dict:
    def there() -> bool:
        popup = open_popup(dash_duo)
        return bool(popup) and (popup["lat"], popup["lng"]) == pytest.approx((lat, lng), abs=1e-9)
    wait_until(dash_duo, there, f"no popup opened at {lat}, {lng}")
    return open_popup(dash_duo)


def test_a_click_opens_the_popup_with_the_identified_value_and_a_second_click_moves_it(dash_duo, services):
    started: list[str] = []
    root = open_app(dash_duo, services, value_text, started, popup_options={"maxWidth": 180, "className": "pixel-popup"})
    layer = ImageMapLayer(root + SERVICE_PATH)
    lat, lng = click_at(dash_duo, 200, 250)
    popup = wait_popup_at(dash_duo, lat, lng)
    assert len(started) == 1  # before the test's own identify below
    assert popup["text"] == f"<b>{layer.identify().at(lat, lng).run()['value']}</b>"
    assert "pixel-popup" in popup["className"]
    lat2, lng2 = click_at(dash_duo, 450, 300)
    popup = wait_popup_at(dash_duo, lat2, lng2)
    assert len(started) == 3
    assert popup["text"] == f"<b>{layer.identify().at(lat2, lng2).run()['value']}</b>"
    assert dash_duo.get_logs() == []


def test_a_double_click_opens_no_popup(dash_duo, services):
    started: list[str] = []
    open_app(dash_duo, services, value_text, started)
    click_at(dash_duo, 320, 200, double=True)
    wait_until(dash_duo, lambda: js(dash_duo, "return window.imageMapLayer.mapOf('x').getZoom()") == 11,
               "the double-click did not zoom in")
    time.sleep(1)  # a click would have been published and identified by now
    assert (open_popup(dash_duo), started) == (None, [])


def test_fn_returning_false_opens_no_popup(dash_duo, services):
    started: list[str] = []
    answers: list[str] = []

    def nothing(error, results, response):
        answers.append(results["pixel"]["properties"]["value"])
        return False

    open_app(dash_duo, services, nothing, started)
    click_at(dash_duo, 320, 200)
    wait_until(dash_duo, lambda: len(answers) == 1, "the popup function was not called")
    time.sleep(0.5)  # the popup would open right after the function answered
    assert open_popup(dash_duo) is None and len(started) == 1


def test_unbinding_at_runtime_stops_identify_requests_and_rebinding_resumes(dash_duo, services):
    started: list[str] = []
    popup = ImageMapLayerAIO.ids.popup("x")
    buttons = [html.Button("unbind", id="unbind"), html.Button("bind", id="bind")]

    def setup(app: Dash) -> None:
        app.callback(Output(popup, "data", allow_duplicate=True), Input("unbind", "n_clicks"), State(popup, "data"),
                     prevent_initial_call=True)(lambda _, data: {**data, "bound": False})
        app.callback(Output(popup, "data", allow_duplicate=True), Input("bind", "n_clicks"), State(popup, "data"),
                     prevent_initial_call=True)(lambda _, data: {**data, "bound": True})

    open_app(dash_duo, services, value_text, started, setup=setup, extra=buttons)
    wait_popup_at(dash_duo, *click_at(dash_duo, 300, 250))
    dash_duo.find_element("#unbind").click()
    wait_until(dash_duo, lambda: open_popup(dash_duo) is None, "unbinding did not close the popup")
    click_at(dash_duo, 400, 300)
    time.sleep(1)  # a bound layer would have identified and opened the popup by now
    assert (open_popup(dash_duo), len(started)) == (None, 1)
    dash_duo.find_element("#bind").click()
    time.sleep(0.5)
    assert open_popup(dash_duo) is None  # rebinding waits for the next click
    wait_popup_at(dash_duo, *click_at(dash_duo, 250, 150))
    assert len(started) == 2


def test_a_slow_answer_for_an_older_click_never_opens(dash_duo, services):
    started: list[str] = []
    root = open_app(dash_duo, services, value_text, started, delay_first=1.5)
    click_at(dash_duo, 200, 150)
    wait_until(dash_duo, lambda: len(started) == 1, "the first click was not identified")
    lat, lng = click_at(dash_duo, 450, 300)
    popup = wait_popup_at(dash_duo, lat, lng)
    time.sleep(2)  # the first click's answer is back by now
    assert open_popup(dash_duo) == popup
    assert popup["text"] == f"<b>{ImageMapLayer(root + SERVICE_PATH).identify().at(lat, lng).run()['value']}</b>"


def test_the_map_attribution_shows_the_services_copyright_and_follows_the_url(dash_duo, credited_services):
    params = ImageMapLayerAIO.ids.params("x")

    def setup(app: Dash) -> None:
        app.callback(Output(params, "data", allow_duplicate=True), Input("switch", "n_clicks"), State(params, "data"),
                     prevent_initial_call=True)(lambda _, data: {**data, "url": data["url"].replace("SampleMultispectral", "Credited")})

    start(dash_duo, credited_services, lambda root: [
        ImageMapLayerAIO(root + SERVICE_PATH, aio_id="x"),
        ImageMapLayerAIO(root + SERVICE_PATH, aio_id="y", attribution="Overlay by <i>us</i>", opacity=0.5),
    ], extra=[html.Button("switch", id="switch")], setup=setup)
    wait_attributions(dash_duo, {"Overlay by us", COPYRIGHT})
    dash_duo.find_element("#switch").click()
    wait_attributions(dash_duo, {"Overlay by us", CREDIT})
    assert js(dash_duo, f"return document.querySelector('{ATTRIBUTION}').innerHTML").count("<i>us</i>") == 1


def wait_attributions(dash_duo, expected: set[str]) -> None:
    """Wait until the map's attribution lists exactly `expected` (in any order) after Leaflet's prefix."""
    def parts() -> set[str]:
        prefix, _, texts = dash_duo.find_element(ATTRIBUTION).text.partition(" | ")
        return set(texts.split(", ")) if prefix == "Leaflet" else set()
    wait_until(dash_duo, lambda: parts() == expected, f"the attribution never listed {expected}")
