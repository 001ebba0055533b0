"""Known points of the sample data and the truth about them, read straight from the GeoTIFFs.

The pixel inspector's tests compare what the server answers with what rasterio reads here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.warp import transform
from rasterio.windows import Window

from callbacks.pixel import service_facts
from imageservice.server.sampledata import EXTENT_M, ORIGIN

SERVICE = "SampleMultispectral"
SERVICE_PATH = f"/arcgis/rest/services/{SERVICE}/ImageServer/"
BANDS = ["Blue", "Green", "Red", "NIR", "SWIR1", "SWIR2"]
SCENE_COUNT = 14


def _latlng(east_m: float, south_m: float) -> tuple[float, float]:
    """A point given in metres east and south of the sample data's north-west corner."""
    (lng,), (lat,) = transform("EPSG:32610", "EPSG:4326", [ORIGIN[0] + east_m], [ORIGIN[1] - south_m])
    return lat, lng


# A tomato field in the valley, inside every scene's swath: NDVI peaks in summer.
CROP_POINT = _latlng(13_500, 6_000)
# Inside the extent, west of every scene's swath: NoData.
NO_DATA_POINT = _latlng(300, EXTENT_M / 2)
# Far east of the extent.
OUTSIDE_POINT = (38.55, -100.0)


def scene_path(sample_root: Path, name: str) -> Path:
    return sample_root / SERVICE / f"{name}.tif"


def read_pixel(path: Path, lat: float, lng: float) -> list[float] | None:
    """The band values of a GeoTIFF at a lat/lng (NaN for a NoData band); None where it has no data."""
    with rasterio.open(path) as dataset:
        (x,), (y,) = transform("EPSG:4326", dataset.crs, [lng], [lat])
        row, col = dataset.index(x, y)
        if not (0 <= row < dataset.height and 0 <= col < dataset.width):
            return None
        values = dataset.read(window=Window(col, row, 1, 1), masked=True)[:, 0, 0]
    if np.ma.getmaskarray(values).all():
        return None
    return [float("nan") if masked else float(v) for v, masked in zip(values.data, np.ma.getmaskarray(values))]


@pytest.fixture(scope="module")
def params(server_url: str) -> dict:
    """The sample service as the pixel callbacks see it: LayerParams with just the url."""
    return {"url": server_url + SERVICE_PATH}


@pytest.fixture(scope="module")
def service(params: dict) -> dict:
    return service_facts(params)
