"""The ImageServer resources the ArcGIS Maps SDK for JavaScript reads beyond exportImage and
identify: rasterFunctionInfos, computeStatisticsHistograms, queryBoundary, histograms, statistics,
legend, colormap, rasterAttributeTable and the per-item info, keyProperties and thumbnail.

Over real HTTP on 127.0.0.1; every number is checked against the source GeoTIFFs read directly.
"""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
import rasterio
import requests
from PIL import Image
from rasterio.warp import transform as warp_transform
from shapely.geometry import Polygon
from shapely.ops import unary_union

from imageservice.server.catalog import Service
from server_fixtures import sample_root, server_url, services  # noqa: F401  (fixtures)

MS = "SampleMultispectral"
EL = "SampleElevation"


def url(base: str, service: str, resource: str = "") -> str:
    return f"{base}/arcgis/rest/services/{service}/ImageServer" + (f"/{resource}" if resource else "")


def get_json(address: str, **params) -> dict:
    response = requests.get(address, params={"f": "json", **params}, timeout=30)
    assert response.status_code == 200
    return response.json()


def error_of(answer: dict) -> tuple[int, str, list[str]]:
    return answer["error"]["code"], answer["error"]["message"], answer["error"]["details"]


def read_source(service: Service, index: int = 0) -> tuple[np.ma.MaskedArray, rasterio.Affine]:
    with rasterio.open(service.items[index].path) as dataset:
        return dataset.read(masked=True), dataset.transform


def swatch_colours(entry: dict) -> np.ndarray:
    """The distinct RGB colours of a legend entry's 20 x 20 PNG."""
    assert entry["contentType"] == "image/png" and entry["width"] == entry["height"] == 20
    image = np.asarray(Image.open(io.BytesIO(base64.b64decode(entry["imageData"]))).convert("RGB"))
    assert image.shape == (20, 20, 3)
    return np.unique(image.reshape(-1, 3), axis=0)


@pytest.fixture(scope="module")
def ms(services: dict[str, Service]) -> Service:
    return services[MS]


@pytest.fixture(scope="module")
def el(services: dict[str, Service]) -> Service:
    return services[EL]


# -- rasterFunctionInfos -------------------------------------------------------------------------

def test_raster_function_infos_resource_lists_the_roots_functions(server_url):
    root = get_json(url(server_url, MS))
    infos = get_json(url(server_url, MS, "rasterFunctionInfos"))["rasterFunctionInfos"]
    assert infos[0]["name"] == "Natural Color"          # the publisher's default comes first
    assert "None" in [info["name"] for info in infos]
    assert [{k: v for k, v in info.items() if k != "functionType"} for info in infos] == root["rasterFunctionInfos"]
    assert {info["functionType"] for info in infos} == {0}


def test_raster_function_infos_of_an_unknown_service(server_url):
    answer = get_json(url(server_url, "NoSuchService", "rasterFunctionInfos"))
    assert error_of(answer)[:2] == (404, "Service not found.")


# -- computeStatisticsHistograms -----------------------------------------------------------------

def test_statistics_histograms_of_the_whole_raster_equal_numpy(server_url, el):
    values, _ = read_source(el)
    xmin, ymin, xmax, ymax = el.extent
    answer = get_json(url(server_url, EL, "computeStatisticsHistograms"), geometryType="esriGeometryEnvelope",
                      geometry=json.dumps({"xmin": xmin, "ymin": ymin, "xmax": xmax, "ymax": ymax}))
    valid = values[0].compressed().astype(np.float64)
    (statistics,) = answer["statistics"]
    assert statistics["count"] == valid.size
    assert statistics["min"] == valid.min() and statistics["max"] == valid.max()
    assert statistics["mean"] == pytest.approx(valid.mean()) and statistics["median"] == pytest.approx(np.median(valid))
    assert statistics["standardDeviation"] == pytest.approx(valid.std())
    assert statistics["skipX"] == statistics["skipY"] == 1
    histograms = get_json(url(server_url, EL, "computeHistograms"),
                          geometry=json.dumps({"xmin": xmin, "ymin": ymin, "xmax": xmax, "ymax": ymax}))
    assert answer["histograms"] == histograms["histograms"]
    assert sum(answer["histograms"][0]["counts"]) == valid.size


