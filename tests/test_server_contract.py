"""The embedded ImageServer against the ArcGIS REST contract, over real HTTP on 127.0.0.1.

Returned images are decoded (rasterio for TIFF, Pillow for PNG) and compared with the source
GeoTIFFs read directly, so every check is on real pixel values.
"""

from __future__ import annotations

import dataclasses
import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import rasterio
import requests
from flask import Flask
from PIL import Image
from rasterio.io import MemoryFile
from rasterio.warp import transform as warp_transform
from rasterio.windows import Window
from shapely.geometry import Point

from imageservice.server.__main__ import main as run_main
from imageservice.server.catalog import Item, Service
from imageservice.server.server import OutputStore, create_blueprint
from server_fixtures import FakeClock, sample_root, server_url, serving, services  # noqa: F401  (fixtures)

MS = "SampleMultispectral"
EL = "SampleElevation"
SIZE_LIMIT = "The requested image exceeds the size limit."
WINDOW = 12  # pixels per side of the native-aligned windows compared with the sources


def url(base: str, service: str, operation: str = "") -> str:
    return f"{base}/arcgis/rest/services/{service}/ImageServer" + (f"/{operation}" if operation else "")


def get_json(address: str, **params) -> dict:
    response = requests.get(address, params={"f": "json", **params}, timeout=20)
    assert response.status_code == 200
    return response.json()


def export(base: str, service: str, **params) -> requests.Response:
    response = requests.get(url(base, service, "exportImage"), params={"f": "image", **params}, timeout=20)
    assert response.status_code == 200
    return response


def error_of(answer: dict) -> tuple[int, str, list[str]]:
    return answer["error"]["code"], answer["error"]["message"], answer["error"]["details"]


def read_tiff(body: bytes) -> np.ma.MaskedArray:
    with MemoryFile(body) as memory, memory.open() as dataset:
        return dataset.read(masked=True)


def read_png(body: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(body)).convert("RGBA"))


def epsg(service: Service) -> int:
    return service.crs.to_epsg()


def lock(item: Item) -> str:
    return json.dumps({"mosaicMethod": "esriMosaicLockRaster", "lockRasterIds": [item.object_id]})


@dataclasses.dataclass
class SourceWindow:
    """A window of one source GeoTIFF on its own pixel grid, with the bbox that covers it exactly."""
    bbox: str
    values: np.ma.MaskedArray      # (bands, rows, cols), source nodata masked
    transform: object


def source_window(path: Path, row: int | None = None, col: int | None = None, size: int = WINDOW) -> SourceWindow:
    with rasterio.open(path) as dataset:
        row = dataset.height // 2 - size // 2 if row is None else row
        col = dataset.width // 2 - size // 2 if col is None else col
        window = Window(col, row, size, size)
        values = dataset.read(window=window, masked=True)
        left, bottom, right, top = dataset.window_bounds(window)
        transform = dataset.window_transform(window)
    return SourceWindow(f"{left},{bottom},{right},{top}", values, transform)


def native_export(base: str, service: Service, window: SourceWindow, **params) -> requests.Response:
    return export(base, service.name, bbox=window.bbox, bboxSR=epsg(service), imageSR=epsg(service),
                  size=f"{WINDOW},{WINDOW}", **params)


@pytest.fixture(scope="module")
def ms(services: dict[str, Service]) -> Service:
    return services[MS]


@pytest.fixture(scope="module")
def el(services: dict[str, Service]) -> Service:
    return services[EL]


def full_item(service: Service, skip: int = 0) -> Item:
    """An item whose centre window has data everywhere (so pixels compare one to one)."""
    found = [item for item in service.items
             if not np.ma.getmaskarray(source_window(item.path).values).any()]
    return found[skip]


# -- server-level resources ----------------------------------------------------------------------

def test_info_and_directory(server_url):
    info = get_json(server_url + "/arcgis/rest/info")
    assert info["currentVersion"] == 11.1
    assert info["authInfo"] == {"isTokenBasedSecurity": False}
    directory = get_json(server_url + "/arcgis/rest/services")
    assert directory == {"currentVersion": 11.1, "folders": [], "services": [
        {"name": EL, "type": "ImageServer"}, {"name": "SampleLandCover", "type": "ImageServer"},
        {"name": MS, "type": "ImageServer"}, {"name": "SampleOceanCube", "type": "ImageServer"},
        {"name": "SampleWind", "type": "ImageServer"}]}


