"""The pixel inspector: a map click → identify → the pixel's band values, the scenes under it, its
spectral and temporal profiles, a marker and CSV downloads.

Pure functions first (tested without a browser); `register` only wires them to the page.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas
import plotly.graph_objects as go
from dash import ClientsideFunction, Dash, Input, Output, State, callback_context, dcc, no_update

from callbacks.band_choice import template_bands
from callbacks.control_options import date_field
from callbacks.profiles import (
    CHART_LAYOUT,
    NDVI,
    ProfileUnavailable,
    empty_figure,
    index_options,
    ndvi,
    ndvi_bands,
    records,
    temporal_figure,
    temporal_profile,
)
from components import ids
from imageservice.dash import ImageMapLayerAIO, edit, with_policy
from components.pixelpanel import (NUMBER_FORMAT, PERCENT_FORMAT, VALUE_COLUMNS, VISIBLE_NOTE, chart,
                                   coordinates_view, pixel_marker)
from imageservice.client import METADATA_MAX_AGE
from imageservice.errors import ImageServiceError
from imageservice.metadata import normalize_wkid, parse_service_info
from imageservice.presets import band_presets
from imageservice.tables import catalog_items_to_frame, identify_to_frame

EMPTY = "Click the map to inspect a pixel: its band values, the scenes under it and its profiles."
NO_SERVICE = "Open a service first, then click the map."
OUTSIDE = "This point is outside the service's extent."
NO_DATA = "No data at this point."
NO_SCENE_IN_TIME = " No scene in the layer's time range covers it."
STOPPED = "Stopped. Press Run again to read the time series."
DATE_FORMAT = "%Y-%m-%d %H:%M UTC"  # in the grids; the time series keeps ISO 8601


@dataclass(frozen=True)
class Pixel:
    """What identify says about one clicked point, ready for the panel."""

    lat: float
    lng: float
    message: str | None = None  # plain words when something is missing or went wrong
    error: bool = False
    location: dict | None = None  # {x, y, wkid} as the service answered
    values: pandas.DataFrame = field(default_factory=pandas.DataFrame)  # band, value
    items: pandas.DataFrame = field(default_factory=pandas.DataFrame)  # the catalog items there
    by_rule: bool = False  # the values are the rendering rule's output, not the service's bands

    @property
    def has_values(self) -> bool:
        return not self.values.empty and bool(self.values["value"].notna().any())


# --- the service ---------------------------------------------------------------------------------------


def service_facts(params: dict) -> dict:
    """What the inspector needs to know about the layer's service, from its root JSON."""
    info = parse_service_info(edit(params).metadata(METADATA_MAX_AGE))
    names = {f["name"] for f in info.fields}
    oid = info.object_id_field or next((f["name"] for f in info.fields if f.get("type") == "esriFieldTypeOID"), "OBJECTID")
    return {
        "url": params["url"],
        "band_names": list(info.band_names),
        "fields": list(info.fields),
        "extent": info.extent,
        "wkid": info.spatial_reference,
        "extent_latlng": info.extent_latlng,
        "date_field": date_field(info),
        "object_id_field": oid,
        "has_name": "Name" in names,
        "has_catalog": "Catalog" in info.capabilities and bool(info.fields),
        "current_version": info.current_version,
        # Its scenes are slices of several variables: the profiles through its dimensions replace
        # the temporal profile (callbacks/multidim).
        "multidimensional": info.has_multidimensions,
    }


def refresh_service(params: dict | None, stored: dict | None) -> dict | None:
    """The service facts for the layer's service: kept while the URL stays, fetched when it changes."""
    if not params:
        return None
    if stored and stored.get("url") == params["url"] and not stored.get("error"):
        return no_update
    try:
        return service_facts(params)
    except ImageServiceError as error:
        return {"url": params["url"], "error": str(error)}


# --- identify ------------------------------------------------------------------------------------------


def rule_output_labels(rule: dict, count: int, band_names: list[str]) -> list[str]:
    """Names for a rendering rule's output values: the displayed red, green and blue (with the
    bands they come from when the template's name says), the rule's single value, or its outputs."""
    name = rule.get("rasterFunction") or "Custom rule"
    if count == 3:
        sources = template_bands(name, band_presets(band_names))
        return [f"Shown {channel}" + (f" ({band_names[band]})" if sources else "")
                for channel, band in zip(("red", "green", "blue"), sources or (None, None, None))]
    if count == 1:
        return [f"{name} value"]
    return [f"{name} output {i}" for i in range(1, count + 1)]