def test_statistics_histograms_follow_the_rendering_rule(server_url, ms):
    xmin, ymin, xmax, ymax = ms.extent
    rule = {"rasterFunction": "NDVI", "rasterFunctionArguments": {"VisibleBandID": 2, "InfraredBandID": 3,
                                                                  "ScientificOutput": True}}
    answer = get_json(url(server_url, MS, "computeStatisticsHistograms"), renderingRule=json.dumps(rule),
                      geometry=json.dumps({"xmin": xmin, "ymin": ymin, "xmax": xmax, "ymax": ymax}))
    (statistics,) = answer["statistics"]
    assert -1 <= statistics["min"] < statistics["mean"] < statistics["max"] <= 1


@pytest.mark.parametrize("params, detail", [
    ({}, "'geometry' parameter is required."),
    ({"geometry": "605000,4267000"}, "'geometry' parameter must be an envelope or a polygon."),
    ({"geometry": "{not json"}, "'geometry' parameter is not valid JSON."),
])
def test_statistics_histograms_errors(server_url, params, detail):
    answer = get_json(url(server_url, EL, "computeStatisticsHistograms"), **params)
    assert error_of(answer) == (400, "Invalid or missing input parameters.", [detail])


# -- queryBoundary -------------------------------------------------------------------------------

def test_query_boundary_of_a_raster_is_its_envelope(server_url, el):
    answer = get_json(url(server_url, EL, "queryBoundary"))
    xmin, ymin, xmax, ymax = el.extent
    assert answer == {"shape": {"xmin": xmin, "ymin": ymin, "xmax": xmax, "ymax": ymax,
                                "spatialReference": {"wkid": 32610, "latestWkid": 32610}},
                      "area": (xmax - xmin) * (ymax - ymin)}


def test_query_boundary_of_a_mosaic_is_the_union_of_footprints(server_url, ms):
    union = unary_union([item.footprint for item in ms.items])
    answer = get_json(url(server_url, MS, "queryBoundary"), outSR="4326")
    assert answer["area"] == pytest.approx(union.area)
    assert answer["shape"]["spatialReference"] == {"wkid": 4326, "latestWkid": 4326}
    ring = np.array(answer["shape"]["rings"][0])
    xs, ys = warp_transform("EPSG:4326", "EPSG:32610", ring[:, 0].tolist(), ring[:, 1].tolist())
    back = Polygon(zip(xs, ys))
    assert back.symmetric_difference(union).area < 0.001 * union.area
    native = get_json(url(server_url, MS, "queryBoundary"))
    assert Polygon(native["shape"]["rings"][0]).equals(union)


def test_query_boundary_bad_out_sr(server_url):
    answer = get_json(url(server_url, EL, "queryBoundary"), outSR="999999")
    assert error_of(answer) == (400, "Invalid or missing input parameters.", ["'outSR' parameter is invalid."])


# -- service statistics, histograms, colormap, attribute table -----------------------------------

def test_statistics_resource_matches_the_root(server_url):
    root = get_json(url(server_url, MS))
    statistics = get_json(url(server_url, MS, "statistics"))["statistics"]
    assert [s["min"] for s in statistics] == root["minValues"]
    assert [s["max"] for s in statistics] == root["maxValues"]
    assert [s["mean"] for s in statistics] == root["meanValues"]
    assert [s["standardDeviation"] for s in statistics] == root["stdvValues"]


def test_histograms_resource_counts_every_valid_pixel(server_url, el, ms):
    values, _ = read_source(el)
    (histogram,) = get_json(url(server_url, EL, "histograms"))["histograms"]
    valid = values[0].compressed()
    assert histogram["size"] == 256 and histogram["min"] == valid.min() and histogram["max"] == valid.max()
    assert histogram["counts"] == np.histogram(valid.astype(np.float64), bins=np.linspace(
        valid.min(), valid.max(), 257))[0].tolist()
    scenes = get_json(url(server_url, MS, "histograms"))["histograms"]
    assert len(scenes) == 6
    total = sum(int(np.count_nonzero(~np.ma.getmaskarray(read_source(ms, i)[0][0]))) for i in range(len(ms.items)))
    assert all(sum(h["counts"]) == total for h in scenes)


def test_colormap_and_attribute_table_of_services_without_them(server_url):
    root = get_json(url(server_url, EL))
    assert root["hasColormap"] is False and root["hasRasterAttributeTable"] is False
    for resource in ("colormap", "rasterAttributeTable"):
        code, message, _ = error_of(get_json(url(server_url, EL, resource)))
        assert (code, message) == (400, "Unable to complete operation.")


# -- legend --------------------------------------------------------------------------------------

