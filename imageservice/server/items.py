"""The resources of one catalog item: `<oid>/info`, `<oid>/info/keyProperties`, `<oid>/thumbnail`.

The ArcGIS Maps SDK for JavaScript reads them for the items an identify returns; they describe
one GeoTIFF of the service as it is on disk (its own grid, statistics and histograms).
"""

from __future__ import annotations

import math

import numpy as np
from rasterio.enums import Resampling

from .catalog import Item, Service, open_dataset
from .encode import display_channels, picture, save
from .errors import UnableToComplete
from .operations import envelope, histogram, key_properties
from .rasterfunctions import apply_rendering_rule
from .thematic import colormap_rule
from .statistics import overview

THUMBNAIL_SIZE = 200                     # pixels on the long side, as ArcGIS thumbnails are


def catalog_item(service: Service, object_id: int) -> Item:
    """The item with this OBJECTID; the ArcGIS error for an id the catalog does not hold."""
    if 1 <= object_id <= len(service.items):
        return service.items[object_id - 1]
    raise UnableToComplete(f"There is no catalog item with OBJECTID {object_id}.")


def item_info(service: Service, item: Item) -> dict:
    """`<oid>/info`: the item's own grid, band count, pixel type, statistics and histograms."""
    with open_dataset(item.path) as dataset:
        block_height, block_width = dataset.block_shapes[0]
        data = overview(item.path)
        return {
            "origin": {"x": dataset.bounds.left, "y": dataset.bounds.top},
            "blockWidth": block_width,
            "blockHeight": block_height,
            "pixelSizeX": abs(dataset.transform.a),
            "pixelSizeY": abs(dataset.transform.e),
            "extent": envelope(tuple(dataset.bounds), service.crs),
            "width": dataset.width,
            "height": dataset.height,
            "bandCount": dataset.count,
            "pixelType": service.pixel_type,
            "firstPyramidLevel": 1 if dataset.overviews(1) else 0,
            "maxPyramidLevel": len(dataset.overviews(1)),
            "statistics": [band_statistics(band) for band in data],
            "histograms": [histogram(band) for band in data],
        }


def band_statistics(band: np.ma.MaskedArray) -> list[float]:
    """[min, max, mean, standard deviation] of a band's valid values, as the info resource lists them."""
    values = band.compressed().astype(np.float64)
    if values.size == 0:
        return [0.0, 0.0, 0.0, 0.0]
    return [float(values.min()), float(values.max()), float(values.mean()), float(values.std())]


def item_key_properties(service: Service, item: Item) -> dict:
    """`<oid>/info/keyProperties`: the service's key properties with the item's sensor and time."""
    properties = key_properties(service)
    attributes = item.attributes
    if attributes.get("SensorName") is not None:
        properties["SensorName"] = attributes["SensorName"]
    if item.start_ms is not None:
        properties["AcquisitionDate"] = item.start_ms
    if attributes.get("CloudCover") is not None:
        properties["CloudCover"] = attributes["CloudCover"]
    return properties


def item_thumbnail(service: Service, item: Item) -> tuple[bytes, str]:
    """A PNG of the whole item at most THUMBNAIL_SIZE pixels wide or high, drawn as exportImage
    draws it without a rendering rule (the default stretch, or the colormap of a thematic
    service); NoData is transparent."""
    with open_dataset(item.path) as dataset:
        scale = max(1.0, max(dataset.width, dataset.height) / THUMBNAIL_SIZE)
        shape = (dataset.count, math.ceil(dataset.height / scale), math.ceil(dataset.width / scale))
        data = dataset.read(out_shape=shape, masked=True, resampling=Resampling.nearest)
        cell = (abs(dataset.transform.a) * scale, abs(dataset.transform.e) * scale)
    if service.colormap:
        data = apply_rendering_rule(colormap_rule(service), data, service, cell)
    channels, masked = display_channels(data, service.statistics if not service.colormap else None)
    body, content_type, _ = save(picture(channels, masked, alpha=True), "png")
    return body, content_type
