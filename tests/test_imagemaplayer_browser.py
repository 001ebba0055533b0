"""The ImageMapLayerAIO component in real headless Chromium, each test with its own tiny Dash app.

The embedded ImageServer is mounted on the test app; the layer URL is absolute, on the port the
test picks for dash_duo.
"""

from __future__ import annotations

import io
import json
import socket
import time
from collections.abc import Callable
from urllib.parse import parse_qs, urlparse

import dash_leaflet as dl
import flask
import pytest
from dash import Dash, Input, Output, State, html
from PIL import Image
import requests
from selenium.webdriver.common.actions.action_builder import ActionBuilder

import imageservice.server.server
from imageservice.auth import sign_in
from imageservice.dash import register
from imageservice.dash import ImageMapLayerAIO, edit
from server_fixtures import USERS, sample_root, secure_url, serving, services, token_clock  # noqa: F401  (pytest fixtures)

pytestmark = pytest.mark.browser

SERVICE_PATH = "/arcgis/rest/services/SampleMultispectral/ImageServer"
CENTER, ZOOM = [38.55, -121.75], 10
MAP_WIDTH, MAP_HEIGHT = 640, 400

# Every visible buffer image, each checked against where its own bbox belongs on the map now.
RECORDER = """
window.__shown = [];
window.__misplaced = [];
const map = window.imageMapLayer.mapOf(arguments[0]);
function check() {
    const box = map.getContainer().getBoundingClientRect();
    for (const img of map.getContainer().querySelectorAll('.leaflet-image-layer')) {
        if (img.style.opacity === '0' || !img.src.includes('bbox=')) { continue; }
        const last = window.__shown[window.__shown.length - 1];
        if (last !== img.src) { window.__shown.push(img.src); }
        if (!img.complete) { continue; }
        const b = new URL(img.src).searchParams.get('bbox').split(',').map(Number);
        const nw = map.latLngToContainerPoint(map.options.crs.unproject(L.point(b[0], b[1])));
        const se = map.latLngToContainerPoint(map.options.crs.unproject(L.point(b[2], b[3])));
        const r = img.getBoundingClientRect();
        const off = Math.max(Math.abs(r.left - box.left - nw.x), Math.abs(r.top - box.top - nw.y),
                             Math.abs(r.right - box.left - se.x), Math.abs(r.bottom - box.top - se.y));
        if (off > 1.5) { window.__misplaced.push([img.src, off]); }
    }
}
window.__recorder = setInterval(check, 10);
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(dash_duo, services, layers: Callable[[str], list], extra: list | None = None,
          setup: Callable[[Dash], None] | None = None, **map_options) -> str:
    """Serve a page with one 640x400 map holding `layers(root_url)`; returns the root URL."""
    port = free_port()
    root = f"http://127.0.0.1:{port}"
    app = Dash(__name__)
    app.server.register_blueprint(imageservice.server.server.create_blueprint(services), url_prefix="/arcgis")
    app.layout = html.Div([
        dl.Map(id="map", center=CENTER, zoom=ZOOM, style={"width": f"{MAP_WIDTH}px", "height": f"{MAP_HEIGHT}px"},
               children=layers(root), **map_options),
        *(extra or []),
    ])
    register(app)
    if setup:
        setup(app)
    dash_duo.start_server(app, port=port)
    return root


def js(dash_duo, script: str, *args):
    return dash_duo.driver.execute_script(script, *args)


def state(dash_duo, aio_id: str) -> dict:
    return js(dash_duo, "return window.imageMapLayer.stateOf(arguments[0])", aio_id)


def wait_until(dash_duo, condition: Callable[[], bool], message: str, timeout: float = 10) -> None:
    dash_duo._wait_for(lambda _: condition(), timeout=timeout, msg=message)


def wait_shown(dash_duo, aio_id: str, previous: str | None = None) -> dict:
    """Wait until the layer shows a loaded image other than `previous`; returns its state."""
    def done() -> bool:
        s = state(dash_duo, aio_id)
        return bool(s) and not s["loading"] and s["url"] is not None and s["url"] != previous
    wait_until(dash_duo, done, f"layer {aio_id} showed no new image")
    return state(dash_duo, aio_id)


def visible_images(dash_duo) -> list[dict]:
    return js(dash_duo, """return [...document.querySelectorAll('.leaflet-image-layer')]
        .filter(i => i.style.opacity !== '0' && !i.src.startsWith('data:'))
        .map(i => ({src: i.src, opacity: i.style.opacity, z: i.style.zIndex,
                    loaded: i.complete && i.naturalWidth > 1, width: i.naturalWidth, height: i.naturalHeight}))""")


def export_requests(dash_duo) -> list[str]:
    """Every exportImage URL the page has fetched so far (as an <img> or with fetch)."""
    return js(dash_duo, "return performance.getEntriesByType('resource').map(e => e.name)"
                        ".filter(n => n.includes('/exportImage?'))")


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}


def assert_matches_map(dash_duo, aio_id: str, url: str) -> None:
    """bbox = Leaflet's own projection of map.getBounds(); size = the container's pixel size."""
    expected = js(dash_duo, """const map = window.imageMapLayer.mapOf(arguments[0]);
        const b = map.getBounds(), crs = map.options.crs;
        const sw = crs.project(b.getSouthWest()), ne = crs.project(b.getNorthEast());
        const r = map.getContainer().getBoundingClientRect();
        return {bbox: [sw.x, ne.y, ne.x, sw.y], size: [r.width, r.height]}""", aio_id)
    query = query_of(url)
    assert [float(v) for v in query["bbox"].split(",")] == pytest.approx(expected["bbox"], rel=0, abs=1e-6)
    assert [int(v) for v in query["size"].split(",")] == [round(v) for v in expected["size"]] == [MAP_WIDTH, MAP_HEIGHT]


def test_first_image_loads_for_the_map_view(dash_duo, services):
    root = start(dash_duo, services, lambda root: [ImageMapLayerAIO(root + SERVICE_PATH, aio_id="x")])
    shown = wait_shown(dash_duo, "x")
    assert_matches_map(dash_duo, "x", shown["url"])
    query = query_of(shown["url"])
    assert (query["bboxSR"], query["imageSR"], query["f"], query["format"]) == ("3857", "3857", "image", "jpgpng")
    [image] = visible_images(dash_duo)
    assert image["src"] == shown["url"] and image["loaded"]
    assert (image["width"], image["height"]) == (MAP_WIDTH, MAP_HEIGHT)
    assert shown["url"].startswith(root + SERVICE_PATH + "/exportImage?")
    assert dash_duo.get_logs() == []


def test_pan_zoom_and_resize_each_request_the_new_view(dash_duo, services):
    start(dash_duo, services, lambda root: [ImageMapLayerAIO(root + SERVICE_PATH, aio_id="x")])
    first = wait_shown(dash_duo, "x")["url"]
    js(dash_duo, "window.imageMapLayer.mapOf('x').panBy([120, -80], {animate: false})")
    panned = wait_shown(dash_duo, "x", first)["url"]
    assert_matches_map(dash_duo, "x", panned)
    js(dash_duo, "window.imageMapLayer.mapOf('x').setZoom(11, {animate: false})")
    zoomed = wait_shown(dash_duo, "x", panned)["url"]
    assert_matches_map(dash_duo, "x", zoomed)
    js(dash_duo, """const map = window.imageMapLayer.mapOf('x');
        map.getContainer().style.width = '500px'; map.invalidateSize({animate: false});""")
    resized = wait_shown(dash_duo, "x", zoomed)["url"]
    assert query_of(resized)["size"] == f"500,{MAP_HEIGHT}"
    [image] = visible_images(dash_duo)
    assert image["src"] == resized and (image["width"], image["height"]) == (500, MAP_HEIGHT)
    assert export_requests(dash_duo) == [first, panned, zoomed, resized]  # resize + moveend: one request
    assert js(dash_duo, "return document.querySelector('.imagemaplayer-loading')") is None


def slow_route(delays: list[float]) -> Callable[[Dash], None]:
    """A /slow/<path> route on the test app that redirects to /<path>, first sleeping the next
    of `delays` (seconds, one per request, in order; none left: no delay)."""
    def setup(app: Dash) -> None:
        @app.server.route("/slow/<path:rest>")
        def slow(rest: str):
            if delays:
                time.sleep(delays.pop(0))
            response = flask.redirect(f"/{rest}?{flask.request.query_string.decode()}")
            response.headers["Access-Control-Allow-Origin"] = "*"  # the page is on localhost
            return response

    return setup


def test_a_slow_stale_image_is_never_shown_and_the_old_one_stays_in_place(dash_duo, services):
    delays: list[float] = []
    start(dash_duo, services, lambda root: [ImageMapLayerAIO(root + "/slow" + SERVICE_PATH, aio_id="x")],
          setup=slow_route(delays))
    first = wait_shown(dash_duo, "x")["url"]
    js(dash_duo, RECORDER, "x")
    delays.extend([2.5, 0.8])
    js(dash_duo, "window.imageMapLayer.mapOf('x').panBy([150, 0], {animate: false})")
    wait_until(dash_duo, lambda: state(dash_duo, "x")["seq"] == 2, "no request for the first pan")
    time.sleep(0.3)  # past the 150 ms throttle
    js(dash_duo, "window.imageMapLayer.mapOf('x').panBy([0, 100], {animate: false})")
    wait_until(dash_duo, lambda: state(dash_duo, "x")["seq"] == 3, "no request for the second pan")
    time.sleep(0.3)
    assert js(dash_duo, "return document.querySelector('.imagemaplayer-loading')") is not None  # the spinner
    assert state(dash_duo, "x")["url"] == first  # the old image is still the one shown
    newest = wait_shown(dash_duo, "x", first)["url"]
    assert_matches_map(dash_duo, "x", newest)
    time.sleep(2.0)  # the stale image arrives now
    shown = js(dash_duo, "clearInterval(window.__recorder); return window.__shown")
    assert shown == [first, newest]
    assert js(dash_duo, "return window.__misplaced") == []
    final = state(dash_duo, "x")
    # The stale request's buffer was given the newest URL, so the browser dropped the slow one.
    assert (final["url"], final["counts"]) == (newest, {"loading": 3, "load": 2, "error": 0})


def test_an_image_that_loads_during_a_drag_is_not_drawn_for_the_view_the_map_left(dash_duo, services):
    """A quick move, then a drag: the move's image arrives while the drag holds the map at other
    bounds (no moveend yet, so no newer request). It is the newest request, but the map no longer
    shows its bounds, so it must not be drawn (esri-leaflet compares bounds); the drag's own view is."""
    delays: list[float] = []
    start(dash_duo, services, lambda root: [ImageMapLayerAIO(root + "/slow" + SERVICE_PATH, aio_id="x")],
          setup=slow_route(delays))
    first = wait_shown(dash_duo, "x")["url"]
    js(dash_duo, RECORDER, "x")
    delays.append(1.0)
    js(dash_duo, "window.imageMapLayer.mapOf('x').panBy([150, 0], {animate: false})")
    wait_until(dash_duo, lambda: state(dash_duo, "x")["seq"] == 2, "no request for the move")
    box = dash_duo.find_element(".leaflet-container").rect
    drag = ActionBuilder(dash_duo.driver)
    drag.pointer_action.move_to_location(box["x"] + 320, box["y"] + 200).pointer_down() \
        .move_by(30, 20).move_by(30, 20).pause(2.0).pointer_up()  # the move's image loads in the pause
    drag.perform()
    dragged = wait_shown(dash_duo, "x", first)["url"]
    assert_matches_map(dash_duo, "x", dragged)
    assert state(dash_duo, "x")["seq"] == 3  # the drag's own request came after the move's
    shown = js(dash_duo, "clearInterval(window.__recorder); return window.__shown")
    assert shown == [first, dragged]
    assert js(dash_duo, "return window.__misplaced") == []


