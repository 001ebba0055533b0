"""The thematic (SampleLandCover) and vector-field (SampleWind) sample services over real HTTP:
their colormap, attribute table, default colours, legend and LERC pixels against the GeoTIFFs."""

from __future__ import annotations

import base64
import io
import json

import lerc
import numpy as np
import pytest
import rasterio
import requests
from PIL import Image
from rasterio.io import MemoryFile

from imageservice.server.catalog import Service
from server_fixtures import sample_root, server_url, services  # noqa: F401  (fixtures)

LC = "SampleLandCover"
WIND = "SampleWind"


def url(base: str, service: str, resource: str = "") -> str:
    return f"{base}/arcgis/rest/services/{service}/ImageServer" + (f"/{resource}" if resource else "")


def get_json(address: str, **params) -> dict:
    response = requests.get(address, params={"f": "json", **params}, timeout=30)
    assert response.status_code == 200
    return response.json()


def native_export(base: str, service: Service, **params) -> bytes:
    """The whole service on its own grid, so exported pixels are source pixels."""
    with rasterio.open(service.items[0].path) as dataset:
        width, height = dataset.width, dataset.height
    response = requests.get(url(base, service.name, "exportImage"), timeout=30, params={
        "f": "image", "bbox": ",".join(map(str, service.extent)), "size": f"{width},{height}", **params})
    assert response.status_code == 200
    return response.content


def source(service: Service) -> tuple[np.ma.MaskedArray, dict]:
    with rasterio.open(service.items[0].path) as dataset:
        palette = dataset.colormap(1) if dataset.count == 1 else {}
        return dataset.read(masked=True), palette


@pytest.fixture(scope="module")
def lc(services: dict[str, Service]) -> Service:
    return services[LC]


@pytest.fixture(scope="module")
def wind(services: dict[str, Service]) -> Service:
    return services[WIND]


# -- SampleLandCover -----------------------------------------------------------------------------

def test_land_cover_root_advertises_its_colormap_and_table(server_url):
    root = get_json(url(server_url, LC))
    assert root["serviceDataType"] == "esriImageServiceDataTypeThematic"
    assert (root["bandCount"], root["pixelType"], root["bandNames"]) == (1, "U8", ["LandCover"])
    assert root["hasColormap"] is root["hasRasterAttributeTable"] is root["hasHistograms"] is True


def test_land_cover_colormap_is_the_files_palette(server_url, lc):
    values, palette = source(lc)
    colormap = get_json(url(server_url, LC, "colormap"))["colormap"]
    present = set(np.unique(values.compressed()).tolist())
    assert present <= {entry[0] for entry in colormap}
    assert all(list(palette[v][:3]) == rgb for v, *rgb in colormap)


def test_land_cover_attribute_table_counts_the_pixels(server_url, lc):
    values, palette = source(lc)
    table = get_json(url(server_url, LC, "rasterAttributeTable"))
    assert table["objectIdFieldName"] == "OBJECTID"
    assert [f["name"] for f in table["fields"]] == ["OBJECTID", "Value", "ClassName", "Count", "Red", "Green", "Blue"]
    rows = [feature["attributes"] for feature in table["features"]]
    codes, counts = np.unique(values.compressed(), return_counts=True)
    assert {r["Value"]: r["Count"] for r in rows if r["Count"]} == dict(zip(codes.tolist(), counts.tolist()))
    assert all([r["Red"], r["Green"], r["Blue"]] == list(palette[r["Value"]][:3]) for r in rows)
    assert [r["OBJECTID"] for r in rows] == list(range(1, len(rows) + 1))


