"""Load on the team-hosting stack: concurrent clients send a fixed mix of requests to gunicorn.

The dashboard with its embedded ImageServer runs as `scripts/serve.sh` runs it (gunicorn, --preload,
gthread workers) on 127.0.0.1. The mix: exportImage (the layer's picture for random views),
identify and catalog query (at random points and boxes), and Dash callback POSTs captured from a
real page in headless Chromium (page load, pans, a map click), replayed as they were sent;
background callbacks are left out, since replaying one only starts another job.

Phase 1, load: `--clients` threads x `--requests` each; errors, latency percentiles, throughput.
Phase 2, soak: `--soak` more requests of the same mix; the gunicorn processes' memory (RSS) is
sampled every `--every` requests.

    python -m bench.load                                   # 8 x 250, soak 500, full-size data
    python -m bench.load --clients 2 --requests 20 --soak 40 --size 256   # a smoke run, ~1 minute
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import requests
from selenium.webdriver.support.ui import WebDriverWait

from components import ids
from imageservice.layer import ImageMapLayer
from imageservice.urls import View
from imageservice.server.sampledata import DEFAULT_SIZE, ensure_sample_data

from .hosting import Stack, chromium, production_stack

SERVICE_PATH = "/arcgis/rest/services/SampleMultispectral/ImageServer"
RENDERING_RULE = {"rasterFunction": "Natural Color"}  # what the dashboard opens the sample service with
IMAGE_SIZE = (1024, 768)
MIX = {"exportImage": 0.4, "identify": 0.2, "query": 0.15, "dash": 0.25}
SEED = 8
TIMEOUT = 60.0
CAPTURE_SECONDS = 60.0
MiB = 2**20

# Injected before the page's own scripts: keep a copy of every Dash callback POST the renderer sends.
RECORD_POSTS = """
window.__dashPosts = [];
const originalFetch = window.fetch;
window.fetch = function (input, init) {
    const url = typeof input === "string" ? input : input.url;
    if (url.includes("_dash-update-component") && init && init.body) {
        window.__dashPosts.push(init.body);
    }
    return originalFetch.apply(this, arguments);
};
"""


@dataclass(frozen=True)
class Job:
    kind: str
    method: str
    url: str
    body: str | None = None  # a Dash callback's JSON


@dataclass(frozen=True)
class Outcome:
    kind: str
    seconds: float
    error: str | None


# --- the requests ----------------------------------------------------------------------------------


def capture_dash_posts(stack: Stack) -> list[str]:
    """The callback POST bodies the dashboard's renderer sends for a page load, three pans and a
    map click (which runs identify), minus background callbacks; each distinct body once."""
    background = {c["output"] for c in requests.get(stack.url + "/_dash-dependencies", timeout=TIMEOUT).json()
                  if c.get("background")}
    driver = chromium()
    try:
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_POSTS})
        driver.get(stack.url + "/")
        wait = WebDriverWait(driver, CAPTURE_SECONDS, poll_frequency=0.2)
        loads = "const s = window.imageMapLayer && window.imageMapLayer.stateOf('main'); return s ? s.counts.load : 0;"
        wait.until(lambda d: d.execute_script(loads) >= 1)
        for step, offset in enumerate([(200, 0), (0, 150), (-120, -60)], start=2):
            driver.execute_script("window.imageMapLayer.mapOf('main').panBy(arguments[0], {animate: false});", offset)
            wait.until(lambda d, step=step: d.execute_script(loads) >= step)
        driver.execute_script("const m = window.imageMapLayer.mapOf('main'); m.fire('click', {latlng: m.getCenter()});")
        wait.until(lambda d: d.execute_script("return !document.getElementById(arguments[0]).hidden;", ids.PIXEL_RESULTS))
        time.sleep(1.0)  # the callbacks the click chains to
        bodies = driver.execute_script("return window.__dashPosts;")
    finally:
        driver.quit()
    kept = [body for body in dict.fromkeys(bodies) if json.loads(body)["output"] not in background]
    if not kept:
        raise RuntimeError("the page sent no Dash callback POSTs to replay")
    return kept


def make_jobs(stack: Stack, posts: Sequence[str], count: int, rng: random.Random) -> list[Job]:
    """`count` requests drawn from MIX: views, points and boxes inside the service's extent."""
    service_url = stack.url + SERVICE_PATH
    layer = ImageMapLayer(service_url, rendering_rule=RENDERING_RULE)
    south, west, north, east = layer.service_info().extent_latlng
    kinds = rng.choices(list(MIX), weights=list(MIX.values()), k=count)
    jobs = []
    for kind in kinds:
        lat, lng = rng.uniform(south, north), rng.uniform(west, east)
        if kind == "exportImage":
            half = rng.uniform(0.05, 0.5) * (east - west)  # views a tenth to all of the extent wide
            view = View(south=lat - half * 0.75, west=lng - half, north=lat + half * 0.75, east=lng + half,
                        width=IMAGE_SIZE[0], height=IMAGE_SIZE[1])
            jobs.append(Job(kind, "GET", layer.export_url(view)))
        elif kind == "identify":
            jobs.append(Job(kind, "GET", _with_query(service_url + "/identify", layer.identify().at(lat, lng).to_params())))
        elif kind == "query":
            box = (lng - 0.05, lat - 0.05, lng + 0.05, lat + 0.05)
            params = layer.query().intersects(box).where("CloudCover < 30").to_params()
            jobs.append(Job(kind, "GET", _with_query(service_url + "/query", params)))
        else:
            jobs.append(Job(kind, "POST", stack.url + "/_dash-update-component", rng.choice(posts)))
    return jobs


