"""exportImage format=lerc over real HTTP: the blobs (LERC2, and LERC1 with lercVersion=1) decode with
Esri's own `lerc` package to the values of the same request's raw GeoTIFF, within
compressionTolerance, with NoData in the mask."""

from __future__ import annotations

import json

import lerc
import numpy as np
import pytest
import requests
from rasterio.io import MemoryFile

from server_fixtures import sample_root, server_url  # noqa: F401  (fixtures)

MS = "SampleMultispectral"
EL = "SampleElevation"
LC = "SampleLandCover"
SIGNATURES = {"1": b"CntZImage ", "2": b"Lerc2 "}
VIEW = {"bbox": "580000,4240000,632000,4292000", "size": "60,60"}      # beyond the data on every side


def export(base: str, service: str, **params) -> requests.Response:
    response = requests.get(f"{base}/arcgis/rest/services/{service}/ImageServer/exportImage",
                            params={"f": "image", **VIEW, **params}, timeout=30)
    assert response.status_code == 200
    return response


def decode(blob: bytes) -> np.ma.MaskedArray:
    """A LERC blob as (bands, rows, cols) values masked where the blob says NoData."""
    result, values, valid, _ = lerc.decode_4D(blob)
    assert result == 0
    values = values[np.newaxis] if values.ndim == 2 else values
    invalid = np.zeros(values.shape, bool) if valid is None else np.broadcast_to(~valid, values.shape)
    return np.ma.masked_array(values, mask=invalid)


def tiff(base: str, service: str, **params) -> np.ma.MaskedArray:
    with MemoryFile(export(base, service, format="tiff", **params).content) as memory, memory.open() as dataset:
        values = dataset.read(masked=True)
    pixel_mask = np.ma.getmaskarray(values).any(axis=0)
    return np.ma.masked_array(np.ma.getdata(values), mask=np.broadcast_to(pixel_mask, values.shape))


@pytest.mark.parametrize("service, bands, pixel_type", [(MS, 6, np.uint16), (LC, 1, np.uint8)])
@pytest.mark.parametrize("version", ["1", "2"])
def test_lerc_is_lossless_for_integers_and_masks_no_data(server_url, service, bands, pixel_type, version):
    response = export(server_url, service, format="lerc", lercVersion=version, compressionTolerance="0")
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.content.startswith(SIGNATURES[version])
    assert lerc.getLercBlobInfo(response.content)[6] == bands
    blob = decode(response.content)
    expected = tiff(server_url, service)
    assert expected.dtype == pixel_type
    assert blob.dtype == (np.float32 if version == "1" else pixel_type)        # LERC1 holds only floats
    assert blob.shape == expected.shape == (bands, 60, 60)
    assert np.array_equal(np.ma.getmaskarray(blob), np.ma.getmaskarray(expected))
    assert np.ma.getmaskarray(blob).any() and not np.ma.getmaskarray(blob).all()   # beyond the extent is NoData
    assert np.array_equal(blob.compressed(), expected.compressed())


@pytest.mark.parametrize("version", ["1", "2"])
@pytest.mark.parametrize("tolerance", ["0", "0.5", "5"])
def test_lerc_floats_stay_within_the_tolerance(server_url, tolerance, version):
    blob = decode(export(server_url, EL, format="lerc", lercVersion=version, compressionTolerance=tolerance).content)
    expected = tiff(server_url, EL)
    assert blob.dtype == np.float32
    assert np.array_equal(np.ma.getmaskarray(blob), np.ma.getmaskarray(expected))
    error = np.abs(blob.compressed().astype(np.float64) - expected.compressed().astype(np.float64))
    assert error.max() <= float(tolerance) + 1e-6 * np.abs(expected.compressed()).max()


@pytest.mark.parametrize("version", ["1", "2"])
def test_a_larger_tolerance_makes_a_smaller_blob(server_url, version):
    exact = export(server_url, EL, format="lerc", lercVersion=version, compressionTolerance="0").content
    coarse = export(server_url, EL, format="lerc", lercVersion=version, compressionTolerance="5").content
    assert len(coarse) < len(exact)


@pytest.mark.parametrize("version", ["1", "2"])
def test_no_data_parameter_joins_the_mask(server_url, version):
    plain = decode(export(server_url, MS, format="lerc", lercVersion=version, bandIds="0,3").content)
    value = int(np.ma.median(plain[0]))
    masked = decode(export(server_url, MS, format="lerc", lercVersion=version, bandIds="0,3",
                           noData=str(value)).content)
    hit = (np.ma.getdata(plain) == value).any(axis=0)                  # one value matches any band
    assert hit.any()
    assert np.array_equal(np.ma.getmaskarray(masked), np.ma.getmaskarray(plain) | hit)   # in every band
    assert np.array_equal(masked.compressed(), np.ma.masked_array(plain, mask=masked.mask).compressed())


@pytest.mark.parametrize("version", ["1", "2"])
def test_a_view_beyond_the_data_is_all_no_data_in_every_band(server_url, version):
    response = requests.get(f"{server_url}/arcgis/rest/services/{MS}/ImageServer/exportImage", timeout=30,
                            params={"f": "image", "bbox": "700000,4400000,710000,4410000", "size": "20,20",
                                    "format": "lerc", "lercVersion": version})
    assert response.status_code == 200
    blob = decode(response.content)
    assert blob.shape == (6, 20, 20) and np.ma.getmaskarray(blob).all()


def test_lerc_follows_pixel_type_and_rendering_rule(server_url):
    rule = {"rasterFunction": "NDVI", "rasterFunctionArguments": {"VisibleBandID": 2, "InfraredBandID": 3,
                                                                  "ScientificOutput": True}}
    blob = decode(export(server_url, MS, format="lerc", renderingRule=json.dumps(rule)).content)
    expected = tiff(server_url, MS, renderingRule=json.dumps(rule))
    assert blob.shape == (1, 60, 60) and blob.dtype == np.float32
    assert np.array_equal(blob.compressed(), expected.compressed())
    as_floats = decode(export(server_url, MS, format="lerc", pixelType="F32", bandIds="2,1").content)
    assert as_floats.dtype == np.float32 and as_floats.shape == (2, 60, 60)


def test_lerc_with_f_json_is_an_lrc_file(server_url):
    answer = requests.get(f"{server_url}/arcgis/rest/services/{EL}/ImageServer/exportImage",
                          params={"f": "json", "format": "lerc", **VIEW}, timeout=30).json()
    assert answer["href"].endswith(".lrc") and (answer["width"], answer["height"]) == (60, 60)
    stored = requests.get(answer["href"], timeout=30)
    assert stored.headers["Content-Type"] == "application/octet-stream"
    assert decode(stored.content).shape == (1, 60, 60)


@pytest.mark.parametrize("params, detail", [
    ({"lercVersion": "0"}, "'lercVersion' parameter is invalid."),
    ({"lercVersion": "1", "size": "15,15"}, "'lercVersion' 1 needs an image of at least 256 pixels."),
    ({"lercVersion": "3"}, "'lercVersion' parameter is invalid."),
    ({"compressionTolerance": "-1"}, "'compressionTolerance' parameter is invalid."),
    ({"compressionTolerance": "1,2"}, "'compressionTolerance' parameter is invalid."),
])
def test_lerc_errors(server_url, params, detail):
    response = export(server_url, EL, format="lerc", **params)
    assert response.json() == {"error": {"code": 400, "message": "Invalid or missing input parameters.",
                                         "details": [detail]}}
