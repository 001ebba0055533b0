"""Fuzzing the embedded ImageServer as a user runs it: `imageservice-server --secure` in its own
process on 127.0.0.1, thousands of seeded malformed requests from a few concurrent clients, then
costly requests that the memory budget allows one or two at a time, the answers counted by HTTP
status and ArcGIS error code, and the server's peak resident memory (VmHWM in /proc/<pid>/status)
set against the memory budget.

    python -m bench.fuzz                                  # 5,000 requests, 4 clients, 1280 px data
    python -m bench.fuzz --requests 600 --size 256        # a smoke run, under a minute

Every request is a well-formed one with one to three parameters spoiled (`malformed_requests`),
to every resource: the service roots, exportImage (f=image and f=json), identify, query,
computeHistograms, getSamples, keyProperties, generateToken, rest/info, the directory, output
files. Most carry a valid token; some carry none or a forged one. `judge` says what is wrong with
an answer: any 5xx, a code-500 envelope, an error that is not an ArcGIS envelope, image bytes that
do not match their type. tests/test_server_fuzz.py sends 600 of the same requests in-process.
The exit status is 1 when an answer is wrong, a secret shows in the server's log, or the peak RSS
exceeds what docs/server.md ("Limits") promises: the RSS after start-up + GDAL_CACHEMAX + the
memory budget.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from threading import local

import requests

from imageservice.server.limits import DEFAULT_MEMORY_BUDGET_MB
from imageservice.server.sampledata import EXTENT_M, ORIGIN, ensure_sample_data

from .common import free_port
from .hosting import child, wait_until_up

USER, PASSWORD = "analyst", "fuzz-s3cret-pass"
GDAL_CACHE_MB = 256                      # as scripts/serve.sh sets it
MAGIC = {
    "image/png": (b"\x89PNG",),
    "image/jpeg": (b"\xff\xd8",),
    "image/gif": (b"GIF8",),
    "image/bmp": (b"BM",),
    "image/tiff": (b"II*\x00", b"MM\x00*"),
    "application/octet-stream": (b"",),
}

# -- The request mix ------------------------------------------------------------------------------

XMIN, YMAX = ORIGIN
XMAX, YMIN = XMIN + EXTENT_M, YMAX - EXTENT_M
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
# Values that are valid but costly: large exports and histograms, the slowest mosaic and resampling.
HEAVY = ["2000,2000", "1500,1000", "2896,2896", "4100,4100", "60,60", "RSP_CubicConvolution",
         '{"mosaicMethod":"esriMosaicNone","mosaicOperation":"MT_MEAN"}', '{"rasterFunction":"Hillshade"}',
         '{"rasterFunction":"Stretch","rasterFunctionArguments":{"StretchType":6}}']
MALFORMED = [NOT_FINITE, ODD_NUMBERS, JUNK, DEEP_JSON, NON_FINITE_JSON, MANY, HEAVY]
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
TOKEN_REQUEST = ({"username": USER, "password": PASSWORD}, ["username", "password", "client", "referer", "ip",
                                                            "expiration"])
OTHER_PATHS = {
    "info": "/arcgis/rest/info", "directory": "/arcgis/rest/services", "unknown": "/arcgis/x/../y",
    "output": "/arcgis/rest/directories/arcgisoutput/SampleMultispectral_ImageServer/_ags_" + "0" * 32 + ".png",
    "escape": "/arcgis/rest/directories/arcgisoutput/x/..%2f..%2fsecret",
}
EVERYWHERE = ["f", "callback", "token", "%74oken", " F", "unknown"]
SERVICES = ["SampleMultispectral", "SampleElevation", "SampleMultispectral", "NoSuchService"]
# Costly requests that each fit in the default budget of 1024 MB (estimates in MB), so that the
# four clients together ask for two to three times the budget and must take turns.
MULTISPECTRAL, ELEVATION = "/arcgis/rest/services/SampleMultispectral", "/arcgis/rest/services/SampleElevation"
HEAVY_REQUESTS = [
    (ELEVATION + "/ImageServer/exportImage", {"size": "2896,2896", "format": "png"}),                    # 1024
    (MULTISPECTRAL + "/ImageServer/exportImage", {"size": "1930,1930", "format": "tiff"}),               # 1023
    (MULTISPECTRAL + "/ImageServer/exportImage", {"size": "2048,2048", "bandIds": "2,1,0"}),             # 768
    (MULTISPECTRAL + "/ImageServer/exportImage", {"size": "1500,1000", "interpolation": "RSP_CubicConvolution",
                                                  "mosaicRule": '{"mosaicMethod":"esriMosaicNone",'
                                                                '"mosaicOperation":"MT_MEAN"}'}),      # 412
    (MULTISPECTRAL + "/ImageServer/exportImage", {"size": "1920,1080",
                                                  "renderingRule": '{"rasterFunction":"Natural Color"}'}),  # 380
    (MULTISPECTRAL + "/ImageServer/computeHistograms", {
        "geometry": json.dumps({"xmin": XMIN, "ymin": YMIN, "xmax": XMAX, "ymax": YMAX}),
        "geometryType": "esriGeometryEnvelope", "pixelSize": "25,25"}),                                 # 648
]


def spoiled(rng: random.Random, base: dict[str, str], names: list[str]) -> dict[str, str]:
    """A well-formed request with one to three of its parameters (and maybe f, callback, token...)
    set to malformed or costly values."""
    values = dict(base)
    for name in rng.sample(names, min(len(names), rng.randint(1, 3))) + rng.sample(EVERYWHERE, rng.randint(0, 1)):
        values[name] = rng.choice(rng.choice(MALFORMED))
    values.setdefault("f", rng.choice(["json", "json", "pjson", "image"]))   # without f: an HTML page
    return values


def malformed_requests(seed: int, count: int) -> Iterator[tuple[bool, str, str, dict[str, str]]]:
    """(authorized: send a valid token, method, path, parameters), over every resource of the server."""
    rng = random.Random(seed)
    for _ in range(count):
        kind = rng.choice(["service"] * 10 + ["token"] * 2 + list(OTHER_PATHS))
        if kind == "service":
            operation = rng.choice(list(OPERATIONS))
            path = f"/arcgis/rest/services/{rng.choice(SERVICES)}/ImageServer{operation}"
            values = spoiled(rng, *OPERATIONS[operation])
        elif kind == "token":
            path, values = "/arcgis/tokens/generateToken", spoiled(rng, *TOKEN_REQUEST)
        else:
            path, values = OTHER_PATHS[kind], spoiled(rng, {}, EVERYWHERE)
        yield rng.random() < 0.85, rng.choice(["GET", "POST"]), path, values


def heavy_requests(count: int) -> Iterator[tuple[bool, str, str, dict[str, str]]]:
    """`count` requests taken in turn from HEAVY_REQUESTS, with a valid token, as f=image or f=json."""
    for index in range(count):
        path, values = HEAVY_REQUESTS[index % len(HEAVY_REQUESTS)]
        yield True, "POST", path, {**values, "f": "image" if path.endswith("exportImage") else "json"}


def judge(response: requests.Response) -> tuple[str, str | None]:
    """A label for the counts (`200 error 400`, `200 image/png`, `414 error 414`), and what is wrong
    with the answer, if anything."""
    status, kind = response.status_code, response.headers.get("Content-Type", "").split(";")[0]
    label = f"{status} {kind}"
    if status >= 500:
        return label, "a server error"
    if status != 200 and kind != "application/json":
        return label, "the HTTP layer's refusal is not JSON"
    if kind in MAGIC:
        return label, None if response.content.startswith(MAGIC[kind]) else "image bytes that do not match the type"
    if kind == "text/html":
        return label, "a code-500 page" if '"code": 500' in html.unescape(response.text) else None
    if kind == "application/javascript":
        return label, None
    if kind != "application/json":
        return label, f"an unexpected content type {kind!r}"
    body = response.json()
    error = body.get("error") if isinstance(body, dict) else None
    if error is None:
        return label, None if isinstance(body, dict) else "JSON that is not an object"
    code = error.get("code") if isinstance(error, dict) else None
    if not (isinstance(error, dict) and set(error) == {"code", "message", "details"} and isinstance(code, int)
            and isinstance(error["message"], str) and isinstance(error["details"], list)
            and all(isinstance(detail, str) for detail in error["details"])):
        return label, "an error that is not an ArcGIS envelope"
    return f"{status} error {code}", "a code-5xx envelope" if code >= 500 else None


# -- Running it against imageservice-server -------------------------------------------------------

def server_command() -> list[str]:
    """`imageservice-server` as installed next to this Python, else `python -m imageservice.server`."""
    script = Path(sys.executable).with_name("imageservice-server")
    return [str(script)] if script.exists() else [sys.executable, "-m", "imageservice.server"]


def memory_kib(pid: int, field: str) -> int:
    """A memory figure of /proc/<pid>/status (VmRSS, VmHWM), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


