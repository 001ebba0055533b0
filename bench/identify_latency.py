"""identify latency: the embedded ImageServer's `identify` (as esri-leaflet's popup sends it) against
TiTiler's `/point/{lon},{lat}` and an in-process rasterio sample, at the same fixed points of the same
GeoTIFF; the embedded mosaic service at the same points for information. Before timing, the values
the embedded server and TiTiler return are compared point by point.

    python -m bench.identify_latency [--size N] [--points 40] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import numpy as np
import rasterio
from rasterio.warp import transform

from imageservice.server.sampledata import DEFAULT_SIZE

from .common import (CLIENTS, MOSAIC_SERVICE, SCENE_SERVICE, HttpGetter, compare, prepare_data,
                     ratio_lines, readme_server, running, table, titiler_version)

Point = tuple[float, float]  # lon, lat


def sample_points(scene: Path, count: int) -> list[Point]:
    """Centres of `count` valid pixels of the scene, drawn with a fixed seed, in lon/lat."""
    with rasterio.open(scene) as dataset:
        rows, cols = np.nonzero(dataset.dataset_mask())
        picks = np.random.default_rng(0).choice(len(rows), size=count, replace=False)
        xs, ys = zip(*(dataset.xy(int(rows[i]), int(cols[i])) for i in picks))
        lons, lats = transform(dataset.crs, "EPSG:4326", list(xs), list(ys))
    return list(zip(lons, lats))


def identify_url(base: str, service: str, point: Point) -> str:
    """esri-leaflet's popup identify: returnGeometry first, the point as WGS84 JSON, f=json last."""
    geometry = json.dumps({"x": point[0], "y": point[1], "spatialReference": {"wkid": 4326}}, separators=(",", ":"))
    query = urlencode({"returnGeometry": "false", "geometry": geometry, "geometryType": "esriGeometryPoint",
                       "f": "json"})
    return f"{base}/arcgis/rest/services/{service}/ImageServer/identify?{query}"


def identify_value(body: bytes) -> str:
    answer = json.loads(body)
    if "error" in answer:
        raise ValueError(f"identify failed: {answer['error']}")
    return answer["value"]


def titiler_values(body: bytes) -> list[float]:
    return json.loads(body)["values"]


class RasterioSampler:
    """The floor: one open dataset per thread, reproject the point, sample all bands."""

    def __init__(self, scene: Path) -> None:
        self.scene = scene
        self._local = threading.local()

    def __call__(self, point: Point) -> list[float]:
        dataset = getattr(self._local, "dataset", None)
        if dataset is None:
            dataset = self._local.dataset = rasterio.open(self.scene)
        xs, ys = transform("EPSG:4326", dataset.crs, [point[0]], [point[1]])
        return [float(v) for v in next(dataset.sample([(xs[0], ys[0])]))]


def run(data_root: Path, *, size: int, point_count: int, rounds: int) -> str:
    scene = prepare_data(data_root, size)
    points = sample_points(scene, point_count)
    get = HttpGetter()
    sample = RasterioSampler(scene)
    with readme_server(data_root) as ours, \
            running("titiler", probe_path="/docs") as tiler:
        def titiler_point(point: Point) -> list[float]:
            return titiler_values(get(f"{tiler}/point/{point[0]!r},{point[1]!r}?{urlencode({'url': str(scene)})}"))

        mismatches = [p for p in points
                      if identify_value(get(identify_url(ours, SCENE_SERVICE, p)))
                      != ", ".join(f"{v:g}" for v in titiler_point(p))]
        targets = {
            "embedded identify (scene)": lambda p: identify_value(get(identify_url(ours, SCENE_SERVICE, p))),
            "TiTiler /point": titiler_point,
            "rasterio in-process": sample,
            "embedded identify (mosaic)": lambda p: identify_value(get(identify_url(ours, MOSAIC_SERVICE, p))),
        }
        timings = [timing for clients in CLIENTS
                   for timing in compare(targets, points, rounds=rounds, clients=clients)]
    return "\n".join([
        f"identify at {len(points)} fixed points x {rounds} rounds; embedded server: "
        f"scripts/run.sh (waitress); TiTiler {titiler_version()}: uvicorn, 1 worker; {time.strftime('%Y-%m-%d %H:%M %Z')}",
        f"values equal to TiTiler's at {len(points) - len(mismatches)}/{len(points)} points",
        "",
        table(timings),
        "",
        *ratio_lines(timings, "embedded identify (scene)", "TiTiler /point"),
    ])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.identify_latency", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=DEFAULT_SIZE, help="sample data size in pixels (ensure_sample_data)")
    parser.add_argument("--points", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=5, help="timed passes over the points per target and client count")
    parser.add_argument("--data", type=Path, help="keep the data in this folder (default: a temporary one)")
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        print(run(options.data or Path(scratch), size=options.size, point_count=options.points,
                  rounds=options.rounds))


if __name__ == "__main__":
    main()
