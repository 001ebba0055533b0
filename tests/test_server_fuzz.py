"""Fuzzing the embedded ImageServer over HTTP: whatever the parameters, the answer is HTTP 200
with either an image whose bytes match its content type or an ArcGIS JSON body, and never the
catch-all "unexpected failure" envelope (code 500).

The per-operation tests draw well-formed values (including valid-looking but wrong ones: bands out
of range, unknown functions, empty lock lists), so most requests get as far as reading and encoding
pixels; `test_arbitrary_text_fuzz` sends anything at all. `test_malformed_requests_everywhere` sends
a fixed, seeded mix of malformed requests to every resource and operation, the token service and
the output files included. All of them are deterministic (hypothesis derandomized, a fixed seed).
"""

from __future__ import annotations

import html
import json
import random
from collections import Counter
from collections.abc import Iterator

import pytest
import requests
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st

from imageservice.server.limits import MAX_BODY_BYTES
from imageservice.server.sampledata import EXTENT_M, ORIGIN
from imageservice.server.server import create_blueprint
from imageservice.server.tokens import Security
from server_fixtures import USERS, FakeClock, sample_root, server_url, services, serving  # noqa: F401

SERVICE = "/arcgis/rest/services/SampleMultispectral/ImageServer"
XMIN, YMAX = ORIGIN
XMAX, YMIN = XMIN + EXTENT_M, YMAX - EXTENT_M
MAGIC = {
    "image/png": (b"\x89PNG",),
    "image/jpeg": (b"\xff\xd8",),
    "image/gif": (b"GIF8",),
    "image/bmp": (b"BM",),
    "image/tiff": (b"II*\x00", b"MM\x00*"),
    "application/octet-stream": (b"",),
}
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
    """HTTP 200 and either an image (magic bytes match the type) or a JSON body that is not a 500."""
    assert response.status_code == 200
    content_type = response.headers["Content-Type"].split(";")[0]
    if content_type in MAGIC:
        assert response.content.startswith(MAGIC[content_type])
        return None
    assert content_type in ("application/json", "text/html"), content_type
    if content_type == "text/html":
        return None
    body = response.json()
    assert isinstance(body, dict)
    if "error" in body:
        assert set(body["error"]) == {"code", "message", "details"}
        assert body["error"]["code"] != 500, body
    return body


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


# -- A seeded mix of malformed requests to every resource ---------------------------------------------

SEED = 20251206
MALFORMED_COUNT = 600
CX, CY = XMIN + EXTENT_M / 2, YMAX - EXTENT_M / 2
NOT_FINITE = ["inf", "-inf", "nan", "NaN", "Infinity", "1e999", "-1e999", "1,inf", "inf,inf", "0,nan"]
ODD_NUMBERS = ["-1", "0", "1e308", "-0", "0x10", "1_000", "9" * 400, "1.5", " 7 ", "+5", "1e-320"]
JUNK = ["", " ", "%", "null", "true", "[]", "{}", "[1,2", '{"a":', "\u00e9t\u00e9", "\x00", "<script>", "a" * 3000,
        "'; DROP TABLE x; --", "${jndi:x}", "..", "../../etc/passwd", "\\", "1,,2", ",", "1 2 3"]
DEEP_JSON = ['{"a":' * 3000 + "1" + "}" * 3000, "[" * 5000 + "]" * 5000, '{"rasterFunction":' * 200 + '"x"' + "}" * 200,
             json.dumps({"rings": [[[CX + i % 2, CY + i] for i in range(12000)] + [[CX, CY]]]})]
NON_FINITE_JSON = ['{"x":NaN,"y":0}', '{"x":1e999,"y":1}', '{"xmin":-Infinity,"ymin":0,"xmax":1,"ymax":1}',
                   '{"mosaicMethod":"esriMosaicViewpoint","viewpoint":{"x":Infinity,"y":0}}',
                   '{"mosaicMethod":"esriMosaicAttribute","sortField":"CloudCover","sortValue":"inf"}',
                   '{"rasterFunction":"Stretch","rasterFunctionArguments":{"Min":NaN}}',
                   '{"x":1' + "0" * 400 + ',"y":0}', '{"wkid":1e999}']
