"""A real, unchanged client against the embedded ImageServer: the ArcGIS Maps SDK for JavaScript.

`@arcgis/core` (tests/arcgis_sdk, bundled by `scripts/setup.sh test`) runs in headless Chromium with
WebGL in software. Its page is served from one 127.0.0.1 port and the ImageServer from another; the
SDK's assets come from the same page server, and every other host name fails to resolve. The page's
test API (`window.sdk`, tests/arcgis_sdk/main.js) drives the SDK's own ImageryLayer and MapView and
records each request the SDK sends.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
import pytest
import rasterio
import requests
from selenium.webdriver.support.ui import WebDriverWait
from shapely.geometry import Polygon
from shapely.ops import unary_union

from server_fixtures import sample_root, server_url, services  # noqa: F401  (pytest fixtures)

pytestmark = pytest.mark.browser

SDK_DIR = Path(__file__).parent / "arcgis_sdk"
VIEW_SIZE = (512, 384)  # the #view div in the page
WAIT_SECONDS = 60  # software WebGL on a shared machine


class QuietHandler(SimpleHTTPRequestHandler):
    """Static files for the page and the SDK's assets; no access log on stderr."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def page_url() -> Iterator[str]:
    """The bundled page (dist/) and the SDK's assets (node_modules/@arcgis/core/assets) over 127.0.0.1."""
    if not (SDK_DIR / "dist" / "index.html").is_file():
        pytest.fail("The ArcGIS Maps SDK page is not built: run scripts/setup.sh test")
    handler = functools.partial(QuietHandler, directory=str(SDK_DIR))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/dist/index.html"
    httpd.shutdown()
    thread.join()
    httpd.server_close()


@pytest.fixture
def sdk(webgl_driver: Any, page_url: str) -> Any:
    """A fresh page with the SDK loaded, for one test."""
    webgl_driver.set_script_timeout(WAIT_SECONDS)
    webgl_driver.get(page_url)
    WebDriverWait(webgl_driver, WAIT_SECONDS, poll_frequency=0.1).until(
        lambda d: d.execute_script("return window.sdkReady === true;"))
    return webgl_driver


def call(driver: Any, expression: str, *args: Any) -> Any:
    """Awaits a JS expression over `args` (arguments[0...]); a rejection comes back as {'thrown': ...}."""
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        f"Promise.resolve().then(() => {expression})"
        ".then(done, (e) => done({thrown: String(e), name: e && e.name, details: e && e.details}));",
        *args)


def service_url(server_url: str, name: str) -> str:
    return f"{server_url}/arcgis/rest/services/{name}/ImageServer"


def replay(server_url: str, name: str, operation: str, query: dict, **changes: Any) -> requests.Response:
    """Our server's own answer to the query an SDK request carried, with `changes` (None drops one)."""
    params = {key: json.dumps(value) if isinstance(value, bool) else value
              for key, value in {**query, **changes}.items() if value is not None}
    response = requests.get(f"{service_url(server_url, name)}/{operation}", params=params, timeout=60)
    response.raise_for_status()
    return response


def open_layer(driver: Any, server_url: str, name: str, options: dict | None = None) -> dict:
    """Loads the service as an ImageryLayer in a MapView on its full extent; the SDK's answer."""
    return call(driver, "window.sdk.open(arguments[0], arguments[1])", service_url(server_url, name), options or {})


def sent(driver: Any, operation: str) -> list[dict]:
    """The SDK's requests to one operation (`exportImage`, `identify`...), oldest first."""
    return [r for r in driver.execute_script("return window.sdk.requests;")
            if urlparse(r["url"]).path.endswith(f"/ImageServer/{operation}")]


def picture(driver: Any) -> dict:
    return call(driver, "window.sdk.picture()")


def assert_loaded(state: dict) -> None:
    assert "thrown" not in state, state
    assert state["loadError"] is None, state["loadError"]
    assert state["layerViewUpdating"] is False


def assert_only_local_traffic(driver: Any) -> None:
    """Every URL the page fetched (scripts, assets, service requests) was on 127.0.0.1."""
    urls = driver.execute_script("return window.sdk.fetchedUrls();")
    assert urls and all(urlparse(url).hostname == "127.0.0.1" for url in urls), urls


def test_imagery_layer_loads_and_draws(sdk, server_url):
    state = open_layer(sdk, server_url, "SampleMultispectral")

    assert_loaded(state)
    assert state["serviceRasterInfo"] == {"bandCount": 6, "pixelType": "u16"}
    assert "NDVI Colorized" in state["rasterFunctionInfos"]
    exports = sent(sdk, "exportImage")
    assert exports, "the SDK asked for no image"
    query = exports[-1]["query"]
    assert query["f"] == "image" and query["format"] == "jpgpng"
    assert query["size"] == f"{VIEW_SIZE[0]},{VIEW_SIZE[1]}"
    drawn = picture(sdk)
    # The sample mosaic covers a good part of the view, in many colours.
    assert (drawn["width"], drawn["height"]) == VIEW_SIZE
    assert drawn["opaque"] > 0.3 * VIEW_SIZE[0] * VIEW_SIZE[1]
    assert drawn["colours"] > 100
    assert_only_local_traffic(sdk)


