"""The service root, `keyProperties`, `histograms` and `statistics` as a `renderingRule` makes
them, as ArcGIS answers them.

The ArcGIS Maps SDK for JavaScript asks for `…/ImageServer?renderingRule=…` (and the auxiliary
resources with the same rule) to learn what a raster function produces before it draws it on the
client: band count, pixel type, statistics and histograms of the processed raster. They are
measured on one rendering of the whole service at most SAMPLE_SIZE pixels a side.
"""

from __future__ import annotations

import numpy as np
from rasterio.transform import from_bounds

from .args import Args
from .catalog import PIXEL_TYPES, Service
from .mosaic import Grid
from .operations import histogram, json_object, key_properties, processed_pixels, service_root
from .rasterfunctions import resolve
from .statistics import service_histograms, service_statistics, statistics_object

SAMPLE_SIZE = 256
PROCESSED = "esriImageServiceDataTypeProcessed"


def rendered_root(service: Service, args: Args) -> dict:
    """The root; with a renderingRule, its bands, pixel type and statistics after the rule."""
    root = service_root(service)
    data = rendering(service, args)
    if data is None:
        return root
    values = [band.compressed().astype(np.float64) for band in data]
    root.update(
        bandCount=data.shape[0],
        pixelType=PIXEL_TYPES.get(data.dtype.name, "UNKNOWN"),
        minValues=[float(v.min()) if v.size else 0.0 for v in values],
        maxValues=[float(v.max()) if v.size else 0.0 for v in values],
        meanValues=[float(v.mean()) if v.size else 0.0 for v in values],
        stdvValues=[float(v.std()) if v.size else 0.0 for v in values],
        hasColormap=False,
        hasRasterAttributeTable=False,
    )
    if data.shape[0] != len(service.band_names):
        root.update(bandNames=[f"Band_{i}" for i in range(1, data.shape[0] + 1)], serviceDataType=PROCESSED)
    return root


def rendered_key_properties(service: Service, args: Args) -> dict:
    """`keyProperties`; with a renderingRule that changes the band count, the processed bands'."""
    properties = key_properties(service)
    data = rendering(service, args)
    if data is not None and data.shape[0] != len(service.band_names):
        properties.update(BandCount=data.shape[0], DataType=PROCESSED.removeprefix("esriImageServiceDataType"),
                          BandProperties=[{"BandName": f"Band_{i}"} for i in range(1, data.shape[0] + 1)])
    return properties


def rendered_histograms(service: Service, args: Args) -> dict:
    """The `histograms` resource; with a renderingRule, those of the processed raster."""
    data = rendering(service, args)
    if data is None:
        return service_histograms(service, args.get("variable"))
    return {"histograms": [histogram(band) for band in data]}


def rendered_statistics(service: Service, args: Args) -> dict:
    """The `statistics` resource; with a renderingRule, those of the processed raster."""
    data = rendering(service, args)
    if data is None:
        return service_statistics(service, args.get("variable"))
    return {"statistics": [statistics_object(band) for band in data]}


def rendering(service: Service, args: Args) -> np.ma.MaskedArray | None:
    """The whole service through the request's renderingRule; None without one (or for "None")."""
    if resolve(json_object(args, "renderingRule"), service) is None:
        return None
    xmin, ymin, xmax, ymax = service.extent
    scale = max(xmax - xmin, ymax - ymin) / SAMPLE_SIZE
    width, height = max(1, round((xmax - xmin) / scale)), max(1, round((ymax - ymin) / scale))
    grid = Grid(crs=service.crs, transform=from_bounds(xmin, ymin, xmax, ymax, width, height),
                width=width, height=height)
    return processed_pixels(service, args, grid)