def identify_pixel(params: dict, lat: float, lng: float, service: dict, *, apply_rendering_rule: bool = False) -> Pixel:
    """identify at a lat/lng with the layer's mosaic rule and time (and its rendering rule when
    asked), parsed into band values and catalog items, with a message for outside/NoData/errors."""
    task = edit(params).identify().at(lat, lng).return_catalog_items(True)
    by_rule = bool(apply_rendering_rule and params.get("rendering_rule"))
    if by_rule:
        task.set_rendering_rule(params["rendering_rule"])
    try:
        response = task.run()
        values = identify_to_frame(response, service["band_names"])
        if by_rule:
            values["band"] = rule_output_labels(params["rendering_rule"], len(values), service["band_names"])
        items = catalog_items_to_frame(response, service["band_names"], service["fields"] or None)
    except ImageServiceError as error:
        return Pixel(lat, lng, message=f"Could not read the pixel: {error}", error=True)
    where = answered_location(response)
    pixel = Pixel(lat, lng, location=where, values=values, items=items, by_rule=by_rule)
    if pixel.has_values:
        return pixel
    if is_outside(where, lat, lng, service):
        return Pixel(lat, lng, message=OUTSIDE, location=where)
    time_filtered = params.get("time_from") is not None and params.get("time_to") is not None
    message = NO_DATA + (NO_SCENE_IN_TIME if time_filtered and items.empty else "")
    return Pixel(lat, lng, message=message, location=where, values=values, items=items)


def answered_location(response: dict) -> dict | None:
    """identify's location as {x, y, wkid} (Web Mercator as 3857); None when it gave none."""
    location = response.get("location") or {}
    if location.get("x") is None:
        return None
    return {"x": location["x"], "y": location["y"], "wkid": normalize_wkid(location.get("spatialReference"))}


def is_outside(location: dict | None, lat: float, lng: float, service: dict) -> bool:
    """Whether the point lies outside the service's extent: compared in the service's own
    coordinates when identify answered in them, else in lat/lng."""
    if location is not None and service.get("extent") and location["wkid"] == service["wkid"]:
        xmin, ymin, xmax, ymax = service["extent"]
        return not (xmin <= location["x"] <= xmax and ymin <= location["y"] <= ymax)
    if service.get("extent_latlng"):
        south, west, north, east = service["extent_latlng"]
        return not (south <= lat <= north and west <= lng <= east)
    return False


# --- tables ----------------------------------------------------------------------------------------------


def catalog_columns(frame: pandas.DataFrame, band_names: list[str], date: str | None) -> list[dict]:
    """Name, visibility and date first, then the band values, then the other attributes."""
    first = [c for c in ("Name", "visibility", date) if c and c in frame]
    bands = [c for c in band_names if c in frame]
    rest = [c for c in frame.columns if c not in first and c not in bands]
    columns = []
    for name in first + bands + rest:
        column: dict = {"field": name, "headerName": name}
        if name == date:
            column["minWidth"] = 150
        if name == "visibility":
            column.update(headerName="On map", valueFormatter=PERCENT_FORMAT, headerTooltip=VISIBLE_NOTE)
        elif name in bands:
            column.update(valueFormatter=NUMBER_FORMAT, type="rightAligned")
        if name == "Name":
            column.update(pinned="left", width=150)
        columns.append(column)
    return columns


def table_csv(rows: list[dict], columns: list[dict]) -> str:
    """A grid's rows as CSV, columns in the grid's order."""
    return pandas.DataFrame(rows or [], columns=[c["field"] for c in columns]).to_csv(index=False)


def point_name(point: dict) -> str:
    """A file-name-safe label for a point: 38.55000N_121.75000W."""
    lat, lng = point["lat"], point["lng"]
    return f"{abs(lat):.5f}{'N' if lat >= 0 else 'S'}_{abs(lng):.5f}{'E' if lng >= 0 else 'W'}"