def _with_query(url: str, params: dict[str, str]) -> str:
    return requests.Request("GET", url, params={**params, "f": "json"}).prepare().url


# --- sending them ---------------------------------------------------------------------------------


class Sender:
    """One keep-alive session per client thread; an answer is an error unless it is what a
    browser would accept: an image for exportImage, JSON without an ArcGIS error for identify and
    query, 200 or 204 (no update) for a Dash callback."""

    def __init__(self) -> None:
        self._local = threading.local()

    def __call__(self, job: Job) -> Outcome:
        session = getattr(self._local, "session", None) or self._new_session()
        start = time.perf_counter()
        try:
            if job.method == "POST":
                response = session.post(job.url, data=job.body, headers={"Content-Type": "application/json"},
                                        timeout=TIMEOUT)
            else:
                response = session.get(job.url, timeout=TIMEOUT)
            error = _judge(job.kind, response)
        except requests.RequestException as exc:
            error = type(exc).__name__
        return Outcome(job.kind, time.perf_counter() - start, error)

    def _new_session(self) -> requests.Session:
        self._local.session = requests.Session()
        return self._local.session


def _judge(kind: str, response: requests.Response) -> str | None:
    if kind == "dash":
        return None if response.status_code in (200, 204) else f"HTTP {response.status_code}"
    if response.status_code != 200:
        return f"HTTP {response.status_code}"
    if kind == "exportImage":
        kind_of = response.headers.get("Content-Type", "")
        return None if kind_of.startswith("image/") else f"not an image: {response.text[:120]}"
    body = response.json()
    return f"ArcGIS error {body['error'].get('code')}" if "error" in body else None


def run(jobs: Sequence[Job], clients: int, sender: Sender) -> tuple[list[Outcome], float]:
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        outcomes = list(pool.map(sender, jobs))
    return outcomes, time.perf_counter() - start


def rss(stack: Stack) -> list[int]:
    """Resident memory of each gunicorn worker, in bytes."""
    return [worker.memory_info().rss for worker in stack.web_workers()]


# --- the report -----------------------------------------------------------------------------------