MANY = [",".join(["0"] * 5000), ",".join(str(i) for i in range(3000)), "1," * 20000,
        '{"rasterFunction":"ExtractBand","rasterFunctionArguments":{"BandIDs":[' + ",".join(["0"] * 3000) + "]}}"]
MALFORMED = [NOT_FINITE, ODD_NUMBERS, JUNK, DEEP_JSON, NON_FINITE_JSON, MANY]
# Each operation: a well-formed request, and the parameters to spoil in it.
OPERATIONS: dict[str, tuple[dict[str, str], list[str]]] = {
    "": ({}, ["renderingRule"]),
    "/exportImage": ({"bbox": f"{XMIN},{YMIN},{XMAX},{YMAX}", "size": "64,64", "format": "png"},
                     ["bbox", "bboxSR", "imageSR", "size", "format", "pixelType", "noData", "noDataInterpretation",
                      "interpolation", "bandIds", "mosaicRule", "renderingRule", "time", "compressionQuality",
                      "adjustAspectRatio", "transparent"]),
    "/identify": ({"geometry": json.dumps({"x": CX, "y": CY})},
                  ["geometry", "geometryType", "mosaicRule", "renderingRule", "time", "pixelSize",
                   "returnCatalogItems", "returnGeometry", "returnPixelValues", "maxItemCount"]),
    "/query": ({"where": "1=1"},
               ["where", "objectIds", "geometry", "geometryType", "inSR", "spatialRel", "time", "outFields",
                "orderByFields", "returnGeometry", "outSR", "returnCountOnly", "returnIdsOnly", "resultOffset",
                "resultRecordCount", "geometryPrecision"]),
    "/computeHistograms": ({"geometry": json.dumps({"xmin": CX - 3000, "ymin": CY - 3000, "xmax": CX, "ymax": CY}),
                            "geometryType": "esriGeometryEnvelope", "pixelSize": "600,600"},
                           ["geometry", "geometryType", "mosaicRule", "renderingRule", "time", "pixelSize"]),
    "/getSamples": ({"geometry": json.dumps({"paths": [[[CX - 5000, CY], [CX, CY + 5000]]]}),
                     "geometryType": "esriGeometryPolyline", "sampleCount": "5"},
                    ["geometry", "geometryType", "mosaicRule", "time", "pixelSize", "sampleCount", "sampleDistance",
                     "returnFirstValueOnly", "outFields", "interpolation"]),
    "/keyProperties": ({}, ["renderingRule"]),
}
TOKEN_REQUEST = ({"username": "analyst", "password": "s3cret-pass"},
                 ["username", "password", "client", "referer", "ip", "expiration"])
OTHER_PATHS = {
    "info": "/arcgis/rest/info", "directory": "/arcgis/rest/services", "unknown": "/arcgis/x/../y",
    "output": "/arcgis/rest/directories/arcgisoutput/SampleMultispectral_ImageServer/_ags_" + "0" * 32 + ".png",
    "escape": "/arcgis/rest/directories/arcgisoutput/x/..%2f..%2fsecret",
}
EVERYWHERE = ["f", "callback", "token", "%74oken", " F", "unknown"]


def spoiled(rng: random.Random, base: dict[str, str], names: list[str]) -> dict[str, str]:
    """A well-formed request with one to three of its parameters (and maybe f, callback, token...)
    set to malformed values."""
    values = dict(base)
    for name in rng.sample(names, min(len(names), rng.randint(1, 3))) + rng.sample(EVERYWHERE, rng.randint(0, 1)):
        values[name] = rng.choice(rng.choice(MALFORMED))
    values.setdefault("f", rng.choice(["json", "json", "pjson", "image"]))   # without f: an HTML page
    return values


