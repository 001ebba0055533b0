"""Fuzzing the embedded ImageServer over HTTP: whatever the parameters, the answer is HTTP 200
with either an image whose bytes match its content type or an ArcGIS JSON body, and never the
catch-all "unexpected failure" envelope (code 500).

The per-operation tests draw well-formed values (including valid-looking but wrong ones: bands out
of range, unknown functions, empty lock lists), so most requests get as far as reading and encoding
pixels; `test_arbitrary_text_fuzz` sends anything at all. `test_malformed_requests_everywhere` sends
600 requests of bench/fuzz.py's seeded mix, well-formed requests with parameters spoiled, to every
resource and operation, the token service and the output files included. All of them are
deterministic (hypothesis derandomized, a fixed seed).
"""

from __future__ import annotations

import json
from collections import Counter

import pytest
import requests
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st

from bench import fuzz
from imageservice.server.limits import MAX_BODY_BYTES
from imageservice.server.sampledata import EXTENT_M, ORIGIN
from imageservice.server.server import create_blueprint
from imageservice.server.tokens import Security
from server_fixtures import FakeClock, sample_root, server_url, services, serving  # noqa: F401  (pytest fixtures)

SERVICE = "/arcgis/rest/services/SampleMultispectral/ImageServer"
XMIN, YMAX = ORIGIN
XMAX, YMIN = XMIN + EXTENT_M, YMAX - EXTENT_M
FUZZ = settings(max_examples=50, deadline=None, derandomize=True, database=None)

x = st.floats(XMIN - 3000, XMAX + 3000)
y = st.floats(YMIN - 3000, YMAX + 3000)
point = st.tuples(x, y)
bbox = st.tuples(x, y, x, y).map(lambda b: ",".join(map(str, b)))
spatial_reference = st.sampled_from(
    ["32610", "4326", "3857", "102100", '{"wkid":102100}', '{"latestWkid":3857}', '{"wkid":32610}', "2056", "",
     "0", "999999", '{"wkid":"x"}'])
mosaic_rule = st.sampled_from([
    '{"mosaicMethod":"esriMosaicLockRaster","lockRasterIds":[3,1]}',
    '{"mosaicMethod":"esriMosaicLockRaster","lockRasterIds":[]}',
    '{"mosaicMethod":"esriMosaicLockRaster"}',
    '{"mosaicMethod":"esriMosaicAttribute","sortField":"CloudCover","sortValue":0,"ascending":true}',
    '{"mosaicMethod":"esriMosaicAttribute","sortField":"Name"}',
    '{"mosaicMethod":"esriMosaicNorthwest","mosaicOperation":"MT_MEAN"}',
    '{"mosaicMethod":"esriMosaicCenter","where":"CloudCover < 10","mosaicOperation":"MT_MAX"}',
    '{"mosaicMethod":"esriMosaicNone","fids":[2,4],"mosaicOperation":"MT_LAST"}',
    '{"mosaicMethod":"esriMosaicNone","mosaicOperation":"MT_BOGUS"}',
    '{"mosaicMethod":"esriMosaicSeamline"}',
    '{"where":"NoSuchField = 1"}',
    "[1,2]",
])
rendering_rule = st.sampled_from([
    '{"rasterFunction":"None"}',
    '{"rasterFunction":"Natural Color"}',
    '{"rasterFunction":"NDVI Colorized"}',
    '{"rasterFunction":"NDVI","rasterFunctionArguments":{"VisibleBandID":2,"InfraredBandID":3,"ScientificOutput":true}}',
    '{"rasterFunction":"NDVI","rasterFunctionArguments":{"VisibleBandID":9,"InfraredBandID":3}}',
    '{"rasterFunction":"Stretch","rasterFunctionArguments":{"StretchType":3,"NumberOfStandardDeviations":2,"DRA":true}}',
    '{"rasterFunction":"Stretch","rasterFunctionArguments":{"StretchType":6,"MinPercent":"x"}}',
    '{"rasterFunction":"ExtractBand","rasterFunctionArguments":{"BandIDs":[5,0]}}',
    '{"rasterFunction":"BandArithmetic","rasterFunctionArguments":{"Method":0,"BandIndexes":"(B4-B3)/(B4+B3)"}}',
    '{"rasterFunction":"BandArithmetic","rasterFunctionArguments":{"Method":0,"BandIndexes":"__import__(1)"}}',
    '{"rasterFunction":"Hillshade"}',
    '{"rasterFunction":"Colormap","rasterFunctionArguments":{"ColormapName":"NDVI"}}',
    '{"rasterFunction":"Nope"}',
])
time = st.one_of(
    st.tuples(st.integers(1_730_000_000_000, 1_770_000_000_000), st.integers(1_730_000_000_000, 1_770_000_000_000))
    .map(lambda t: f"{min(t)},{max(t)}"),
    st.sampled_from(["null,null", "1735689600000", "null,1740000000000", "5,1"]),
)
boolean = st.sampled_from(["true", "false", "TRUE", "0"])
geometry = st.one_of(
    point.map(lambda p: f"{p[0]},{p[1]}"),
    point.map(lambda p: json.dumps({"x": p[0], "y": p[1]})),
    st.tuples(st.floats(-122.5, -121.0), st.floats(38.0, 39.0)).map(
        lambda p: json.dumps({"x": p[0], "y": p[1], "spatialReference": {"wkid": 4326}})),
    st.lists(point, min_size=3, max_size=5).map(lambda ps: json.dumps({"rings": [[*map(list, ps), list(ps[0])]]})),
    st.tuples(x, y, x, y).map(lambda b: json.dumps(dict(zip(("xmin", "ymin", "xmax", "ymax"), b)))),
)
junk = st.one_of(
    st.text(max_size=24),
    st.lists(st.one_of(st.integers(-10**7, 10**7), st.floats()).map(str), max_size=5).map(",".join),
    st.recursive(st.none() | st.booleans() | st.integers(-5, 20) | st.floats(allow_nan=False) | st.text(max_size=8),
                 lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                 max_leaves=8).map(json.dumps),
)
OPERATION_PARAMETERS = {
    "exportImage": ["bbox", "bboxSR", "imageSR", "size", "format", "pixelType", "noData", "noDataInterpretation",
                    "interpolation", "bandIds", "mosaicRule", "renderingRule", "time", "compressionQuality",
                    "adjustAspectRatio", "f"],
    "identify": ["geometry", "geometryType", "mosaicRule", "renderingRule", "time", "pixelSize",
                 "returnCatalogItems", "returnGeometry", "returnPixelValues", "maxItemCount", "f"],
    "query": ["where", "objectIds", "geometry", "geometryType", "inSR", "spatialRel", "time", "outFields",
              "orderByFields", "returnGeometry", "outSR", "returnCountOnly", "returnIdsOnly", "resultOffset",
              "resultRecordCount", "f"],
}