def test_mosaic_root(server_url, ms):
    root = get_json(url(server_url, MS))
    xmin, ymin, xmax, ymax = ms.extent
    sr = {"wkid": epsg(ms), "latestWkid": epsg(ms)}
    assert root["currentVersion"] == 11.1 and root["name"] == MS
    assert root["extent"] == {"xmin": xmin, "ymin": ymin, "xmax": xmax, "ymax": ymax, "spatialReference": sr}
    assert root["initialExtent"] == root["fullExtent"] == root["extent"]
    assert root["spatialReference"] == sr
    assert (root["pixelSizeX"], root["pixelSizeY"]) == tuple(ms.pixel_size)
    assert root["bandCount"] == 6 and root["bandNames"] == list(ms.band_names)
    assert root["pixelType"] == "U16"
    for key, index in (("minValues", 0), ("maxValues", 1), ("meanValues", 2), ("stdvValues", 3)):
        assert root[key] == [stats[index] for stats in ms.statistics]
    assert root["timeInfo"] == {"startTimeField": ms.start_time_field, "endTimeField": ms.end_time_field,
                                "timeExtent": list(ms.time_extent), "timeReference": None}
    assert root["rasterFunctionInfos"][0]["name"] == ms.default_raster_function == "Natural Color"
    assert {info["name"] for info in root["rasterFunctionInfos"]} >= set(ms.raster_function_templates)
    assert isinstance(root["allowedMosaicMethods"], str) and "LockRaster" in root["allowedMosaicMethods"]
    assert root["defaultMosaicMethod"] == ms.default_mosaic_method
    assert root["capabilities"] == "Image,Metadata,Catalog"
    assert root["serviceSourceType"] == "esriImageServiceSourceTypeMosaicDataset"
    assert root["fields"] == [dict(f) for f in ms.fields] and root["objectIdField"] == "OBJECTID"
    assert root["maxImageWidth"] == root["maxImageHeight"] == 4100 and root["maxRecordCount"] == 1000
    assert root["mosaicOperator"] == "First" and root["allowRasterFunction"] is True
    assert root["hasHistograms"] is True        # the histograms resource answers (test_server_resources)
    assert root["hasColormap"] is root["hasRasterAttributeTable"] is False
    assert root["minScale"] == root["maxScale"] == 0


def test_raster_root(server_url, el):
    root = get_json(url(server_url, EL))
    assert root["bandCount"] == 1 and root["pixelType"] == "F32"
    assert root["capabilities"] == "Image,Metadata"
    assert root["serviceSourceType"] == "esriImageServiceSourceTypeRasterDataset"
    assert root["serviceDataType"] == "esriImageServiceDataTypeElevation"
    assert isinstance(root["fields"], list) and "timeInfo" not in root


def test_key_properties(server_url, ms):
    assert get_json(url(server_url, MS, "keyProperties")) == {
        "BandCount": 6, "DataType": "Generic", "BandProperties": [{"BandName": n} for n in ms.band_names]}


def test_response_formats(server_url):
    address = url(server_url, MS)
    plain = requests.get(address, params={"f": "json"}, timeout=10)
    assert plain.headers["Content-Type"].startswith("application/json")
    pretty = requests.get(address, params={"f": "pjson"}, timeout=10)
    assert json.loads(pretty.text) == plain.json() and '\n  "name"' in pretty.text
    jsonp = requests.get(address, params={"f": "json", "callback": "L.esri._callback.c7"}, timeout=10)
    assert jsonp.headers["Content-Type"].startswith("application/javascript")
    assert jsonp.text.startswith("/**/L.esri._callback.c7(") and jsonp.text.endswith(");")
    assert json.loads(jsonp.text[len("/**/L.esri._callback.c7("):-2]) == plain.json()
    evil = requests.get(address, params={"f": "json", "callback": "alert(1)//"}, timeout=10)
    assert error_of(evil.json()) == (400, "Invalid or missing input parameters.", ["'callback' parameter is invalid."])
    page = requests.get(address, timeout=10)
    assert page.headers["Content-Type"].startswith("text/html") and "SampleMultispectral" in page.text
    assert error_of(get_json(address, f="kmz"))[2] == ["'f' parameter is invalid."]


