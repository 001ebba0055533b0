"""The queryBoundary operation: where a service has data, and how many square metres that is.

A mosaic answers the union of its items' footprints as a polygon; a single raster answers its
envelope, as ArcGIS does. `outSR` reprojects the shape (polygon rings are densified first, so
edges stay close to the true outline); the area is always measured in the service CRS, in square
metres (geodesic for geographic CRSs).
"""

from __future__ import annotations

import math

import shapely
from pyproj import Geod
from rasterio.crs import CRS
from shapely.geometry import MultiPolygon, Polygon, box
from shapely.ops import unary_union

from .args import Args
from .catalog import Service
from .errors import BadParameter
from .query import esri_rings
from .spatial import esri_sr, parse_sr, transform_points

DENSIFY_SEGMENTS = 256                   # the outline is cut into at least this many pieces before reprojecting
WGS84_GEOD = Geod(ellps="WGS84")


def query_boundary(service: Service, args: Args) -> dict:
    out_sr = parse_sr(args.get("outSR"), "outSR", service.crs)
    if service.kind == "mosaic":
        footprint = unary_union([item.footprint for item in service.items])
    else:
        footprint = box(*service.extent)
    area = square_metres(service, footprint)
    if out_sr != service.crs:
        footprint = reproject(footprint, service, out_sr)
    if service.kind == "mosaic":
        shape = {**esri_rings(footprint), "spatialReference": esri_sr(out_sr)}
    else:
        xmin, ymin, xmax, ymax = footprint.bounds
        shape = {"xmin": xmin, "ymin": ymin, "xmax": xmax, "ymax": ymax, "spatialReference": esri_sr(out_sr)}
    return {"shape": shape, "area": area}


def square_metres(service: Service, shape: Polygon | MultiPolygon) -> float:
    if service.crs.is_geographic:
        return abs(WGS84_GEOD.geometry_area_perimeter(shape)[0])
    metres_per_unit = service.crs.linear_units_factor[1]
    return shape.area * metres_per_unit ** 2


def reproject(shape: Polygon | MultiPolygon, service: Service, out_sr: CRS) -> Polygon | MultiPolygon:
    """The shape in `out_sr`; a BadParameter when part of it lies outside that CRS's domain."""
    dense = shapely.segmentize(shape, max_segment_length=shape.length / DENSIFY_SEGMENTS)
    coordinates = shapely.get_coordinates(dense)
    xs, ys = transform_points(service.crs, out_sr, list(coordinates[:, 0]), list(coordinates[:, 1]))
    if not all(math.isfinite(v) for v in xs + ys):
        raise BadParameter("'outSR' parameter is invalid: the boundary cannot be projected to it.")
    return shapely.set_coordinates(dense, list(zip(xs, ys)))