class Sender:
    """Sends one request with a keep-alive session per client thread."""

    def __init__(self, base: str, token: str) -> None:
        self.base, self.token = base, token
        self._local = local()

    def __call__(self, request: tuple[bool, str, str, dict[str, str]]) -> tuple[str, str | None, float]:
        authorized, method, path, values = request
        session = getattr(self._local, "session", None) or self._new_session()
        if authorized:
            values = {**values, "token": self.token}
        sent = {"params": values} if method == "GET" else {"data": values}
        start = time.perf_counter()
        response = session.request(method, self.base + path, timeout=300, **sent)
        label, problem = judge(response)
        return label, problem, time.perf_counter() - start

    def _new_session(self) -> requests.Session:
        self._local.session = requests.Session()
        return self._local.session


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--heavy", type=int, default=24, help="costly requests after the malformed ones")
    parser.add_argument("--seed", type=int, default=20251206)
    parser.add_argument("--size", type=int, default=1280, help="sample data size in pixels (default 1280)")
    parser.add_argument("--data", type=Path, default=None, help="keep the sample data here and reuse it")
    parser.add_argument("--memory-budget-mb", type=int, default=DEFAULT_MEMORY_BUDGET_MB)
    return parser.parse_args()


def main() -> None:
    options = parse_args()
    work = Path(tempfile.mkdtemp(prefix="imageservice-fuzz-"))
    data = options.data or work / "data"
    ensure_sample_data(data, size=options.size)
    port = free_port()
    env = {**os.environ, "GDAL_CACHEMAX": str(GDAL_CACHE_MB)}
    command = [*server_command(), str(data), "--host", "127.0.0.1", "--port", str(port), "--secure",
               "--user", f"{USER}:{PASSWORD}", "--memory-budget-mb", str(options.memory_budget_mb)]
    base, log = f"http://127.0.0.1:{port}", work / "server.log"
    try:
        with child(command, env, log) as server:
            wait_until_up(base + "/arcgis/rest/info?f=json", server, log)
            token = requests.post(base + "/arcgis/tokens/generateToken", timeout=30,
                                  data={"username": USER, "password": PASSWORD, "f": "json"}).json()["token"]
            started_kib = memory_kib(server.pid, "VmHWM")
            send = Sender(base, token)
            phases = [timed(send, options.clients, malformed_requests(options.seed, options.requests)),
                      timed(send, options.clients, heavy_requests(options.heavy))]
            peak_kib = memory_kib(server.pid, "VmHWM")
        report(options, command, phases, started_kib, peak_kib, log.read_text(errors="replace"), token)
    finally:
        shutil.rmtree(work, ignore_errors=True)