def params(**strategies: st.SearchStrategy) -> st.SearchStrategy:
    """A parameter dict in which each parameter may be absent."""
    return st.fixed_dictionaries({}, optional=strategies)


def call(base: str, operation: str, values: dict, post: bool) -> requests.Response:
    address = f"{base}{SERVICE}/{operation}"
    if post:
        return requests.post(address, data=values, timeout=30)
    return requests.get(address, params=values, timeout=30)


def check(response: requests.Response) -> dict | None:
    """HTTP 200 and nothing wrong by `bench.fuzz.judge` (image bytes match their type, errors are
    ArcGIS envelopes below code 500); returns the JSON body, if the answer is JSON."""
    label, problem = fuzz.judge(response)
    assert response.status_code == 200 and problem is None, (label, problem)
    return response.json() if response.headers["Content-Type"].startswith("application/json") else None


@FUZZ
@given(values=params(
    bbox=bbox, bboxSR=spatial_reference, imageSR=spatial_reference,
    size=st.tuples(st.integers(-2, 160), st.integers(-2, 160)).map(lambda s: f"{s[0]},{s[1]}"),
    format=st.sampled_from(["jpgpng", "png", "png8", "png24", "png32", "jpg", "bmp", "gif", "tiff", "bip", "bsq",
                            "lerc", "PNG"]),
    pixelType=st.sampled_from(["U8", "U16", "S16", "F32", "F64", "U1", "S8", "UNKNOWN", "C64", "u8"]),
    noData=st.sampled_from(["0", "1000", "0,0,0", "0,0,0,0,0,0", "nan"]),
    noDataInterpretation=st.sampled_from(["esriNoDataMatchAny", "esriNoDataMatchAll"]),
    interpolation=st.sampled_from(["RSP_NearestNeighbor", "RSP_BilinearInterpolation", "RSP_CubicConvolution",
                                   "RSP_Majority"]),
    bandIds=st.lists(st.integers(-1, 6), min_size=1, max_size=4).map(lambda ids: ",".join(map(str, ids))),
    mosaicRule=mosaic_rule, renderingRule=rendering_rule, time=time,
    compressionQuality=st.integers(-1, 101).map(str), adjustAspectRatio=boolean, transparent=boolean),
    f=st.sampled_from(["image", "json", "pjson"]), post=st.booleans())
def test_export_image_fuzz(server_url, values, f, post):
    body = check(call(server_url, "exportImage", {**values, "f": f}, post))
    if body is not None and "error" not in body:
        assert {"href", "width", "height", "extent", "scale"} <= set(body)


