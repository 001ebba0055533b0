"""The dashboard against esri-leaflet 3.1.0 in headless Chromium: page load, then one scripted pan/zoom sequence.

Both pages show the same embedded service (the dashboard as the README starts it, `scripts/run.sh`,
or under gunicorn as `scripts/serve.sh` runs it with `--server gunicorn`; the esri-leaflet page from
another 127.0.0.1 port, pointed at the dashboard's /arcgis), with the same map size, rendering rule
and start view (the service's extent). The same probe (bench/pan_probe.js) is injected into both
before their own scripts. Page load: time from navigation to the first exportImage picture on
screen, and the exportImage requests sent until the page is quiet. Per move: exportImage requests
the browser sent (DevTools network log), time from the move to the moment the picture for the final
view is on screen, and stale pictures (one that came on screen for bounds or a size the map no
longer showed). Rounds alternate which page goes first; every page run gets a fresh browser (an
empty cache). Every run's figures are printed, then the medians.

    python -m bench.browser_pan [--rounds 5] [--size N] [--data DIR] [--server run|gunicorn]
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
from .hosting import chromium, production_stack, run_script

SERVICE_PATH = "/arcgis/rest/services/SampleMultispectral/ImageServer"
RENDERING_RULE = None  # what the dashboard opens a service with: none, the publisher's default applies
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
class LoadResult:
    first_image_ms: float | None  # from navigation to the first exportImage picture on screen
    requests: int  # exportImage requests sent until the page was quiet
    callbacks: int  # Dash callback POSTs sent meanwhile
    stale: int


@dataclass(frozen=True)
class PageRun:
    load: LoadResult
    moves: list[MoveResult]
    stale_offsets: list[float | None]  # how far off (screen px; None: another size) each stale picture was


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


LOADED = """const b = window.__bench, last = b.assigned.length ? b.assigned[b.assigned.length - 1].t : 0;
    return {first: b.shown.length ? b.shown[0].t : null, quiet: performance.now() - last, stale: b.stale.length};"""


def open_page(page: Page, start: dict) -> tuple[Any, LoadResult]:
    """A fresh browser on the page, once its first picture is on screen and nothing new was asked
    for QUIET_MS; then at the start view (normally where the page already is). Returns what the load took."""
    driver = chromium(network_log=True)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": PROBE})
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument",
                           {"source": f"window.__bench.getMap = () => {page.map_expression};"})
    driver.get(page.url)
    WebDriverWait(driver, LOAD_SECONDS, poll_frequency=0.1).until(
        lambda d: (lambda r: r["first"] is not None and r["quiet"] > QUIET_MS)(d.execute_script(LOADED)))
    loaded = driver.execute_script(LOADED)
    sent = sent_requests(driver)
    load = LoadResult(loaded["first"], sent["exportImage"], sent["callbacks"], loaded["stale"])
    run_move(driver, page, [("setView", [start["center"], start["zoom"]], 0)])
    return driver, load


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


def run_page(page: Page, start: dict) -> PageRun:
    driver, load = open_page(page, start)
    try:
        results = []
        for name, actions in MOVES:
            sent_requests(driver)  # drop what came before this move
            result = run_move(driver, page, actions)
            sent = sent_requests(driver)
            results.append(MoveResult(name, sent["exportImage"], sent["callbacks"], result["timeToImage"],
                                      result["requested"], result["received"], result["stale"], result["finalUrl"]))
        offsets = driver.execute_script("return window.__bench.stale.map(s => isFinite(s.off) ? s.off : null);")
        return PageRun(load, results, [None if o is None else round(o, 1) for o in offsets])
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


def print_run(label: str, round_index: int, run: PageRun) -> None:
    """One page run's raw figures, as they come."""
    moves = run.moves
    print(f"- round {round_index + 1}, {label}: first image {ms(run.load.first_image_ms)} ms, "
          f"{run.load.requests} exportImage and {run.load.callbacks} callback requests at load, "
          f"{run.load.stale} stale at load; moves: requests {[m.requests for m in moves]} "
          f"(total {sum(m.requests for m in moves)}), ms {[None if m.time_to_image_ms is None else round(m.time_to_image_ms) for m in moves]}, "
          f"stale {sum(m.stale for m in moves)}, px off {run.stale_offsets}", flush=True)


