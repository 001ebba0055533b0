"""The ImageServer `query` operation: search the catalog's footprint table (reference §4).

Filters (objectIds, or where + geometry + time) select items, which are sorted, paged and
returned as an Esri FeatureSet, a count, or a list of ids. Footprints are emitted as Esri
polygons (outer rings clockwise) in `outSR`; `featureset_to_geojson` gives the `f=geojson` form, an
RFC 7946 FeatureCollection (longitude/latitude, outer rings counter-clockwise), by way of
`imageservice.geojson`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import shapely
from rasterio.crs import CRS
from shapely.geometry import LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon, box
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

from imageservice import geojson

from .args import Args
from .catalog import Item, Service
from .errors import BadParameter, UnableToComplete
from .limits import MAX_GEOMETRY_VERTICES
from .multidimensional import slice_filter
from .spatial import esri_sr, parse_sr, transform_points
from .where import compile_where

MAX_RECORD_COUNT = 1000
OBJECT_ID = "OBJECTID"
GEOMETRY_FIELD = "esriFieldTypeGeometry"
GEOMETRY_TYPES = ("esriGeometryPoint", "esriGeometryMultipoint", "esriGeometryPolyline",
                  "esriGeometryPolygon", "esriGeometryEnvelope")
DENSIFY_STEPS = 32                       # envelopes and long edges bend when reprojected
MAX_PRECISION = 17                       # geometryPrecision: decimal places a double can hold


def _envelopes_intersect(query: BaseGeometry, footprint: BaseGeometry) -> bool:
    return box(*query.bounds).intersects(box(*footprint.bounds))


# How the query geometry must relate to an item's footprint, by lower-cased spatialRel.
SPATIAL_RELATIONS: dict[str, Callable[[BaseGeometry, BaseGeometry], bool]] = {
    "esrispatialrelintersects": lambda query, footprint: query.intersects(footprint),
    "esrispatialrelcontains": lambda query, footprint: query.contains(footprint),
    "esrispatialrelwithin": lambda query, footprint: query.within(footprint),
    "esrispatialrelcrosses": lambda query, footprint: query.crosses(footprint),
    "esrispatialreloverlaps": lambda query, footprint: query.overlaps(footprint),
    "esrispatialreltouches": lambda query, footprint: query.touches(footprint),
    "esrispatialrelenvelopeintersects": _envelopes_intersect,
    "esrispatialrelindexintersects": _envelopes_intersect,
}


def run_query(service: Service, args: Args) -> dict:
    """A FeatureSet, `{"count"}` or `{"objectIdFieldName", "objectIds"}` for the query arguments."""
    if not service.fields:
        raise UnableToComplete("This service is a single raster without a catalog; query needs a mosaic service.")
    items = sort_items(select(service, args), order_by(args.get("orderByFields"), service.fields))
    if args.boolean("returnCountOnly", False):
        return {"count": len(items)}
    if args.boolean("returnIdsOnly", False):
        return {"objectIdFieldName": OBJECT_ID, "objectIds": [item.object_id for item in items]}

    offset = args.integer("resultOffset", 0)
    count = args.integer("resultRecordCount", MAX_RECORD_COUNT)
    if offset < 0:
        raise BadParameter("'resultOffset' parameter is invalid.")
    if count <= 0:
        raise BadParameter("'resultRecordCount' parameter is invalid.")
    page = items[offset:offset + min(count, MAX_RECORD_COUNT)]
    fields = out_fields(args.get("outFields"), service.fields)
    out_crs = parse_sr(args.get("outSR"), "outSR", service.crs)
    with_geometry = args.boolean("returnGeometry", True)
    precision = args.integer("geometryPrecision")
    if precision is not None and not 0 <= precision <= MAX_PRECISION:
        raise BadParameter(f"'geometryPrecision' parameter is invalid: 0 to {MAX_PRECISION} decimal places.")
    features = []
    for item in page:
        feature: dict[str, Any] = {"attributes": {f["name"]: item.attributes.get(f["name"]) for f in fields}}
        if with_geometry:
            footprint = reproject(item.footprint, service.crs, out_crs)
            feature["geometry"] = esri_rings(footprint, precision)
        features.append(feature)
    return {
        "objectIdFieldName": OBJECT_ID,
        "fields": fields,
        "geometryType": "esriGeometryPolygon",
        "spatialReference": esri_sr(out_crs),
        "features": features,
        "exceededTransferLimit": offset + len(page) < len(items),
    }


def select(service: Service, args: Args) -> list[Item]:
    """The items that pass the filters; objectIds, when given, replaces all other filters (as documented)."""
    object_ids = args.get("objectIds")
    if object_ids is not None:
        try:
            wanted = {int(part) for part in object_ids.replace(" ", ",").split(",") if part}
        except ValueError:
            raise BadParameter("'objectIds' parameter is invalid.") from None
        return [item for item in service.items if item.object_id in wanted]

    matches_where = compile_where(args.get("where"), service.fields)
    time = args.time_range() if service.time_extent is not None else None   # ignored without time, as ArcGIS does
    geometry = query_geometry(service, args)
    relation = spatial_relation(args.get("spatialRel"))
    in_slices = query_slices(service, args)
    return [item for item in service.items
            if matches_where(item.attributes) and in_slices(item)
            and (time is None or overlaps_time(item, time))
            and (geometry is None or relation(geometry, item.footprint))]


def query_slices(service: Service, args: Args) -> Callable[[Item], bool]:
    """The `multidimensionalDefinition` filter of a multidimensional service (every item without one)."""
    if service.multidimensional is None:
        return lambda item: True
    return slice_filter(service.multidimensional, args.json("multidimensionalDefinition"), default_variable=False)


def overlaps_time(item: Item, time: tuple[int | None, int | None]) -> bool:
    """An item's [start, end] overlaps the request's range (an instant is a zero-length range)."""
    start, end = time
    if item.start_ms is None:
        return False
    item_end = item.end_ms if item.end_ms is not None else item.start_ms
    return (end is None or item.start_ms <= end) and (start is None or item_end >= start)


def spatial_relation(value: str | None) -> Callable[[BaseGeometry, BaseGeometry], bool]:
    relation = SPATIAL_RELATIONS.get((value or "esriSpatialRelIntersects").lower())
    if relation is None:
        raise BadParameter("'spatialRel' parameter is invalid.")
    return relation


# ----------------------------------------------------------------------------------------------
# Fields and order


def out_fields(value: str | None, fields: Sequence[dict]) -> list[dict]:
    """Descriptors of the returned attribute fields: OBJECTID first, the geometry field never."""
    by_name = {f["name"].lower(): f for f in fields}
    names = [n.strip() for n in (value or "*").split(",") if n.strip()]
    chosen = [by_name[OBJECT_ID.lower()]]
    if "*" in names:
        chosen = [f for f in fields if f["type"] != GEOMETRY_FIELD]
    else:
        for name in names:
            info = by_name.get(name.lower())
            if info is None:
                raise BadParameter(f"'outFields' parameter is invalid: unknown field '{name}'.")
            if info not in chosen and info["type"] != GEOMETRY_FIELD:
                chosen.append(info)
    return chosen


def order_by(value: str | None, fields: Sequence[dict]) -> list[tuple[str, bool]]:
    """`orderByFields` ("CloudCover DESC, Name") as (field name, descending) pairs."""
    by_name = {f["name"].lower(): f["name"] for f in fields if f["type"] != GEOMETRY_FIELD}
    keys = []
    for part in (value or "").split(","):
        words = part.split()
        if not words:
            continue
        direction = words[1].upper() if len(words) == 2 else "ASC"
        name = by_name.get(words[0].lower())
        if name is None or len(words) > 2 or direction not in ("ASC", "DESC"):
            raise BadParameter(f"'orderByFields' parameter is invalid: '{part.strip()}'.")
        keys.append((name, direction == "DESC"))
    return keys


def sort_items(items: list[Item], keys: list[tuple[str, bool]]) -> list[Item]:
    """Sort by the keys (nulls first ascending, last descending); ties keep OBJECTID order."""
    result = sorted(items, key=lambda item: item.object_id)
    for name, descending in reversed(keys):
        result.sort(key=lambda item: (item.attributes.get(name) is not None, item.attributes.get(name)),
                    reverse=descending)
    return result


# ----------------------------------------------------------------------------------------------
# Geometry


def query_geometry(service: Service, args: Args) -> BaseGeometry | None:
    """`geometry` (Esri JSON, `x,y` or `xmin,ymin,xmax,ymax`) in the service CRS, or None.

    Its SR is the geometry's own spatialReference, else `inSR`, else the service's.
    """
    text = args.get("geometry")
    if text is None:
        return None
    geometry_type = args.get("geometryType")
    if geometry_type is not None and geometry_type.lower() not in {t.lower() for t in GEOMETRY_TYPES}:
        raise BadParameter("'geometryType' parameter is invalid.")
    if text.startswith("{"):
        value = args.json("geometry")
        shape = esri_to_shape(value)
        sr = value.get("spatialReference") or args.get("inSR")
    else:
        numbers = args.numbers("geometry") or []
        if len(numbers) == 2:
            shape = Point(numbers)
        elif len(numbers) == 4 and numbers[0] <= numbers[2] and numbers[1] <= numbers[3]:
            shape = box(*numbers)
        else:
            raise BadParameter("'geometry' parameter is invalid.")
        sr = args.get("inSR")
    if shapely.get_num_coordinates(shape) > MAX_GEOMETRY_VERTICES:
        raise BadParameter(f"'geometry' parameter is invalid: more than {MAX_GEOMETRY_VERTICES} vertices.")
    crs = parse_sr(sr, "inSR", service.crs)
    if crs != service.crs:
        length = max(shape.bounds[2] - shape.bounds[0], shape.bounds[3] - shape.bounds[1])
        if length > 0:
            shape = shapely.segmentize(shape, length / DENSIFY_STEPS)
        shape = reproject(shape, crs, service.crs)
    if shape.is_empty or not np.isfinite(shapely.get_coordinates(shape)).all():
        raise BadParameter("'geometry' parameter is invalid.")
    return shape


def esri_to_shape(value: Any) -> BaseGeometry:
    """Esri JSON point, multipoint, polyline, polygon or envelope as a shapely geometry."""
    try:
        if "x" in value and "y" in value:
            return Point(float(value["x"]), float(value["y"]))
        if "xmin" in value:
            return box(float(value["xmin"]), float(value["ymin"]), float(value["xmax"]), float(value["ymax"]))
        if "points" in value:
            return MultiPoint([(float(p[0]), float(p[1])) for p in value["points"]])
        if "paths" in value:
            paths = [[(float(p[0]), float(p[1])) for p in path] for path in value["paths"]]
            return LineString(paths[0]) if len(paths) == 1 else MultiLineString(paths)
        if "rings" in value:
            return rings_to_shape(value["rings"])
    except (TypeError, ValueError, IndexError, KeyError, shapely.errors.ShapelyError):
        pass
    raise BadParameter("'geometry' parameter is invalid.")


def rings_to_shape(rings: Sequence[Sequence[Sequence[float]]]) -> Polygon | MultiPolygon:
    """Esri rings (clockwise outer rings, counter-clockwise holes) as a valid (Multi)Polygon."""
    closed = [shapely.LinearRing([(float(p[0]), float(p[1])) for p in ring]) for ring in rings]
    shells = [ring for ring in closed if not ring.is_ccw]
    holes = [ring for ring in closed if ring.is_ccw] if shells else []
    parts = []
    for shell in shells or closed:      # all rings counter-clockwise: take them all as outer rings
        outline = Polygon(shell)
        inside = [hole for hole in holes if outline.contains(Polygon(hole).representative_point())]
        parts.append(Polygon(shell, inside))
    shape = parts[0] if len(parts) == 1 else MultiPolygon(parts)
    return shape if shape.is_valid else shape.buffer(0)


def esri_rings(shape: Polygon | MultiPolygon, precision: int | None = None) -> dict:
    """Esri polygon JSON: outer rings clockwise, holes counter-clockwise (as ArcGIS emits them)."""
    rings = []
    for polygon in polygons(shape):
        oriented = orient(polygon, sign=-1.0)
        for ring in [oriented.exterior, *oriented.interiors]:
            coordinates = np.asarray(ring.coords)
            if precision is not None:
                coordinates = coordinates.round(precision)
            rings.append(coordinates.tolist())
    return {"rings": rings}


def polygons(shape: Polygon | MultiPolygon) -> list[Polygon]:
    return list(getattr(shape, "geoms", [shape]))


def reproject(shape: BaseGeometry, src: CRS, dst: CRS) -> BaseGeometry:
    """The shape's vertices transformed from `src` to `dst`."""
    if src == dst:
        return shape

    def move(xy: np.ndarray) -> np.ndarray:
        xs, ys = transform_points(src, dst, xy[:, 0].tolist(), xy[:, 1].tolist())
        return np.column_stack([xs, ys])
    return shapely.transform(shape, move)


# ----------------------------------------------------------------------------------------------
# GeoJSON


def featureset_to_geojson(answer: dict) -> dict:
    """A query answer for `f=geojson`: a FeatureSet as an RFC 7946 FeatureCollection (the
    library's conversion), `exceededTransferLimit` kept as a collection property; counts and id
    lists pass through unchanged."""
    if "features" not in answer:
        return answer
    collection = geojson.featureset_to_geojson(answer)
    if answer.get("exceededTransferLimit"):
        collection["properties"] = {"exceededTransferLimit": True}
    return collection