def test_an_arcgis_error_puts_the_server_message_in_the_state_store(dash_duo, services):
    missing = "/arcgis/rest/services/NoSuchService/ImageServer"
    start(dash_duo, services, lambda root: [ImageMapLayerAIO(root + SERVICE_PATH, aio_id="x", band_ids=[17]),
                                            ImageMapLayerAIO(root + missing, aio_id="y")],
          extra=[html.Pre(id="out")],
          setup=lambda app: app.callback(Output("out", "children"),
                                         Input(ImageMapLayerAIO.ids.state("x"), "data"))(lambda s: (s or {}).get("error")))
    wait_until(dash_duo, lambda: state(dash_duo, "x")["error"] is not None, "no error reported")
    message = state(dash_duo, "x")["error"]
    assert message == "Invalid or missing input parameters. (code 400): 'bandIds' parameter is invalid."
    dash_duo.wait_for_text_to_equal("#out", message, timeout=5)
    assert not state(dash_duo, "x")["loading"]
    assert js(dash_duo, "return document.querySelector('.imagemaplayer-loading')") is None
    assert visible_images(dash_duo) == []
    wait_until(dash_duo, lambda: state(dash_duo, "y")["error"] is not None, "no error for a missing service")
    assert state(dash_duo, "y")["error"] == (
        "Service not found. (code 404): There is no ImageServer named 'NoSuchService'.")