def test_cors(server_url):
    response = requests.get(url(server_url, MS), params={"f": "json"}, headers={"Origin": "http://a.test"}, timeout=10)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    preflight = requests.options(url(server_url, MS, "exportImage"), timeout=10, headers={
        "Origin": "http://a.test", "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "X-Esri-Authorization" in preflight.headers["Access-Control-Allow-Headers"]


@pytest.mark.parametrize("path", [
    "/arcgis/rest/services/NoSuchService/ImageServer",
    "/arcgis/rest/services/..%2F..%2Fsampleserver%2Fserver.py",
    "/arcgis/rest/services/..%2FSampleMultispectral/ImageServer",
    "/arcgis/rest/services/SampleMultispectral/MapServer",
    "/arcgis/rest/services/SampleMultispectral/ImageServer/..%2F..%2F..%2Fetc%2Fpasswd",
    "/arcgis/rest/directories/arcgisoutput/SampleMultispectral_ImageServer/..%2F..%2Fserver.py",
    "/arcgis/rest/directories/arcgisoutput/SampleMultispectral_ImageServer/_ags_0123456789abcdef0123456789abcdef.png",
    "/arcgis/nothing/here",
])
def test_unknown_resources_are_arcgis_errors(server_url, path):
    response = requests.get(server_url + path, params={"f": "json"}, timeout=10)
    assert response.status_code == 200
    assert response.json()["error"]["code"] == 404


def test_unknown_operation(server_url):
    answer = get_json(url(server_url, MS, "download"))
    assert error_of(answer) == (404, "Operation not supported.", ["The ImageServer has no operation 'download'."])


def test_service_and_operation_names_are_case_insensitive(server_url):
    response = requests.get(f"{server_url}/arcgis/rest/services/samplemultispectral/ImageServer/EXPORTIMAGE",
                            params={"F": "image", "FORMAT": "png", "SIZE": "10,10"}, timeout=10)
    assert response.content.startswith(b"\x89PNG")


# -- exportImage ---------------------------------------------------------------------------------

def test_lock_raster_shows_exactly_that_scene(server_url, ms):
    for item in (full_item(ms), ms.items[-1]):
        window = source_window(item.path)
        image = read_tiff(native_export(server_url, ms, window, format="tiff", mosaicRule=lock(item)).content)
        assert image.shape == (6, WINDOW, WINDOW)
        assert np.array_equal(np.ma.getmaskarray(image), np.ma.getmaskarray(window.values))
        assert np.array_equal(image.compressed(), window.values.compressed())


def test_a_picture_without_rule_or_bands_gets_the_publishers_default_template(server_url, ms, el):
    """The sample publisher's default ("Natural Color", listed first) draws a picture asked for
    nothing else; bands or a rule asked for, or a data format, get what they ask."""
    item = full_item(ms)
    window = source_window(item.path)
    unasked = read_png(native_export(server_url, ms, window, format="png", mosaicRule=lock(item)).content)
    natural = read_png(native_export(server_url, ms, window, format="png", mosaicRule=lock(item),
                                     renderingRule='{"rasterFunction": "Natural Color"}').content)
    raw = read_png(native_export(server_url, ms, window, format="png", mosaicRule=lock(item),
                                 renderingRule='{"rasterFunction": "None"}').content)
    bands = read_png(native_export(server_url, ms, window, format="png", mosaicRule=lock(item), bandIds="0,1,2").content)
    assert np.array_equal(unasked, natural)
    assert not np.array_equal(unasked, raw) and not np.array_equal(unasked, bands)
    assert get_json(url(server_url, EL))["rasterFunctionInfos"][0]["name"] == "None" and el.default_raster_function is None


def test_band_ids_reorder_channels(server_url, ms):
    item = full_item(ms)
    window = source_window(item.path)
    image = read_tiff(native_export(server_url, ms, window, format="tiff", bandIds="3,0,5",
                                    mosaicRule=lock(item)).content)
    assert np.array_equal(image.filled(0), window.values[[3, 0, 5]].filled(0))
    straight = read_png(native_export(server_url, ms, window, format="png", bandIds="0,1,2", mosaicRule=lock(item)).content)
    swapped = read_png(native_export(server_url, ms, window, format="png", bandIds="2,1,0", mosaicRule=lock(item)).content)
    assert np.array_equal(straight[..., 0], swapped[..., 2]) and np.array_equal(straight[..., 2], swapped[..., 0])
    assert not np.array_equal(straight[..., 0], straight[..., 2])


def test_no_data_becomes_transparent(server_url, ms):
    item = full_item(ms)
    window = source_window(item.path)
    red = window.values[2]
    value = int(red[WINDOW // 2, WINDOW // 2])
    image = read_png(native_export(server_url, ms, window, format="png32", bandIds="2", noData=str(value),
                                   mosaicRule=lock(item)).content)
    assert np.array_equal(image[..., 3] == 0, np.asarray(red == value))
    assert 0 < np.count_nonzero(image[..., 3] == 0) < WINDOW * WINDOW


def test_outside_data_is_transparent_and_jpgpng_matches_bytes(server_url, ms):
    xmin, ymin, xmax, ymax = ms.extent
    far = f"{xmax + 10000},{ymax + 10000},{xmax + 20000},{ymax + 20000}"
    response = export(server_url, MS, bbox=far, bboxSR=epsg(ms), size="16,16")
    assert response.headers["Content-Type"] == "image/png" and response.content.startswith(b"\x89PNG")
    assert (read_png(response.content)[..., 3] == 0).all()
    item = full_item(ms)
    inside = native_export(server_url, ms, source_window(item.path), mosaicRule=lock(item))
    assert inside.headers["Content-Type"] == "image/jpeg" and inside.content.startswith(b"\xff\xd8")


def test_time_selects_another_scene(server_url, ms):
    first, second = full_item(ms), full_item(ms, skip=1)
    assert first.start_ms != second.start_ms
    window = source_window(first.path)
    for item in (first, second):
        image = read_tiff(native_export(server_url, ms, window, format="tiff", time=str(item.start_ms)).content)
        expected = source_window(item.path).values
        assert np.array_equal(image.filled(0), expected.filled(0))
    assert not np.array_equal(source_window(first.path).values, source_window(second.path).values)


def test_ndvi_matches_numpy(server_url, ms):
    item = full_item(ms)
    window = source_window(item.path)
    rule = {"rasterFunction": "NDVI", "rasterFunctionArguments": {
        "VisibleBandID": 2, "InfraredBandID": 3, "ScientificOutput": True}}
    image = read_tiff(native_export(server_url, ms, window, format="tiff", pixelType="F32",
                                    renderingRule=json.dumps(rule), mosaicRule=lock(item)).content)
    red, nir = window.values[2].astype(np.float64), window.values[3].astype(np.float64)
    assert image.shape == (1, WINDOW, WINDOW)
    np.testing.assert_allclose(image[0], (nir - red) / (nir + red), rtol=0, atol=1e-6)


def test_band_ids_apply_after_rendering_rule(server_url, ms):
    item = full_item(ms)
    window = source_window(item.path)
    rule = {"rasterFunction": "ExtractBand", "rasterFunctionArguments": {"BandIDs": [5, 4, 3]}}
    image = read_tiff(native_export(server_url, ms, window, format="tiff", bandIds="1",
                                    renderingRule=json.dumps(rule), mosaicRule=lock(item)).content)
    assert np.array_equal(image.filled(0), window.values[[4]].filled(0))


def test_raster_service_tiff_is_georeferenced_source(server_url, el):
    window = source_window(el.items[0].path)
    response = native_export(server_url, el, window, format="tiff")
    assert response.headers["Content-Type"] == "image/tiff"
    with MemoryFile(response.content) as memory, memory.open() as dataset:
        assert dataset.crs == el.crs
        assert dataset.transform.almost_equals(window.transform)
        values = dataset.read(masked=True)
    assert np.array_equal(values.filled(0), window.values.filled(0))


def test_f_json_href_and_adjusted_extent(server_url, ms):
    xmin, ymin, xmax, ymax = ms.extent
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    bbox = f"{cx - 1000},{cy - 500},{cx + 1000},{cy + 500}"
    answer = get_json(url(server_url, MS, "exportImage"), bbox=bbox, bboxSR=epsg(ms), size="100,100", format="png")
    assert answer["width"] == 100 and answer["height"] == 100 and answer["scale"] == 0
    assert answer["extent"] == {"xmin": cx - 1000, "ymin": cy - 1000, "xmax": cx + 1000, "ymax": cy + 1000,
                                "spatialReference": {"wkid": epsg(ms), "latestWkid": epsg(ms)}}
    href = answer["href"]
    assert href.startswith(server_url + "/arcgis/rest/directories/arcgisoutput/SampleMultispectral_ImageServer/_ags_")
    assert href.endswith(".png")
    image = requests.get(href, timeout=10)
    assert image.headers["Content-Type"] == "image/png" and Image.open(io.BytesIO(image.content)).size == (100, 100)
    exact = get_json(url(server_url, MS, "exportImage"), bbox=bbox, bboxSR=epsg(ms), size="100,100",
                     adjustAspectRatio="false")
    assert (exact["extent"]["ymin"], exact["extent"]["ymax"]) == (cy - 500, cy + 500)
    tall = get_json(url(server_url, MS, "exportImage"), bbox=bbox, bboxSR=epsg(ms), size="50,100")
    assert (tall["extent"]["xmin"], tall["extent"]["ymin"]) == (cx - 1000, cy - 2000)


@pytest.mark.parametrize("bbox_sr", ["3857", "102100", '{"wkid":102100,"latestWkid":3857}'])
def test_web_mercator_requests(server_url, ms, bbox_sr):
    xmin, ymin, xmax, ymax = ms.extent
    xs, ys = warp_transform(ms.crs, "EPSG:3857", [xmin, xmax], [ymin, ymax])
    bbox = f"{xs[0]},{ys[0]},{xs[1]},{ys[1]}"
    answer = get_json(url(server_url, MS, "exportImage"), bbox=bbox, bboxSR=bbox_sr, imageSR=bbox_sr,
                      size="64,64", format="png32")
    assert answer["extent"]["spatialReference"] == {"wkid": 102100, "latestWkid": 3857}
    image = read_png(requests.get(answer["href"], timeout=10).content)
    assert image.shape == (64, 64, 4)
    assert (image[..., 3] == 255).mean() > 0.5 and (image[..., 3] == 0).any()


def test_bbox_in_wgs84_with_either_y_order(server_url, ms):
    xmin, ymin, xmax, ymax = ms.extent
    lons, lats = warp_transform(ms.crs, "EPSG:4326", [xmin, xmax], [ymin, ymax])
    one = get_json(url(server_url, MS, "exportImage"), bbox=f"{lons[0]},{lats[0]},{lons[1]},{lats[1]}", bboxSR=4326)
    other = get_json(url(server_url, MS, "exportImage"), bbox=f"{lons[0]},{lats[1]},{lons[1]},{lats[0]}", bboxSR=4326)
    assert one["extent"] == other["extent"]
    assert one["extent"]["spatialReference"]["wkid"] == epsg(ms)
    assert (one["width"], one["height"]) == (400, 400)


def test_export_html_page_shows_the_image(server_url):
    page = requests.get(url(server_url, MS, "exportImage"), params={"size": "20,20", "format": "png"}, timeout=10)
    assert page.headers["Content-Type"].startswith("text/html")
    src = page.text.split('<img src="')[1].split('"')[0]
    assert src.startswith(server_url + "/arcgis/rest/directories/arcgisoutput/SampleMultispectral_ImageServer/_ags_")
    assert requests.get(src, timeout=10).content.startswith(b"\x89PNG")


def test_views_beyond_the_projection_domain(server_url):
    """A world view in Web Mercator reaches latitudes UTM cannot project: a picture, not an error."""
    response = export(server_url, MS, bbox="-20037508,-20037508,20037508,20037508", bboxSR=3857, imageSR=3857,
                      size="64,64", format="png32")
    assert response.headers["Content-Type"] == "image/png"
    world = export(server_url, MS, bbox="-200,-100,200,100", bboxSR=4326, imageSR=3857, format="png32")
    assert world.headers["Content-Type"] == "image/png"


@pytest.mark.parametrize("operation, params", [
    ("identify", {"geometry": '{"x": 573, "y": 0, "spatialReference": {"wkid": 4326}}'}),
    ("identify", {"geometry": '{"x": 0, "y": 95, "spatialReference": {"wkid": 4326}}'}),
    ("query", {"geometry": "590000,4250000", "inSR": "4326"}),
])
def test_points_outside_their_spatial_reference(server_url, operation, params):
    assert error_of(get_json(url(server_url, MS, operation), **params)) == (
        400, "Invalid or missing input parameters.", ["'geometry' parameter is invalid."])


def test_post_form_body(server_url):
    response = requests.post(url(server_url, MS, "exportImage"), timeout=10,
                             data={"f": "image", "format": "png", "size": "12,8", "bandIds": "3,2,1"})
    assert Image.open(io.BytesIO(response.content)).size == (12, 8)


@pytest.mark.parametrize("params, code, details", [
    ({"bbox": "1,2,3"}, 400, ["'bbox' parameter is invalid."]),
    ({"bbox": "1,2,1,5"}, 400, ["'bbox' parameter is invalid."]),
    ({"bbox": "a,b,c,d"}, 400, ["'bbox' parameter is invalid."]),
    ({"size": "5000,100"}, 400, [SIZE_LIMIT]),
    ({"size": "100,4101"}, 400, [SIZE_LIMIT]),
    ({"size": "0,10"}, 400, ["'size' parameter is invalid."]),
    ({"size": "-5,10"}, 400, ["'size' parameter is invalid."]),
    ({"size": "10"}, 400, ["'size' parameter is invalid."]),
    ({"imageSR": "999999"}, 400, ["'imageSR' parameter is invalid."]),
    ({"bbox": "0,0,1,1", "bboxSR": "{bad"}, 400, ["'bboxSR' parameter is invalid."]),
    ({"renderingRule": "{bad json"}, 400, ["'renderingRule' parameter is not valid JSON."]),
    ({"mosaicRule": "[1,2]"}, 400, ["'mosaicRule' parameter is invalid."]),
    ({"bandIds": "0,9"}, 400, ["'bandIds' parameter is invalid."]),
    ({"bandIds": "-1"}, 400, ["'bandIds' parameter is invalid."]),
    ({"bandIds": "1.5"}, 400, ["'bandIds' parameter is invalid."]),
    ({"interpolation": "RSP_Magic"}, 400, ["'interpolation' parameter is invalid."]),
    ({"compressionQuality": "101"}, 400, ["'compressionQuality' parameter is invalid."]),
    ({"time": "5,1"}, 400, ["'time' parameter is invalid: start is after end."]),
])
def test_export_errors_are_json_envelopes(server_url, params, code, details):
    response = export(server_url, MS, format="png", **params)
    assert response.headers["Content-Type"].startswith("application/json")
    answer = response.json()
    assert error_of(answer) == (code, "Invalid or missing input parameters.", details)


def test_unknown_raster_function(server_url):
    answer = export(server_url, MS, renderingRule='{"rasterFunction":"Nope"}').json()
    assert answer["error"]["code"] == 400
    assert "Nope" in answer["error"]["details"][0]


# -- identify ------------------------------------------------------------------------------------

def pixel_centre(path: Path, row: int, col: int) -> tuple[float, float]:
    with rasterio.open(path) as dataset:
        return dataset.xy(row, col)


def source_values(path: Path, x: float, y: float) -> np.ma.MaskedArray:
    with rasterio.open(path) as dataset:
        row, col = dataset.index(x, y)
        if not (0 <= row < dataset.height and 0 <= col < dataset.width):
            return np.ma.masked_all(dataset.count)
        return dataset.read(window=Window(col, row, 1, 1), masked=True)[:, 0, 0]


def as_text(values: np.ma.MaskedArray, separator: str) -> str:
    return separator.join("NoData" if m else f"{float(v):g}" for v, m in zip(values.data, np.ma.getmaskarray(values)))


def test_identify_mosaic_values_equal_sources(server_url, ms):
    item = full_item(ms)
    with rasterio.open(item.path) as dataset:
        x, y = dataset.xy(dataset.height // 2, dataset.width // 2)
    answer = get_json(url(server_url, MS, "identify"), geometry=json.dumps({"x": x, "y": y}),
                      geometryType="esriGeometryPoint", returnGeometry="true")
    assert answer["objectId"] == 0 and answer["name"] == "Pixel"
    assert answer["location"] == {"x": x, "y": y, "spatialReference": {"wkid": epsg(ms), "latestWkid": epsg(ms)}}
    features = answer["catalogItems"]["features"]
    ids = [f["attributes"]["OBJECTID"] for f in features]
    expected_ids = [i.object_id for i in ms.items if i.footprint.intersects(Point(x, y))]
    assert sorted(ids) == sorted(expected_ids)
    by_id = {i.object_id: i for i in ms.items}
    values = answer["properties"]["Values"]
    assert values == [as_text(source_values(by_id[i].path, x, y), " ") for i in ids]
    assert all("rings" in f["geometry"] for f in features)
    visibilities = answer["catalogItemVisibilities"]
    assert len(visibilities) == len(ids) and sorted(visibilities)[-1] == 1.0 and sum(visibilities) == 1.0
    top = ids[visibilities.index(1.0)]
    assert answer["value"] == as_text(source_values(by_id[top].path, x, y), ", ")


def test_identify_lock_raster_wgs84_point(server_url, ms):
    item = full_item(ms, skip=1)
    with rasterio.open(item.path) as dataset:
        x, y = dataset.xy(dataset.height // 2 + 1, dataset.width // 2 - 2)
    lons, lats = warp_transform(ms.crs, "EPSG:4326", [x], [y])
    geometry = {"x": lons[0], "y": lats[0], "spatialReference": {"wkid": 4326}}
    answer = get_json(url(server_url, MS, "identify"), geometry=json.dumps(geometry), mosaicRule=lock(item),
                      returnCatalogItems="false")
    assert answer["value"] == as_text(source_values(item.path, x, y), ", ")
    assert answer["location"]["x"] == pytest.approx(x, abs=1e-6)
    assert answer["location"]["y"] == pytest.approx(y, abs=1e-6)
    assert answer["catalogItems"] is None and answer["properties"] is None


def test_identify_rendering_rule_value(server_url, ms):
    item = full_item(ms)
    with rasterio.open(item.path) as dataset:
        x, y = dataset.xy(dataset.height // 2, dataset.width // 2)
    rule = {"rasterFunction": "NDVI", "rasterFunctionArguments": {
        "VisibleBandID": 2, "InfraredBandID": 3, "ScientificOutput": True}}
    answer = get_json(url(server_url, MS, "identify"), geometry=f"{x},{y}", mosaicRule=lock(item),
                      renderingRule=json.dumps(rule))
    red, nir = source_values(item.path, x, y)[[2, 3]].astype(np.float64)
    assert float(answer["value"]) == pytest.approx((nir - red) / (nir + red), abs=1e-5)


def test_identify_raster_service(server_url, el):
    path = el.items[0].path
    x, y = pixel_centre(path, 5, 7)
    answer = get_json(url(server_url, EL, "identify"), geometry=f"{x},{y}")
    assert answer == {"objectId": 0, "name": "Pixel", "value": as_text(source_values(path, x, y), ", "),
                      "location": {"x": x, "y": y, "spatialReference": {"wkid": epsg(el), "latestWkid": epsg(el)}},
                      "properties": None, "catalogItems": None, "catalogItemVisibilities": []}


def test_identify_outside_is_nodata(server_url, ms):
    xmin, ymin, xmax, ymax = ms.extent
    answer = get_json(url(server_url, MS, "identify"), geometry=f"{xmax + 5000},{ymax + 5000}")
    assert answer["value"] == "NoData"
    assert answer["properties"] == {} and answer["catalogItems"]["features"] == []
    assert answer["catalogItemVisibilities"] == []


def test_identify_polygon_uses_centroid(server_url, el):
    path = el.items[0].path
    x, y = pixel_centre(path, 8, 8)
    ring = [[x - 10, y - 10], [x - 10, y + 10], [x + 10, y + 10], [x + 10, y - 10], [x - 10, y - 10]]
    answer = get_json(url(server_url, EL, "identify"), geometry=json.dumps({"rings": [ring]}),
                      geometryType="esriGeometryPolygon")
    assert answer["value"] == as_text(source_values(path, x, y), ", ")


@pytest.mark.parametrize("params, details", [
    ({}, ["'geometry' parameter is required."]),
    ({"geometry": "1,2,3"}, ["'geometry' parameter is invalid."]),
    ({"geometry": '{"x": "a"}'}, ["'geometry' parameter is invalid."]),
    ({"geometry": "{nope"}, ["'geometry' parameter is not valid JSON."]),
    ({"geometry": "1,2", "geometryType": "esriGeometryBlob"}, ["'geometryType' parameter is invalid."]),
    ({"geometry": "1,2", "pixelSize": "0,0"}, ["'pixelSize' parameter is invalid."]),
])
def test_identify_errors(server_url, params, details):
    assert error_of(get_json(url(server_url, MS, "identify"), **params)) == (
        400, "Invalid or missing input parameters.", details)


# -- computeHistograms ---------------------------------------------------------------------------

def test_histograms_count_what_numpy_counts(server_url, el):
    window = source_window(el.items[0].path, size=WINDOW)
    xmin, ymin, xmax, ymax = (float(v) for v in window.bbox.split(","))
    envelope = {"xmin": xmin, "ymin": ymin, "xmax": xmax, "ymax": ymax}
    answer = get_json(url(server_url, EL, "computeHistograms"), geometry=json.dumps(envelope),
                      geometryType="esriGeometryEnvelope")
    (histogram,) = answer["histograms"]
    values = window.values.compressed().astype(np.float64)
    edges = np.linspace(values.min(), values.max(), 257)
    assert histogram == {"size": 256, "min": values.min(), "max": values.max(),
                         "counts": np.histogram(values, bins=edges)[0].tolist()}


def test_integer_histograms_centre_bins_on_values(server_url, ms):
    item = full_item(ms)
    window = source_window(item.path)
    xmin, ymin, xmax, ymax = (float(v) for v in window.bbox.split(","))
    rule = {"rasterFunction": "NDVI", "rasterFunctionArguments": {"VisibleBandID": 2, "InfraredBandID": 3}}
    answer = get_json(url(server_url, MS, "computeHistograms"), mosaicRule=lock(item), renderingRule=json.dumps(rule),
                      geometry=json.dumps({"xmin": xmin, "ymin": ymin, "xmax": xmax, "ymax": ymax}))
    (histogram,) = answer["histograms"]
    image = read_tiff(native_export(server_url, ms, window, format="tiff", mosaicRule=lock(item),
                                    renderingRule=json.dumps(rule)).content)
    values = image.compressed().astype(np.int64)
    low, high = values.min(), values.max()
    assert histogram["min"] == low - 0.5 and histogram["max"] == high + 0.5
    assert histogram["size"] == high - low + 1
    assert histogram["counts"] == np.bincount(values - low, minlength=high - low + 1).tolist()


def test_histograms_polygon_and_errors(server_url, el):
    window = source_window(el.items[0].path, size=WINDOW)
    xmin, ymin, xmax, ymax = (float(v) for v in window.bbox.split(","))
    triangle = {"rings": [[[xmin, ymin], [xmin, ymax], [xmax, ymin], [xmin, ymin]]]}
    (part,) = get_json(url(server_url, EL, "computeHistograms"), geometry=json.dumps(triangle),
                       geometryType="esriGeometryPolygon")["histograms"]
    assert WINDOW * WINDOW // 3 < sum(part["counts"]) < WINDOW * WINDOW * 2 // 3
    point = get_json(url(server_url, EL, "computeHistograms"), geometry=f"{xmin},{ymin}")
    assert error_of(point)[0] == 400
    huge = {"xmin": xmin, "ymin": ymin, "xmax": xmin + 1e6, "ymax": ymax}
    assert error_of(get_json(url(server_url, EL, "computeHistograms"), geometry=json.dumps(huge),
                             pixelSize="1,1"))[2] == [SIZE_LIMIT]


# -- getSamples ----------------------------------------------------------------------------------

def test_get_samples_one_per_scene(server_url, ms):
    item = full_item(ms)
    with rasterio.open(item.path) as dataset:
        x, y = dataset.xy(dataset.height // 2, dataset.width // 2)
    answer = get_json(url(server_url, MS, "getSamples"), geometry=json.dumps({"x": x, "y": y}),
                      geometryType="esriGeometryPoint", returnFirstValueOnly="false",
                      outFields="AcquisitionDate,CloudCover")
    samples = answer["samples"]
    with_data = [i for i in ms.items if not np.ma.getmaskarray(source_values(i.path, x, y)).all()]
    assert sorted(s["rasterId"] for s in samples) == sorted(i.object_id for i in with_data)
    assert len(samples) >= 12
    by_id = {i.object_id: i for i in ms.items}
    for sample in samples:
        source = by_id[sample["rasterId"]]
        assert sample["value"] == as_text(source_values(source.path, x, y), " ")
        assert sample["locationId"] == 0
        assert sample["location"] == {"x": x, "y": y, "spatialReference": {"wkid": epsg(ms), "latestWkid": epsg(ms)}}
        assert sample["attributes"] == {"AcquisitionDate": source.attributes["AcquisitionDate"],
                                        "CloudCover": source.attributes["CloudCover"]}
    first = get_json(url(server_url, MS, "getSamples"), geometry=f"{x},{y}")["samples"]
    assert len(first) == 1 and "attributes" not in first[0]


def test_get_samples_along_a_line(server_url, el):
    path = el.items[0].path
    x0, y0 = pixel_centre(path, 4, 4)
    x1, y1 = pixel_centre(path, 4, 24)
    line = {"paths": [[[x0, y0], [x1, y1]]]}
    samples = get_json(url(server_url, EL, "getSamples"), geometry=json.dumps(line),
                       geometryType="esriGeometryPolyline", sampleCount=5)["samples"]
    assert [s["locationId"] for s in samples] == [0, 1, 2, 3, 4]
    xs = [s["location"]["x"] for s in samples]
    assert xs == pytest.approx(list(np.linspace(x0, x1, 5)))
    for sample in samples:
        expected = source_values(path, sample["location"]["x"], sample["location"]["y"])
        assert sample["value"] == as_text(expected, " ")
    distance = get_json(url(server_url, EL, "getSamples"), geometry=json.dumps(line),
                        geometryType="esriGeometryPolyline", sampleDistance=(x1 - x0) / 4)["samples"]
    assert len(distance) == 5
    too_many = get_json(url(server_url, EL, "getSamples"), geometry=json.dumps(line), sampleCount=5000)
    assert error_of(too_many)[0] == 400


# -- query ---------------------------------------------------------------------------------------

def test_query_count_and_geojson(server_url, ms):
    assert get_json(url(server_url, MS, "query"), where="1=1", returnCountOnly="true") == {"count": len(ms.items)}
    collection = requests.get(url(server_url, MS, "query"), params={"where": "1=1", "f": "geojson"}, timeout=10).json()
    assert collection["type"] == "FeatureCollection" and len(collection["features"]) == len(ms.items)
    bad = get_json(url(server_url, MS, "query"), where="NoSuchField = 1")
    assert error_of(bad)[0] == 400


# -- the f=json output store and the command line --------------------------------------------

def test_output_store_bounds_count_and_age():
    clock = FakeClock(100.0)
    store = OutputStore(max_files=2, max_age=60.0, clock=clock)
    first = store.put("S", b"one", "png", "image/png")
    second = store.put("S", b"two", "jpg", "image/jpeg")
    assert store.get(*first) == (b"one", "image/png")
    third = store.put("S", b"three", "png", "image/png")
    assert store.get(*first) is None
    assert store.get(*second) == (b"two", "image/jpeg") and store.get(*third) == (b"three", "image/png")
    clock.now += 60.0
    assert store.get(*second) is None and store.get(*third) is None
    assert store.get("S_ImageServer", "../secret.png") is None


def test_output_store_on_disk(tmp_path):
    store = OutputStore(tmp_path, max_files=1)
    folder_name, file_name = store.put("S", b"tiff bytes", "tif", "image/tiff")
    path = tmp_path / folder_name / file_name
    assert folder_name == "S_ImageServer" and path.read_bytes() == b"tiff bytes"
    assert store.get(folder_name, file_name) == (b"tiff bytes", "image/tiff")
    store.put("S", b"newer", "png", "image/png")
    assert not path.exists() and store.get(folder_name, file_name) is None


def test_command_line_checks_users(capsys):
    with pytest.raises(SystemExit):
        run_main(["--secure"])
    assert "--secure needs at least one --user" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        run_main(["--secure", "--user", "nopassword"])
    assert "expected NAME:PASSWORD" in capsys.readouterr().err


# -- unexpected failures -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def broken_url(services: dict[str, Service], tmp_path_factory) -> Iterator[str]:
    """A server whose mosaic points at files that vanished: reading fails unexpectedly."""
    missing = tmp_path_factory.mktemp("missing")
    service = services[MS]
    gone = tuple(dataclasses.replace(item, path=missing / item.path.name) for item in service.items)
    app = Flask("broken_imageserver")
    app.register_blueprint(create_blueprint({MS: dataclasses.replace(service, items=gone)}), url_prefix="/arcgis")
    with serving(app) as address:
        yield address


def test_unexpected_errors_are_500_envelopes(broken_url, ms, caplog):
    caplog.set_level(logging.ERROR)
    response = export(broken_url, MS, format="png", size="10,10")
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json() == {"error": {"code": 500, "message": "Error exporting image", "details": []}}
    assert any(r.levelno == logging.ERROR and r.exc_info for r in caplog.records)
    xmin, ymin, xmax, ymax = ms.extent
    identify = get_json(url(broken_url, MS, "identify"), geometry=f"{(xmin + xmax) / 2},{(ymin + ymax) / 2}")
    assert identify == {"error": {"code": 500, "message": "Unable to complete operation.", "details": []}}
