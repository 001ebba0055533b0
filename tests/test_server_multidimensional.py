"""Multidimensional services over real HTTP: multidimensionalInfo, slices, the mosaic rule's
multidimensionalDefinition in every pixel operation, identify's processAsMultidimensional, and
the folder + sidecar format. Expected values come from the slice GeoTIFFs and the sidecar."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import rasterio
import requests
from flask import Flask
from PIL import Image
from rasterio.io import MemoryFile
from rasterio.transform import from_origin

from imageservice.server.server import create_blueprint
from server_fixtures import sample_root, server_url, serving, services  # noqa: F401  (fixtures)

CUBE = "SampleOceanCube"
INVALID = "Invalid or missing input parameters."


def url(base: str, service: str, operation: str = "") -> str:
    return f"{base}/arcgis/rest/services/{service}/ImageServer" + (f"/{operation}" if operation else "")


def get_json(address: str, **params) -> dict:
    response = requests.get(address, params={"f": "json", **params}, timeout=30)
    assert response.status_code == 200
    return response.json()


def rule(*entries: tuple[str, str | None, list]) -> str:
    """A mosaicRule with one dimensional definition per (variable, dimension, values)."""
    return json.dumps({"multidimensionalDefinition": definition(*entries)})


def definition(*entries: tuple[str, str | None, list]) -> list[dict]:
    return [{"variableName": v, "dimensionName": d, "values": values, "isSlice": True} for v, d, values in entries]


def ms(text: str) -> int:
    return int(dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


@pytest.fixture(scope="module")
def cube(sample_root: Path) -> Path:
    return sample_root / CUBE


@pytest.fixture(scope="module")
def sidecar(cube: Path) -> dict:
    return json.loads((cube / "catalog.json").read_text())


@pytest.fixture(scope="module")
def items(sidecar: dict) -> list[dict]:
    return sidecar["items"]


def values_of(items: list[dict], key: str, variable: str) -> list:
    return sorted({ms(i[key]) if key == "StdTime" else i[key] for i in items if i["Variable"] == variable})


def read(cube: Path, item: dict) -> np.ndarray:
    with rasterio.open(cube / item["file"]) as dataset:
        return dataset.read(1)


def find(items: list[dict], variable: str, time: int, depth: float) -> dict:
    return next(i for i in items if i["Variable"] == variable and ms(i["StdTime"]) == time and i["StdZ"] == depth)


def native_bbox(cube: Path, items: list[dict]) -> tuple[str, str]:
    with rasterio.open(cube / items[0]["file"]) as dataset:
        return ",".join(str(v) for v in dataset.bounds), f"{dataset.width},{dataset.height}"


def export_tiff(base: str, cube: Path, items: list[dict], **params) -> np.ndarray:
    bbox, size = native_bbox(cube, items)
    response = requests.get(url(base, CUBE, "exportImage"), timeout=30, params={
        "f": "image", "format": "tiff", "bbox": bbox, "bboxSR": 4326, "size": size, **params})
    assert response.headers["Content-Type"] == "image/tiff", response.text
    with MemoryFile(response.content) as memory, memory.open() as dataset:
        return dataset.read(1)


def pixel_point(cube: Path, items: list[dict], row: int, col: int) -> tuple[float, float]:
    with rasterio.open(cube / items[0]["file"]) as dataset:
        return dataset.xy(row, col)


def test_root_says_which_services_are_multidimensional(server_url):
    assert get_json(url(server_url, CUBE))["hasMultidimensions"] is True
    for other in ("SampleMultispectral", "SampleElevation"):
        assert get_json(url(server_url, other))["hasMultidimensions"] is False


def test_multidimensional_info_describes_every_variable(server_url, cube, sidecar, items):
    info = get_json(url(server_url, CUBE, "multidimensionalInfo"))["multidimensionalInfo"]
    assert [v["name"] for v in info["variables"]] == list(sidecar["variables"])
    for variable in info["variables"]:
        name = variable["name"]
        assert (variable["unit"], variable["description"]) == (
            sidecar["variables"][name]["unit"], sidecar["variables"][name]["description"])
        time, depth = variable["dimensions"]
        assert time["name"] == time["field"] == "StdTime" and time["unit"] == "ISO8601"
        assert time["values"] == values_of(items, "StdTime", name)
        assert time["extent"] == [time["values"][0], time["values"][-1]]
        assert (time["hasRegularIntervals"], time["interval"], time["intervalUnit"]) == (True, 1, "Months")
        assert depth["name"] == "StdZ" and depth["unit"] == sidecar["dimensions"]["StdZ"]["unit"]
        assert depth["values"] == values_of(items, "StdZ", name) and depth["hasRegularIntervals"] is False
        assert "interval" not in depth and time["hasRanges"] is depth["hasRanges"] is False
        pixels = np.stack([read(cube, i) for i in items if i["Variable"] == name])
        (statistics,) = variable["statistics"]
        assert statistics["min"] == pytest.approx(pixels.min()) and statistics["max"] == pytest.approx(pixels.max())
        assert statistics["mean"] == pytest.approx(pixels.mean(), rel=1e-5)


def test_dimension_values_can_be_left_out(server_url):
    never = get_json(url(server_url, CUBE, "multidimensionalInfo"), returnDimensionValues="never")
    irregular = get_json(url(server_url, CUBE, "multidimensionalInfo"), returnDimensionValues="ifIrregular")
    for answer, kept in ((never, []), (irregular, ["StdZ"])):
        dimensions = answer["multidimensionalInfo"]["variables"][0]["dimensions"]
        assert [d["name"] for d in dimensions if "values" in d] == kept
        assert all(len(d["extent"]) == 2 for d in dimensions)
    bad = get_json(url(server_url, CUBE, "multidimensionalInfo"), returnDimensionValues="sometimes")
    assert bad["error"]["code"] == 400


def test_statistics_histograms_and_legend_of_one_variable(server_url, cube, items):
    info = get_json(url(server_url, CUBE, "multidimensionalInfo"))["multidimensionalInfo"]
    salinity = next(v for v in info["variables"] if v["name"] == "salinity")["statistics"]
    assert get_json(url(server_url, CUBE, "statistics"), variable="salinity")["statistics"] == salinity
    (histogram,) = get_json(url(server_url, CUBE, "histograms"), variable="salinity")["histograms"]
    pixels = np.stack([read(cube, i) for i in items if i["Variable"] == "salinity"])
    assert sum(histogram["counts"]) == pixels.size
    assert (histogram["min"], histogram["max"]) == pytest.approx((pixels.min(), pixels.max()))
    legend = get_json(url(server_url, CUBE, "legend"), variable="salinity")["layers"][0]["legend"]
    assert [entry["label"] for entry in legend] == [f"High : {salinity[0]['max']:g}", "",
                                                    f"Low : {salinity[0]['min']:g}"]
    temperature = info["variables"][0]["statistics"][0]
    labels = [entry["label"] for entry in get_json(url(server_url, CUBE, "legend"))["layers"][0]["legend"]]
    assert labels == [f"High : {temperature['max']:g}", "", f"Low : {temperature['min']:g}"]
    everything = get_json(url(server_url, CUBE, "statistics"))["statistics"]
    assert everything[0]["max"] > salinity[0]["max"] - 1 and everything[0]["min"] < salinity[0]["min"] - 20
    for resource in ("statistics", "histograms", "legend"):
        answer = get_json(url(server_url, CUBE, resource), variable="oxygen")
        assert answer["error"]["details"] == ["'variable' parameter is invalid: unknown variable 'oxygen'."]


@pytest.mark.parametrize("resource", ["multidimensionalInfo", "slices"])
def test_plain_services_have_no_multidimensional_resources(server_url, resource):
    answer = get_json(url(server_url, "SampleMultispectral", resource))
    assert answer == {"error": {"code": 400, "message": "Unable to complete operation.",
                                "details": ["The service has no multidimensional information."]}}


def test_slices_list_every_slice_with_its_dimension_values(server_url, items):
    slices = get_json(url(server_url, CUBE, "slices"))["slices"]
    assert sorted(s["sliceId"] for s in slices) == list(range(len(items)))
    for entry in slices:
        item = items[entry["sliceId"]]
        assert entry["multidimensionalDefinition"] == definition(
            (item["Variable"], "StdTime", [ms(item["StdTime"])]), (item["Variable"], "StdZ", [item["StdZ"]]))


def test_slices_of_a_definition_with_values_and_ranges(server_url, items):
    times = values_of(items, "StdTime", "salinity")
    deep = get_json(url(server_url, CUBE, "slices"),
                    multidimensionalDefinition=json.dumps(definition(("salinity", "StdZ", [-200]))))["slices"]
    assert [items[s["sliceId"]]["StdZ"] for s in deep] == [-200.0] * len(times)
    assert [s["multidimensionalDefinition"][0]["values"][0] for s in deep] == times
    spring = definition(("temperature", "StdTime", [[times[2], times[4]]]), ("temperature", "StdZ", [0, -50]))
    chosen = get_json(url(server_url, CUBE, "slices"), multidimensionalDefinition=json.dumps(spring))["slices"]
    assert [(ms(items[s["sliceId"]]["StdTime"]), items[s["sliceId"]]["StdZ"]) for s in chosen] == [
        (t, z) for t in times[2:5] for z in (-50.0, 0.0)]


def test_query_filters_the_catalog_by_a_definition(server_url, items):
    everything = get_json(url(server_url, CUBE, "query"), where="1=1", returnIdsOnly="true")
    assert sorted(everything["objectIds"]) == list(range(1, len(items) + 1))
    surface = get_json(url(server_url, CUBE, "query"), outFields="Variable,StdZ", returnGeometry="false",
                       multidimensionalDefinition=json.dumps(definition(("salinity", "StdZ", [0]))))
    attributes = [f["attributes"] for f in surface["features"]]
    assert len(attributes) == 12 and {(a["Variable"], a["StdZ"]) for a in attributes} == {("salinity", 0.0)}


def test_export_shows_the_slice_the_definition_names(server_url, cube, items):
    times = values_of(items, "StdTime", "temperature")
    for variable, time, depth in (("temperature", times[8], -50.0), ("salinity", times[3], 0.0)):
        image = export_tiff(server_url, cube, items,
                            mosaicRule=rule((variable, "StdTime", [time]), (variable, "StdZ", [depth])))
        np.testing.assert_array_equal(image, read(cube, find(items, variable, time, depth)))


def test_export_without_a_definition_shows_the_first_slice(server_url, cube, items):
    first = items[0]
    assert (first["Variable"], first["StdZ"]) == ("temperature", 0.0)
    np.testing.assert_array_equal(export_tiff(server_url, cube, items), read(cube, first))


def test_rules_that_pick_items_are_not_limited_to_the_first_variable(server_url, cube, items):
    salinity = next(i for i, item in enumerate(items) if item["Variable"] == "salinity")
    for mosaic_rule in ({"mosaicMethod": "esriMosaicLockRaster", "lockRasterIds": [salinity + 1]},
                        {"where": f"Name = '{items[salinity]['Name']}'"}, {"fids": [salinity + 1]}):
        image = export_tiff(server_url, cube, items, mosaicRule=json.dumps(mosaic_rule))
        np.testing.assert_array_equal(image, read(cube, items[salinity]))


def test_time_parameter_picks_a_month_of_the_first_variable(server_url, cube, items):
    """StdTime is the service's time field, so `time` works as on any time-aware service."""
    july = values_of(items, "StdTime", "temperature")[6]
    image = export_tiff(server_url, cube, items, time=str(july))
    np.testing.assert_array_equal(image, read(cube, find(items, "temperature", july, 0.0)))


