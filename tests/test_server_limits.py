"""The embedded ImageServer's parameter hygiene: malformed input (non-finite numbers, deeply nested
JSON and where clauses, huge geometries) is a code-400 ArcGIS error naming the parameter, never a
code-500 answer.
"""

from __future__ import annotations

import json

import pytest
import requests

from imageservice.server.limits import MAX_GEOMETRY_VERTICES
from server_fixtures import sample_root, server_url  # noqa: F401  (pytest fixtures)

SERVICE = "/arcgis/rest/services/SampleMultispectral/ImageServer"
POINT = '{"x":600000,"y":4270000}'
LINE = '{"paths":[[[590000,4260000],[610000,4280000]]]}'
ENVELOPE = '{"xmin":590000,"ymin":4260000,"xmax":610000,"ymax":4280000}'


def post(base: str, path: str, **form: str) -> requests.Response:
    return requests.post(base + path, data=form, timeout=60)


def error_of(response: requests.Response) -> dict:
    """The ArcGIS error of an answer that must be one: HTTP 200, JSON, the envelope's three keys."""
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, body
    return body["error"]


def refused(response: requests.Response, *words: str) -> dict:
    """A code-400 refusal whose details name every one of `words`."""
    error = error_of(response)
    assert error["code"] == 400, error
    text = " ".join(error["details"])
    assert all(word in text for word in words), error
    return error


# -- Size

def test_a_geometry_with_too_many_vertices_is_refused(server_url):  # noqa: F811
    ring = [[590000 + i % 2, 4260000 + i] for i in range(MAX_GEOMETRY_VERTICES + 10)]
    geometry = json.dumps({"rings": [ring + [ring[0]]]})
    answer = post(server_url, SERVICE + "/query", f="json", geometry=geometry, geometryType="esriGeometryPolygon")
    refused(answer, "'geometry'", f"{MAX_GEOMETRY_VERTICES} vertices")


# -- Parameter hygiene: every malformed value is a 400 naming the parameter -------------------------

@pytest.mark.parametrize("operation, form, name", [
    ("exportImage", {"f": "json", "size": "10,10", "time": "inf"}, "'time'"),
    ("exportImage", {"f": "json", "size": "10,10", "time": "0,nan"}, "'time'"),
    ("exportImage", {"f": "json", "size": "10,10", "noData": "nan"}, "'noData'"),
    ("exportImage", {"f": "json", "size": "10,10", "bbox": "0,0,1,1", "bboxSR": "inf"}, "'bboxSR'"),
    ("exportImage", {"f": "json", "size": "10,inf"}, "'size'"),
    ("exportImage", {"f": "json", "size": "10,10", "compressionQuality": "-inf"}, "'compressionQuality'"),
    ("exportImage", {"f": "json", "size": "10,10", "mosaicRule":
                     '{"mosaicMethod":"esriMosaicAttribute","sortField":"CloudCover","sortValue":NaN}'},
     "'mosaicRule'"),
    ("exportImage", {"f": "json", "size": "10,10", "mosaicRule":
                     '{"mosaicMethod":"esriMosaicViewpoint","viewpoint":{"x":1e999,"y":0}}'}, "'mosaicRule'"),
    ("exportImage", {"f": "json", "size": "10,10", "mosaicRule":
                     '{"mosaicMethod":"esriMosaicAttribute","sortField":"CloudCover","sortValue":"inf"}'},
     "'mosaicRule'"),
    ("query", {"f": "json", "resultOffset": "inf"}, "'resultOffset'"),
    ("query", {"f": "json", "resultRecordCount": "-inf"}, "'resultRecordCount'"),
    ("query", {"f": "json", "geometryPrecision": "inf"}, "'geometryPrecision'"),
    ("query", {"f": "json", "geometryPrecision": "1e9"}, "'geometryPrecision'"),
    ("identify", {"f": "json", "geometry": POINT, "maxItemCount": "inf"}, "'maxItemCount'"),
    ("identify", {"f": "json", "geometry": '{"x":Infinity,"y":0}'}, "'geometry'"),
    ("getSamples", {"f": "json", "geometry": LINE, "geometryType": "esriGeometryPolyline", "sampleCount": "inf"},
     "'sampleCount'"),
    ("computeHistograms", {"f": "json", "geometry": ENVELOPE, "geometryType": "esriGeometryEnvelope",
                           "pixelSize": "inf,inf"}, "'pixelSize'"),
])
def test_non_finite_numbers_are_refused(server_url, operation, form, name):  # noqa: F811
    refused(post(server_url, f"{SERVICE}/{operation}", **form), name)


@pytest.mark.parametrize("name", ["renderingRule", "mosaicRule", "geometry"])
def test_deeply_nested_json_is_refused(server_url, name):  # noqa: F811
    form = {"f": "json", "size": "10,10", name: '{"a":' * 5000 + "1" + "}" * 5000}
    operation = "identify" if name == "geometry" else "exportImage"
    refused(post(server_url, f"{SERVICE}/{operation}", **form), f"'{name}'", "nested")


def test_a_deeply_nested_where_clause_is_refused(server_url):  # noqa: F811
    for clause in ["(" * 3000 + "1=1" + ")" * 3000, "NOT " * 3000 + "1=1"]:
        refused(post(server_url, SERVICE + "/query", f="json", where=clause), "'where'", "nested")


def test_raster_function_nesting_is_limited(server_url):  # noqa: F811
    rule: object = "$$"
    for _ in range(40):
        rule = {"rasterFunction": "Stretch", "rasterFunctionArguments": {"Raster": rule}}
    answer = post(server_url, SERVICE + "/exportImage", f="json", size="10,10", renderingRule=json.dumps(rule))
    refused(answer, "'renderingRule'", "32 nested functions")