def test_pan_away_and_back_shows_the_held_image_at_once(dash_duo, services):
    start(dash_duo, services, lambda root: [ImageMapLayerAIO(root + SERVICE_PATH, aio_id="x")])
    first = wait_shown(dash_duo, "x")["url"]
    js(dash_duo, "window.imageMapLayer.mapOf('x').panBy([150, 0], {animate: false})")
    wait_shown(dash_duo, "x", first)
    time.sleep(0.3)
    js(dash_duo, "window.imageMapLayer.mapOf('x').panBy([-150, 0], {animate: false})")
    wait_until(dash_duo, lambda: state(dash_duo, "x")["seq"] == 3, "no request for the pan back")
    back = state(dash_duo, "x")
    assert (back["url"], back["loading"], back["counts"]) == (first, False, {"loading": 3, "load": 3, "error": 0})
    assert len(export_requests(dash_duo)) == 2  # the held image was shown, not fetched again
    assert js(dash_duo, "return document.querySelector('.imagemaplayer-loading')") is None
    [image] = visible_images(dash_duo)
    assert image["src"] == first


def test_opacity_and_position_change_without_a_new_request(dash_duo, services):
    params = ImageMapLayerAIO.ids.params("x")

    def buttons(app: Dash) -> None:
        app.callback(Output(params, "data", allow_duplicate=True), Input("half", "n_clicks"), State(params, "data"),
                     prevent_initial_call=True)(lambda _, data: edit(data).set_opacity(0.5).params.to_dict())
        app.callback(Output(params, "data", allow_duplicate=True), Input("front", "n_clicks"), State(params, "data"),
                     prevent_initial_call=True)(lambda _, data: edit(data).bring_to_front().params.to_dict())

    start(dash_duo, services, lambda root: [ImageMapLayerAIO(root + SERVICE_PATH, aio_id="x", position="back")],
          extra=[html.Button(id="half"), html.Button(id="front")], setup=buttons)
    shown = wait_shown(dash_duo, "x")
    [image] = visible_images(dash_duo)
    assert (image["opacity"], image["z"]) == ("1", "100")
    dash_duo.find_element("#half").click()
    wait_until(dash_duo, lambda: visible_images(dash_duo)[0]["opacity"] == "0.5", "opacity not applied")
    dash_duo.find_element("#front").click()
    wait_until(dash_duo, lambda: visible_images(dash_duo)[0]["z"] == "200", "not brought to front")
    [image] = visible_images(dash_duo)
    assert (image["src"], image["opacity"]) == (shown["url"], "0.5")
    assert state(dash_duo, "x") == shown
    assert len(export_requests(dash_duo)) == 1


