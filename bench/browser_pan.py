"""The dashboard against esri-leaflet 3.1.0 in headless Chromium: one scripted pan/zoom sequence.

Both pages show the same embedded service (the dashboard under gunicorn, as `scripts/serve.sh` runs
it; the esri-leaflet page from another 127.0.0.1 port, pointed at the dashboard's /arcgis), with the
same map size, start view and rendering rule. The same probe (bench/pan_probe.js) is injected into
both before their own scripts. Per move: exportImage requests the browser sent (DevTools network
log), time from the move to the moment the picture for the final view is on screen, and stale
pictures (one that came on screen although a newer exportImage had already been asked for).
Rounds alternate which page goes first; every page run gets a fresh browser (an empty cache).

    python -m bench.browser_pan [--rounds 3] [--size N] [--data DIR]
    python -m bench.browser_pan --rounds 1 --size 256        # a smoke run, about a minute

Needs Chromium + chromedriver and `npm ci --prefix tests/js` (scripts/setup.sh test does both).
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlparse

import requests
from selenium.webdriver.support.ui import WebDriverWait

from imageservice.metadata import parse_service_info
from imageservice.server.sampledata import DEFAULT_SIZE, ensure_sample_data

from .common import REPO_ROOT
from .hosting import chromium, production_stack

SERVICE_PATH = "/arcgis/rest/services/SampleMultispectral/ImageServer"
RENDERING_RULE = {"rasterFunction": "Natural Color"}  # what the dashboard opens the sample service with
PROBE = (Path(__file__).parent / "pan_probe.js").read_text()
PEER_PAGE = "bench/esri_leaflet_pan.html"
PEER_LIBRARY = REPO_ROOT / "tests" / "js" / "node_modules" / "esri-leaflet" / "dist" / "esri-leaflet.js"
QUIET_MS = 1500  # a move is over once nothing new was asked for this long and its picture is shown
MOVE_SECONDS = 30
LOAD_SECONDS = 60

# (name, [(Leaflet map method, arguments, ms after the previous action)]); each runs with {animate: false}.
MOVES: list[tuple[str, list[tuple[str, list, int]]]] = [
    ("pan east 256 px", [("panBy", [[256, 0]], 0)]),
    ("pan south 192 px", [("panBy", [[0, 192]], 0)]),
    ("zoom in", [("zoomIn", [1], 0)]),
    ("pan west 384 px", [("panBy", [[-384, 0]], 0)]),
    ("zoom out", [("zoomOut", [1], 0)]),
    ("drag: 5 pans of 48 px, 40 ms apart", [("panBy", [[48, 24]], 0)] + [("panBy", [[48, 24]], 40)] * 4),
    ("two zooms in, 100 ms apart", [("zoomIn", [1], 0), ("zoomIn", [1], 100)]),
    ("pan north 256 px", [("panBy", [[0, -256]], 0)]),
    ("two zooms out, 400 ms apart", [("zoomOut", [1], 0), ("zoomOut", [1], 400)]),
    ("burst: zoom in, pan, zoom out, 60 ms apart", [("zoomIn", [1], 0), ("panBy", [[128, -96]], 60),
                                                   ("zoomOut", [1], 60)]),
]


@dataclass(frozen=True)
class Page:
    name: str
    url: str
    map_expression: str  # JS that gives the page's Leaflet map


@dataclass(frozen=True)
class MoveResult:
    move: str
    requests: int  # exportImage requests the browser sent
    callbacks: int  # Dash callback POSTs the browser sent
    time_to_image_ms: float | None  # None: the final picture never came on screen
    requested_ms: float | None  # when the final picture was asked for
    received_ms: float | None  # when its bytes were in
    stale: int
    final_url: str | None


# --- pages ------------------------------------------------------------------------------------------


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def static_server() -> Iterator[str]:
    """The repository over 127.0.0.1 for the esri-leaflet page and its node_modules."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(REPO_ROOT)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        thread.join()
        httpd.server_close()


def js(driver: Any, page: Page, body: str, *args: Any) -> Any:
    """Run `body` with `map` bound to the page's Leaflet map."""
    return driver.execute_script(f"const map = {page.map_expression}; {body}", *args)