def test_land_cover_pictures_use_the_colormap_and_raw_formats_the_classes(server_url, lc):
    values, palette = source(lc)
    picture = np.asarray(Image.open(io.BytesIO(native_export(server_url, lc, format="png"))).convert("RGBA"))
    codes = np.ma.getdata(values[0])
    expected = np.array([palette[int(c)][:3] for c in codes.ravel()]).reshape(*codes.shape, 3)
    valid = ~np.ma.getmaskarray(values[0])
    assert np.array_equal(picture[..., :3][valid], expected[valid])
    assert np.array_equal(picture[..., 3] == 255, valid)
    with MemoryFile(native_export(server_url, lc, format="tiff")) as memory, memory.open() as dataset:
        assert np.array_equal(dataset.read(1), codes)
    grey = np.asarray(Image.open(io.BytesIO(native_export(
        server_url, lc, format="png", renderingRule=json.dumps({"rasterFunction": "None"})))).convert("RGB"))
    assert np.array_equal(grey[..., 0], grey[..., 2]) and not np.array_equal(grey[..., :3][valid], expected[valid])


def test_land_cover_identify_gives_the_class_value(server_url, lc):
    values, _ = source(lc)
    with rasterio.open(lc.items[0].path) as dataset:
        row, col = np.argwhere(~np.ma.getmaskarray(values[0]))[len(values.compressed()) // 2]
        x, y = dataset.xy(row, col)
    answer = get_json(url(server_url, LC, "identify"), geometry=f"{x},{y}")
    assert answer["value"] == str(int(values[0, row, col]))


def test_land_cover_legend_lists_the_classes(server_url, lc):
    _, palette = source(lc)
    (layer,) = get_json(url(server_url, LC, "legend"))["layers"]
    rows = [f["attributes"] for f in get_json(url(server_url, LC, "rasterAttributeTable"))["features"]]
    assert layer["legendType"] == "Unique Values"
    assert [(e["label"], e["values"]) for e in layer["legend"]] == [(r["ClassName"], [r["Value"]]) for r in rows]
    for entry in layer["legend"]:
        pixels = np.asarray(Image.open(io.BytesIO(base64.b64decode(entry["imageData"]))).convert("RGB"))
        assert (pixels == palette[entry["values"][0]][:3]).all()


# -- SampleWind ----------------------------------------------------------------------------------

def test_wind_is_a_uv_vector_service(server_url):
    root = get_json(url(server_url, WIND))
    assert root["serviceDataType"] == "esriImageServiceDataTypeVector-UV"
    assert (root["bandCount"], root["pixelType"], root["bandNames"]) == (2, "F32", ["u", "v"])
    assert get_json(url(server_url, WIND, "keyProperties"))["DataType"] == "Vector-UV"


def test_wind_lerc_pixels_are_the_source_values(server_url, wind):
    values, _ = source(wind)
    result, decoded, valid, _ = lerc.decode_4D(native_export(server_url, wind, format="lerc", lercVersion="2"))
    assert result == 0 and valid is None and decoded.dtype == np.float32
    assert np.array_equal(decoded, np.ma.getdata(values))
    u, v = decoded
    assert u.mean() > 0 and v.mean() > 0                      # a south-westerly breeze blows north-east
    assert np.hypot(u, v).max() < 30                          # and stays a breeze


@pytest.mark.parametrize("service", [LC, WIND])
def test_classes_and_vectors_are_offered_no_analysis_functions(server_url, service):
    infos = get_json(url(server_url, service, "rasterFunctionInfos"))["rasterFunctionInfos"]
    assert [info["name"] for info in infos] == ["None"]


def test_land_cover_thumbnail_is_drawn_in_the_class_colours(server_url, lc):
    values, palette = source(lc)
    response = requests.get(url(server_url, LC, "1/thumbnail"), timeout=30)
    image = np.asarray(Image.open(io.BytesIO(response.content)).convert("RGBA"))
    assert image.shape[:2] == values.shape[1:]
    codes, valid = np.ma.getdata(values[0]), ~np.ma.getmaskarray(values[0])
    expected = np.array([palette[int(c)][:3] for c in codes.ravel()]).reshape(*codes.shape, 3)
    assert np.array_equal(image[..., :3][valid], expected[valid]) and (image[..., 3][~valid] == 0).all()


def test_land_cover_legend_follows_what_the_picture_shows(server_url):
    for params in ({"bandIds": "0"}, {"renderingRule": json.dumps({"rasterFunction": "None"})}):
        (layer,) = get_json(url(server_url, LC, "legend"), **params)["layers"]
        assert layer["legendType"] == "Stretched"