def test_use_cors_sets_the_images_cross_origin(dash_duo, services):
    params = ImageMapLayerAIO.ids.params("x")
    start(dash_duo, services, lambda root: [ImageMapLayerAIO(root + SERVICE_PATH, aio_id="x")],
          extra=[html.Button(id="no-cors")], setup=lambda app: app.callback(
              Output(params, "data", allow_duplicate=True), Input("no-cors", "n_clicks"), State(params, "data"),
              prevent_initial_call=True)(lambda _, data: {**data, "use_cors": False}))
    shown = wait_shown(dash_duo, "x")
    cross_origin = "return [...document.querySelectorAll('.leaflet-image-layer')].find(i => i.src === arguments[0])" \
                   ".getAttribute('crossorigin')"
    assert js(dash_duo, cross_origin, shown["url"]) == "anonymous"
    dash_duo.find_element("#no-cors").click()
    time.sleep(0.1)
    wait_until(dash_duo, lambda: dash_duo.redux_state_rqs == [], "the new params did not reach the browser")
    js(dash_duo, "window.imageMapLayer.mapOf('x').panBy([80, 0], {animate: false})")
    moved = wait_shown(dash_duo, "x", shown["url"])
    assert js(dash_duo, cross_origin, moved["url"]) is None


def test_outside_min_and_max_zoom_nothing_is_requested_or_shown(dash_duo, services):
    start(dash_duo, services, lambda root: [ImageMapLayerAIO(root + SERVICE_PATH, aio_id="x", min_zoom=11, max_zoom=12)])
    wait_until(dash_duo, lambda: (state(dash_duo, "x") or {}).get("seq") == 1, "the first view was not reported")
    assert export_requests(dash_duo) == [] and visible_images(dash_duo) == []
    js(dash_duo, "window.imageMapLayer.mapOf('x').setZoom(11, {animate: false})")
    inside = wait_shown(dash_duo, "x")
    assert_matches_map(dash_duo, "x", inside["url"])
    js(dash_duo, "window.imageMapLayer.mapOf('x').setZoom(13, {animate: false})")
    wait_until(dash_duo, lambda: state(dash_duo, "x")["url"] is None, "the image stayed above maxZoom")
    time.sleep(0.3)
    assert visible_images(dash_duo) == []
    assert export_requests(dash_duo) == [inside["url"]]
    assert state(dash_duo, "x")["counts"] == {"loading": 1, "load": 1, "error": 0}


