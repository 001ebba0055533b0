"""Memory of the server the README starts (`scripts/run.sh`): resident memory (RSS) of its process
over a warm-up and then a longer run of the same seeded request mix.

    python -m bench.memory [--warmup 500] [--requests 1000] [--every 100] [--clients 2] [--size N] [--data DIR]

The mix, over the sample data: 45 % exportImage 1024x768 (jpgpng, the "Natural Color" rule) of the
mosaic at random views a tenth to all of its extent wide, 15 % the same on the single scene as PNG,
25 % identify at random points, 15 % catalog query. RSS (psutil) is read after the warm-up and then
every `--every` requests; the goal is a growth under 20 MiB over the run after the warm-up.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import psutil
import requests

from imageservice.metadata import parse_service_info
from imageservice.server.sampledata import DEFAULT_SIZE

from .common import MOSAIC_SERVICE, SCENE_SERVICE, HttpGetter, prepare_data, readme_server, server_pid

MIB = 1024 * 1024
RENDERING_RULE = json.dumps({"rasterFunction": "Natural Color"}, separators=(",", ":"))


def request_mix(base: str, count: int, seed: int) -> list[str]:
    """`count` request URLs drawn with a fixed seed (see the module's docstring)."""
    root = f"{base}/arcgis/rest/services"
    info = parse_service_info(requests.get(f"{root}/{MOSAIC_SERVICE}/ImageServer", params={"f": "json"},
                                           timeout=30).json())
    xmin, ymin, xmax, ymax = info.extent
    wkid = info.spatial_reference
    rng = random.Random(seed)

    def view() -> str:
        width = (xmax - xmin) * rng.uniform(0.1, 1.0)
        height = width * 768 / 1024
        x, y = rng.uniform(xmin, xmax - width), rng.uniform(ymin, max(ymin, ymax - height))
        return f"{x},{y},{x + width},{y + height}"

    def point() -> str:
        return json.dumps({"x": rng.uniform(xmin, xmax), "y": rng.uniform(ymin, ymax), "spatialReference": {"wkid": wkid}})

    urls = []
    for _ in range(count):
        kind = rng.random()
        if kind < 0.45:
            query = {"bbox": view(), "bboxSR": wkid, "imageSR": wkid, "size": "1024,768", "format": "jpgpng",
                     "renderingRule": RENDERING_RULE, "f": "image"}
            urls.append(f"{root}/{MOSAIC_SERVICE}/ImageServer/exportImage?{urlencode(query)}")
        elif kind < 0.60:
            query = {"bbox": view(), "bboxSR": wkid, "imageSR": wkid, "size": "1024,768", "format": "png",
                     "bandIds": "2,1,0", "f": "image"}
            urls.append(f"{root}/{SCENE_SERVICE}/ImageServer/exportImage?{urlencode(query)}")
        elif kind < 0.85:
            query = {"geometry": point(), "geometryType": "esriGeometryPoint", "returnGeometry": "false", "f": "json"}
            urls.append(f"{root}/{MOSAIC_SERVICE}/ImageServer/identify?{urlencode(query)}")
        else:
            query = {"where": f"CloudCover < {rng.randint(10, 60)}", "geometry": view(), "geometryType": "esriGeometryEnvelope",
                     "inSR": wkid, "returnGeometry": "false", "outFields": "*", "f": "json"}
            urls.append(f"{root}/{MOSAIC_SERVICE}/ImageServer/query?{urlencode(query)}")
    return urls


def send(urls: list[str], clients: int) -> None:
    """Every URL, `clients` at a time, each client with its own keep-alive session; fails on an error."""
    get = HttpGetter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        for body in pool.map(get, urls):
            if body[:1] == b"{" and b'"error"' in body[:200]:
                raise RuntimeError(f"the server answered an error: {body[:300]!r}")


def run(data_root: Path, *, size: int, warmup: int, count: int, every: int, clients: int) -> str:
    prepare_data(data_root, size)
    with readme_server(data_root) as base:
        process = psutil.Process(server_pid(base))
        urls = request_mix(base, warmup + count, seed=1)
        started = time.perf_counter()
        send(urls[:warmup], clients)
        samples = [(warmup, process.memory_info().rss)]
        for start in range(warmup, warmup + count, every):
            send(urls[start:start + every], clients)
            samples.append((start + every, process.memory_info().rss))
        seconds = time.perf_counter() - started
    base_rss = samples[0][1]
    growth = (samples[-1][1] - base_rss) / MIB
    peak = (max(rss for _, rss in samples) - base_rss) / MIB
    # RSS swings by the answers in flight (a few 1024x768 pictures); the trend compares the middle
    # of the first three samples after the warm-up with the middle of the last three.
    trend = (statistics.median(rss for _, rss in samples[-3:]) - statistics.median(rss for _, rss in samples[:3])) / MIB
    lines = [f"scripts/run.sh (waitress), GDAL_CACHEMAX={os.environ.get('GDAL_CACHEMAX', '256 (run.sh default)')}; "
             f"{warmup} warm-up + {count} requests, {clients} clients, {seconds:.0f} s; {time.strftime('%Y-%m-%d %H:%M %Z')}",
             "", "| requests sent | RSS MiB |", "|---:|---:|"]
    lines += [f"| {sent} | {rss / MIB:.1f} |" for sent, rss in samples]
    lines += ["", f"- RSS growth over the {count} requests after the warm-up: last sample {growth:+.1f} MiB, "
                  f"highest {peak:+.1f} MiB, trend (median of the last 3 samples - median of the first 3) "
                  f"**{trend:+.1f} MiB** (goal: under 20 MiB)"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--every", type=int, default=100)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--size", type=int, default=DEFAULT_SIZE, help="sample data size in pixels")
    parser.add_argument("--data", type=Path, help="keep the data in this folder (default: a temporary one)")
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        print(run(options.data or Path(scratch), size=options.size, warmup=options.warmup, count=options.requests,
                  every=options.every, clients=options.clients))


if __name__ == "__main__":
    main()
