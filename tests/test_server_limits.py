"""The embedded ImageServer's resource limits: what one request may cost is checked before anything
big is allocated, and every refusal is an ArcGIS error envelope (code 400) naming the limit.

Also the parameter hygiene that keeps malformed input from becoming a code-500 answer: non-finite
numbers, deeply nested JSON and where clauses, and URLs too long for the HTTP server.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import tracemalloc
from urllib.parse import urlsplit

import pytest
import requests

from imageservice.server.limits import (
    DEFAULT_MEMORY_BUDGET_MB,
    MAX_BODY_BYTES,
    MAX_GEOMETRY_VERTICES,
    MB,
    MEMORY_BUDGET_ENV,
    MemoryBudget,
    request_bytes,
)
from imageservice.server.errors import ArcGISError
from imageservice.server.server import create_app
from server_fixtures import sample_root, server_url, serving  # noqa: F401  (pytest fixtures)

SERVICE = "/arcgis/rest/services/SampleMultispectral/ImageServer"
ELEVATION = "/arcgis/rest/services/SampleElevation/ImageServer"
SIZE_LIMIT = "The requested image exceeds the size limit."
INVALID = "Invalid or missing input parameters."
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


# The service's own six bands; without a rule pictures get the publisher's default template (3 bands).
RAW = '{"rasterFunction": "None"}'


def refused(response: requests.Response, *words: str) -> dict:
    """A code-400 refusal whose details name every one of `words`."""
    error = error_of(response)
    assert error["code"] == 400, error
    text = " ".join(error["details"])
    assert all(word in text for word in words), error
    return error


@pytest.fixture()
def small_budget_url(sample_root):  # noqa: F811
    """A server with a 16 MB memory budget, so its limits show with small requests."""
    with serving(create_app(sample_root, memory_budget_mb=16)) as url:
        yield url


# -- Memory budget ---------------------------------------------------------------------------------

def test_the_default_budget_allows_map_views_and_refuses_huge_exports():
    budget = DEFAULT_MEMORY_BUDGET_MB * MB
    assert request_bytes(1200, 900, 6) * 3 <= budget          # three dashboard views at once, all bands
    assert request_bytes(2048, 2048, 3) <= budget
    assert request_bytes(4100, 4100, 1) > budget


def test_many_band_ids_are_refused_before_reading(server_url):  # noqa: F811
    ids = ",".join(["0"] * 200)
    answer = post(server_url, SERVICE + "/exportImage", f="image", size="200,200", format="png", bandIds=ids)
    refused(answer, "'bandIds'", "at most 6")


def test_band_ids_may_repeat_up_to_three_for_a_grey_picture(server_url):  # noqa: F811
    answer = post(server_url, ELEVATION + "/exportImage", f="image", size="20,20", format="png", bandIds="0,0,0")
    assert answer.headers["Content-Type"] == "image/png"
    refused(post(server_url, ELEVATION + "/exportImage", f="image", size="20,20", bandIds="0,0,0,0"), "at most 3")


def test_a_huge_export_is_refused_by_the_default_budget(server_url):  # noqa: F811
    answer = post(server_url, SERVICE + "/exportImage", f="image", size="4100,4100", format="png", renderingRule=RAW)
    error = refused(answer, "4100 x 4100 pixels with 6 band(s)", f"memory budget of {DEFAULT_MEMORY_BUDGET_MB} MB")
    assert error["details"][0] == SIZE_LIMIT


def test_the_budget_is_a_keyword_of_create_app(small_budget_url):
    fits = post(small_budget_url, ELEVATION + "/exportImage", f="image", size="200,200", format="png")
    assert fits.headers["Content-Type"] == "image/png"
    answer = post(small_budget_url, SERVICE + "/exportImage", f="json", size="400,400", renderingRule=RAW)
    refused(answer, "400 x 400 pixels with 6 band(s)", "memory budget of 16 MB")
    refused(post(small_budget_url, SERVICE + "/exportImage", f="json", size="400,400", bandIds="0"), "with 1 band(s)")


def test_the_budget_comes_from_the_environment(sample_root, monkeypatch):  # noqa: F811
    monkeypatch.setenv(MEMORY_BUDGET_ENV, "8")
    client = create_app(sample_root).test_client()
    answer = client.post(SERVICE + "/exportImage", data={"f": "json", "size": "300,300"}).get_json()
    assert "memory budget of 8 MB" in answer["error"]["details"][1]
    monkeypatch.setenv(MEMORY_BUDGET_ENV, "lots")
    with pytest.raises(ValueError, match=MEMORY_BUDGET_ENV):
        create_app(sample_root)


def test_a_rule_counts_the_widest_stage(small_budget_url):
    """A rule that reads one band still holds a 3-band picture (Colormap): counted as 3 bands."""
    rule = json.dumps({"rasterFunction": "Colormap", "rasterFunctionArguments": {"ColormapName": "Elevation"}})
    answer = post(small_budget_url, ELEVATION + "/exportImage", f="json", size="400,400", renderingRule=rule)
    refused(answer, "400 x 400 pixels with 3 band(s)")


def test_extract_band_may_not_multiply_bands(server_url):  # noqa: F811
    rule = json.dumps({"rasterFunction": "ExtractBand", "rasterFunctionArguments": {"BandIDs": [0] * 500}})
    answer = post(server_url, SERVICE + "/exportImage", f="image", size="100,100", renderingRule=rule)
    refused(answer, "'BandIDs'", "at most 6")


def test_compute_histograms_shares_the_budget(small_budget_url):
    answer = post(small_budget_url, SERVICE + "/computeHistograms", f="json", geometry=ENVELOPE,
                  geometryType="esriGeometryEnvelope", pixelSize="40,40")
    refused(answer, "500 x 500 pixels with 6 band(s)")


def test_the_refusal_comes_before_any_pixel_is_allocated(sample_root):  # noqa: F811
    client = create_app(sample_root).test_client()
    tracemalloc.start()
    try:
        answer = client.post(SERVICE + "/exportImage", data={"f": "json", "size": "4100,4100"}).get_json()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert answer["error"]["details"][0] == SIZE_LIMIT
    assert peak < 4 * MB


def test_requests_wait_for_room_in_the_budget():
    budget = MemoryBudget(megabytes=3, wait_seconds=10)
    holding, waited, release = threading.Event(), threading.Event(), threading.Event()

    def hold() -> None:
        with budget.reserve(1024, 16, 1):           # 2 MB: 16 Ki pixels x (1 + 3) x 32 bytes
            holding.set()
            release.wait(10)

    def second() -> None:
        with budget.reserve(1024, 16, 1):
            waited.set()

    first = threading.Thread(target=hold)
    first.start()
    assert holding.wait(10)
    other = threading.Thread(target=second)
    other.start()
    assert not waited.wait(0.2)                     # 2 MB held + 2 MB asked > 3 MB: it waits
    release.set()
    first.join(10)
    other.join(10)
    assert waited.is_set()


def test_a_full_budget_answers_busy_after_the_wait():
    budget = MemoryBudget(megabytes=3, wait_seconds=0.05)
    with budget.reserve(1024, 16, 1):
        with pytest.raises(ArcGISError) as caught:
            with budget.reserve(1024, 16, 1):
                pass
    assert caught.value.code == 503
    with budget.reserve(1024, 16, 1):              # released: room again
        pass


ARENAS = """
import ctypes, sys, threading
import numpy
if sys.argv[1] == "limited":
    from imageservice.server.__main__ import limit_malloc_arenas
    limit_malloc_arenas()