Outcome = tuple[str, str | None, float]


def timed(send: Sender, clients: int, requests: Iterator) -> tuple[list[Outcome], float]:
    """The outcomes of sending `requests` from `clients` threads, and the seconds it took."""
    begin = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        outcomes = list(pool.map(send, requests))
    return outcomes, time.perf_counter() - begin


def report(options: argparse.Namespace, command: list[str], phases: list[tuple[list[Outcome], float]],
           started_kib: int, peak_kib: int, log: str, token: str) -> None:
    """Print the counts, the problems and the memory figures; exit 1 when anything is wrong."""
    outcomes = [outcome for phase, _ in phases for outcome in phase]
    problems = Counter(f"{label}: {problem}" for label, problem, _ in outcomes if problem)
    failures_logged = log.count("ImageServer request failed")
    leaked = [secret for secret in (token, PASSWORD) if secret in log]
    bound_mib = started_kib / 1024 + GDAL_CACHE_MB + options.memory_budget_mb
    print(f"# bench.fuzz, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}")
    shown = [Path(command[0]).name, *command[1:]]
    print(f"server: {' '.join(shown).replace(PASSWORD, '***')} (GDAL_CACHEMAX={GDAL_CACHE_MB})")
    print(f"{options.clients} clients, seed {options.seed}, sample data {options.size} px\n")
    for name, (phase, seconds) in zip(("malformed", "heavy"), phases):
        print(f"{name}: {len(phase)} requests in {seconds:.0f} s, slowest answer "
              f"{max((t for _, _, t in phase), default=0):.1f} s\n")
        print("| HTTP status | answer | count |\n|---:|---|---:|")
        for label, count in sorted(Counter(label for label, _, _ in phase).items()):
            status, answer = label.split(" ", 1)
            print(f"| {status} | {answer} | {count} |")
        print()
    print(f"wrong answers: {sum(problems.values())}; requests the server logged as failed: {failures_logged}; "
          f"secrets in the server log: {len(leaked)}")
    for problem, count in problems.most_common(10):
        print(f"  {count} x {problem}")
    if failures_logged:
        print("the first failure in the server's log:\n" + first_traceback(log))
    print(f"server peak RSS (VmHWM): {peak_kib / 1024:.0f} MiB; after start-up {started_kib / 1024:.0f} MiB; "
          f"bound: start-up + GDAL cache {GDAL_CACHE_MB} + memory budget {options.memory_budget_mb} "
          f"= {bound_mib:.0f} MiB")
    if problems or failures_logged or leaked or peak_kib / 1024 > bound_mib:
        sys.exit(1)


def first_traceback(log: str) -> str:
    """The first failed request of the server's log and its traceback, up to the next access-log line."""
    lines = log[log.index("ImageServer request failed"):].splitlines()
    end = next((i for i, line in enumerate(lines[1:], 1) if line.startswith("127.0.0.1 ")), len(lines))
    return "\n".join(line[:200] for line in lines[:end])


if __name__ == "__main__":
    main()