def open_page(page: Page, start: dict) -> Any:
    """A fresh browser on the page, at the start view once its first picture is on screen."""
    driver = chromium(network_log=True)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": PROBE})
    driver.get(page.url)
    WebDriverWait(driver, LOAD_SECONDS, poll_frequency=0.2).until(
        lambda d: d.execute_script(f"return Boolean({page.map_expression}) && window.__bench.shown.length > 0;"))
    run_move(driver, page, [("setView", [start["center"], start["zoom"]], 0)])
    return driver


def map_size(driver: Any, page: Page) -> tuple[int, int]:
    size = js(driver, page, "const s = map.getSize(); return [s.x, s.y];")
    return size[0], size[1]


def start_view(driver: Any, page: Page, extent_latlng: list[float]) -> dict:
    """The view that fits the service's extent in this map: centre and zoom."""
    south, west, north, east = extent_latlng
    return js(driver, page, """
        const bounds = L.latLngBounds([arguments[0], arguments[1]], [arguments[2], arguments[3]]);
        const c = bounds.getCenter();
        return {center: [c.lat, c.lng], zoom: map.getBoundsZoom(bounds)};""", south, west, north, east)


# --- one move ---------------------------------------------------------------------------------------


def run_move(driver: Any, page: Page, actions: list[tuple[str, list, int]]) -> dict:
    """Run a move and wait until it is over: the actions done, nothing new asked for QUIET_MS, and
    the picture for the last request on screen (or MOVE_SECONDS gone by). Returns the probe's result."""
    driver.execute_script(f"window.__bench.move(() => {page.map_expression}, arguments[0]);", actions)
    deadline = time.monotonic() + MOVE_SECONDS
    while True:
        result = driver.execute_script("return window.__bench.result();")
        settled = result["actionsDone"] and result["quiet"] > QUIET_MS
        if settled and result["timeToImage"] is not None:
            return result
        if time.monotonic() > deadline:
            return result
        time.sleep(0.1)


def sent_requests(driver: Any) -> Counter:
    """exportImage requests and Dash callback POSTs sent since the last call (DevTools network log)."""
    sent: Counter = Counter()
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            url = message["params"]["request"]["url"]
            sent["exportImage"] += "/exportImage" in url
            sent["callbacks"] += "/_dash-update-component" in url
    return sent


def run_page(page: Page, start: dict) -> list[MoveResult]:
    driver = open_page(page, start)
    try:
        results = []
        for name, actions in MOVES:
            sent_requests(driver)  # drop what came before this move
            result = run_move(driver, page, actions)
            sent = sent_requests(driver)
            results.append(MoveResult(name, sent["exportImage"], sent["callbacks"], result["timeToImage"],
                                      result["requested"], result["received"], result["stale"], result["finalUrl"]))
        return results
    finally:
        driver.quit()


# --- the report -------------------------------------------------------------------------------------


