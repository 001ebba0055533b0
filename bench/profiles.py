"""Multidimensional requests on the embedded ImageServer's `SampleOceanCube`: what a pixel chart
costs (identify with processAsMultidimensional through time and through depth) next to a plain
identify and one exportImage of a slice, at fixed points of the cube.

    python -m bench.profiles [--points 20] [--rounds 3] [--data DIR]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import numpy as np

from imageservice.server.catalog import load_services
from imageservice.server.oceancube import SERVICE, ensure_ocean_cube

from .common import CLIENTS, HttpGetter, compare, running, table
from .servers import embedded_server_name


def definition(variable: str, dimension: str, value: float) -> str:
    return json.dumps({"multidimensionalDefinition": [
        {"variableName": variable, "dimensionName": dimension, "values": [value], "isSlice": True}]})


def requests_for(base: str, points: list[tuple[float, float]], time_ms: int) -> dict[str, list[str]]:
    """The URLs each target requests: one per point (the export once per point too)."""
    service = f"{base}/arcgis/rest/services/{SERVICE}/ImageServer"
    common = {"geometryType": "esriGeometryPoint", "returnGeometry": "false", "f": "json"}

    def identify(x: float, y: float, **extra: str) -> str:
        return f"{service}/identify?" + urlencode({"geometry": f"{x},{y}", **common, **extra})

    return {
        "identify (mosaicked pixel)": [identify(x, y, returnCatalogItems="false") for x, y in points],
        "time series (12 slices)": [identify(x, y, processAsMultidimensional="true",
                                             mosaicRule=definition("temperature", "StdZ", 0)) for x, y in points],
        "depth profile (6 slices)": [identify(x, y, processAsMultidimensional="true",
                                              mosaicRule=definition("temperature", "StdTime", time_ms))
                                     for x, y in points],
        "exportImage 800x800 png of a slice": [f"{service}/exportImage?" + urlencode({
            "bbox": "-125.05,36.5,-123.05,38.5", "bboxSR": 4326, "size": "800,800", "format": "png", "f": "image",
            "mosaicRule": definition("salinity", "StdZ", -50)}) for _ in points],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--data", type=Path, help="keep the generated cube in DIR and reuse it")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        data = options.data or Path(scratch)
        start = time.perf_counter()
        ensure_ocean_cube(data)
        print(f"cube ready in {time.perf_counter() - start:.2f} s")
        service = load_services(data)[SERVICE]
        rng = np.random.default_rng(0)
        xmin, ymin, xmax, ymax = service.extent
        points = [(float(rng.uniform(xmin, xmax)), float(rng.uniform(ymin, ymax))) for _ in range(options.points)]
        time_ms = service.items[0].start_ms
        with running("embedded", str(data), probe_path=f"/arcgis/rest/services/{SERVICE}/ImageServer?f=json") as base:
            get = HttpGetter()
            urls = requests_for(base, points, time_ms)
            print(f"embedded server under {embedded_server_name()}, {options.points} points, {options.rounds} rounds\n")
            for clients in CLIENTS:
                targets = {name: (lambda index, urls=urls[name]: len(get(urls[index]))) for name in urls}
                print(table(compare(targets, list(range(options.points)), rounds=options.rounds, clients=clients)))
                print()


if __name__ == "__main__":
    main()
