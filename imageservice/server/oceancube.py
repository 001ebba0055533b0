"""The multidimensional sample service: a synthetic sea water cube, generated offline.

`SampleOceanCube` holds sea water temperature (degC) and salinity (psu) off the central
California coast for 12 months of 2025 at 6 depths: one small F32 GeoTIFF per slice and a
`catalog.json` that gives each file its `Variable`, `StdTime` and `StdZ`, which is how ArcGIS
mosaic datasets describe multidimensional data. The physics is made up but plausible: a mixed
layer over a thermocline, a seasonal cycle strongest at the surface that lags and fades with
depth, and cool salty upwelled water near the coast in spring and summer. Nothing here is real data.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
import rasterio
from rasterio.crs import CRS
from rasterio.transform import from_origin

from .catalog import load_folder

SERVICE = "SampleOceanCube"
VERSION = 2                              # bump when the output changes, so stale copies are rebuilt
SIDECAR = "catalog.json"
SIZE = 100                               # pixels per side
CELL_DEG = 0.02
WEST, NORTH = -125.05, 38.5              # all ocean: the coast lies east of -123.0
DEPTHS_M = (0.0, -10.0, -25.0, -50.0, -100.0, -200.0)   # StdZ: negative below the surface
TIMES = tuple(dt.datetime(2025, month, 15, tzinfo=dt.timezone.utc) for month in range(1, 13))
NODATA = -9999.0
SEED = 20250615
VARIABLES = {
    "temperature": {"description": "Sea water potential temperature", "unit": "degC"},
    "salinity": {"description": "Sea water salinity", "unit": "psu"},
}
DIMENSIONS = {
    "StdTime": {"description": "Time", "unit": "ISO8601"},
    "StdZ": {"description": "Depth below the sea surface", "unit": "m"},
}


def ensure_ocean_cube(root: Path) -> Path:
    """Write the cube into `root/SampleOceanCube` unless a current copy is there; like the other
    samples it is built in a hidden folder and renamed into place, and a folder this module did
    not write is never touched."""
    target = Path(root) / SERVICE
    if _stamp(target) == _current_stamp():
        return target
    if target.exists() and _stamp(target) is None:
        raise FileExistsError(f"{target} exists and does not hold generated sample data")
    temp = Path(tempfile.mkdtemp(prefix=f".{SERVICE}.", dir=root))
    temp.chmod(0o755)
    try:
        write_cube(temp)
        # Scanned here, off the first start's critical path (the scenes are made meanwhile), so the
        # first load finds the 144 slices' statistics in the folder's cache.
        load_folder(temp, SERVICE)
        if target.exists():
            shutil.rmtree(target)
        temp.rename(target)
    except OSError:
        if _stamp(target) != _current_stamp():   # fine only if a concurrent caller finished first
            raise
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return target


def _current_stamp() -> dict:
    return {"version": VERSION, "size": SIZE}


def _stamp(folder: Path) -> dict | None:
    try:
        return json.loads((folder / SIDECAR).read_text())["generator"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


class Ocean:
    """The cube's fields on the grid: distance from the coast and a smooth eddy pattern."""

    def __init__(self) -> None:
        rng = np.random.default_rng(SEED)
        centres = (np.arange(SIZE) + 0.5) / SIZE
        x, y = np.meshgrid(centres, centres)             # x east, y south, both 0..1
        self.offshore = 1.0 - x                          # 0 at the coast-side edge, 1 far offshore
        self.south = y
        eddies = np.zeros((SIZE, SIZE))
        for _ in range(6):                               # a few smooth waves make meanders
            kx, ky = rng.uniform(1.0, 4.0, 2) * rng.choice([-1, 1], 2)
            eddies += np.sin(2 * np.pi * (kx * x + ky * y) + rng.uniform(0, 2 * np.pi))
        self.eddies = eddies / 6

    def upwelling(self, day: float) -> np.ndarray:
        """Strength of coastal upwelling (0..1): near the coast, from spring to mid summer."""
        season = np.exp(-0.5 * ((day - 160) / 45) ** 2)
        return season * np.exp(-self.offshore / 0.25)

    def temperature(self, day: float, depth: float) -> np.ndarray:
        """degC: a well-mixed surface layer (deep in winter, shallow in summer) over a thermocline
        down to ~8.5 degC at 200 m. The seasonal cycle peaks in late September at the surface and
        reaches the water below later and weaker, as the mixed layer deepens in autumn."""
        down = -depth
        mixed_layer = 25 + 12 * np.cos(2 * np.pi * (day - 20) / 365)
        seen = day - 0.45 * max(0.0, down - mixed_layer)      # heat takes days to reach deeper water
        surface = 12.2 + 2.2 * self.offshore + 0.9 * self.south + 0.5 * self.eddies
        surface = surface + 2.2 * np.cos(2 * np.pi * (seen - 265) / 365) - 3.0 * self.upwelling(seen)
        shape = np.exp(-np.maximum(0.0, down - mixed_layer) / 55)
        return 8.4 + 0.2 * self.eddies + (surface - 0.01 * down - 8.4) * shape

    def salinity(self, day: float, depth: float) -> np.ndarray:
        """psu: fresher at the surface, saltier below; upwelling brings salty water up near the coast."""
        down = -depth
        surface = 33.05 + 0.25 * self.offshore - 0.1 * self.south + 0.05 * self.eddies
        surface = surface + 0.08 * np.cos(2 * np.pi * (day - 100) / 365)
        halocline = 1 - np.exp(-down / 70)
        upwelled = 0.6 * self.upwelling(day) * np.exp(-down / 80)
        return surface + (34.15 - surface) * halocline + upwelled * (1 - halocline)