@FUZZ
@given(shape=geometry, values=params(
    geometryType=st.sampled_from(["esriGeometryPoint", "esriGeometryPolygon", "esriGeometryEnvelope"]),
    mosaicRule=mosaic_rule, renderingRule=rendering_rule, time=time,
    pixelSize=st.sampled_from(["1200,1200", "30,30", "600", '{"x":600,"y":600}', "0,5", "-1,-1"]),
    returnCatalogItems=boolean, returnGeometry=boolean, returnPixelValues=boolean,
    maxItemCount=st.integers(-1, 20).map(str)),
    post=st.booleans())
def test_identify_fuzz(server_url, shape, values, post):
    body = check(call(server_url, "identify", {**values, "geometry": shape, "f": "json"}, post))
    if body is not None and "error" not in body:
        assert body["objectId"] == 0 and isinstance(body["value"], str)


@FUZZ
@given(values=params(
    where=st.sampled_from(["1=1", "CloudCover < 5", "Name LIKE 'Synth%'", "SensorName IN ('SynthSat-1')", "x = ",
                           "1=1 OR", "AcquisitionDate > date '2025-06-01'"]),
    objectIds=st.lists(st.integers(-2, 20), max_size=4).map(lambda ids: ",".join(map(str, ids))),
    geometry=geometry | bbox, inSR=spatial_reference,
    spatialRel=st.sampled_from(["esriSpatialRelIntersects", "esriSpatialRelWithin", "esriSpatialRelContains"]),
    time=time, outFields=st.sampled_from(["*", "Name,CloudCover", "Nope"]),
    orderByFields=st.sampled_from(["CloudCover DESC", "Name", "x y z"]), returnGeometry=boolean,
    outSR=spatial_reference, returnCountOnly=boolean, returnIdsOnly=boolean,
    resultOffset=st.integers(-1, 20).map(str), resultRecordCount=st.integers(-1, 20).map(str)),
    f=st.sampled_from(["json", "pjson", "geojson"]), post=st.booleans())
def test_query_fuzz(server_url, values, f, post):
    body = check(call(server_url, "query", {**values, "f": f}, post))
    if body is not None and "error" not in body:
        assert {"features", "count", "objectIds"} & set(body)


@FUZZ
@given(data=st.data(), operation=st.sampled_from(sorted(OPERATION_PARAMETERS)), post=st.booleans())
def test_arbitrary_text_fuzz(server_url, data, operation, post):
    names = OPERATION_PARAMETERS[operation]
    values = data.draw(st.dictionaries(st.sampled_from(names), junk, max_size=len(names)))
    check(call(server_url, operation, values, post))


# -- A seeded mix of malformed requests to every resource (the mix of bench/fuzz.py) ---------------

SEED = 20251206
MALFORMED_COUNT = 600
FUZZ_BUDGET_MB = 128                     # the costly requests of the mix are refused or stay small


@pytest.fixture(scope="module")
def fuzz_url(services):  # noqa: F811
    """A token-secured server of its own: the fuzzing's wrong passwords lock only its users."""
    app = Flask("fuzz_secure")
    security = Security({fuzz.USER: fuzz.PASSWORD}, clock=FakeClock())
    app.register_blueprint(create_blueprint(services, security=security, memory_budget_mb=FUZZ_BUDGET_MB),
                           url_prefix="/arcgis")
    with serving(app) as url:
        yield url


def test_malformed_requests_everywhere(fuzz_url):
    token = requests.post(fuzz_url + "/arcgis/tokens/generateToken", timeout=30,
                          data={"username": fuzz.USER, "password": fuzz.PASSWORD, "f": "json"}).json()["token"]
    exported = requests.get(fuzz_url + SERVICE + "/exportImage", timeout=30,
                            params={"f": "json", "size": "20,20", "format": "png", "token": token}).json()
    extra = [requests.get(exported["href"], params={"token": "x"}, timeout=30),
             requests.post(exported["href"], data={"f": "json"}, timeout=30),
             requests.post(fuzz_url + SERVICE + "/exportImage", timeout=30,
                           data={"f": "json", "token": token, "pad": "x" * (MAX_BODY_BYTES + 1)})]
    assert [fuzz.judge(response) for response in extra] == [
        ("200 image/png", None), ("200 error 404", None), ("200 error 400", None)]
    send = fuzz.Sender(fuzz_url, token)
    outcomes = [send(request) for request in fuzz.malformed_requests(SEED, MALFORMED_COUNT)]
    assert [(label, problem) for label, problem, _ in outcomes if problem] == []
    seen = Counter(label for label, _, _ in outcomes)
    assert {"200 error 400", "200 error 404", "200 error 405", "414 error 414", "200 error 498", "200 error 499",
            "200 application/json", "200 image/png"} <= set(seen), seen