def test_f_json_requests_then_loads_the_href_with_the_token(dash_duo, services):
    root = start(dash_duo, services, lambda root: [ImageMapLayerAIO(root + SERVICE_PATH, aio_id="x", f="json", token="t0k")],
                 extra=[html.Pre(id="events"), html.Pre(id="payloads")],
                 setup=lambda app: app.callback(Output("events", "children"), Output("payloads", "children"),
                                                Input(ImageMapLayerAIO.ids.events("x"), "data"))(
                     lambda events: (" ".join(e["type"] for e in events or []), json.dumps(events or []))))
    shown = wait_shown(dash_duo, "x")
    assert shown["url"].startswith(root + "/arcgis/rest/directories/arcgisoutput/")
    assert shown["url"].endswith("?token=t0k")
    [request] = export_requests(dash_duo)
    query = query_of(request)
    assert (query["f"], query["token"]) == ("json", "t0k")
    assert_matches_map(dash_duo, "x", request)
    [image] = visible_images(dash_duo)
    assert image["src"] == shown["url"] and image["loaded"]
    dash_duo.wait_for_text_to_equal("#events", "requeststart loading requestsuccess requestend load", timeout=5)
    events = {e["type"]: e for e in json.loads(dash_duo.find_element("#payloads").text)}
    start_event = events["requeststart"]  # esri-leaflet's: before the service adds f=json and the token
    assert (start_event["url"], start_event["method"]) == (f"{root}{SERVICE_PATH}/exportImage", "request")
    assert {"bbox", "size", "bboxSR", "imageSR", "format"} <= set(start_event["params"])
    assert not {"f", "token"} & set(start_event["params"])
    assert events["requestsuccess"]["response"]["href"] and events["requestend"]["params"] == start_event["params"]


def test_an_unreachable_f_json_service_is_a_request_error_with_code_500(dash_duo, services):
    closed = f"http://127.0.0.1:{free_port()}/arcgis/rest/services/Gone/ImageServer"
    start(dash_duo, services, lambda root: [ImageMapLayerAIO(closed, aio_id="x", f="json")],
          extra=[html.Pre(id="payloads")], setup=lambda app: app.callback(
              Output("payloads", "children"), Input(ImageMapLayerAIO.ids.events("x"), "data"))(
              lambda events: json.dumps([e for e in events or [] if e["type"] == "requesterror"])))
    wait_until(dash_duo, lambda: dash_duo.find_element("#payloads").text not in ("", "[]"), "no requesterror")
    [error] = json.loads(dash_duo.find_element("#payloads").text)
    assert (error["code"], error["message"]) == (500, "The image service could not be reached.")
    assert error["url"] == closed + "/exportImage" and error["method"] == "request"


