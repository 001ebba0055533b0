"""exportImage throughput: a 1024x768 PNG of 3 bands, reprojected from the scene's UTM to EPSG:3857.

Side by side in one run, over the same GeoTIFF and the same fixed list of views (pan/zoom variations):
the embedded ImageServer (waitress), TiTiler's `/bbox/.../{w}x{h}.png` (uvicorn), and bare rasterio
(WarpedVRT + Pillow PNG, at zlib level 6 and at the embedded server's own PNG settings) in this process; then the embedded mosaic service over
the same views, for information. Each target is measured with 1 and 2 concurrent clients after an untimed warm-up pass.

    python -m bench.export_throughput [--size N] [--views 12] [--rounds 5] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import platform
import pstats
import struct
import tempfile
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

import numpy as np
import rasterio
from PIL import Image
from rasterio.enums import Resampling
from rasterio.transform import from_bounds
from rasterio.vrt import WarpedVRT
from rasterio.warp import transform_bounds

from imageservice.server.encode import PNG_COMPRESS_LEVEL, PNG_STRATEGY
from imageservice.server.sampledata import DEFAULT_SIZE
from imageservice.server.server import create_app

from .common import (CLIENTS, MOSAIC_SERVICE, SCENE_SERVICE, HttpGetter, compare, prepare_data,
                     ratio_lines, readme_server, running, table, titiler_version)

WIDTH, HEIGHT = 1024, 768
BANDS = (3, 2, 1)  # Red, Green, Blue; 1-based as rasterio and TiTiler count (exportImage bandIds are 0-based)
WEB_MERCATOR = "EPSG:3857"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ZOOMS = (0.35, 0.6, 1.0, 1.6)  # view width as a fraction of the scene width
PANS = ((0.0, 0.0), (0.2, -0.15), (-0.25, 0.1), (0.1, 0.3))  # centre offsets, fractions of the scene width
# PNG settings of the in-process floor, (zlib level, strategy): Pillow's and TiTiler's default (level 6,
# GDAL ZLEVEL), and exactly the embedded server's (imageservice.server.encode: level 1, run-length).
FLOOR_PNG = {"zlib 6": (6, zlib.Z_DEFAULT_STRATEGY), "server's PNG settings": (PNG_COMPRESS_LEVEL, PNG_STRATEGY)}
FLOOR_SAME = "rasterio in-process, server's PNG settings"


@dataclass(frozen=True)
class View:
    bounds: tuple[float, float, float, float]  # xmin, ymin, xmax, ymax in EPSG:3857, aspect WIDTH:HEIGHT


def make_views(scene_bounds: tuple[float, float, float, float], count: int) -> list[View]:
    """`count` deterministic views over the scene: every zoom level at each pan offset in turn."""
    xmin, ymin, xmax, ymax = scene_bounds
    span = xmax - xmin
    views = []
    for index in range(count):
        zoom = ZOOMS[index % len(ZOOMS)]
        dx, dy = PANS[(index // len(ZOOMS)) % len(PANS)]
        cx, cy = (xmin + xmax) / 2 + dx * span, (ymin + ymax) / 2 + dy * span
        half_w = span * zoom / 2
        half_h = half_w * HEIGHT / WIDTH
        views.append(View((cx - half_w, cy - half_h, cx + half_w, cy + half_h)))
    return views


def png_size(body: bytes) -> tuple[int, int]:
    """Width and height from the PNG header; fails on anything that is not a PNG (an error envelope)."""
    if body[:8] != PNG_SIGNATURE:
        raise ValueError(f"not a PNG: {body[:120]!r}")
    return struct.unpack(">II", body[16:24])


def checked(fetch: Callable[[View], bytes]) -> Callable[[View], int]:
    """`fetch` made to fail unless it answers a WIDTH x HEIGHT PNG; returns the answer's size."""
    def fetch_png(view: View) -> int:
        body = fetch(view)
        if png_size(body) != (WIDTH, HEIGHT):
            raise ValueError(f"unexpected PNG size {png_size(body)}")
        return len(body)

    return fetch_png


def export_url(base: str, service: str, view: View) -> str:
    """The request esri-leaflet would send for this view, with format=png and the first three bands."""
    query = urlencode({
        "bbox": ",".join(repr(v) for v in view.bounds), "size": f"{WIDTH},{HEIGHT}", "format": "png",
        "transparent": "true", "bboxSR": 3857, "imageSR": 3857, "bandIds": ",".join(str(b - 1) for b in BANDS),
        "f": "image"}, safe=",")
    return f"{base}/arcgis/rest/services/{service}/ImageServer/exportImage?{query}"


def titiler_url(base: str, scene: Path, view: View, ranges: list[tuple[float, float]]) -> str:
    xmin, ymin, xmax, ymax = (repr(v) for v in view.bounds)
    query = [("url", str(scene)), ("coord_crs", WEB_MERCATOR), ("dst_crs", WEB_MERCATOR)]
    query += [("bidx", str(b)) for b in BANDS] + [("rescale", f"{lo},{hi}") for lo, hi in ranges]
    return f"{base}/bbox/{xmin},{ymin},{xmax},{ymax}/{WIDTH}x{HEIGHT}.png?{urlencode(query, quote_via=quote)}"