def test_legend_of_one_band_is_a_stretched_ramp(server_url, el):
    (layer,) = get_json(url(server_url, EL, "legend"))["layers"]
    assert (layer["layerName"], layer["layerType"], layer["legendType"]) == (EL, "Raster Layer", "Stretched")
    low, high = el.statistics[0][:2]
    assert [e["label"] for e in layer["legend"]] == [f"High : {high:g}", "", f"Low : {low:g}"]
    top, bottom = swatch_colours(layer["legend"][0]), swatch_colours(layer["legend"][2])
    assert top.max() == 255 and bottom.min() == 0 and top.min() > 160 > 90 > bottom.max()   # white on top


def test_legend_of_three_bands_names_them(server_url, ms):
    (layer,) = get_json(url(server_url, MS, "legend"), bandIds="3,2,1")["layers"]
    assert layer["legendType"] == "RGB Composite"
    assert [e["label"] for e in layer["legend"]] == ["Red: NIR", "Green: Red", "Blue: Green"]
    assert [swatch_colours(e).tolist() for e in layer["legend"]] == [[[255, 0, 0]], [[0, 255, 0]], [[0, 0, 255]]]
    (single,) = get_json(url(server_url, MS, "legend"), bandIds="3")["layers"]
    assert single["legendType"] == "Stretched" and single["legend"][0]["label"] == f"High : {ms.statistics[3][1]:g}"


def test_legend_without_rule_or_bands_is_the_default_templates(server_url, ms):
    """The sample publishes Natural Color as its default: the legend describes that picture."""
    (layer,) = get_json(url(server_url, MS, "legend"))["layers"]
    assert [e["label"] for e in layer["legend"]] == ["Red: Red", "Green: Green", "Blue: Blue"]


def test_legend_of_a_colormap_rule_lists_its_values(server_url):
    rule = {"rasterFunction": "Colormap", "rasterFunctionArguments": {
        "Colormap": [[2, 0, 0, 255], [1, 255, 128, 0]], "Raster": {"rasterFunction": "Slope"}}}
    (layer,) = get_json(url(server_url, EL, "legend"), renderingRule=json.dumps(rule))["layers"]
    assert layer["legendType"] == "Unique Values"
    assert [(e["label"], e["values"]) for e in layer["legend"]] == [("1", [1]), ("2", [2])]
    assert [swatch_colours(e).tolist() for e in layer["legend"]] == [[[255, 128, 0]], [[0, 0, 255]]]


def test_legend_of_a_long_colormap_template_is_a_ramp(server_url, ms):
    (layer,) = get_json(url(server_url, MS, "legend"),
                        renderingRule=json.dumps({"rasterFunction": "NDVI Colorized"}))["layers"]
    assert layer["legendType"] == "Stretched" and len(layer["legend"]) == 3
    entries = ms.raster_function_templates["NDVI Colorized"]["rasterFunctionArguments"]["Colormap"]
    assert layer["legend"][0]["label"] == str(entries[-1][0]) and layer["legend"][2]["label"] == str(entries[0][0])


def test_legend_errors(server_url):
    answer = get_json(url(server_url, EL, "legend"), renderingRule=json.dumps({"rasterFunction": "NoSuch"}))
    assert error_of(answer)[:2] == (400, "Unable to complete operation.")
    answer = get_json(url(server_url, MS, "legend"), bandIds="9")
    assert error_of(answer) == (400, "Invalid or missing input parameters.", ["'bandIds' parameter is invalid."])


# -- catalog items -------------------------------------------------------------------------------

def test_item_info_describes_the_file(server_url, ms):
    item = ms.items[2]
    info = get_json(url(server_url, MS, f"{item.object_id}/info"))
    with rasterio.open(item.path) as dataset:
        values = dataset.read(masked=True)
        assert (info["width"], info["height"], info["bandCount"]) == (dataset.width, dataset.height, dataset.count)
        assert info["pixelSizeX"] == dataset.transform.a and info["origin"] == {"x": dataset.bounds.left,
                                                                                 "y": dataset.bounds.top}
        assert [info["extent"][k] for k in ("xmin", "ymin", "xmax", "ymax")] == list(dataset.bounds)
    assert info["pixelType"] == "U16"
    for band, statistics, histogram in zip(values, info["statistics"], info["histograms"]):
        valid = band.compressed().astype(np.float64)
        assert statistics == pytest.approx([valid.min(), valid.max(), valid.mean(), valid.std()])
        assert sum(histogram["counts"]) == valid.size


def test_item_key_properties(server_url, ms):
    item = ms.items[1]
    properties = get_json(url(server_url, MS, f"{item.object_id}/info/keyProperties"))
    assert properties["SensorName"] == item.attributes["SensorName"]
    assert properties["AcquisitionDate"] == item.start_ms
    assert properties["BandProperties"] == [{"BandName": name} for name in ms.band_names]


