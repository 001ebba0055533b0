"""The `SampleWind` sample service: a synthetic wind field (a vector field, data type Vector-UV).

Two F32 bands, u (towards the east) and v (towards the north) in m/s, on a grid four times coarser
than the landscape: a south-westerly breeze with a few eddies (each one a Gaussian stream function,
so the flow stays free of divergence), slowed over the hills. Vector services are what ArcGIS
clients fetch as LERC by default. Nothing here is real weather.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import rasterio
from rasterio.transform import from_origin

from .sampledata import COPYRIGHT, CRS_UTM10N, EXTENT_M, GENERATOR_VERSION, ORIGIN, SIDECAR

if TYPE_CHECKING:
    from .sampledata import Landscape

COARSENING = 4                           # wind cells per side of a landscape cell
MIN_CELLS = 16
BREEZE = (3.0, 2.5)                      # m/s towards the east and the north (from the south-west)
# Eddies: centre as fractions of the extent (east, south), strength of the stream function
# in m^2/s, radius in metres; positive turns anticlockwise.
EDDIES = ((0.30, 0.35, 9000.0, 3500.0), (0.70, 0.60, -12000.0, 5000.0), (0.55, 0.20, 6000.0, 2500.0))
HILL_SLOWDOWN = 0.6                      # the share of the speed lost at the highest ground


def wind_field(landscape: Landscape) -> tuple[np.ndarray, rasterio.Affine]:
    """(2, n, n) u and v in m/s and the grid's transform."""
    cells = max(MIN_CELLS, landscape.size // COARSENING)
    step = EXTENT_M / cells
    centres = (np.arange(cells) + 0.5) * step
    x, y = np.meshgrid(centres, -centres)                     # metres east and north of the NW corner
    u = np.full((cells, cells), BREEZE[0])
    v = np.full((cells, cells), BREEZE[1])
    for east, south, strength, radius in EDDIES:
        dx, dy = x - east * EXTENT_M, y + south * EXTENT_M
        psi = strength * np.exp(-(dx ** 2 + dy ** 2) / (2 * radius ** 2))
        u += psi * dy / radius ** 2                           # u = -dpsi/dy
        v -= psi * dx / radius ** 2                           # v = dpsi/dx
    rows = ((np.arange(cells) + 0.5) * landscape.size / cells).astype(int)
    ground = landscape.elevation[np.ix_(rows, rows)].astype(np.float64)
    height = (ground - ground.min()) / max(float(np.ptp(ground)), 1.0)
    slow = 1 - HILL_SLOWDOWN * height
    return np.stack([u * slow, v * slow]).astype(np.float32), from_origin(*ORIGIN, step, step)


def write_wind(folder: Path, landscape: Landscape) -> None:
    data, transform = wind_field(landscape)
    cells = data.shape[1]
    profile = {
        "driver": "GTiff", "width": cells, "height": cells, "count": 2, "dtype": "float32",
        "crs": CRS_UTM10N, "transform": transform, "compress": "deflate", "predictor": 3,
    }
    with rasterio.open(folder / "Wind.tif", "w", **profile) as dataset:
        dataset.write(data)
        dataset.descriptions = ("u", "v")
    sidecar = {
        "description": ("Synthetic sample data: a wind field (u towards the east, v towards the north, m/s) "
                        "over the Davis, California area: a south-westerly breeze with eddies, slower over "
                        "the hills. Not real weather."),
        "copyrightText": COPYRIGHT,
        "serviceDataType": "esriImageServiceDataTypeVector-UV",
        "bandNames": ["u", "v"],
        "generator": {"version": GENERATOR_VERSION, "size": landscape.size},
        "items": [{"file": "Wind.tif", "Name": "Wind"}],
    }
    (folder / SIDECAR).write_text(json.dumps(sidecar, indent=2) + "\n")