def download(kind: str, point: dict | None, pixel_rows: list | None, catalog_rows: list | None,
             catalog_defs: list | None, series: list | None) -> dict:
    """The CSV (dcc.Download data) of one table: "pixel", "catalog" or "temporal"."""
    if not point:
        return no_update
    if kind == "pixel":
        content = table_csv(pixel_rows, VALUE_COLUMNS)
    elif kind == "catalog":
        content = table_csv(catalog_rows, catalog_defs or [])
    else:
        content = pandas.DataFrame(series or []).to_csv(index=False)
    return dcc.send_string(content, f"{kind}_{point_name(point)}.csv", type="text/csv")


# --- charts -------------------------------------------------------------------------------------------


def spectral_figure(pixel: Pixel) -> go.Figure:
    """The pixel's value per band (bold), over each scene under it (faint, name on hover); a
    rendering rule's output (display colours, an index) as bars: it is no spectral profile."""
    bands = list(pixel.values["band"])
    figure = go.Figure()
    if pixel.by_rule:
        figure.add_trace(go.Bar(x=bands, y=pixel.values["value"], marker={"color": "#1f5f9e"}, name="Rule output",
                                hovertemplate="%{x} %{y:.6~g}<extra></extra>"))
        figure.update_layout(**CHART_LAYOUT, yaxis_title="Rule output")
        return figure
    for _, item in pixel.items.iterrows():
        if not all(band in item for band in bands):
            continue  # a rendering rule changed the bands: the items' raw values do not compare
        label = str(item.get("Name", "scene"))
        figure.add_trace(go.Scatter(
            x=bands, y=[item[band] for band in bands], mode="lines", line={"color": "#b7c2cc", "width": 1},
            name=label, hovertemplate=f"{label}<br>%{{x}} %{{y:.6~g}}<extra></extra>"))
    figure.add_trace(go.Scatter(
        x=bands, y=pixel.values["value"], mode="lines+markers", line={"color": "#1f5f9e", "width": 3},
        marker={"size": 8}, name="Pixel", hovertemplate="%{x} %{y:.6~g}<extra>pixel</extra>"))
    figure.update_layout(**CHART_LAYOUT, yaxis_title="Value")
    return figure


def pixel_ndvi(pixel: Pixel, band_names: list[str]) -> str:
    """ "NDVI 0.532" for a pixel of a service with NIR and Red bands; "" otherwise."""
    pair = ndvi_bands(band_names)
    frame = pixel.values
    values = {} if frame.empty else dict(zip(frame["band"], frame["value"].to_numpy(float, na_value=math.nan)))
    if not pair or pair[0] not in values or pair[1] not in values:
        return ""
    value = ndvi(values[pair[0]], values[pair[1]])
    return "" if math.isnan(value) else f"NDVI {value:.3f}"


# --- the callbacks' bodies -------------------------------------------------------------------------------


def swipe_side(click: dict | None, swipe: dict | None) -> tuple[bool, str]:
    """(whether the click fell on the swipe's left side, the sentence naming the side reported);
    (False, "") without swipe."""
    side = (click or {}).get("side")
    if not side or not (swipe or {}).get("enabled"):
        return False, ""
    return side == "left", f"{side.capitalize()} side of the swipe: {swipe.get(side) or 'the main layer'}."


def inspect(click: dict | None, apply_rule: list | None, params: dict | None, service: dict | None,
            point: dict | None, clicked: bool, note: str = "") -> tuple:
    """Everything the panel shows for the last click, in `register`'s output order. `clicked` is
    whether the click itself (not a layer change) triggered this: only then the pixel tab opens.
    `note` (which swipe side is reported) leads the status line."""
    tab = "pixel" if clicked else no_update
    if not click:
        return panel(EMPTY)
    lat, lng = click["lat"], click["lng"]
    if not params or not service:
        return panel(NO_SERVICE, error=True, pixel=Pixel(lat, lng), point=None, tab=tab)
    if service.get("error"):
        return panel(f"Could not read the service: {service['error']}", error=True, pixel=Pixel(lat, lng),
                     point=None, tab=tab)
    pixel = identify_pixel(params, lat, lng, service, apply_rendering_rule=bool(apply_rule))
    new_point = None if pixel.error or pixel.message == OUTSIDE else {"lat": lat, "lng": lng, "url": params["url"]}
    # The temporal profile reruns only when its point or service changes, not for a layer setting.
    return panel(" ".join(filter(None, (note, pixel.message))), error=pixel.error, pixel=pixel, service=service,
                 point=no_update if new_point == point else new_point,
                 profile=new_point is not None and not service.get("multidimensional"), tab=tab)


