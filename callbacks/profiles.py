"""The temporal profile: a pixel's values (or NDVI) over every scene of the catalog.

The scenes come from a catalog query at the point (so a scene with no value there is a gap,
not a missing date), their values from getSamples in small batches of locked rasters (so the
job reports progress and can stop between batches), or from one identify per scene on servers
older than getSamples (10.2). The layer's time range is ignored (every date is wanted); the
mosaic rule's `where` filter is kept, so a catalog filter on the map also filters the profile.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import pandas
import plotly.graph_objects as go

from imageservice.dash import edit
from imageservice.layer import ImageMapLayer as Layer
from imageservice.tables import identify_to_frame

NDVI = "NDVI"
DATE = "date"
ISO_DATE = "%Y-%m-%dT%H:%M:%SZ"
BATCH = 10  # scenes per getSamples request
SAMPLES_VERSION = 10.2  # getSamples exists from this ArcGIS Server version on
NO_DATES = "This service's catalog has no date field, so its scenes cannot be placed in time."
NO_CATALOG = "This service offers neither a catalog nor getSamples, so there is no temporal profile."

Progress = Callable[[int, int], None]

CHART_LAYOUT = {
    "height": 230,
    "margin": {"l": 52, "r": 12, "t": 10, "b": 40},
    "paper_bgcolor": "rgba(0,0,0,0)",
    "plot_bgcolor": "#ffffff",
    "font": {"size": 11},
    "showlegend": False,
}


class ProfileUnavailable(Exception):
    """The service cannot give a temporal profile; the message says why in plain words."""


# --- indices --------------------------------------------------------------------------------------


def ndvi_bands(band_names: Sequence[str]) -> tuple[str, str] | None:
    """The (NIR, Red) band names when the service has bands named so (any case), else None."""
    by_lower = {name.lower(): name for name in band_names}
    if "nir" in by_lower and "red" in by_lower:
        return by_lower["nir"], by_lower["red"]
    return None


def ndvi(nir: pandas.Series | float, red: pandas.Series | float) -> pandas.Series | float:
    """(NIR - Red) / (NIR + Red); NaN where either is missing or both are zero."""
    total = nir + red
    if isinstance(total, pandas.Series):
        return (nir - red) / total.where(total != 0)
    return (nir - red) / total if total and not math.isnan(total) else math.nan


def index_options(band_names: Sequence[str]) -> list[dict]:
    """What the profile can show: NDVI when the bands allow it, then each band."""
    options = [{"label": "NDVI", "value": NDVI}] if ndvi_bands(band_names) else []
    return options + [{"label": name, "value": name} for name in band_names]


# --- the series -----------------------------------------------------------------------------------


def temporal_profile(params: dict, lat: float, lng: float, service: dict, progress: Progress) -> pandas.DataFrame:
    """One row per scene at the point, sorted by date: object id, name, `date` (UTC), one
    column per band (NaN where the scene has no data) and NDVI when the bands allow it.

    `service` is the inspector's service facts (see callbacks.pixel.service_facts); `progress`
    is called with (scenes done, scenes in all) after each request.
    """
    if service["date_field"] is None:
        raise ProfileUnavailable(NO_DATES)
    layer = edit(params).set_time_range(None, None)
    has_samples = service["current_version"] is None or service["current_version"] >= SAMPLES_VERSION
    if service["has_catalog"]:
        scenes = _scenes_at(layer, lat, lng, service)
        values = _values_by_scene(layer, lat, lng, service, list(scenes.index), has_samples, progress)
        frame = scenes.join(values)
    elif has_samples:
        frame = _all_samples(layer, lat, lng, service)
        progress(len(frame), len(frame))
    else:
        raise ProfileUnavailable(NO_CATALOG)
    frame = frame.sort_values(DATE, kind="stable").reset_index()
    pair = ndvi_bands(service["band_names"])
    if pair and all(name in frame for name in pair):
        frame[NDVI] = ndvi(frame[pair[0]], frame[pair[1]])
    return frame


def _scenes_at(layer: Layer, lat: float, lng: float, service: dict) -> pandas.DataFrame:
    """The catalog items whose footprint holds the point (and pass the layer's where), indexed by
    object id, with their name and date."""
    oid, date = service["object_id_field"], service["date_field"]
    fields = [oid, date] + (["Name"] if service["has_name"] else [])
    where = (layer.params.mosaic_rule or {}).get("where") or "1=1"
    point = {"x": lng, "y": lat, "spatialReference": {"wkid": 4326}}
    frame = layer.query().intersects(point).where(where).fields(fields).return_geometry(False).run_frame()
    frame = frame.reindex(columns=fields).rename(columns={date: DATE})
    if not pandas.api.types.is_datetime64_any_dtype(frame[DATE]):  # a date field not named like one
        frame[DATE] = pandas.to_datetime(frame[DATE], unit="ms", utc=True)
    return frame.set_index(oid)


def _values_by_scene(layer: Layer, lat: float, lng: float, service: dict, scene_ids: list[int],
                     has_samples: bool, progress: Progress) -> pandas.DataFrame:
    """Band values per scene id: getSamples on a few locked rasters at a time, or one identify each."""
    bands = service["band_names"]
    rows: dict[int, pandas.Series] = {}
    size = BATCH if has_samples else 1
    progress(0, len(scene_ids))
    for start in range(0, len(scene_ids), size):
        batch = scene_ids[start:start + size]
        rule = {"mosaicMethod": "esriMosaicLockRaster", "lockRasterIds": batch}
        if has_samples:
            samples = as_floats((layer.get_samples().at(lat, lng).set_mosaic_rule(rule)
                                 .return_first_value_only(False).run_frame(bands)), bands)
            for _, sample in samples.iterrows():
                rows.setdefault(int(sample["rasterId"]), sample.reindex(list(bands)))
        else:
            response = layer.identify().at(lat, lng).set_mosaic_rule(rule).return_catalog_items(False).run()
            pixel = identify_to_frame(response, bands)
            rows[batch[0]] = pandas.Series(pixel["value"].to_numpy(dtype=float, na_value=math.nan), index=pixel["band"])
        progress(start + len(batch), len(scene_ids))
    return pandas.DataFrame.from_dict(rows, orient="index", columns=list(bands), dtype=float)


def _all_samples(layer: Layer, lat: float, lng: float, service: dict) -> pandas.DataFrame:
    """Without a catalog: one getSamples for every item at the point, dates from outFields."""
    date = service["date_field"]
    fields = [date] + (["Name"] if service["has_name"] else [])
    samples = as_floats((layer.get_samples().at(lat, lng).return_first_value_only(False).fields(fields)
                         .run_frame(service["band_names"], service["fields"])), service["band_names"])
    frame = samples.rename(columns={date: DATE, "rasterId": service["object_id_field"]})
    return frame.set_index(service["object_id_field"]).drop(columns=["locationId", "x", "y", "resolution"])


def as_floats(frame: pandas.DataFrame, bands: list[str]) -> pandas.DataFrame:
    """The band columns as plain floats, NoData (pd.NA in the library's tables) as NaN: a gap in
    the profile's line."""
    return frame.astype({band: float for band in bands if band in frame})


# --- for the page -----------------------------------------------------------------------------------


def records(frame: pandas.DataFrame, date_format: str = ISO_DATE) -> list[dict]:
    """A frame as JSON rows (for a dcc.Store or a grid): dates as UTC text, NaN (NoData) as null."""
    out = frame.copy()
    for name in out.columns:
        if pandas.api.types.is_datetime64_any_dtype(out[name]):
            out[name] = out[name].dt.strftime(date_format)
    return out.astype(object).where(out.notna(), None).to_dict("records")


def temporal_figure(records: list[dict], choice: str) -> go.Figure:
    """The chosen band or NDVI over time; a scene without data is a gap in the line."""
    frame = pandas.DataFrame(records)
    if frame.empty or choice not in frame:
        return empty_figure("No scene has data at this point." if frame.empty else f"No {choice} values here.")
    names = frame["Name"] if "Name" in frame else "Scene " + frame.iloc[:, 0].astype(str)
    figure = go.Figure(go.Scatter(
        x=pandas.to_datetime(frame[DATE], utc=True), y=frame[choice], mode="lines+markers", connectgaps=False,
        text=names, hovertemplate="%{text}<br>%{x|%Y-%m-%d}<br>" + choice + " %{y:.4~f}<extra></extra>",
        line={"color": "#2b7a3d" if choice == NDVI else "#1f5f9e", "width": 2}, marker={"size": 7},
    ))
    figure.update_layout(**CHART_LAYOUT, yaxis_title=choice)
    figure.update_xaxes(tickformat="%b %d\n%Y")
    return figure


def empty_figure(message: str) -> go.Figure:
    """A blank chart that says why it is blank."""
    figure = go.Figure()
    figure.update_layout(**{**CHART_LAYOUT, "plot_bgcolor": "rgba(0,0,0,0)"}, xaxis={"visible": False}, yaxis={"visible": False},
                         annotations=[{"text": message, "showarrow": False, "font": {"size": 12, "color": "#4a5866"},
                                       "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5}])
    return figure