def latency_table(outcomes: Sequence[Outcome]) -> str:
    lines = ["| requests | count | errors | median ms | p90 ms | p99 ms | max ms |", "|---|---:|---:|---:|---:|---:|---:|"]
    groups = {kind: [o for o in outcomes if o.kind == kind] for kind in MIX}
    for name, group in [*groups.items(), ("all", list(outcomes))]:
        if not group:
            continue
        ms = np.array([o.seconds for o in group]) * 1000
        errors = sum(o.error is not None for o in group)
        lines.append(f"| {name} | {len(group)} | {errors} | {statistics.median(ms):.0f} | {np.percentile(ms, 90):.0f} "
                     f"| {np.percentile(ms, 99):.0f} | {ms.max():.0f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=250, help="requests per client in the load phase")
    parser.add_argument("--soak", type=int, default=500, help="requests in the soak phase")
    parser.add_argument("--every", type=int, default=50, help="soak requests between memory samples")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=8, help="threads per gunicorn worker")
    parser.add_argument("--size", type=int, default=DEFAULT_SIZE, help="sample data size in pixels")
    parser.add_argument("--data", type=Path, help="keep the sample data here and reuse it")
    options = parser.parse_args()

    rng = random.Random(SEED)
    with tempfile.TemporaryDirectory(prefix="bench-load-") as scratch:
        data = ensure_sample_data(options.data or Path(scratch) / "data", size=options.size)
        with production_stack(data, Path(scratch) / "logs", celery=False, workers=options.workers,
                              threads=options.threads) as stack:
            posts = capture_dash_posts(stack)
            load_jobs = make_jobs(stack, posts, options.clients * options.requests, rng)
            soak_jobs = make_jobs(stack, posts, options.soak, rng)
            sender = Sender()
            outcomes, wall = run(load_jobs, options.clients, sender)
            samples = [(0, rss(stack))]
            soaked: list[Outcome] = []
            for start in range(0, len(soak_jobs), options.every):
                done, _ = run(soak_jobs[start:start + options.every], options.clients, sender)
                soaked += done
                samples.append((len(soaked), rss(stack)))

    print(f"# Load on gunicorn ({options.workers} workers x {options.threads} threads, --preload)\n")
    memory = {name: os.environ.get(name, "serve.sh default") for name in ("GDAL_CACHEMAX", "MALLOC_ARENA_MAX")}
    print(f"{platform.python_implementation()} {platform.python_version()}, {platform.machine()}; sample data "
          f"{options.size} px; {len(posts)} distinct Dash callback POSTs captured from the page; "
          + ", ".join(f"{name} {value}" for name, value in memory.items()) + ".\n")
    print(f"## Load: {options.clients} clients x {options.requests} requests\n")
    print(latency_table(outcomes))
    print(f"\n{len(outcomes)} requests in {wall:.1f} s: {len(outcomes) / wall:.1f} requests/s.")
    errors = Counter(o.error for o in outcomes + soaked if o.error)
    print(f"Errors (load and soak): {sum(errors.values())}" + "".join(f"\n- {n} x {e}" for e, n in errors.most_common()))
    print(f"\n## Soak: {len(soaked)} more requests, gunicorn workers' RSS\n")
    print("| requests | " + " | ".join(f"worker {i + 1} MiB" for i in range(len(samples[0][1]))) + " | total MiB |")
    print("|---:|" + "---:|" * (len(samples[0][1]) + 1))
    for done, sizes in samples:
        print(f"| {done} | " + " | ".join(f"{s / MiB:.0f}" for s in sizes) + f" | {sum(sizes) / MiB:.0f} |")
    middle = samples[len(samples) // 2][1]
    print(f"\nGrowth over the soak: {(sum(samples[-1][1]) - sum(samples[0][1])) / MiB:+.1f} MiB in all, "
          f"{(sum(samples[-1][1]) - sum(middle)) / MiB:+.1f} MiB over its second half.")


if __name__ == "__main__":
    main()