def test_item_thumbnail_is_a_png_transparent_where_there_is_no_data(server_url, ms):
    item = next(i for i in ms.items if np.ma.getmaskarray(read_source(ms, i.object_id - 1)[0]).any())
    response = requests.get(url(server_url, MS, f"{item.object_id}/thumbnail"), timeout=30)
    assert response.status_code == 200 and response.headers["Content-Type"] == "image/png"
    image = np.asarray(Image.open(io.BytesIO(response.content)).convert("RGBA"))
    values, _ = read_source(ms, item.object_id - 1)
    assert image.shape[:2] == values.shape[1:] and max(image.shape[:2]) <= 200
    assert np.array_equal(image[..., 3] == 0, np.ma.getmaskarray(values).any(axis=0))


@pytest.mark.parametrize("path, code, message", [
    ("0/info", 400, "Unable to complete operation."),
    ("999/info/keyProperties", 400, "Unable to complete operation."),
    ("1/nothing", 404, "Resource not found."),
    ("1/info/ics", 404, "Resource not found."),
])
def test_item_resource_errors(server_url, path, code, message):
    assert error_of(get_json(url(server_url, MS, path)))[:2] == (code, message)


def test_item_resources_of_a_raster_service(server_url, el):
    info = get_json(url(server_url, EL, "1/info"))
    assert info["bandCount"] == 1 and info["pixelType"] == "F32"


# -- the root and histograms as a renderingRule makes them ---------------------------------------

def test_root_with_a_rendering_rule_describes_the_processed_raster(server_url, ms):
    rule = json.dumps({"rasterFunction": "NDVI Raw"})
    root = get_json(url(server_url, MS), renderingRule=rule)
    assert (root["bandCount"], root["pixelType"], root["bandNames"]) == (1, "F32", ["Band_1"])
    assert root["serviceDataType"] == "esriImageServiceDataTypeProcessed"
    xmin, ymin, xmax, ymax = ms.extent
    response = requests.get(url(server_url, MS, "exportImage"), timeout=30, params={
        "f": "image", "format": "tiff", "bbox": f"{xmin},{ymin},{xmax},{ymax}", "size": "256,256",
        "renderingRule": rule})
    with rasterio.MemoryFile(response.content) as memory, memory.open() as dataset:
        ndvi = dataset.read(1, masked=True).compressed().astype(np.float64)
    assert root["minValues"] == [ndvi.min()] and root["maxValues"] == [ndvi.max()]
    assert root["meanValues"] == [pytest.approx(ndvi.mean())]
    plain = get_json(url(server_url, MS))
    assert get_json(url(server_url, MS), renderingRule=json.dumps({"rasterFunction": "None"})) == plain


def test_histograms_with_a_rendering_rule_are_those_of_the_processed_raster(server_url, ms):
    rule = json.dumps({"rasterFunction": "NDVI Colorized"})
    histograms = get_json(url(server_url, MS, "histograms"), renderingRule=rule)["histograms"]
    xmin, ymin, xmax, ymax = ms.extent
    computed = get_json(url(server_url, MS, "computeHistograms"), renderingRule=rule,
                        pixelSize=str((xmax - xmin) / 256),
                        geometry=json.dumps({"xmin": xmin, "ymin": ymin, "xmax": xmax, "ymax": ymax}))
    assert len(histograms) == 3 and histograms == computed["histograms"]


def test_statistics_with_a_rendering_rule_are_those_of_the_processed_raster(server_url):
    rule = json.dumps({"rasterFunction": "NDVI Raw"})
    root = get_json(url(server_url, MS), renderingRule=rule)
    (statistics,) = get_json(url(server_url, MS, "statistics"), renderingRule=rule)["statistics"]
    assert [statistics["min"], statistics["max"]] == root["minValues"] + root["maxValues"]
    assert statistics["mean"] == pytest.approx(root["meanValues"][0])


def test_key_properties_with_a_rendering_rule_count_the_processed_bands(server_url, ms):
    ndvi = get_json(url(server_url, MS, "keyProperties"), renderingRule=json.dumps({"rasterFunction": "NDVI Raw"}))
    assert ndvi["BandCount"] == 1 and ndvi["BandProperties"] == [{"BandName": "Band_1"}]
    same = get_json(url(server_url, MS, "keyProperties"), renderingRule=json.dumps({"rasterFunction": "None"}))
    assert same == get_json(url(server_url, MS, "keyProperties")) and same["BandCount"] == len(ms.band_names)
