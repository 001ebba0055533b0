"""identify, query, getSamples and computeHistograms responses as pandas DataFrames.

ArcGIS answers in its own shapes: pixel values as strings ("17, 22, 39, 45", "NoData"),
catalog items as Esri FeatureSets with epoch-millisecond dates. These functions turn them into
what tables and charts take, and leave the raw response untouched. identify's band values are
nullable Float64 columns: NoData is pd.NA (missing, as pandas users test it with isna()), not a
NaN that a float raster could hold. The GeoJSON forms (for a
Leaflet map) are in `imageservice.geojson`, which needs no pandas.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import pandas

from imageservice.errors import InvalidResponse
from imageservice.multidim import TIME_DIMENSION, Variable

NO_DATA = "NoData"
VALUE_DTYPE = "Float64"  # nullable: NoData is pd.NA
DATE_FIELD_TYPE = "esriFieldTypeDate"
_VALUE_SEPARATORS = re.compile(r"[,\s]+")


# --- pixel values --------------------------------------------------------------------------------


def parse_pixel_values(text: Any) -> list[float | None]:
    """Band values from an identify string: "17, 22, 39, 45" (value) or "10 18 34 43"
    (properties.Values); "NoData" becomes None, so it stays apart from a NaN value."""
    parts = [part for part in _VALUE_SEPARATORS.split(str(text).strip()) if part]
    try:
        return [None if part == NO_DATA else float(part) for part in parts]
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
    """One row per band: `band`, `value` (Float64, pd.NA for NoData)."""
    if "value" not in response:
        raise InvalidResponse(f"identify response has no 'value': {str(response)[:200]}")
    values = parse_pixel_values(response["value"])
    if band_names and _is_bare_no_data(values):
        values = [None] * len(band_names)
    bands = _band_columns(len(values), band_names)
    return pandas.DataFrame({"band": bands, "value": pandas.array(values, dtype=VALUE_DTYPE)})


def catalog_items_to_frame(
    response: Mapping[str, Any],
    band_names: Sequence[str] | None = None,
    fields: Sequence[Mapping[str, Any]] | None = None,
) -> pandas.DataFrame:
    """One row per catalog item under the identified pixel, in the server's order.

    Columns: the item attributes (dates as UTC datetimes), one column per band from
    properties.Values (Float64, pd.NA for NoData or no value), and `visibility` (the item's share of the mosaic). `fields` (the service
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
        padded = [v + [None] * (count - len(v)) for v in values]
        band_frame = pandas.DataFrame(padded, columns=bands, dtype=VALUE_DTYPE)
    else:  # returnPixelValues=false, or a server that does not pair them
        band_frame = pandas.DataFrame(pandas.NA, index=range(len(features)), columns=bands, dtype=VALUE_DTYPE)
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
    dates), then one Float64 column per band (pd.NA for NoData, as in the identify tables).
    """
    if "samples" not in response:
        raise InvalidResponse(f"getSamples response has no 'samples': {str(response)[:200]}")
    samples = response["samples"] or []
    own = pandas.DataFrame([_sample_columns(s) for s in samples], columns=list(SAMPLE_COLUMNS))
    values = [parse_pixel_values(s.get("value", NO_DATA)) for s in samples]
    count = max((len(v) for v in values if not _is_bare_no_data(v)), default=len(band_names or ()) or 1)
    padded = [[None] * count if _is_bare_no_data(v) else v + [None] * (count - len(v)) for v in values]
    band_frame = pandas.DataFrame(padded, columns=_band_columns(count, band_names), dtype=VALUE_DTYPE)
    return pandas.concat([own, _attributes_frame(samples, fields), band_frame], axis=1)


def _sample_columns(sample: Mapping[str, Any]) -> list[Any]:
    location = sample.get("location") or {}
    return [sample.get("locationId"), location.get("x"), location.get("y"), sample.get("rasterId"),
            sample.get("resolution")]


def _is_bare_no_data(values: list[float | None]) -> bool:
    """A lone "NoData" stands for every band."""
    return len(values) == 1 and values[0] is None


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


# --- multidimensional ----------------------------------------------------------------------------

VARIABLE_FIELD = "Variable"  # the catalog field of a multidimensional mosaic dataset naming each slice's variable


def multidimensional_identify_to_frame(response: Mapping[str, Any], variable: Variable) -> pandas.DataFrame:
    """One row per slice of `variable` in an identify answer (processAsMultidimensional, or any
    identify whose catalog items are the slices), sorted along its dimensions.

    Columns: one per dimension (time as UTC datetimes, others floats; taken from the items'
    attributes under the dimension's field), then `value` (Float64, pd.NA for NoData; the first
    band, values may come in scientific notation such as "1.2e-05"). Items of other variables are
    left out when the items name their variable.
    """
    catalog = response.get("catalogItems") or {}
    features = catalog.get("features") or []
    texts = ((response.get("properties") or {}).get("Values")) or []
    if len(texts) != len(features):
        raise InvalidResponse(f"identify paired {len(texts)} values with {len(features)} slices: "
                              "ask with returnCatalogItems=true (and processAsMultidimensional=true)")
    rows = []
    for feature, text in zip(features, texts):
        attributes = feature.get("attributes") or {}
        if attributes.get(VARIABLE_FIELD, variable.name) != variable.name:
            continue
        values = parse_pixel_values(text)
        rows.append([attributes.get(d.field) for d in variable.dimensions] + [values[0] if values else None])
    names = [d.name for d in variable.dimensions]
    frame = pandas.DataFrame(rows, columns=[*names, "value"])
    for dimension in variable.dimensions:
        frame[dimension.name] = _dimension_column(frame[dimension.name], dimension.is_time)
    frame["value"] = pandas.array(frame["value"].tolist(), dtype=VALUE_DTYPE)
    return frame.sort_values(names, kind="stable").reset_index(drop=True) if names else frame


def slices_to_frame(response: Mapping[str, Any]) -> pandas.DataFrame:
    """The `slices` resource as one row per slice: sliceId, variable, then one column per dimension
    (StdTime as UTC datetimes; a range stays a [min, max] list)."""
    if not isinstance(response.get("slices"), list):
        raise InvalidResponse(f"slices response has no 'slices': {str(response)[:200]}")
    rows = []
    for item in response["slices"]:
        definition = item.get("multidimensionalDefinition") or []
        row = {"sliceId": item.get("sliceId"), "variable": definition[0].get("variableName") if definition else None}
        for entry in definition:
            values = entry.get("values") or [None]
            row[entry.get("dimensionName")] = values[0]
        rows.append(row)
    frame = pandas.DataFrame(rows)
    if TIME_DIMENSION in frame:
        frame[TIME_DIMENSION] = _dimension_column(frame[TIME_DIMENSION], True)
    return frame


def _dimension_column(column: pandas.Series, is_time: bool) -> pandas.Series:
    if is_time and _is_numeric(column):
        return pandas.to_datetime(column, unit="ms", utc=True)
    return column if is_time else pandas.to_numeric(column, errors="coerce").astype(float)


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