def slice_name(variable: str, time: dt.datetime, depth: float) -> str:
    return f"{variable}_{time:%Y%m%d}_{int(-depth)}m"


def write_cube(folder: Path) -> None:
    """Every slice as a GeoTIFF and the sidecar that lists them, variable by variable, then by
    time, then from the surface down."""
    ocean = Ocean()
    transform = from_origin(WEST, NORTH, CELL_DEG, CELL_DEG)
    items = []
    for variable in VARIABLES:
        field = getattr(ocean, variable)
        for time in TIMES:
            day = time.timetuple().tm_yday
            for depth in DEPTHS_M:
                name = slice_name(variable, time, depth)
                write_slice(folder / f"{name}.tif", field(day, depth).astype(np.float32), transform)
                items.append({"file": f"{name}.tif", "Name": name, "Variable": variable,
                              "StdTime": time.strftime("%Y-%m-%dT%H:%M:%SZ"), "StdZ": depth})
    sidecar = {
        "description": ("Synthetic sample data: monthly sea water temperature (degC) and salinity (psu) "
                        "in 2025 at six depths off the central California coast. Not real data."),
        "copyrightText": "Synthetic sample data generated by dash-imageservice; not real data.",
        "serviceDataType": "esriImageServiceDataTypeScientific",
        "bandNames": ["Value"],
        "variables": VARIABLES,
        "dimensions": DIMENSIONS,
        "startTimeField": "StdTime",
        # The first slice on top: the earliest time, and the surface before the depths below it.
        "defaultMosaicMethod": "ByAttribute",
        "sortField": "StdTime",
        "sortValue": TIMES[0].strftime("%Y-%m-%dT%H:%M:%SZ"),
        "sortAscending": True,
        "generator": _current_stamp(),
        "items": items,
    }
    (folder / SIDECAR).write_text(json.dumps(sidecar, indent=2) + "\n")


def write_slice(path: Path, data: np.ndarray, transform: rasterio.Affine) -> None:
    profile = {"driver": "GTiff", "width": SIZE, "height": SIZE, "count": 1, "dtype": "float32",
               "crs": CRS.from_epsg(4326), "transform": transform, "nodata": NODATA,
               "compress": "deflate", "predictor": 3}
    with rasterio.open(path, "w", **profile) as dataset:
        dataset.write(data[np.newaxis])
        dataset.descriptions = ("Value",)
