"""The dashboard on the embedded sample service, in real headless Chromium."""

from __future__ import annotations

import os
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import flask
import pytest

import app as dashboard
from components import ids
from server_fixtures import sample_root  # noqa: F401  (pytest fixture)

pytestmark = pytest.mark.browser


def overlay_images(dash_duo) -> list[dict]:
    return dash_duo.driver.execute_script(
        "return [...document.querySelectorAll('.leaflet-image-layer')].map("
        "i => ({src: i.src, opacity: i.style.opacity, loaded: i.complete && i.naturalWidth > 1,"
        " width: i.naturalWidth, height: i.naturalHeight}))"
    )


def shown_image(dash_duo) -> dict | None:
    visible = [i for i in overlay_images(dash_duo) if i["opacity"] not in ("0", "") and i["loaded"]]
    return visible[0] if len(visible) == 1 else None


def test_first_image_of_the_sample_service_loads(dash_duo, sample_root, tmp_path):
    app = dashboard.create_app(data_dir=sample_root)
    dash_duo.start_server(app)
    dash_duo.wait_for_contains_text(f"#{ids.SERVICE_STATUS}", "SampleMultispectral: 6 bands", timeout=15)
    dash_duo.wait_for_element(".leaflet-image-layer")
    dash_duo._wait_for(lambda _: shown_image(dash_duo) is not None, timeout=15, msg="no image shown")
    image = shown_image(dash_duo)
    query = parse_qs(urlparse(image["src"]).query)
    width, height = (int(v) for v in query["size"][0].split(","))
    assert (image["width"], image["height"]) == (width, height)
    map_size = dash_duo.driver.execute_script(
        "const r = document.querySelector('.leaflet-container').getBoundingClientRect(); return [r.width, r.height]")
    assert (width, height) == tuple(round(v) for v in map_size)
    assert query["bboxSR"] == ["3857"] and query["f"] == ["image"]
    # No rendering rule: the server applies the publisher's default, which the dropdown names.
    assert "renderingRule" not in query
    assert dash_duo.find_element(f"#{ids.RENDERING_RULE}").text == "Service default (Natural Color)"
    dash_duo.wait_for_contains_text(f"#{ids.EVENTS_LOG}", "load: exportImage", timeout=10)
    dash_duo.wait_for_contains_text(f"#{ids.LAYER_COUNTS}", "idle", timeout=10)
    assert dash_duo.get_logs() == []
    # A picture of the first view: SCREENSHOT_DIR=some/folder SAMPLE_SIZE=1280 scripts/test.sh -k first_image.
    screenshot = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path) / "dashboard.png"
    assert dash_duo.driver.save_screenshot(str(screenshot))


def test_opening_the_service_reads_its_root_json_once(dash_duo, sample_root):
    """The layer, its attribution, the service tab and the pixel inspector all need the root JSON
    of the service being opened: one request to the server serves them all."""
    app = dashboard.create_app(data_dir=sample_root)
    roots: list[str] = []

    @app.server.before_request
    def count_roots() -> None:
        path = flask.request.path.rstrip("/")
        if path.endswith("/SampleMultispectral/ImageServer") and flask.request.args.get("f") == "json":
            roots.append(flask.request.full_path)

    dash_duo.start_server(app)
    dash_duo._wait_for(lambda _: shown_image(dash_duo) is not None, timeout=15, msg="no image shown")
    dash_duo.wait_for_contains_text(f"#{ids.SERVICE_STATUS}", "SampleMultispectral: 6 bands", timeout=15)
    dash_duo.wait_for_contains_text(f"#{ids.LAYER_COUNTS}", "idle", timeout=10)
    time.sleep(2)  # the callbacks the opening started have all answered by now
    assert len(roots) == 1, roots