def report_load(runs: dict[str, list[PageRun]]) -> None:
    dash, peer = runs["dashboard"], runs["esri-leaflet"]
    print("\nPage load, median over rounds:\n")
    print("| page | first image ms | exportImage requests at load | callback POSTs at load | stale at load |")
    print("|---|---:|---:|---:|---:|")
    for label, page_runs in runs.items():
        loads = [r.load for r in page_runs]
        print(f"| {label} | {ms(median_or_none([l.first_image_ms for l in loads]))} | "
              f"{statistics.median(l.requests for l in loads):g} | {statistics.median(l.callbacks for l in loads):g} | "
              f"{sum(l.stale for l in loads)} |")
    ratios = [d.load.first_image_ms / p.load.first_image_ms for d, p in zip(dash, peer)
              if d.load.first_image_ms and p.load.first_image_ms]
    if ratios:
        print(f"\n- first image, dashboard / esri-leaflet, median of the rounds' ratios: "
              f"**{statistics.median(ratios):.2f}** (target: at most 1.30); per round {[round(r, 2) for r in ratios]}")
    totals = {label: statistics.mean(r.load.requests + sum(m.requests for m in r.moves) for r in page_runs)
              for label, page_runs in runs.items()}
    print(f"- exportImage requests for page load + {len(MOVES)} moves, mean per round: dashboard "
          f"{totals['dashboard']:.1f}, esri-leaflet {totals['esri-leaflet']:.1f}, ratio "
          f"**{ratio(totals['dashboard'], totals['esri-leaflet'])}** (target: at most 1.00)")


def report(results: dict[str, list[PageRun]], size: tuple[int, int], options: argparse.Namespace) -> None:
    runs = {label: [r.moves for r in page_run] for label, page_run in results.items()}
    dash, peer = runs["dashboard"], runs["esri-leaflet"]
    print("\n# Pan/zoom in headless Chromium: dashboard vs esri-leaflet 3.1.0\n")
    server = ("scripts/run.sh (waitress)" if options.server == "run"
              else f"gunicorn {options.workers} workers x {options.threads} threads")
    print(f"{server}; sample data {options.size} px. "
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
    report_load(results)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.browser_pan", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--server", choices=["run", "gunicorn"], default="run",
                        help="the dashboard as scripts/run.sh starts it (default), or under gunicorn as scripts/serve.sh does")
    parser.add_argument("--size", type=int, default=DEFAULT_SIZE, help="sample data size in pixels")
    parser.add_argument("--data", type=Path, help="keep the sample data here and reuse it")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=8, help="threads per gunicorn worker")
    options = parser.parse_args()
    if not PEER_LIBRARY.is_file():
        raise SystemExit("esri-leaflet is missing: run `npm ci --prefix tests/js` (or scripts/setup.sh test).")

    with tempfile.TemporaryDirectory(prefix="bench-pan-") as scratch, static_server() as static:
        data = ensure_sample_data(options.data or Path(scratch) / "data", size=options.size)
        logs = Path(scratch) / "logs"
        stack_context = (run_script(data, logs) if options.server == "run" else
                         production_stack(data, logs, celery=False, workers=options.workers, threads=options.threads))
        with stack_context as stack:
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
            south, west, north, east = parse_service_info(metadata).extent_latlng
            query = urlencode({"url": service_url, "width": size[0], "height": size[1],
                               "renderingRule": json.dumps(RENDERING_RULE, separators=(",", ":")),
                               "bounds": json.dumps([[south, west], [north, east]])})
            peer = Page("esri-leaflet", f"{static}/{PEER_PAGE}?{query}", "window.map")
            runs: dict[str, list[PageRun]] = {"dashboard": [], "esri-leaflet": []}
            print("Every run:\n")
            for round_index in range(options.rounds):
                order = (dashboard, peer) if round_index % 2 == 0 else (peer, dashboard)
                for page in order:
                    runs[page.name].append(run_page(page, start))
                    print_run(page.name, round_index, runs[page.name][-1])
    report(runs, size, options)


if __name__ == "__main__":
    main()