def test_identify_returns_the_servers_pixel(sdk, server_url, services):
    assert_loaded(open_layer(sdk, server_url, "SampleMultispectral"))
    west, south, east, north = services["SampleMultispectral"].extent
    x, y = west + 0.4 * (east - west), south + 0.6 * (north - south)

    result = call(sdk, "window.sdk.identify(arguments[0], arguments[1])", x, y)

    assert "thrown" not in result, result
    query = sent(sdk, "identify")[-1]["query"]
    assert json.loads(query["geometry"])["x"] == pytest.approx(x)
    ours = replay(server_url, "SampleMultispectral", "identify", query).json()
    assert result["value"] == ours["value"] != "NoData"
    assert len(result["value"].split(", ")) > 1
    assert result["catalogItemIds"] == [f["attributes"]["OBJECTID"] for f in ours["catalogItems"]["features"]]


def test_raster_function_changes_the_picture(sdk, server_url):
    assert_loaded(open_layer(sdk, server_url, "SampleMultispectral"))
    before = picture(sdk)

    call(sdk, "window.sdk.setRasterFunction(arguments[0])", {"rasterFunction": "NDVI Colorized"})

    rule = json.loads(sent(sdk, "exportImage")[-1]["query"]["renderingRule"])
    assert rule["rasterFunction"] == "NDVI Colorized"
    after = picture(sdk)
    assert after["checksum"] != before["checksum"]
    assert after["opaque"] > 0.3 * VIEW_SIZE[0] * VIEW_SIZE[1]
    # A colormap over NDVI classes: far fewer colours than the multispectral picture.
    assert 1 < after["colours"] < before["colours"]


def test_view_time_extent_selects_other_scenes(sdk, server_url, services):
    service = services["SampleMultispectral"]
    assert_loaded(open_layer(sdk, server_url, service.name))
    before = picture(sdk)
    # A two-day window around the cloudiest scene: the default picture shows the least cloudy one.
    cloudiest = max(service.items, key=lambda item: item.attributes["CloudCover"])
    day = 86_400_000
    start, end = cloudiest.start_ms - day, cloudiest.start_ms + day

    call(sdk, "window.sdk.setTime(arguments[0], arguments[1])", start, end)

    assert sent(sdk, "exportImage")[-1]["query"]["time"] == f"{start},{end}"
    after = picture(sdk)
    assert after["opaque"] > 0.1 * VIEW_SIZE[0] * VIEW_SIZE[1]
    assert after["checksum"] != before["checksum"]


def exported_tiff(server_url: str, name: str, query: dict) -> np.ma.MaskedArray:
    """Our own exportImage as a raw GeoTIFF for the query an SDK request carried."""
    response = replay(server_url, name, "exportImage", query, format="tiff", lercVersion=None,
                      compressionTolerance=None)
    with rasterio.MemoryFile(response.content) as memory, memory.open() as dataset:
        return dataset.read(masked=True)


def test_pixel_filter_receives_the_services_values_as_lerc(sdk, server_url):
    # Without the publisher's default template (its first raster function), so the raw values come.
    state = open_layer(sdk, server_url, "SampleMultispectral",
                       {"pixelFilter": True, "rasterFunction": {"rasterFunction": "None"}})

    assert_loaded(state)
    assert state["format"] == "lerc"
    query = sent(sdk, "exportImage")[-1]["query"]
    assert query["format"] == "lerc"
    filtered = sdk.execute_script("return window.sdk.filtered;")
    assert filtered, "the SDK never called the pixelFilter"
    block = filtered[-1]
    assert (block["width"], block["height"]) == tuple(int(v) for v in query["size"].split(","))
    assert block["pixelType"] == "u16"
    # The decoded blocks hold the raw values our own exportImage gives as a GeoTIFF, within the
    # compression tolerance the SDK asked for.
    ours = exported_tiff(server_url, "SampleMultispectral", query)
    tolerance = float(query["compressionTolerance"])
    assert len(block["bands"]) == ours.shape[0] == 6
    for band, expected in zip(block["bands"], ours):
        valid = expected.compressed().astype(np.float64)
        assert band["count"] == valid.size > 0
        assert band["min"] == pytest.approx(valid.min(), abs=tolerance)
        assert band["max"] == pytest.approx(valid.max(), abs=tolerance)
        assert band["sum"] == pytest.approx(valid.sum(), abs=tolerance * valid.size)
    # The filter painted every valid pixel red, and that is what the view shows.
    drawn = picture(sdk)
    assert drawn["red"] == drawn["opaque"]
    assert drawn["red"] == pytest.approx(block["bands"][0]["count"], rel=0.01)
    assert_only_local_traffic(sdk)