def test_two_layers_on_one_map_work_independently(dash_duo, services):
    elevation = "/arcgis/rest/services/SampleElevation/ImageServer"
    y_params = ImageMapLayerAIO.ids.params("y")
    start(dash_duo, services, lambda root: [
        ImageMapLayerAIO(root + SERVICE_PATH, aio_id="x"),
        ImageMapLayerAIO(root + elevation, aio_id="y", opacity=0.7, position="back"),
    ], extra=[html.Button(id="bands")], setup=lambda app: app.callback(
        Output(y_params, "data"), Input("bands", "n_clicks"), State(y_params, "data"), prevent_initial_call=True,
    )(lambda _, data: edit(data).set_band_ids([0]).params.to_dict()))
    x, y = wait_shown(dash_duo, "x"), wait_shown(dash_duo, "y")
    assert SERVICE_PATH in x["url"] and elevation in y["url"]
    images = {i["src"]: (i["opacity"], i["z"]) for i in visible_images(dash_duo)}
    assert images == {x["url"]: ("1", "200"), y["url"]: ("0.7", "100")}
    dash_duo.find_element("#bands").click()
    y2 = wait_shown(dash_duo, "y", y["url"])
    assert query_of(y2["url"])["bandIds"] == "0"
    assert state(dash_duo, "x") == x
    js(dash_duo, "window.imageMapLayer.mapOf('x').panBy([100, 50], {animate: false})")
    x2, y3 = wait_shown(dash_duo, "x", x["url"]), wait_shown(dash_duo, "y", y2["url"])
    assert_matches_map(dash_duo, "x", x2["url"])
    assert_matches_map(dash_duo, "y", y3["url"])
    assert (x2["counts"], y3["counts"]) == ({"loading": 2, "load": 2, "error": 0}, {"loading": 3, "load": 3, "error": 0})


def test_the_events_store_records_loading_load_and_error_in_order(dash_duo, services):
    params = ImageMapLayerAIO.ids.params("x")
    start(dash_duo, services, lambda root: [ImageMapLayerAIO(root + SERVICE_PATH, aio_id="x")],
          extra=[html.Button(id="bad"), html.Pre(id="events")], setup=lambda app: (
              app.callback(Output(params, "data"), Input("bad", "n_clicks"), State(params, "data"),
                           prevent_initial_call=True)(lambda _, data: edit(data).set_band_ids([9]).params.to_dict()),
              app.callback(Output("events", "children"), Input(ImageMapLayerAIO.ids.events("x"), "data"))(
                  lambda events: " ".join(e["type"] for e in events or []))))
    dash_duo.wait_for_text_to_equal("#events", "loading load", timeout=10)
    dash_duo.find_element("#bad").click()
    dash_duo.wait_for_text_to_equal("#events", "loading load loading error", timeout=10)
    assert "'bandIds' parameter is invalid." in state(dash_duo, "x")["error"]
    assert js(dash_duo, "return document.querySelector('.imagemaplayer-loading')") is None
    [image] = visible_images(dash_duo)  # the last good image stays


def test_a_4326_map_gets_degrees_and_a_crs_mismatch_is_reported(dash_duo, services):
    start(dash_duo, services, lambda root: [ImageMapLayerAIO(root + SERVICE_PATH, aio_id="x", crs="EPSG:4326"),
                                            ImageMapLayerAIO(root + SERVICE_PATH, aio_id="y")], crs="EPSG4326")
    shown = wait_shown(dash_duo, "x")
    query = query_of(shown["url"])
    assert (query["bboxSR"], query["imageSR"]) == ("4326", "4326")
    assert_matches_map(dash_duo, "x", shown["url"])
    west, north, east, south = (float(v) for v in query["bbox"].split(","))
    assert west < CENTER[1] < east and south < CENTER[0] < north
    assert state(dash_duo, "y")["error"] == 'The layer\'s crs (EPSG:3857) is not the map\'s: give ImageMapLayerAIO crs="EPSG:4326".'
    assert [i["src"] for i in visible_images(dash_duo)] == [shown["url"]]