def panel(message: str, *, error: bool = False, pixel: Pixel | None = None, service: dict | None = None,
          point: dict | None = no_update, profile: bool = False, tab: str = no_update) -> tuple:
    """The identify callback's outputs, in `register`'s order."""
    shown = pixel is not None and pixel.has_values
    names = service["band_names"] if service else []
    return (
        message,
        "pixel-status error" if error else "pixel-status",
        coordinates_view(pixel.lat, pixel.lng, pixel.location) if pixel else None,
        not shown,
        records(pixel.values, DATE_FORMAT) if shown else [],
        records(pixel.items, DATE_FORMAT) if shown else [],
        catalog_columns(pixel.items, names, service["date_field"]) if shown else [],
        [chart(ids.PIXEL_SPECTRAL, spectral_figure(pixel))] if shown else [],
        pixel_ndvi(pixel, names) if shown else "",
        [pixel_marker(pixel.lat, pixel.lng)] if pixel else [],
        not profile,
        point,
        tab,
    )


def run_profile(set_progress, point: dict | None, params: dict | None, service: dict | None) -> tuple:
    """The temporal profile job: (series rows or None, message)."""
    if not point or not params or not service or service.get("error") or service.get("multidimensional"):
        return None, ""

    def progress(done: int, total: int) -> None:
        set_progress(f"{done} of {total} scenes")

    try:
        frame = temporal_profile(params, point["lat"], point["lng"], service, progress)
    except ProfileUnavailable as reason:
        return None, str(reason)
    except ImageServiceError as error:
        return None, f"Could not read the time series: {error}"
    if frame.empty:
        return [], "No scene of the catalog has data at this point."
    bands = [name for name in service["band_names"] if name in frame]
    empty = int(frame[bands].isna().all(axis=1).sum())
    gaps = f"; {empty} without data here (gaps in the line)." if empty else "."
    return records(frame), f"{len(frame)} scenes at this point{gaps}"


def temporal_chart(series: list | None, choice: str | None) -> go.Figure:
    if series is None:
        return empty_figure("")
    return temporal_figure(series, choice or NDVI)


def temporal_view(series: list | None, choice: str | None) -> list:
    """The temporal chart, once there is a series to draw (components.pixelpanel.chart says why not before)."""
    return [] if series is None else [chart(ids.TEMPORAL_CHART, temporal_chart(series, choice))]


def index_choice(service: dict | None, current: str | None) -> tuple[list, str | None]:
    """The profile selector's options for the service; NDVI first when there is one."""
    if not service or service.get("error"):
        return [], None
    options = index_options(service["band_names"])
    values = [o["value"] for o in options]
    return options, current if current in values else (values[0] if values else None)


# --- wiring -----------------------------------------------------------------------------------------------


