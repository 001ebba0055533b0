"""Spatial references as ArcGIS spells them, mapped to rasterio CRSs and back.

Web Mercator has several ids in the wild (3857, 102100, 102113, 900913); all are accepted and
`{"wkid": 102100, "latestWkid": 3857}` is always emitted, as ArcGIS Server does.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

from rasterio._err import CPLE_BaseError  # GDAL's error base; rasterio.errors does not export it
from rasterio.crs import CRS
from rasterio.errors import CRSError
from rasterio.warp import transform as transform_xy

from .args import parse_json
from .errors import BadParameter

WEB_MERCATOR_IDS = {3857, 102100, 102113, 900913}
WGS84 = CRS.from_epsg(4326)
WEB_MERCATOR = CRS.from_epsg(3857)


@lru_cache(maxsize=64)
def _crs_from_wkid(wkid: int) -> CRS:
    if wkid in WEB_MERCATOR_IDS:
        return WEB_MERCATOR
    return CRS.from_epsg(wkid)


def parse_sr(value: Any, name: str = "sr", default: CRS | None = None) -> CRS:
    """An SR given as a wkid (`3857`), JSON (`{"wkid":102100}`, `{"latestWkid":3857}`, `{"wkt":..}`),
    or a dict; `None` gives `default`. Unknown ids raise the ArcGIS "'<name>' parameter is invalid.".
    """
    if value is None or value == "":
        if default is None:
            raise BadParameter(f"'{name}' parameter is required.")
        return default
    if isinstance(value, str):
        text = value.strip()
        try:
            value = parse_json(text, name) if text.startswith("{") else int(float(text))
        except (BadParameter, ValueError, OverflowError):
            raise BadParameter(f"'{name}' parameter is invalid.") from None
    try:
        if isinstance(value, dict):
            if value.get("wkt"):
                return CRS.from_wkt(value["wkt"])
            wkid = value.get("latestWkid") or value.get("wkid")
            if wkid is None:
                raise BadParameter(f"'{name}' parameter is invalid.")
            return _crs_from_wkid(int(wkid))
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return _crs_from_wkid(int(value))
    except (CRSError, ValueError, TypeError, OverflowError):
        pass
    raise BadParameter(f"'{name}' parameter is invalid.")


def esri_sr(crs: CRS) -> dict:
    """The spatialReference object ArcGIS emits for a CRS."""
    epsg = crs.to_epsg()
    if epsg in WEB_MERCATOR_IDS:
        return {"wkid": 102100, "latestWkid": 3857}
    if epsg is not None:
        return {"wkid": epsg, "latestWkid": epsg}
    return {"wkt": crs.to_wkt()}


def transform_points(src: CRS, dst: CRS, xs: list[float], ys: list[float]) -> tuple[list[float], list[float]]:
    """Reproject coordinates; a no-op when the CRSs are the same.

    A point outside the target's domain comes back as (inf, inf). GDAL fails the whole batch for
    one such point, so a failed batch is redone point by point.
    """
    if src == dst:
        return list(xs), list(ys)
    try:
        out_x, out_y = transform_xy(src, dst, xs, ys)
        return list(out_x), list(out_y)
    except CPLE_BaseError:
        pairs = [_transform_one(src, dst, x, y) for x, y in zip(xs, ys)]
        return [p[0] for p in pairs], [p[1] for p in pairs]


def _transform_one(src: CRS, dst: CRS, x: float, y: float) -> tuple[float, float]:
    try:
        (px,), (py,) = transform_xy(src, dst, [x], [y])
        return px, py
    except CPLE_BaseError:
        return math.inf, math.inf