def median_or_none(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if len(present) == len(values) else None


def ms(value: float | None) -> str:
    return "no image" if value is None else f"{value:.0f}"


def ratio(ours: float | None, theirs: float | None) -> str:
    return "-" if not ours or not theirs else f"{ours / theirs:.2f}"


def parameter_differences(ours: str, theirs: str) -> list[str]:
    """The exportImage parameters that differ between two URLs, so a reader can see the pages asked
    for the same picture."""
    a, b = dict(parse_qsl(urlparse(ours).query)), dict(parse_qsl(urlparse(theirs).query))
    return [f"{key}: dashboard {a.get(key)!r}, esri-leaflet {b.get(key)!r}"
            for key in sorted(set(a) | set(b)) if a.get(key) != b.get(key)]


def report(runs: dict[str, list[list[MoveResult]]], size: tuple[int, int], options: argparse.Namespace) -> None:
    dash, peer = runs["dashboard"], runs["esri-leaflet"]
    print("# Pan/zoom in headless Chromium: dashboard vs esri-leaflet 3.1.0\n")
    print(f"gunicorn {options.workers} workers x {options.threads} threads; sample data {options.size} px. "
          f"Map {size[0]}x{size[1]} px on both pages, {len(MOVES)} moves, {options.rounds} round(s); requests are the "
          f"mean per round, times the median over rounds (ms from the move to its final picture on screen).\n")
    print("| move | requests dashboard | requests esri-leaflet | ms dashboard | ms esri-leaflet | time ratio |")
    print("|---|---:|---:|---:|---:|---:|")
    totals = {"dashboard": [0.0, 0.0], "esri-leaflet": [0.0, 0.0]}
    complete = True
    for index, (name, _) in enumerate(MOVES):
        row = []
        for label, page_runs in (("dashboard", dash), ("esri-leaflet", peer)):
            requests_mean = statistics.mean(r[index].requests for r in page_runs)
            time_median = median_or_none([r[index].time_to_image_ms for r in page_runs])
            totals[label][0] += requests_mean
            totals[label][1] += time_median or 0.0
            complete &= time_median is not None
            row.append((requests_mean, time_median))
        (dr, dt), (er, et) = row
        print(f"| {name} | {dr:.1f} | {er:.1f} | {ms(dt)} | {ms(et)} | {ratio(dt, et)} |")
    (dr, dt), (er, et) = totals["dashboard"], totals["esri-leaflet"]
    print(f"| **all moves** | {dr:.1f} | {er:.1f} | {dt:.0f} | {et:.0f} | {ratio(dt, et)} |")
    stale = {label: sum(r.stale for run in page_runs for r in run) for label, page_runs in runs.items()}
    print(f"\n- exportImage requests, dashboard / esri-leaflet: **{ratio(dr, er)}** (target: at most 1.00)")
    print(f"- time to image over all moves, dashboard / esri-leaflet: **{ratio(dt, et)}** (target: at most 1.10)"
          + ("" if complete else " (some moves never showed their final picture: see the table)"))
    print(f"- stale pictures shown: dashboard {stale['dashboard']}, esri-leaflet {stale['esri-leaflet']} (target: 0)")
    differences = parameter_differences(dash[0][0].final_url or "", peer[0][0].final_url or "")
    print("- exportImage parameters that differ between the pages (first move): "
          + ("; ".join(differences) if differences else "none"))
    print("\nWhere the time goes, mean ms after the move began (moves that asked for a picture):\n")
    print("| page | final picture asked for | its bytes in | on screen | Dash callback POSTs per move |")
    print("|---|---:|---:|---:|---:|")
    for label, page_runs in runs.items():
        moves = [r for run in page_runs for r in run]
        timed = [r for r in moves if None not in (r.requested_ms, r.received_ms, r.time_to_image_ms)]
        columns = [statistics.mean(getattr(r, key) for r in timed) if timed else None
                   for key in ("requested_ms", "received_ms", "time_to_image_ms")]
        print(f"| {label} | " + " | ".join(ms(c) for c in columns)
              + f" | {statistics.mean(r.callbacks for r in moves):.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.browser_pan", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--size", type=int, default=DEFAULT_SIZE, help="sample data size in pixels")
    parser.add_argument("--data", type=Path, help="keep the sample data here and reuse it")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=8, help="threads per gunicorn worker")
    options = parser.parse_args()
    if not PEER_LIBRARY.is_file():
        raise SystemExit("esri-leaflet is missing: run `npm ci --prefix tests/js` (or scripts/setup.sh test).")

    with tempfile.TemporaryDirectory(prefix="bench-pan-") as scratch, static_server() as static:
        data = ensure_sample_data(options.data or Path(scratch) / "data", size=options.size)
        with production_stack(data, Path(scratch) / "logs", celery=False, workers=options.workers,
                              threads=options.threads) as stack:
            service_url = stack.url + SERVICE_PATH
            metadata = requests.get(service_url, params={"f": "json"}, timeout=30).json()
            dashboard = Page("dashboard", stack.url + "/", "window.imageMapLayer && window.imageMapLayer.mapOf('main')")
            # The dashboard decides the map size (its layout); the esri-leaflet page gets the same.
            probe = chromium()
            try:
                probe.get(dashboard.url)
                WebDriverWait(probe, LOAD_SECONDS, poll_frequency=0.2).until(
                    lambda d: d.execute_script(f"return Boolean({dashboard.map_expression});"))
                size = map_size(probe, dashboard)
                start = start_view(probe, dashboard, list(parse_service_info(metadata).extent_latlng))
            finally:
                probe.quit()
            query = urlencode({"url": service_url, "width": size[0], "height": size[1],
                               "renderingRule": json.dumps(RENDERING_RULE, separators=(",", ":"))})
            peer = Page("esri-leaflet", f"{static}/{PEER_PAGE}?{query}", "window.map")
            runs: dict[str, list[list[MoveResult]]] = {"dashboard": [], "esri-leaflet": []}
            for round_index in range(options.rounds):
                order = (dashboard, peer) if round_index % 2 == 0 else (peer, dashboard)
                for page in order:
                    runs[page.name].append(run_page(page, start))
    report(runs, size, options)


if __name__ == "__main__":
    main()