def register(app: Dash) -> None:
    params = ImageMapLayerAIO.ids.params(ids.MAIN_LAYER)
    click = ids.PIXEL_CLICK
    # The main layer's clicks, with the swipe side each fell on (assets/swipe.js).
    app.clientside_callback(
        ClientsideFunction(namespace="swipe", function_name="withSide"),
        Output(ids.PIXEL_CLICK, "data"),
        Input(ImageMapLayerAIO.ids.click(ids.MAIN_LAYER), "data"),
        prevent_initial_call=True,
    )
    app.callback(
        Output(ids.PIXEL_SERVICE, "data"),
        Input(params, "data"),
        State(ids.PIXEL_SERVICE, "data"),
    )(refresh_service)
    app.callback(
        Output(ids.TEMPORAL_INDEX, "options"),
        Output(ids.TEMPORAL_INDEX, "value"),
        Input(ids.PIXEL_SERVICE, "data"),
        State(ids.TEMPORAL_INDEX, "value"),
    )(index_choice)

    @app.callback(
        Output(ids.PIXEL_STATUS, "children"),
        Output(ids.PIXEL_STATUS, "className"),
        Output(ids.PIXEL_COORDINATES, "children"),
        Output(ids.PIXEL_RESULTS, "hidden"),
        Output(ids.PIXEL_GRID, "rowData"),
        Output(ids.PIXEL_CATALOG_GRID, "rowData"),
        Output(ids.PIXEL_CATALOG_GRID, "columnDefs"),
        Output(ids.PIXEL_SPECTRAL_BOX, "children"),
        Output(ids.PIXEL_NDVI, "children"),
        Output(ids.PIXEL_MARKER, "children"),
        Output(ids.TEMPORAL_SECTION, "hidden"),
        Output(ids.PIXEL_POINT, "data"),
        Output(ids.INSPECTOR_TABS, "value", allow_duplicate=True),
        Input(click, "data"),
        Input(ids.PIXEL_APPLY_RULE, "value"),
        Input(params, "data"),
        Input(ids.PIXEL_SERVICE, "data"),
        State(ids.PIXEL_POINT, "data"),
        State(ImageMapLayerAIO.ids.params(ids.COMPARE_LAYER), "data"),
        State(ids.SWIPE_STATE, "data"),
        prevent_initial_call=True,
    )
    def on_click(click_data, apply_rule, params_data, service, point, compare_params, swipe):
        clicked = callback_context.triggered_id == click
        left, note = swipe_side(click_data, swipe)
        # A click left of the swipe divider reports the layer drawn there.
        chosen = compare_params if left and compare_params else params_data
        return inspect(click_data, apply_rule, chosen, service, point, clicked, note)

    @app.callback(
        Output(ids.TEMPORAL_SERIES, "data"),
        Output(ids.TEMPORAL_STATUS, "children"),
        Input(ids.PIXEL_POINT, "data"),
        Input(ids.TEMPORAL_RUN, "n_clicks"),
        State(params, "data"),
        State(ids.PIXEL_SERVICE, "data"),
        background=True,
        running=[
            (Output(ids.TEMPORAL_RUN, "disabled"), True, False),
            (Output(ids.TEMPORAL_CANCEL, "disabled"), False, True),
            (Output(ids.TEMPORAL_SECTION, "className"), "pixel-section temporal running", "pixel-section temporal"),
        ],
        progress=Output(ids.TEMPORAL_PROGRESS, "children"),
        cancel=[Input(ids.TEMPORAL_CANCEL, "n_clicks")],
        prevent_initial_call=True,
    )
    def profile_job(set_progress, point, _runs, params_data, service):
        return with_policy(app, run_profile)(set_progress, point, params_data, service)

    app.callback(
        Output(ids.TEMPORAL_STATUS, "children", allow_duplicate=True),
        Input(ids.TEMPORAL_CANCEL, "n_clicks"),
        prevent_initial_call=True,
    )(lambda _: STOPPED)
    app.callback(
        Output(ids.TEMPORAL_CHART_BOX, "children"),
        Input(ids.TEMPORAL_SERIES, "data"),
        Input(ids.TEMPORAL_INDEX, "value"),
    )(temporal_view)

    @app.callback(
        Output(ids.PIXEL_DOWNLOAD, "data"),
        Input(ids.PIXEL_DOWNLOAD_PIXEL, "n_clicks"),
        Input(ids.PIXEL_DOWNLOAD_CATALOG, "n_clicks"),
        Input(ids.PIXEL_DOWNLOAD_TEMPORAL, "n_clicks"),
        State(click, "data"),
        State(ids.PIXEL_GRID, "rowData"),
        State(ids.PIXEL_CATALOG_GRID, "rowData"),
        State(ids.PIXEL_CATALOG_GRID, "columnDefs"),
        State(ids.TEMPORAL_SERIES, "data"),
        prevent_initial_call=True,
    )
    def on_download(_pixel, _catalog, _temporal, click_data, pixel_rows, catalog_rows, catalog_defs, series):
        kind = {ids.PIXEL_DOWNLOAD_PIXEL: "pixel", ids.PIXEL_DOWNLOAD_CATALOG: "catalog"}.get(
            callback_context.triggered_id, "temporal")
        return download(kind, click_data, pixel_rows, catalog_rows, catalog_defs, series)
