"""identify and query responses as pandas DataFrames and GeoJSON (lat/lng).

ArcGIS answers in its own shapes: pixel values as strings ("17, 22, 39, 45", "NoData"),
catalog items as Esri FeatureSets in the service's projection with clockwise outer rings and
epoch-millisecond dates. These functions turn them into what tables, charts and a Leaflet map
take, and leave the raw response untouched.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import pandas
from rasterio.warp import transform_geom
from shapely.geometry import Point, Polygon

from imageservice.errors import InvalidResponse
from imageservice.metadata import normalize_wkid, spatial_reference_crs

NO_DATA = "NoData"
DATE_FIELD_TYPE = "esriFieldTypeDate"
ID_FIELD_NAMES = ("OBJECTID", "FID", "OID", "ID")
_VALUE_SEPARATORS = re.compile(r"[,\s]+")

Ring = list[list[float]]


# --- pixel values --------------------------------------------------------------------------------


def parse_pixel_values(text: Any) -> list[float]:
    """Band values from an identify string: "17, 22, 39, 45" (value) or "10 18 34 43"
    (properties.Values); "NoData" becomes NaN."""
    parts = [part for part in _VALUE_SEPARATORS.split(str(text).strip()) if part]
    try:
        return [math.nan if part == NO_DATA else float(part) for part in parts]
    except ValueError:
        raise InvalidResponse(f"pixel value {text!r} is not a list of numbers") from None


def _band_columns(count: int, band_names: Sequence[str] | None) -> list[str]:
    """The service's band names when they fit the value count, else "Band 1".."Band N".

    A rendering rule can change the band count, so names that do not fit are not forced on.
    """
    if band_names is not None and len(band_names) == count:
        return list(band_names)
    return [f"Band {i}" for i in range(1, count + 1)]


def identify_to_frame(response: Mapping[str, Any], band_names: Sequence[str] | None = None) -> pandas.DataFrame:
    """One row per band: `band`, `value` (float, NaN for NoData)."""
    if "value" not in response:
        raise InvalidResponse(f"identify response has no 'value': {str(response)[:200]}")
    values = parse_pixel_values(response["value"])
    if band_names and len(values) == 1 and math.isnan(values[0]):
        values = [math.nan] * len(band_names)  # a bare "NoData" stands for every band
    bands = _band_columns(len(values), band_names)
    return pandas.DataFrame({"band": bands, "value": pandas.Series(values, dtype=float)})


def catalog_items_to_frame(
    response: Mapping[str, Any],
    band_names: Sequence[str] | None = None,
    fields: Sequence[Mapping[str, Any]] | None = None,
) -> pandas.DataFrame:
    """One row per catalog item under the identified pixel, in the server's order.

    Columns: the item attributes (dates as UTC datetimes), one column per band from
    properties.Values, and `visibility` (the item's share of the mosaic). `fields` (the service
    root's) decide which columns are dates when the response carries none.
    """
    catalog = response.get("catalogItems") or {}
    features = catalog.get("features") or []
    fields = fields if fields is not None else catalog.get("fields")
    frame = _attributes_frame(features, fields)
    item_values = ((response.get("properties") or {}).get("Values")) or []
    values = [parse_pixel_values(text) for text in item_values]
    count = max((len(v) for v in values), default=len(band_names or ()))
    bands = _band_columns(count, band_names)
    if len(values) == len(features):
        padded = [v + [math.nan] * (count - len(v)) for v in values]
        band_frame = pandas.DataFrame(padded, columns=bands, dtype=float)
    else:  # returnPixelValues=false, or a server that does not pair them
        band_frame = pandas.DataFrame(math.nan, index=range(len(features)), columns=bands, dtype=float)
    visibilities = response.get("catalogItemVisibilities") or []
    if len(visibilities) != len(features):
        visibilities = [math.nan] * len(features)
    visibility = pandas.Series(visibilities, name="visibility", dtype=float)
    return pandas.concat([frame, band_frame, visibility], axis=1)


SAMPLE_COLUMNS = ("locationId", "x", "y", "rasterId", "resolution")


def samples_to_frame(
    response: Mapping[str, Any],
    band_names: Sequence[str] | None = None,
    fields: Sequence[Mapping[str, Any]] | None = None,
) -> pandas.DataFrame:
    """One row per getSamples sample, in the server's order.

    Columns: locationId, x, y (in the response's spatial reference), rasterId, resolution, the
    outFields attributes (dates as UTC datetimes; `fields`, the service root's, decide which are
    dates), then one float column per band (NaN for NoData).
    """
    if "samples" not in response:
        raise InvalidResponse(f"getSamples response has no 'samples': {str(response)[:200]}")
    samples = response["samples"] or []
    own = pandas.DataFrame([_sample_columns(s) for s in samples], columns=list(SAMPLE_COLUMNS))
    values = [parse_pixel_values(s.get("value", NO_DATA)) for s in samples]
    count = max((len(v) for v in values if not _is_bare_no_data(v)), default=len(band_names or ()) or 1)
    padded = [[math.nan] * count if _is_bare_no_data(v) else v + [math.nan] * (count - len(v)) for v in values]
    band_frame = pandas.DataFrame(padded, columns=_band_columns(count, band_names), dtype=float)
    return pandas.concat([own, _attributes_frame(samples, fields), band_frame], axis=1)


def _sample_columns(sample: Mapping[str, Any]) -> list[Any]:
    location = sample.get("location") or {}
    return [sample.get("locationId"), location.get("x"), location.get("y"), sample.get("rasterId"),
            sample.get("resolution")]


def _is_bare_no_data(values: list[float]) -> bool:
    """A lone "NoData" stands for every band."""
    return len(values) == 1 and math.isnan(values[0])


HISTOGRAM_COLUMNS = ("band", "value", "lower", "upper", "count")


def histograms_to_frame(response: Mapping[str, Any], band_names: Sequence[str] | None = None) -> pandas.DataFrame:
    """One row per bin of a computeHistograms answer, bands in the server's order.

    Columns: band, value (the bin centre), lower and upper (its edges, from the histogram's
    min, max and size), count. A band with no valid pixels (size 0) has no rows.
    """
    histograms = response.get("histograms")
    if not isinstance(histograms, list):
        raise InvalidResponse(f"computeHistograms response has no 'histograms': {str(response)[:200]}")
    rows = []
    for band, histogram in zip(_band_columns(len(histograms), band_names), histograms):
        counts = histogram.get("counts") or []
        if len(counts) != histogram.get("size", len(counts)):
            raise InvalidResponse(f"histogram of {band} has {len(counts)} counts for size {histogram.get('size')}")
        low, high = float(histogram.get("min", 0)), float(histogram.get("max", 0))
        width = (high - low) / len(counts) if counts else 0.0
        rows += [(band, low + (i + 0.5) * width, low + i * width, low + (i + 1) * width, count)
                 for i, count in enumerate(counts)]
    frame = pandas.DataFrame(rows, columns=list(HISTOGRAM_COLUMNS))
    return frame.astype({"band": str, "value": float, "lower": float, "upper": float, "count": "int64"})


# --- attributes ----------------------------------------------------------------------------------


def featureset_to_frame(featureset: Mapping[str, Any]) -> pandas.DataFrame:
    """A query FeatureSet's attributes, one row per feature, dates as UTC datetimes."""
    return _attributes_frame(featureset.get("features") or [], featureset.get("fields"))


def _attributes_frame(
    features: Sequence[Mapping[str, Any]], fields: Sequence[Mapping[str, Any]] | None
) -> pandas.DataFrame:
    """Attribute columns in field order (else first-seen order); dates converted.

    Dates are the fields typed esriFieldTypeDate when fields are known, otherwise the numeric
    columns whose name contains "date" (identify's catalog items come without fields).
    """
    rows = [dict(feature.get("attributes") or {}) for feature in features]
    field_names = [f["name"] for f in fields or () if f.get("type") != "esriFieldTypeGeometry"]
    seen = [key for row in rows for key in row]
    columns = list(dict.fromkeys([*(n for n in field_names if n in seen or not rows), *seen]))
    frame = pandas.DataFrame(rows, columns=columns)
    if fields:
        dates = {f["name"] for f in fields if f.get("type") == DATE_FIELD_TYPE}
    else:
        dates = {name for name in columns if "date" in name.lower()}
    for name in columns:
        if name in dates and _is_numeric(frame[name]):
            frame[name] = pandas.to_datetime(frame[name], unit="ms", utc=True)
    return frame


def _is_numeric(column: pandas.Series) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in column.dropna())


# --- GeoJSON ---------------------------------------------------------------------------------------


def identify_to_geojson(response: Mapping[str, Any]) -> dict:
    """esri-leaflet's IdentifyImage results: {"pixel": Feature[, "catalogItems": FeatureCollection]}.

    The pixel stays in the service's spatial reference with a `crs` member, as in esri-leaflet;
    catalog item footprints are reprojected to lat/lng (esri-leaflet leaves them projected).
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
            # catalog_items_to_frame pairs them correctly.
            for feature, visibility in zip(collection["features"], visibilities):
                feature["properties"]["catalogItemVisibility"] = visibility
        results["catalogItems"] = collection
    return results


def featureset_to_geojson(featureset: Mapping[str, Any]) -> dict:
    """An Esri FeatureSet as a GeoJSON FeatureCollection in lat/lng, in the server's order.

    Geometries are reprojected from the FeatureSet's spatialReference (none given: taken as
    lat/lng already), outer rings wound
    counter-clockwise (RFC 7946); ids come from the object id field; dates stay epoch ms.
    """
    spatial_reference = featureset.get("spatialReference")
    crs = None if normalize_wkid(spatial_reference) == 4326 else spatial_reference_crs(spatial_reference)
    id_field = _id_field(featureset)
    features = []
    for feature in featureset.get("features") or []:
        attributes = dict(feature.get("attributes") or {})
        geometry = esri_to_geojson_geometry(feature.get("geometry"))
        if geometry is not None and crs is not None:
            geometry = _rewind(_as_lists(transform_geom(crs, "EPSG:4326", geometry)))
        item: dict[str, Any] = {"type": "Feature", "geometry": geometry, "properties": attributes}
        if id_field is not None and id_field in attributes:
            item["id"] = attributes[id_field]
        features.append(item)
    return {"type": "FeatureCollection", "features": features}


def _id_field(featureset: Mapping[str, Any]) -> str | None:
    """objectIdFieldName, else the OID-typed field, else a conventional id name (as esri-leaflet)."""
    if featureset.get("objectIdFieldName"):
        return featureset["objectIdFieldName"]
    fields = featureset.get("fields") or []
    oid = next((f["name"] for f in fields if f.get("type") == "esriFieldTypeOID"), None)
    if oid is not None:
        return oid
    names = {f["name"] for f in fields}
    if not names:
        names = set((featureset.get("features") or [{}])[0].get("attributes") or {})
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
    """Esri rings (outer clockwise, holes counter-clockwise) grouped into polygons."""
    polygons: list[list[Ring]] = []
    holes: list[Ring] = []
    for ring in (r for r in rings if len(r) >= 4):
        if _signed_area(ring) < 0:
            polygons.append([ring])
        else:
            holes.append(ring)
    for hole in holes:
        owner = next((p for p in polygons if Polygon(p[0]).contains(Point(hole[0]))), None)
        if owner is None:
            polygons.append([hole])  # a lone counter-clockwise ring is an outer ring written the other way
        else:
            owner.append(hole)
    if not polygons:
        return None
    if len(polygons) == 1:
        return _rewind({"type": "Polygon", "coordinates": polygons[0]})
    return _rewind({"type": "MultiPolygon", "coordinates": polygons})


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


def _as_lists(value: Any) -> Any:
    """Nested coordinate sequences (rasterio returns tuples) as plain lists."""
    if isinstance(value, Mapping):
        return {key: _as_lists(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_as_lists(item) for item in value]
    return value