started = threading.Barrier(8)
held = []

def allocate():
    held.append(numpy.ones(8192))   # 64 KB: below the mmap threshold, so from the thread's arena
    started.wait()

threads = [threading.Thread(target=allocate) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
ctypes.CDLL(None).malloc_stats()
"""


def malloc_arenas(mode: str) -> int:
    """glibc's malloc arenas after 8 threads allocated at once (malloc_stats lists them on stderr)."""
    env = {key: value for key, value in os.environ.items() if key != "MALLOC_ARENA_MAX"}
    done = subprocess.run([sys.executable, "-c", ARENAS, mode], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return sum(line.startswith("Arena ") for line in done.stderr.splitlines())


def test_the_standalone_server_keeps_two_malloc_arenas():
    """With glibc's default, memory a request thread freed stays with its arena while the next
    thread allocates anew, and the peak RSS doubles (bench.fuzz measured 1815 against 990 MiB)."""
    assert malloc_arenas("default") > 2
    assert malloc_arenas("limited") <= 2


# -- Request size ------------------------------------------------------------------------------------

def test_a_body_over_the_limit_is_an_arcgis_error(server_url):  # noqa: F811
    answer = requests.post(server_url + SERVICE + "/exportImage", timeout=30,
                           data={"f": "json", "size": "10,10", "padding": "x" * (MAX_BODY_BYTES + 1)})
    refused(answer, f"{MAX_BODY_BYTES} bytes")


def test_a_long_get_url_gets_a_json_error_not_html(server_url):  # noqa: F811
    parts = urlsplit(server_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    connection.request("GET", SERVICE + "/exportImage?f=json&bandIds=" + "0," * 40_000)
    response = connection.getresponse()
    assert response.status == 414
    assert response.getheader("Content-Type") == "application/json"
    error = json.loads(response.read())["error"]
    assert error["code"] == 414 and "POST" in " ".join(error["details"])
    connection.close()


def test_a_request_target_that_is_no_url_gets_a_json_error(server_url, caplog):  # noqa: F811
    """werkzeug itself fails on it (urlsplit: invalid IPv6) and used to drop the connection."""
    parts = urlsplit(server_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as connection:
        connection.sendall(b"GET http://[x/?token=SECRET-IN-A-BAD-URL HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = connection.makefile("rb").read()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400") and b"Content-Type: application/json" in head
    assert json.loads(body)["error"]["code"] == 400
    assert "SECRET-IN-A-BAD-URL" not in caplog.text


def test_a_geometry_with_too_many_vertices_is_refused(server_url):  # noqa: F811
    ring = [[590000 + i % 2, 4260000 + i] for i in range(MAX_GEOMETRY_VERTICES + 10)]
    geometry = json.dumps({"rings": [ring + [ring[0]]]})
    answer = post(server_url, SERVICE + "/query", f="json", geometry=geometry, geometryType="esriGeometryPolygon")
    refused(answer, "'geometry'", f"{MAX_GEOMETRY_VERTICES} vertices")


# -- Counts --------------------------------------------------------------------------------------------

def test_counts_stay_within_their_limits(server_url):  # noqa: F811
    refused(post(server_url, SERVICE + "/getSamples", f="json", geometry=LINE,
                 geometryType="esriGeometryPolyline", sampleCount="1001"), "1000")
    page = post(server_url, SERVICE + "/query", f="json", resultRecordCount="100000", returnGeometry="false").json()
    assert len(page["features"]) == 14                       # capped by maxRecordCount, not refused
    identified = post(server_url, SERVICE + "/identify", f="json", geometry=POINT, maxItemCount="100000").json()
    assert "catalogItems" in identified


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


PIXEL_SIZE_OPERATIONS = [
    ("computeHistograms", {"geometry": ENVELOPE, "geometryType": "esriGeometryEnvelope"}),
    ("identify", {"geometry": POINT}),
    ("getSamples", {"geometry": LINE, "geometryType": "esriGeometryPolyline", "sampleCount": "3"}),
]


@pytest.mark.parametrize("operation, form", PIXEL_SIZE_OPERATIONS)
@pytest.mark.parametrize("pixel_size", ["1e-320", "1e-320,1e-320", '{"x":1e-320,"y":1e-320}', "0.00001"])
def test_absurdly_fine_pixel_sizes_are_refused(server_url, operation, form, pixel_size):  # noqa: F811
    """Finite but tiny: grids too large to count, or transforms that cannot be inverted."""
    refused(post(server_url, f"{SERVICE}/{operation}", f="json", pixelSize=pixel_size, **form), "'pixelSize'")


@pytest.mark.parametrize("operation, form", PIXEL_SIZE_OPERATIONS)
def test_huge_pixel_sizes_are_answered(server_url, operation, form):  # noqa: F811
    answer = post(server_url, f"{SERVICE}/{operation}", f="json", pixelSize="1e300", **form).json()
    assert "error" not in answer, answer


def test_a_deeply_nested_where_clause_is_refused(server_url):  # noqa: F811
    for clause in ["(" * 3000 + "1=1" + ")" * 3000, "NOT " * 3000 + "1=1"]:
        refused(post(server_url, SERVICE + "/query", f="json", where=clause), "'where'", "nested")


def test_raster_function_nesting_is_limited(server_url):  # noqa: F811
    rule: object = "$$"
    for _ in range(40):
        rule = {"rasterFunction": "Stretch", "rasterFunctionArguments": {"Raster": rule}}
    answer = post(server_url, SERVICE + "/exportImage", f="json", size="10,10", renderingRule=json.dumps(rule))
    refused(answer, "'renderingRule'", "32 nested functions")