def test_export_honours_the_mosaic_operation_across_slices(server_url, cube, items):
    times = values_of(items, "StdTime", "temperature")
    mean = json.dumps({"mosaicOperation": "MT_MEAN", "multidimensionalDefinition": definition(
        ("temperature", "StdZ", [0]))})
    image = export_tiff(server_url, cube, items, mosaicRule=mean)
    expected = np.mean([read(cube, find(items, "temperature", t, 0.0)) for t in times], axis=0)
    np.testing.assert_allclose(image, expected, rtol=1e-5)


def test_slice_id_selects_that_slice(server_url, cube, items):
    for slice_id in (0, 77, len(items) - 1):
        image = export_tiff(server_url, cube, items, sliceId=slice_id,
                            mosaicRule=rule(("temperature", "StdZ", [-10])))      # replaced by the slice
        np.testing.assert_array_equal(image, read(cube, items[slice_id]))
    x, y = pixel_point(cube, items, 3, 4)
    answer = get_json(url(server_url, CUBE, "identify"), geometry=f"{x},{y}", sliceId=100, returnGeometry="false")
    assert float(answer["value"]) == pytest.approx(read(cube, items[100])[3, 4], rel=1e-5)
    assert [f["attributes"]["OBJECTID"] for f in answer["catalogItems"]["features"]] == [101]
    missing = get_json(url(server_url, CUBE, "identify"), geometry=f"{x},{y}", sliceId=len(items))
    assert missing["error"]["details"] == [f"'sliceId' parameter is invalid: there is no slice {len(items)}."]


