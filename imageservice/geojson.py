"""identify and query responses (Esri JSON) as GeoJSON in lat/lng, for a Leaflet map.

ArcGIS answers with Esri FeatureSets in the service's projection, outer rings clockwise. These
functions give RFC 7946 GeoJSON (longitude/latitude, outer rings counter-clockwise) and leave the
raw response untouched. Plain Python: pyproj is imported only when coordinates must be
reprojected, so the Dash component can import this module without any geometry library.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

from imageservice.errors import InvalidResponse
from imageservice.metadata import normalize_wkid, spatial_reference_crs

ID_FIELD_NAMES = ("OBJECTID", "FID", "OID", "ID")

Ring = list[list[float]]


def identify_to_geojson(response: Mapping[str, Any]) -> dict:
    """esri-leaflet's IdentifyImage results: {"pixel": Feature[, "catalogItems": FeatureCollection,
    "catalogItemsEsri": FeatureSet]}.

    The pixel stays in the service's spatial reference with a `crs` member, as in esri-leaflet;
    catalog item footprints are reprojected to lat/lng (esri-leaflet leaves them projected), so
    the FeatureSet as the service sent it (its projection, its order) is kept as
    `catalogItemsEsri`, a copy.
    """
    location = response.get("location") or {}
    object_id = response.get("objectId")
    pixel: dict[str, Any] = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [location["x"], location["y"]]} if "x" in location else None,
        "crs": {"type": "EPSG", "properties": {"code": (location.get("spatialReference") or {}).get("wkid")}},
        "properties": {"OBJECTID": object_id, "name": response.get("name"), "value": response.get("value")},
        "id": object_id,
    }
    item_values = (response.get("properties") or {}).get("Values")
    if item_values is not None:
        pixel["properties"]["values"] = item_values
    results = {"pixel": pixel}
    catalog = response.get("catalogItems")
    if catalog and catalog.get("features") is not None:
        collection = featureset_to_geojson(catalog)
        collection["features"].reverse()  # esri-leaflet's responseToFeatureCollection reverses
        visibilities = response.get("catalogItemVisibilities") or []
        if len(visibilities) == len(collection["features"]):
            # esri-leaflet pairs visibilities with the REVERSED list, so each item gets another
            # item's share (its spec locks this in). Kept so popups show what esri-leaflet shows;
            # tables.catalog_items_to_frame pairs them correctly.
            for feature, visibility in zip(collection["features"], visibilities):
                feature["properties"]["catalogItemVisibility"] = visibility
        results["catalogItems"] = collection
        results["catalogItemsEsri"] = copy.deepcopy(catalog)
    return results


def featureset_to_geojson(featureset: Mapping[str, Any]) -> dict:
    """An Esri FeatureSet as a GeoJSON FeatureCollection in lat/lng, in the server's order.

    Each geometry is reprojected from its own spatialReference, else the FeatureSet's (Sentinel-2
    catalog queries put it only on the geometries). esri-leaflet's callers draw the result as
    lat/lng, so a geometry whose spatial reference is missing or unknown is an InvalidResponse,
    not metres drawn as degrees. Outer rings are wound counter-clockwise (RFC 7946); ids come
    from the object id field; dates stay epoch ms.
    """
    default = featureset.get("spatialReference")
    transformers: dict[str, Any] = {}
    id_field = _id_field(featureset)
    features = []
    for feature in featureset.get("features") or []:
        attributes = dict(feature.get("attributes") or {})
        geometry = _latlng_geometry(feature.get("geometry"), default, transformers)
        item: dict[str, Any] = {"type": "Feature", "geometry": geometry, "properties": attributes}
        if id_field is not None and id_field in attributes:
            item["id"] = attributes[id_field]
        features.append(item)
    return {"type": "FeatureCollection", "features": features}


def _latlng_geometry(
    geometry: Mapping[str, Any] | None, default: Mapping[str, Any] | None, transformers: dict[str, Any]
) -> dict | None:
    """One Esri geometry as lat/lng GeoJSON; `transformers` caches one per spatial reference."""
    converted = esri_to_geojson_geometry(geometry)
    if converted is None:
        return None
    spatial_reference = geometry.get("spatialReference") or default
    if not spatial_reference:
        raise InvalidResponse("a geometry has no spatialReference, nor has its FeatureSet: ask with outSR=4326")
    if normalize_wkid(spatial_reference) == 4326:
        return converted
    key = json.dumps(spatial_reference, sort_keys=True)
    if key not in transformers:
        crs = spatial_reference_crs(spatial_reference)
        if crs is None:
            raise InvalidResponse(f"unknown spatialReference {key}: ask with outSR=4326")
        transformers[key] = _transformer(crs)
    return _rewind({"type": converted["type"], "coordinates": _transform(transformers[key], converted["coordinates"])})


def _id_field(featureset: Mapping[str, Any]) -> str | None:
    """objectIdFieldName when the rows have it, else the OID-typed field, else a conventional id
    name (as esri-leaflet). Raster attribute tables name OBJECTID while their rows carry OID."""
    fields = featureset.get("fields") or []
    names = {f["name"] for f in fields} | set((featureset.get("features") or [{}])[0].get("attributes") or {})
    declared = featureset.get("objectIdFieldName")
    if declared and (declared in names or not names):
        return declared
    oid = next((f["name"] for f in fields if f.get("type") == "esriFieldTypeOID"), None)
    if oid is not None:
        return oid
    return next((name for name in ID_FIELD_NAMES if name in names), None)


def esri_to_geojson_geometry(geometry: Mapping[str, Any] | None) -> dict | None:
    """An ArcGIS JSON geometry (point, multipoint, polyline, polygon, envelope) as GeoJSON,
    coordinates unchanged; None for a missing or empty geometry."""
    if not geometry:
        return None
    if "x" in geometry:
        return None if geometry["x"] is None else {"type": "Point", "coordinates": [geometry["x"], geometry["y"]]}
    if "points" in geometry:
        return {"type": "MultiPoint", "coordinates": _as_lists(geometry["points"])}
    if "paths" in geometry:
        paths = _as_lists(geometry["paths"])
        if len(paths) == 1:
            return {"type": "LineString", "coordinates": paths[0]}
        return {"type": "MultiLineString", "coordinates": paths}
    if "rings" in geometry:
        return _rings_to_geojson(_as_lists(geometry["rings"]))
    if "xmin" in geometry:
        xmin, ymin, xmax, ymax = (geometry[key] for key in ("xmin", "ymin", "xmax", "ymax"))
        ring = [[xmin, ymin], [xmax, ymin], [xmax, ymax], [xmin, ymax], [xmin, ymin]]
        return {"type": "Polygon", "coordinates": [ring]}
    return None


def _rings_to_geojson(rings: list[Ring]) -> dict | None:
    """Esri rings (outer clockwise, holes counter-clockwise) grouped into polygons.

    A hole goes to the smallest outer ring that is larger than the hole and around a point inside
    it: rings do not cross, so that ring encloses the hole, and a hole of an island lying in
    another polygon's hole finds the island.
    """
    polygons: list[list[Ring]] = []
    holes: list[Ring] = []
    for ring in (r for r in rings if len(r) >= 4):
        if _signed_area(ring) < 0:
            polygons.append([ring])
        else:
            holes.append(ring)
    outers = list(polygons)
    for hole in holes:
        x, y = _interior_point(hole)
        size = abs(_signed_area(hole))
        around = [p for p in outers if abs(_signed_area(p[0])) > size and _ring_contains(p[0], x, y)]
        if not around:
            polygons.append([hole])  # a lone counter-clockwise ring is an outer ring written the other way
        else:
            min(around, key=lambda p: abs(_signed_area(p[0]))).append(hole)
    if not polygons:
        return None
    if len(polygons) == 1:
        return _rewind({"type": "Polygon", "coordinates": polygons[0]})
    return _rewind({"type": "MultiPolygon", "coordinates": polygons})


def _ring_contains(ring: Ring, x: float, y: float) -> bool:
    """Even-odd rule: a ray from (x, y) towards +x crosses the ring an odd number of times."""
    inside = False
    for (x1, y1, *_), (x2, y2, *_) in zip(ring, ring[1:] + ring[:1]):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def _interior_point(ring: Ring) -> tuple[float, float]:
    """A point strictly inside the ring (not on its edge, unlike a vertex).

    A horizontal line between two vertex heights near the middle crosses the ring an even number
    of times; the midpoint of the widest inside stretch is taken.
    """
    heights = sorted({point[1] for point in ring})
    if len(heights) < 2:
        return ring[0][0], ring[0][1]  # degenerate: no inside
    middle = len(heights) // 2
    y = (heights[middle - 1] + heights[middle]) / 2
    crossings = sorted(
        x1 + (y - y1) * (x2 - x1) / (y2 - y1)
        for (x1, y1, *_), (x2, y2, *_) in zip(ring, ring[1:] + ring[:1])
        if (y1 > y) != (y2 > y)
    )
    west, east = max(zip(crossings[::2], crossings[1::2]), key=lambda pair: pair[1] - pair[0])
    return (west + east) / 2, y


def _rewind(geometry: dict) -> dict:
    """RFC 7946 winding: outer rings counter-clockwise, holes clockwise."""
    if geometry["type"] == "Polygon":
        return {"type": "Polygon", "coordinates": _wind(geometry["coordinates"])}
    if geometry["type"] == "MultiPolygon":
        return {"type": "MultiPolygon", "coordinates": [_wind(p) for p in geometry["coordinates"]]}
    return geometry


def _wind(polygon: list[Ring]) -> list[Ring]:
    return [ring if (_signed_area(ring) > 0) == (i == 0) else ring[::-1] for i, ring in enumerate(polygon)]


def _signed_area(ring: Ring) -> float:
    """Shoelace sum: positive for counter-clockwise rings (x east, y north)."""
    return sum(x1 * y2 - x2 * y1 for (x1, y1, *_), (x2, y2, *_) in zip(ring, ring[1:])) / 2


def _transformer(crs: Any) -> Any:
    """A pyproj Transformer from `crs` to lat/lng, x (longitude) first."""
    from pyproj import Transformer

    return Transformer.from_crs(crs, "EPSG:4326", always_xy=True)


def _transform(transformer: Any, coordinates: Any) -> Any:
    """Nested GeoJSON coordinates reprojected: each list of positions in one call; z and any
    further values are kept as they are."""
    if not coordinates:
        return coordinates
    if isinstance(coordinates[0], (int, float)):
        return _transform(transformer, [coordinates])[0]
    if not isinstance(coordinates[0][0], (int, float)):
        return [_transform(transformer, part) for part in coordinates]
    xs, ys = transformer.transform([p[0] for p in coordinates], [p[1] for p in coordinates])
    return [[x, y, *p[2:]] for x, y, p in zip(xs, ys, coordinates)]


def _as_lists(value: Any) -> Any:
    """Nested coordinate sequences (tuples included) as plain lists."""
    if isinstance(value, Mapping):
        return {key: _as_lists(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_as_lists(item) for item in value]
    return value