class RasterioRenderer:
    """The floor: open (once per thread), warp, rescale and PNG-encode in-process, no HTTP."""

    def __init__(self, scene: Path, ranges: list[tuple[float, float]], png: tuple[int, int]) -> None:
        self.scene = scene
        self.zlib_level, self.strategy = png
        self.low = np.array([lo for lo, _ in ranges], dtype="float32")[:, None, None]
        self.scale = np.array([255.0 / (hi - lo) for lo, hi in ranges], dtype="float32")[:, None, None]
        self._local = threading.local()

    def __call__(self, view: View) -> bytes:
        dataset = getattr(self._local, "dataset", None)
        if dataset is None:
            dataset = self._local.dataset = rasterio.open(self.scene)
        grid = from_bounds(*view.bounds, WIDTH, HEIGHT)
        with WarpedVRT(dataset, crs=WEB_MERCATOR, transform=grid, width=WIDTH, height=HEIGHT,
                       resampling=Resampling.nearest) as vrt:
            data = vrt.read(BANDS, masked=True)
        rgb = np.clip((data.data.astype("float32") - self.low) * self.scale, 0, 255).astype("uint8")
        alpha = np.where(np.ma.getmaskarray(data).any(axis=0), 0, 255).astype("uint8")
        out = io.BytesIO()
        Image.fromarray(np.dstack([*rgb, alpha]), "RGBA").save(out, "PNG", compress_level=self.zlib_level,
                                                                compress_type=self.strategy)
        return out.getvalue()


def band_ranges(scene: Path) -> list[tuple[float, float]]:
    """Min and max of the valid pixels of each benchmarked band: TiTiler's and rasterio's rescale."""
    with rasterio.open(scene) as dataset:
        data = dataset.read(BANDS, masked=True)
    return [(float(band.min()), float(band.max())) for band in data]


def run(data_root: Path, *, size: int, view_count: int, rounds: int) -> str:
    """All targets, both client counts; returns the Markdown report."""
    scene = prepare_data(data_root, size)
    with rasterio.open(scene) as dataset:
        scene_bounds = transform_bounds(dataset.crs, WEB_MERCATOR, *dataset.bounds)
        shape = f"{dataset.width}x{dataset.height} px, {dataset.count} bands {dataset.dtypes[0]}, {dataset.crs}"
    views = make_views(scene_bounds, view_count)
    ranges = band_ranges(scene)
    get = HttpGetter()
    with readme_server(data_root) as ours, \
            running("titiler", probe_path="/docs") as tiler:
        targets: dict[str, Callable[[View], bytes]] = {
            "embedded (scene)": lambda v: get(export_url(ours, SCENE_SERVICE, v)),
            "TiTiler": lambda v: get(titiler_url(tiler, scene, v, ranges)),
            **{f"rasterio in-process, {name}": RasterioRenderer(scene, ranges, png) for name, png in FLOOR_PNG.items()},
            "embedded (mosaic)": lambda v: get(export_url(ours, MOSAIC_SERVICE, v)),
        }
        checked_targets = {name: checked(fetch) for name, fetch in targets.items()}
        timings = [timing for clients in CLIENTS
                   for timing in compare(checked_targets, views, rounds=rounds, clients=clients)]
    return "\n".join([
        f"exportImage {WIDTH}x{HEIGHT} PNG, bands {list(BANDS)}, UTM -> EPSG:3857, {len(views)} views x {rounds} rounds",
        f"scene: {shape}; machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}, "
        f"rasterio {rasterio.__version__} (GDAL {rasterio.__gdal_version__}), titiler.core {titiler_version()}; "
        f"embedded server: scripts/run.sh (waitress); TiTiler: uvicorn, 1 worker; "
        f"{time.strftime('%Y-%m-%d %H:%M %Z')}",
        "",
        table(timings),
        "",
        *ratio_lines(timings, "embedded (scene)", "TiTiler"),
        *ratio_lines(timings, "embedded (scene)", FLOOR_SAME),
    ])


def profile(data_root: Path, *, size: int, view_count: int, rounds: int, limit: int = 30) -> str:
    """cProfile of the embedded server answering the scene views in-process (Flask test client)."""
    scene = prepare_data(data_root, size)
    with rasterio.open(scene) as dataset:
        views = make_views(transform_bounds(dataset.crs, WEB_MERCATOR, *dataset.bounds), view_count)
    client = create_app(data_root).test_client()

    export = checked(lambda view: client.get(export_url("", SCENE_SERVICE, view)).data)

    for view in views:
        export(view)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(rounds):
        for view in views:
            export(view)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    out.write(f"{rounds * len(views)} exportImage requests\n")
    stats.sort_stats("cumulative").print_stats("imageservice.server", limit)
    stats.sort_stats("tottime").print_stats(limit)
    return out.getvalue()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.export_throughput", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=DEFAULT_SIZE, help="sample data size in pixels (ensure_sample_data)")
    parser.add_argument("--views", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=5, help="timed passes over the views per target and client count")
    parser.add_argument("--data", type=Path, help="keep the data in this folder (default: a temporary one)")
    parser.add_argument("--profile", action="store_true", help="profile the embedded server instead of benchmarking")
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        root = options.data or Path(scratch)
        action = profile if options.profile else run
        print(action(root, size=options.size, view_count=options.views, rounds=options.rounds))


if __name__ == "__main__":
    main()