def test_default_rendering_stretches_over_the_shown_variable(server_url, cube, items):
    """One variable's slice spans the grey levels, though the variables' ranges differ (the
    service-wide statistics would squeeze salinity into a few levels)."""
    bbox, size = native_bbox(cube, items)
    for variable in ("temperature", "salinity"):
        response = requests.get(url(server_url, CUBE, "exportImage"), timeout=30, params={
            "f": "image", "format": "png", "bbox": bbox, "bboxSR": 4326, "size": size,
            "mosaicRule": rule((variable, "StdZ", [0]))})
        grey = np.asarray(Image.open(io.BytesIO(response.content)).convert("L"))
        assert grey.max() - grey.min() > 60, variable


def test_identify_profiles_through_depth_and_time(server_url, cube, items):
    times = values_of(items, "StdTime", "temperature")
    depths = values_of(items, "StdZ", "temperature")
    row, col = 40, 70
    x, y = pixel_point(cube, items, row, col)
    common = {"geometry": json.dumps({"x": x, "y": y, "spatialReference": {"wkid": 4326}}),
              "geometryType": "esriGeometryPoint", "returnGeometry": "false", "processAsMultidimensional": "true"}
    depth_profile = get_json(url(server_url, CUBE, "identify"), **common,
                             mosaicRule=rule(("temperature", "StdTime", [times[6]])))
    features = depth_profile["catalogItems"]["features"]
    assert [f["attributes"]["StdZ"] for f in features] == depths
    assert all(f["attributes"]["StdTime"] == times[6] and f["attributes"]["Variable"] == "temperature"
               for f in features)
    expected = [read(cube, find(items, "temperature", times[6], z))[row, col] for z in depths]
    assert [float(v) for v in depth_profile["properties"]["Values"]] == pytest.approx(expected, rel=1e-5)

    series = get_json(url(server_url, CUBE, "identify"), **common, mosaicRule=rule(("salinity", "StdZ", [-25])))
    assert [f["attributes"]["StdTime"] for f in series["catalogItems"]["features"]] == times
    expected = [read(cube, find(items, "salinity", t, -25.0))[row, col] for t in times]
    assert [float(v) for v in series["properties"]["Values"]] == pytest.approx(expected, rel=1e-5)
    assert float(series["value"]) == pytest.approx(expected[0], rel=1e-5)