def test_a_click_reaches_the_click_store_and_a_double_click_does_not(dash_duo, services):
    shown = html.Pre(id="clicked")

    def setup(app: Dash) -> None:
        app.callback(Output("clicked", "children"), Input(ImageMapLayerAIO.ids.click("x"), "data"),
                     prevent_initial_call=True)(lambda data: f"{data['lat']:.5f},{data['lng']:.5f}")

    start(dash_duo, services, lambda root: [ImageMapLayerAIO(root + SERVICE_PATH, aio_id="x")], extra=[shown], setup=setup)
    wait_shown(dash_duo, "x")
    box = dash_duo.find_element(".leaflet-container").rect
    double_click = ActionBuilder(dash_duo.driver)
    double_click.pointer_action.move_to_location(box["x"] + 320, box["y"] + 200).double_click()
    double_click.perform()
    wait_until(dash_duo, lambda: js(dash_duo, "return window.imageMapLayer.mapOf('x').getZoom()") == ZOOM + 1,
               "the double-click did not zoom in")
    time.sleep(0.6)  # twice the click delay: a published click would have arrived by now
    assert dash_duo.find_element("#clicked").text == ""
    click = ActionBuilder(dash_duo.driver)
    click.pointer_action.move_to_location(box["x"] + 120, box["y"] + 100).click()
    click.perform()
    expected = js(dash_duo, """const ll = window.imageMapLayer.mapOf('x').containerPointToLatLng([120, 100]);
        return ll.lat.toFixed(5) + ',' + ll.lng.toFixed(5)""")
    dash_duo.wait_for_text_to_equal("#clicked", expected, timeout=5)


def test_dict_aio_ids_keep_two_layers_apart(dash_duo, services):
    """Pattern-matching style aio_ids (dicts) are keyed by their JSON, not as "[object Object]"."""
    elevation = "/arcgis/rest/services/SampleElevation/ImageServer"
    first, second = {"kind": "image", "n": 1}, {"kind": "image", "n": 2}
    start(dash_duo, services, lambda root: [
        ImageMapLayerAIO(root + SERVICE_PATH, aio_id=first),
        ImageMapLayerAIO(root + elevation, aio_id=second, opacity=0.7),
    ])
    x, y = wait_shown(dash_duo, first), wait_shown(dash_duo, second)
    assert SERVICE_PATH in x["url"] and elevation in y["url"]
    assert {i["src"]: i["opacity"] for i in visible_images(dash_duo)} == {x["url"]: "1", y["url"]: "0.7"}
    assert state(dash_duo, {"n": 2, "kind": "image"}) == y  # key order does not matter


def test_a_removed_layer_stops_listening_to_the_map(dash_duo, services):
    start(dash_duo, services, lambda root: [ImageMapLayerAIO(root + SERVICE_PATH, aio_id="x")],
          extra=[html.Button(id="remove")], setup=lambda app: app.callback(
              Output("map", "children"), Input("remove", "n_clicks"), prevent_initial_call=True)(lambda _: []))
    wait_shown(dash_duo, "x")
    js(dash_duo, "window.__map = window.imageMapLayer.mapOf('x')")
    listeners = "return ['moveend', 'resize', 'click', 'dblclick'].map(t => (window.__map._events[t] || []).length)"
    before = js(dash_duo, listeners)
    dash_duo.find_element("#remove").click()
    wait_until(dash_duo, lambda: js(dash_duo, "return document.querySelectorAll('.leaflet-image-layer').length") == 0,
               "the layer stayed on the map")
    assert [b - a for b, a in zip(before, js(dash_duo, listeners))] == [1, 1, 1, 1]
    assert js(dash_duo, "return window.imageMapLayer.mapOf('x')") is None
    requested = len(export_requests(dash_duo))
    js(dash_duo, "window.__map.panBy([100, 50], {animate: false})")
    time.sleep(0.5)  # three throttle intervals: a listening layer would have asked by now
    assert len(export_requests(dash_duo)) == requested