def test_panning_and_zooming_need_no_server_callback(dash_duo, sample_root):
    """The browser fills the view into the URL template: a move costs one exportImage and no Dash
    callback POST (every pan would otherwise queue behind the server's other work)."""
    dash_duo.start_server(dashboard.create_app(data_dir=sample_root))
    dash_duo._wait_for(lambda _: shown_image(dash_duo) is not None, timeout=15, msg="no image shown")
    dash_duo.wait_for_contains_text(f"#{ids.LAYER_COUNTS}", "idle", timeout=10)
    run = dash_duo.driver.execute_script
    sent = ("return performance.getEntriesByType('resource').map(e => e.name)"
            ".filter(n => n.includes(arguments[0])).length")
    # The first image can be on screen before the opening callbacks' chain has run out: count
    # from when no callback was sent for a second.
    callbacks = None
    while callbacks != run(sent, "_dash-update-component"):
        callbacks = run(sent, "_dash-update-component")
        time.sleep(1)
    images = run(sent, "/exportImage")
    for move in ("panBy([120, 0], {animate: false})", "zoomIn(1, {animate: false})", "panBy([0, -90], {animate: false})"):
        before = shown_image(dash_duo)["src"]
        run(f"window.imageMapLayer.mapOf('main').{move}")
        dash_duo._wait_for(lambda _: (shown_image(dash_duo) or {"src": before})["src"] != before, timeout=15,
                           msg=f"no new image after {move}")
    assert run(sent, "/exportImage") - images == 3
    assert run(sent, "_dash-update-component") == callbacks
    assert dash_duo.get_logs() == []


def enter_service_url(dash_duo, text: str) -> None:
    """Type a URL into the service box and press Enter, retyping if a callback rewrote it meanwhile."""
    box = dash_duo.find_element(f"#{ids.SERVICE_URL}")
    for _ in range(5):
        box.clear()
        box.send_keys(text)
        if box.get_attribute("value") == text:
            box.send_keys("\n")
            return
    raise AssertionError(f"the service box would not keep {text!r}")


def test_a_bad_service_url_says_so_and_the_app_keeps_working(dash_duo, sample_root):
    app = dashboard.create_app(data_dir=sample_root)
    dash_duo.start_server(app)
    dash_duo.wait_for_contains_text(f"#{ids.SERVICE_STATUS}", "SampleMultispectral", timeout=15)
    enter_service_url(dash_duo, "/arcgis/rest/services/NoSuchService/ImageServer")
    # (clearing the box may first report the empty URL: wait for the typed one's answer)
    dash_duo.wait_for_contains_text(f"#{ids.SERVICE_STATUS}", "NoSuchService", timeout=15)
    assert "Could not open the service" in dash_duo.find_element(f"#{ids.SERVICE_STATUS}").text
    # the map and controls are the previous service's, and the status line says so
    assert "still show the previous service, SampleMultispectral" in dash_duo.find_element(f"#{ids.SERVICE_STATUS}").text
    enter_service_url(dash_duo, "/arcgis/rest/services/SampleElevation/ImageServer")
    dash_duo.wait_for_contains_text(f"#{ids.SERVICE_STATUS}", "SampleElevation: 1 band", timeout=15)


def test_layer_options_from_the_command_line_apply_to_the_opened_service(dash_duo, sample_root):
    options = dashboard.parse_args(["--layer-options", '{"band_ids": [3, 2, 1], "opacity": 0.5}']).layer_options
    app = dashboard.create_app(data_dir=sample_root, layer_options=options)
    dash_duo.start_server(app)
    dash_duo._wait_for(lambda _: shown_image(dash_duo) is not None, timeout=15, msg="no image shown")
    image = shown_image(dash_duo)
    query = parse_qs(urlparse(image["src"]).query)
    assert query["bandIds"] == ["3,2,1"] and "renderingRule" not in query
    assert image["opacity"] == "0.5"


def test_a_service_link_opens_the_service_as_typing_its_url_does(dash_duo, sample_root):
    """`/?service=URL` gets the same defaults (here the operator's layer options) as the URL in
    the box, which the page opens when there is no link."""
    app = dashboard.create_app(data_dir=sample_root, layer_options={"band_ids": [3, 2, 1], "opacity": 0.5})
    dash_duo.start_server(app)
    typed = dash_duo.find_element(f"#{ids.SERVICE_URL}").get_attribute("value")
    shown = []
    for page in ("/", f"/?service={typed}"):
        dash_duo.wait_for_page(dash_duo.server_url + page)
        dash_duo._wait_for(lambda _: shown_image(dash_duo) is not None, timeout=15, msg=f"no image shown at {page}")
        shown.append(shown_image(dash_duo))
    for image in shown:
        query = parse_qs(urlparse(image["src"]).query)
        assert query["bandIds"] == ["3,2,1"] and "renderingRule" not in query and image["opacity"] == "0.5"


def test_bad_layer_options_are_refused_in_plain_words(capsys):
    with pytest.raises(SystemExit):
        dashboard.parse_args(["--layer-options", "[1, 2]"])
    assert "must be a JSON object" in capsys.readouterr().err