def test_catalog_item_raster_info_comes_from_the_items_resources(sdk, server_url, services):
    service = services["SampleMultispectral"]
    item = service.items[2]
    assert_loaded(open_layer(sdk, server_url, service.name))

    info = call(sdk, "window.sdk.catalogItemRasterInfo(arguments[0])", item.object_id)

    assert "thrown" not in info, info
    paths = [urlparse(r["url"]).path for r in sdk.execute_script("return window.sdk.requests;")]
    assert f"/arcgis/rest/services/{service.name}/ImageServer/{item.object_id}/info" in paths
    assert f"/arcgis/rest/services/{service.name}/ImageServer/{item.object_id}/info/keyProperties" in paths
    with rasterio.open(item.path) as dataset:
        assert (info["width"], info["height"], info["bandCount"]) == (dataset.width, dataset.height, dataset.count)
        extent = info["extent"]
        assert (extent["xmin"], extent["ymin"], extent["xmax"], extent["ymax"]) == pytest.approx(tuple(dataset.bounds))
    assert info["pixelType"] == "u16"
    assert info["keyProperties"]["CloudCover"] == item.attributes["CloudCover"]
    assert [band["BandName"] for band in info["keyProperties"]["BandProperties"]] == list(service.band_names)


def test_boundary_and_statistics_of_the_service(sdk, server_url, services):
    service = services["SampleMultispectral"]
    assert_loaded(open_layer(sdk, server_url, service.name))

    boundary = call(sdk, "window.sdk.queryBoundary()")
    statistics = call(sdk, "window.sdk.computeStatisticsHistograms()")

    assert "thrown" not in boundary and "thrown" not in statistics, (boundary, statistics)
    # The boundary the SDK parsed is the union of the scenes' footprints.
    footprints = unary_union([item.footprint for item in service.items])
    parsed = Polygon(boundary["geometry"]["rings"][0], boundary["geometry"]["rings"][1:])
    assert parsed.symmetric_difference(footprints).area < 1e-6 * footprints.area
    assert boundary["area"] == pytest.approx(footprints.area)
    # Statistics and histograms of the view, as our own answer to the same request says.
    ours = replay(server_url, service.name, "computeStatisticsHistograms",
                  sent(sdk, "computeStatisticsHistograms")[-1]["query"]).json()
    assert len(statistics["statistics"]) == len(statistics["histograms"]) == len(ours["statistics"]) > 0
    for parsed_band, our_band in zip(statistics["statistics"], ours["statistics"]):
        assert (parsed_band["min"], parsed_band["max"]) == (our_band["min"], our_band["max"])
        assert parsed_band["min"] < parsed_band["avg"] < parsed_band["max"]
    assert [h["counts"] for h in statistics["histograms"]] == [h["counts"] for h in ours["histograms"]]


def test_vector_field_service_is_drawn_from_lerc_as_arrows(sdk, server_url):
    state = open_layer(sdk, server_url, "SampleWind")

    assert_loaded(state)
    # The SDK chose LERC and its vector-field renderer on its own, from the service's data type.
    assert state["format"] == "lerc"
    assert call(sdk, "window.sdk.rendering()")["renderer"] == "vector-field"
    query = sent(sdk, "exportImage")[-1]["query"]
    assert query["format"] == "lerc" and query["lercVersion"] == 2
    drawn = picture(sdk)
    assert drawn["opaque"] > 0.01 * VIEW_SIZE[0] * VIEW_SIZE[1]
    assert_only_local_traffic(sdk)


def test_thematic_service_is_drawn_with_its_colormap(sdk, server_url):
    assert_loaded(open_layer(sdk, server_url, "SampleLandCover"))

    rendering = call(sdk, "window.sdk.rendering()")

    colormap = requests.get(f"{service_url(server_url, 'SampleLandCover')}/colormap", params={"f": "json"},
                            timeout=30).json()["colormap"]
    assert rendering["dataType"] == "thematic"
    assert rendering["hasRasterAttributeTable"] is True
    assert rendering["colormapEntries"] == len(colormap)
    drawn = picture(sdk)
    assert drawn["opaque"] > 0.3 * VIEW_SIZE[0] * VIEW_SIZE[1]
    assert drawn["palette"] is not None and len(drawn["palette"]) > 2
    assert {tuple(rgb) for rgb in drawn["palette"]} <= {tuple(entry[1:]) for entry in colormap}
