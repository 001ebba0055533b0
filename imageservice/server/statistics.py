"""Statistics and histograms: the computeStatisticsHistograms operation and the service-level
`statistics` and `histograms` resources.

The service-level answers are pooled over every item, each read once at overview resolution
(at most OVERVIEW_SIZE pixels a side, as the catalog's statistics are) and cached per service, so
they cost one pass over the data however often clients ask.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import numpy as np

from .args import Args
from .catalog import OVERVIEW_SIZE, Service, open_dataset
from .limits import MemoryBudget
from .multidimensional import VARIABLE_FIELD, Variable, requested_variable
from .operations import histogram, summarise_area

HISTOGRAM_BINS = 256


def compute_statistics_histograms(service: Service, args: Args, budget: MemoryBudget) -> dict:
    """computeStatisticsHistograms: per band the statistics object and the histogram of the
    processed pixels inside the geometry (same inputs as computeHistograms)."""
    return summarise_area(service, args, budget, lambda data: {
        "statistics": [statistics_object(band) for band in data],
        "histograms": [histogram(band) for band in data],
    })


def statistics_object(band: np.ma.MaskedArray) -> dict:
    """ArcGIS's statistics object of a band's valid values; every pixel is read (skip 1)."""
    values = band.compressed().astype(np.float64)
    if values.size == 0:
        return {"min": 0, "max": 0, "mean": 0, "standardDeviation": 0, "median": 0, "mode": 0,
                "skipX": 1, "skipY": 1, "count": 0}
    uniques, counts = np.unique(values, return_counts=True)
    return {
        "min": float(values.min()),
        "max": float(values.max()),
        "mean": float(values.mean()),
        "standardDeviation": float(values.std()),
        "median": float(np.median(values)),
        "mode": float(uniques[np.argmax(counts)]),
        "skipX": 1,
        "skipY": 1,
        "count": int(values.size),
    }


def service_statistics(service: Service, variable: str | None = None) -> dict:
    """The `statistics` resource: the service's per-band statistics (those of the root's
    min/max/mean/stdvValues), or one multidimensional `variable`'s."""
    chosen = requested_variable(service, variable)
    rows = [chosen.statistics] if chosen is not None else service.statistics
    return {"statistics": [{"min": low, "max": high, "mean": mean, "standardDeviation": stdv}
                           for low, high, mean, stdv in rows]}


def service_histograms(service: Service, variable: str | None = None) -> dict:
    """The `histograms` resource: one histogram per band over all items (of one multidimensional
    `variable`'s slices), with the binning computeHistograms uses (a bin per value for integers
    within 256 values, else 256 bins)."""
    return {"histograms": list(pooled_histograms(service, requested_variable(service, variable)))}


@lru_cache(maxsize=32)
def pooled_histograms(service: Service, variable: Variable | None = None) -> tuple[dict, ...]:
    result = []
    statistics = [variable.statistics] if variable is not None else service.statistics
    items = [item for item in service.items
             if variable is None or item.attributes.get(VARIABLE_FIELD) == variable.name]
    for band, (low, high, _, _) in enumerate(statistics):
        integral = service.pixel_type[0] in "US" and high - low < HISTOGRAM_BINS
        edges = (np.arange(low - 0.5, high + 1.0, 1.0) if integral
                 else np.linspace(low, high if high > low else low + 1, HISTOGRAM_BINS + 1))
        counts = np.zeros(len(edges) - 1, np.int64)
        for item in items:
            values = overview(item.path)[band].compressed().astype(np.float64)
            counts += np.histogram(values, bins=edges)[0]
        result.append({"size": len(counts), "min": float(edges[0]), "max": float(edges[-1]),
                       "counts": counts.tolist()})
    return tuple(result)


def overview(path: Path) -> np.ma.MaskedArray:
    """All bands of a GeoTIFF read at most OVERVIEW_SIZE pixels a side (GDAL uses the overviews)."""
    dataset = open_dataset(path)
    scale = max(1, math.ceil(max(dataset.width, dataset.height) / OVERVIEW_SIZE))
    shape = (dataset.count, math.ceil(dataset.height / scale), math.ceil(dataset.width / scale))
    return dataset.read(out_shape=shape, masked=True)