def test_identify_without_a_definition_gives_every_slice_of_the_first_variable(server_url, cube, items):
    x, y = pixel_point(cube, items, 10, 10)
    answer = get_json(url(server_url, CUBE, "identify"), geometry=f"{x},{y}", returnGeometry="false",
                      processAsMultidimensional="true")
    keys = [(f["attributes"]["StdTime"], f["attributes"]["StdZ"]) for f in answer["catalogItems"]["features"]]
    temperature = [(ms(i["StdTime"]), i["StdZ"]) for i in items if i["Variable"] == "temperature"]
    assert keys == sorted(temperature)
    assert float(answer["value"]) == pytest.approx(read(cube, items[0])[10, 10], rel=1e-5)


def test_get_samples_one_per_slice(server_url, cube, items):
    times = values_of(items, "StdTime", "salinity")
    x, y = pixel_point(cube, items, 90, 5)
    answer = get_json(url(server_url, CUBE, "getSamples"), geometry=f"{x},{y}", geometryType="esriGeometryPoint",
                      returnFirstValueOnly="false", outFields="Variable,StdTime,StdZ",
                      mosaicRule=rule(("salinity", "StdZ", [-100])))
    samples = sorted(answer["samples"], key=lambda s: s["attributes"]["StdTime"])
    assert [s["attributes"]["StdTime"] for s in samples] == times
    for sample in samples:
        item = items[sample["rasterId"] - 1]
        assert (item["Variable"], item["StdZ"]) == ("salinity", -100.0)
        assert float(sample["value"]) == pytest.approx(read(cube, item)[90, 5], rel=1e-5)


def test_histograms_of_one_slice(server_url, cube, items):
    time = values_of(items, "StdTime", "salinity")[5]
    bbox, _ = native_bbox(cube, items)
    xmin, ymin, xmax, ymax = (float(v) for v in bbox.split(","))
    answer = get_json(url(server_url, CUBE, "computeHistograms"), geometryType="esriGeometryEnvelope",
                      geometry=json.dumps({"xmin": xmin, "ymin": ymin, "xmax": xmax, "ymax": ymax}),
                      mosaicRule=rule(("salinity", "StdTime", [time]), ("salinity", "StdZ", [-10])))
    (histogram,) = answer["histograms"]
    source = read(cube, find(items, "salinity", time, -10.0))
    assert sum(histogram["counts"]) == source.size
    assert (histogram["min"], histogram["max"]) == pytest.approx((source.min(), source.max()))


