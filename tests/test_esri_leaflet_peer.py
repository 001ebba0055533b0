"""A real, unchanged client against the embedded ImageServer: esri-leaflet 3.1.0 in headless Chromium.

The page (tests/js/esri_leaflet_page.html) is served from one 127.0.0.1 port and the ImageServer from
another, so every exportImage, metadata and identify request is a cross-origin one: the image only
loads, and its pixels are only readable, if the server's CORS headers are right.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import numpy as np
import pytest
import rasterio
from rasterio.warp import transform, transform_bounds
from rasterio.windows import Window
from selenium.webdriver.support.ui import WebDriverWait

from imageservice.server.catalog import Service
from server_fixtures import sample_root, server_url, services  # noqa: F401  (pytest fixtures)

pytestmark = pytest.mark.browser

PAGE_DIR = Path(__file__).parent / "js"
MAP_SIZE = (512, 384)  # the #map div in the page
WAIT_SECONDS = 15


class QuietHandler(SimpleHTTPRequestHandler):
    """Static files for the page; no access log on stderr."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def page_url() -> Iterator[str]:
    """The page and node_modules over 127.0.0.1 (no CDN), on another port than the ImageServer."""
    handler = functools.partial(QuietHandler, directory=str(PAGE_DIR))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/esri_leaflet_page.html"
    httpd.shutdown()
    thread.join()
    httpd.server_close()


def open_page(driver: Any, page_url: str, server_url: str, service: Service) -> None:
    """Load the page on a view that fits the service extent, with the layer pointing at the service."""
    west, south, east, north = transform_bounds(service.crs, "EPSG:4326", *service.extent)
    query = urlencode({
        "url": f"{server_url}/arcgis/rest/services/{service.name}/ImageServer",
        "bounds": f"{south},{west},{north},{east}",
    })
    driver.get(f"{page_url}?{query}")


def wait_for(driver: Any, script: str) -> Any:
    """Poll a JS expression until it is truthy; returns its value."""
    return WebDriverWait(driver, WAIT_SECONDS, poll_frequency=0.1).until(
        lambda d: d.execute_script(f"return {script};"))


def events(driver: Any, kind: str) -> list[dict]:
    return [e for e in driver.execute_script("return window.events;") if e["type"] == kind]


def loaded_image(driver: Any, loads: int) -> dict:
    """The shown overlay once the layer has fired `load` `loads` times (esri-leaflet has then removed
    the previous overlay), with its pixel summary."""
    wait_for(driver, f"window.events.filter(e => e.type === 'load').length >= {loads}")
    return wait_for(driver, "window.currentImage()")


def source_pixel(path: Path) -> tuple[float, float, str]:
    """(lat, lng) of the centre of a valid pixel near the middle of a GeoTIFF, and the identify value
    ArcGIS would print for it (bands as %g joined by ', ')."""
    with rasterio.open(path) as dataset:
        rows, cols = np.nonzero(dataset.dataset_mask())
        middle = len(rows) // 2
        row, col = int(rows[middle]), int(cols[middle])
        values = dataset.read(window=Window(col, row, 1, 1))[:, 0, 0]
        x, y = dataset.xy(row, col)
        lngs, lats = transform(dataset.crs, "EPSG:4326", [x], [y])
    return lats[0], lngs[0], ", ".join(f"{float(v):g}" for v in values)


def identify(driver: Any, lat: float, lng: float, mosaic_rule: dict | None = None) -> dict:
    driver.execute_script("window.runIdentify(arguments[0], arguments[1], arguments[2]);", lat, lng, mosaic_rule)
    return wait_for(driver, "window.identifyResult")


def test_export_image_loads_a_readable_non_blank_image(dash_duo, page_url, server_url, services):
    driver = dash_duo.driver
    open_page(driver, page_url, server_url, services["SampleMultispectral"])
    image = loaded_image(driver, 1)

    assert (image["naturalWidth"], image["naturalHeight"]) == MAP_SIZE
    sent = urlparse(image["src"])
    assert sent.path == "/arcgis/rest/services/SampleMultispectral/ImageServer/exportImage"
    params = parse_qs(sent.query)
    assert params["f"] == ["image"] and params["format"] == ["jpgpng"]
    assert params["size"] == [f"{MAP_SIZE[0]},{MAP_SIZE[1]}"]
    assert params["bboxSR"] == params["imageSR"] == ["3857"]
    # Pixels read through a canvas: the sample mosaic covers a good part of the view, in many colours.
    assert image["opaque"] > 0.1 * MAP_SIZE[0] * MAP_SIZE[1]
    assert image["colours"] > 16
    assert events(driver, "error") == []
    assert events(driver, "requesterror") == []
    # The layer's metadata() call (service root, f=json over XHR with CORS) succeeded too.
    metadata = events(driver, "requestsuccess")
    assert [e["url"] for e in metadata] == [f"{server_url}/arcgis/rest/services/SampleMultispectral/ImageServer/"]
    attribution = driver.execute_script("return document.querySelector('.leaflet-control-attribution').textContent;")
    assert services["SampleMultispectral"].copyright_text in attribution


def test_set_band_ids_loads_a_new_image(dash_duo, page_url, server_url, services):
    driver = dash_duo.driver
    open_page(driver, page_url, server_url, services["SampleMultispectral"])
    first = loaded_image(driver, 1)

    driver.execute_script("window.layer.setBandIds([3, 2, 1]);")
    second = loaded_image(driver, 2)

    assert parse_qs(urlparse(first["src"]).query).get("bandIds") is None
    assert parse_qs(urlparse(second["src"]).query)["bandIds"] == ["3,2,1"]
    assert (second["naturalWidth"], second["naturalHeight"]) == MAP_SIZE
    assert second["opaque"] > 0.1 * MAP_SIZE[0] * MAP_SIZE[1]
    assert second["checksum"] != first["checksum"]
    assert len(events(driver, "loading")) == 2
    assert events(driver, "error") == []


def test_identify_on_a_locked_scene_returns_its_source_pixel(dash_duo, page_url, server_url, services):
    service = services["SampleMultispectral"]
    item = service.items[len(service.items) // 2]
    lat, lng, expected = source_pixel(item.path)
    driver = dash_duo.driver
    open_page(driver, page_url, server_url, service)

    result = identify(driver, lat, lng, {"mosaicMethod": "esriMosaicLockRaster", "lockRasterIds": [item.object_id]})

    assert result["error"] is None
    assert result["value"] == expected
    assert result["raw"]["location"]["spatialReference"]["wkid"] == service.crs.to_epsg()


def test_identify_on_the_elevation_service_returns_the_dem_value(dash_duo, page_url, server_url, services):
    service = services["SampleElevation"]
    lat, lng, expected = source_pixel(service.items[0].path)
    driver = dash_duo.driver
    open_page(driver, page_url, server_url, service)
    image = loaded_image(driver, 1)

    result = identify(driver, lat, lng)

    assert image["opaque"] > 0.1 * MAP_SIZE[0] * MAP_SIZE[1]
    assert result["error"] is None
    assert result["value"] == expected
    assert result["raw"]["catalogItems"] is None