def malformed_requests(seed: int, count: int) -> Iterator[tuple[str, str, str, dict[str, str]]]:
    """(server "open" or "secure", method, path, parameters), over every resource of the server."""
    rng = random.Random(seed)
    services = ["SampleMultispectral", "SampleElevation", "SampleMultispectral", "NoSuchService"]
    for _ in range(count):
        kind = rng.choice(["service"] * 10 + ["token"] * 2 + list(OTHER_PATHS))
        if kind == "service":
            operation = rng.choice(list(OPERATIONS))
            path = f"/arcgis/rest/services/{rng.choice(services)}/ImageServer{operation}"
            values = spoiled(rng, *OPERATIONS[operation])
        elif kind == "token":
            path, values = "/arcgis/tokens/generateToken", spoiled(rng, *TOKEN_REQUEST)
        else:
            path, values = OTHER_PATHS[kind], spoiled(rng, {}, EVERYWHERE)
        secure = rng.random() < (0.7 if kind == "token" else 0.15)
        yield "secure" if secure else "open", rng.choice(["GET", "POST"]), path, values


def check_answer(response: requests.Response) -> str:
    """No server error of any kind, every error an ArcGIS envelope; returns a label for the counts."""
    assert response.status_code < 500, response.status_code
    content_type = response.headers["Content-Type"].split(";")[0]
    if response.status_code != 200:          # what the HTTP layer refuses (a request line over 64 KB)
        assert content_type == "application/json", (response.status_code, content_type)
    if content_type in MAGIC:
        assert response.content.startswith(MAGIC[content_type])
        return content_type
    if content_type == "text/html":
        assert '"code": 500' not in html.unescape(response.text)
        return "html"
    if content_type == "application/javascript":
        return "jsonp"
    assert content_type == "application/json", content_type
    body = response.json()
    assert isinstance(body, dict)
    if "error" not in body:
        return "json"
    error = body["error"]
    assert set(error) == {"code", "message", "details"}, body
    assert isinstance(error["code"], int) and error["code"] < 500, body
    assert isinstance(error["message"], str) and all(isinstance(d, str) for d in error["details"]), body
    return f"error {error['code']}"


@pytest.fixture(scope="module")
def fuzz_secure_url(services):  # noqa: F811
    """A token-secured server of its own: the fuzzing's wrong passwords lock only its users."""
    app = Flask("fuzz_secure")
    security = Security(USERS, clock=FakeClock())
    app.register_blueprint(create_blueprint(services, security=security), url_prefix="/arcgis")
    with serving(app) as url:
        yield url


def test_malformed_requests_everywhere(server_url, fuzz_secure_url):  # noqa: F811
    bases = {"open": server_url, "secure": fuzz_secure_url}
    seen: Counter[str] = Counter()
    with requests.Session() as session:
        exported = session.get(server_url + SERVICE + "/exportImage", timeout=30,
                               params={"f": "json", "size": "20,20", "format": "png"}).json()
        check_answer(session.get(exported["href"], params={"token": "x"}, timeout=30))
        check_answer(session.post(exported["href"], timeout=30))
        check_answer(session.post(server_url + SERVICE + "/exportImage", timeout=30,
                                  data={"f": "json", "pad": "x" * (MAX_BODY_BYTES + 1)}))
        for target, method, path, values in malformed_requests(SEED, MALFORMED_COUNT):
            if method == "GET":
                response = session.get(bases[target] + path, params=values, timeout=30)
            else:
                response = session.post(bases[target] + path, data=values, timeout=30)
            seen[check_answer(response)] += 1
    assert sum(seen.values()) == MALFORMED_COUNT
    assert {"error 400", "error 404", "error 405", "error 414", "error 499", "json"} <= set(seen), seen