@pytest.mark.parametrize("entries, detail", [
    ([("oxygen", None, [0])], "unknown variable 'oxygen'."),
    ([("temperature", "Depth", [0])], "unknown dimension 'Depth' of variable 'temperature'."),
    ([("temperature", "StdZ", [12])], "'StdZ' has no value 12 for variable 'temperature'."),
    ([("temperature", "StdZ", [])], "'values' of a dimensional definition must be a non-empty list."),
    ([("temperature", "StdZ", ["deep"])], "values of 'StdZ' must be numbers or [min, max] pairs."),
])
@pytest.mark.parametrize("operation", ["exportImage", "identify", "getSamples", "slices"])
def test_bad_definitions_are_arcgis_errors(server_url, cube, items, entries, detail, operation):
    x, y = pixel_point(cube, items, 1, 1)
    params = {"f": "json", "geometry": f"{x},{y}", "bbox": native_bbox(cube, items)[0]}
    if operation == "slices":
        params["multidimensionalDefinition"] = json.dumps(definition(*entries))
    else:
        params["mosaicRule"] = rule(*entries)
    answer = get_json(url(server_url, CUBE, operation), **params)
    assert answer["error"] == {"code": 400, "message": INVALID,
                               "details": [f"'multidimensionalDefinition' is invalid: {detail}"]}


def test_a_definition_that_is_not_a_list_is_refused(server_url):
    answer = get_json(url(server_url, CUBE, "slices"), multidimensionalDefinition='{"variableName": "salinity"}')
    assert answer["error"]["details"] == [
        "'multidimensionalDefinition' is invalid: it must be a list of dimensional definitions."]


def test_plain_services_ignore_a_definition(server_url):
    plain = requests.get(url(server_url, "SampleElevation", "exportImage"), params={"f": "image", "format": "tiff"},
                         timeout=30)
    ruled = requests.get(url(server_url, "SampleElevation", "exportImage"), timeout=30, params={
        "f": "image", "format": "tiff", "mosaicRule": rule(("temperature", "StdZ", [0]))})
    assert ruled.headers["Content-Type"] == "image/tiff" and ruled.content == plain.content


# ----------------------------------------------------------------------------------------------
# A user's folder: one GeoTIFF per slice and a sidecar that only names Variable and StdZ


@pytest.fixture(scope="module")
def user_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("data") / "Chlorophyll"
    folder.mkdir()
    entries = []
    for depth in (0.0, -5.0, -10.0):
        name = f"chl_{int(-depth)}m.tif"
        profile = {"driver": "GTiff", "width": 8, "height": 8, "count": 1, "dtype": "float32", "crs": "EPSG:4326",
                   "transform": from_origin(-124.0, 38.0, 0.1, 0.1)}
        with rasterio.open(folder / name, "w", **profile) as dataset:
            dataset.write(np.full((1, 8, 8), 2.0 + depth / 10, np.float32))
        entries.append({"file": name, "Variable": "chl", "StdZ": depth})
    (folder / "catalog.json").write_text(json.dumps({
        "variables": {"chl": {"description": "Chlorophyll-a", "unit": "mg m-3"}}, "items": entries}))
    app = Flask("user_data")
    app.register_blueprint(create_blueprint(folder.parent), url_prefix="/arcgis")
    with serving(app) as address:
        yield address


def test_a_folder_with_variable_and_stdz_is_multidimensional(user_url):
    assert get_json(url(user_url, "Chlorophyll"))["hasMultidimensions"] is True
    (variable,) = get_json(url(user_url, "Chlorophyll", "multidimensionalInfo"))["multidimensionalInfo"]["variables"]
    assert (variable["name"], variable["description"], variable["unit"]) == ("chl", "Chlorophyll-a", "mg m-3")
    (depth,) = variable["dimensions"]
    assert depth["name"] == "StdZ" and depth["values"] == [-10.0, -5.0, 0.0]
    assert (depth["hasRegularIntervals"], depth["interval"]) == (True, 5.0)
    answer = get_json(url(user_url, "Chlorophyll", "identify"), geometry="-123.55,37.55",
                      mosaicRule=rule(("chl", "StdZ", [-5])))
    assert float(answer["value"]) == 1.5