def cookie_service() -> flask.Flask:
    """A service on another origin behind web-tier authentication: its images and exportImage
    JSON need the session cookie that /login sets, and its CORS headers allow credentials."""
    app = flask.Flask("cookie_service")
    png = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(png, "PNG")

    @app.get("/login")
    def login() -> flask.Response:
        response = flask.make_response("signed in")
        response.set_cookie("session", "ok")
        return response

    @app.get(SERVICE_PATH)
    def root() -> dict:
        return {"name": "cookie service"}

    @app.get(SERVICE_PATH + "/exportImage")
    @app.get("/out.png")
    def image() -> flask.Response | dict | tuple:
        if flask.request.cookies.get("session") != "ok":
            return {"error": {"code": 401, "message": "Sign in first", "details": []}}, 401
        if flask.request.args.get("f") == "json":
            return {"href": flask.request.host_url + "out.png", "width": 8, "height": 8}
        return flask.Response(png.getvalue(), mimetype="image/png")

    @app.after_request
    def cors(response: flask.Response) -> flask.Response:
        response.headers["Access-Control-Allow-Origin"] = flask.request.headers.get("Origin", "*")
        response.headers["Access-Control-Allow-Credentials"] = "true"
        response.headers["Vary"] = "Origin"
        return response

    return app


@pytest.mark.parametrize("f", ["image", "json"])
def test_with_credentials_sends_the_cookie_to_another_origin(dash_duo, services, f):
    with serving(cookie_service()) as service:
        root = start(dash_duo, services, lambda _: [
            ImageMapLayerAIO(service + SERVICE_PATH, aio_id="with", with_credentials=True, f=f),
            ImageMapLayerAIO(service + SERVICE_PATH, aio_id="without", f=f)])
        dash_duo.driver.get(service + "/login")
        dash_duo.driver.get(root)
        shown = wait_shown(dash_duo, "with")
        wait_until(dash_duo, lambda: (state(dash_duo, "without") or {}).get("error"), "the layer without did not fail")
        assert "Sign in first (code 401)" in state(dash_duo, "without")["error"]
        assert state(dash_duo, "without")["url"] is None
        [image] = visible_images(dash_duo)
        assert image["src"] == shown["url"] and image["loaded"]
        cross_origin = js(dash_duo, "return [...document.querySelectorAll('.leaflet-image-layer')]"
                                    ".find(i => i.src === arguments[0]).getAttribute('crossorigin')", shown["url"])
        assert cross_origin == "use-credentials"


@pytest.mark.parametrize("f", ["image", "json"])
def test_after_a_499_requests_wait_for_a_token_then_the_current_view_loads(dash_duo, services, secure_url, f):
    params = ImageMapLayerAIO.ids.params("x")
    token = sign_in(requests.Session(), secure_url + SERVICE_PATH, *next(iter(USERS.items()))).value
    start(dash_duo, services, lambda _: [ImageMapLayerAIO(secure_url + SERVICE_PATH, aio_id="x", f=f)],
          extra=[html.Button(id="authenticate")], setup=lambda app: app.callback(
              Output(params, "data", allow_duplicate=True), Input("authenticate", "n_clicks"), State(params, "data"),
              prevent_initial_call=True)(lambda _, data: edit(data).authenticate(token).params.to_dict()))
    wait_until(dash_duo, lambda: "(code 499)" in ((state(dash_duo, "x") or {}).get("error") or ""), "no 499")
    refused = export_requests(dash_duo)
    js(dash_duo, "window.imageMapLayer.mapOf('x').panBy([80, 0], {animate: false})")
    time.sleep(0.5)  # past the 150 ms throttle
    assert export_requests(dash_duo) == refused
    dash_duo.find_element("#authenticate").click()
    shown = wait_shown(dash_duo, "x")
    [request] = [url for url in export_requests(dash_duo) if url not in refused]
    assert query_of(request)["token"] == token
    assert_matches_map(dash_duo, "x", request)
    assert state(dash_duo, "x")["error"] is None and shown["counts"]["load"] == 1
