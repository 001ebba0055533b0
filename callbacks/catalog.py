"""The catalog tab: the service's scenes in the map's view and time range (query), as footprints
on the map and rows in a table; ticking rows locks the layer's mosaic to those scenes.

Callbacks stay thin: the where clause, the paging loop, the table and the mosaic rule edits
are plain functions of plain values, tested without a browser.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas
from dash import ClientsideFunction, Dash, Input, Output, State, ctx, no_update

from callbacks.control_options import date_field
from components import ids
from components.catalogpanel import CLOUD_ANY, ROW_ID
from imageservice.dash import ImageMapLayerAIO, edit
from imageservice.errors import ArcGISError, ImageServiceError, ParameterError
from imageservice.geojson import featureset_to_geojson
from imageservice.metadata import ServiceInfo
from imageservice.tables import featureset_to_frame
from imageservice.tasks import Query

LOCK_RASTER = "esriMosaicLockRaster"
# Enough scenes for any view a person reads; beyond it the status says how many there are.
MAX_ITEMS = 2000
DEFAULT_PAGE_SIZE = 1000
NUMBER_TYPES = {"esriFieldTypeDouble", "esriFieldTypeSingle", "esriFieldTypeInteger",
                "esriFieldTypeSmallInteger", "esriFieldTypeBigInteger"}
# A mosaic dataset's bookkeeping fields: listed after the scene's own attributes.
BOOKKEEPING = ("MinPS", "MaxPS", "CenterX", "CenterY", "ZOrder", "Shape_Length", "Shape_Area")
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
EMPTY_FOOTPRINTS = {"type": "FeatureCollection", "features": []}
# Column widths (px) in a 440 px panel: id, date, cloud cover and name fit without scrolling.
ID_WIDTH, DATE_WIDTH, CLOUD_WIDTH, NUMBER_WIDTH, TEXT_WIDTH = 48, 112, 70, 90, 130
# Cloud cover as the same one decimal everywhere, with its unit.
CLOUD_FORMAT = {"function": "params.value == null ? '' : d3.format('.1f')(params.value) + ' %'"}


# --- what the catalog needs to know about a service ---------------------------------------------


def cloud_field(fields: Sequence[Mapping[str, Any]]) -> str | None:
    """The catalog's numeric cloud cover field (CloudCover, cloud_cover, ...), if it has one."""
    return next((f["name"] for f in fields if f.get("type") in NUMBER_TYPES and "cloud" in f["name"].lower()
                 and IDENTIFIER.match(f["name"])), None)


def catalog_service(info: ServiceInfo, url: str) -> dict:
    """The catalog facts of a service, for the CATALOG_SERVICE store."""
    return {
        "url": url,
        # The capability decides: some mosaic datasets list no `fields` in their root, and the
        # query asks for every field (outFields=*) anyway.
        "has_catalog": "Catalog" in info.capabilities,
        "object_id_field": info.object_id_field or "OBJECTID",
        "cloud_field": cloud_field(info.fields),
        "date_field": date_field(info),
        "page_size": info.max_record_count or DEFAULT_PAGE_SIZE,
    }


def with_answer_fields(service: dict, featureset: Mapping[str, Any]) -> dict:
    """The date and cloud fields from the query's answer when the service root lists no fields."""
    if service["date_field"] or service["cloud_field"]:
        return service
    fields = featureset.get("fields") or []
    dates = [f["name"] for f in fields if f.get("type") == "esriFieldTypeDate"]
    date = "AcquisitionDate" if "AcquisitionDate" in dates else (dates[0] if dates else None)
    return {**service, "date_field": date, "cloud_field": cloud_field(fields)}


# --- the where clause --------------------------------------------------------------------------


def check_where(text: str) -> None:
    """Refuse a clause that would not stay inside its own parentheses when joined with AND:
    unbalanced parentheses, an open quote, a comment. The server judges everything else."""
    depth = 0
    quoted = False
    for i, char in enumerate(text):
        if char == "'":
            quoted = not quoted  # '' inside a string toggles twice: still inside
        elif quoted:
            continue
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise ParameterError(f"the ')' at position {i + 1} closes nothing")
        elif text.startswith(("--", "/*"), i):
            raise ParameterError("comments (-- or /*) are not allowed in the where clause")
    if quoted:
        raise ParameterError("a quote (') is not closed; write '' for a quote inside a text")
    if depth:
        raise ParameterError(f"{depth} '(' {'is' if depth == 1 else 'are'} not closed")


def sql_number(value: float) -> str:
    """A number as SQL reads it: 30 rather than 30.0, never an exponent."""
    return f"{value:.6f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


def build_where(cloud: str | None, cloud_max: float | None, text: str | None) -> str:
    """The query's where clause: the cloud limit AND the expert's clause; 1=1 for everything.
    Raises ParameterError for a clause that check_where refuses."""
    parts = []
    if cloud and cloud_max is not None and cloud_max < CLOUD_ANY:
        parts.append(f"{cloud} <= {sql_number(cloud_max)}")
    text = (text or "").strip()
    if text:
        check_where(text)
        parts.append(f"({text})" if parts else text)
    return " AND ".join(parts) or "1=1"


def cloud_label(cloud_max: float | None, service: Mapping[str, Any] | None) -> str:
    if not service or not service["cloud_field"]:
        return "Cloud cover: not in this catalog"
    if cloud_max is None or cloud_max >= CLOUD_ANY:
        return "Cloud cover: any"
    return f"Cloud cover: at most {sql_number(cloud_max)} %"


# --- fetching, page after page -----------------------------------------------------------------


@dataclass(frozen=True)
class Catalog:
    """The fetched items (one merged FeatureSet), how many match in all, and in how many pages."""

    featureset: dict
    total: int
    pages: int

    @property
    def count(self) -> int:
        return len(self.featureset["features"])


def fetch_catalog(new_query: Callable[[], Query], *, page_size: int, cap: int = MAX_ITEMS) -> Catalog:
    """Every matching item, page after page (resultOffset/resultRecordCount) while the server
    says exceededTransferLimit, up to `cap` items; past the cap one count query gives the total.

    The page size only asks: the server may cap lower, so the offset moves by what came back.
    A server that ignores resultOffset sends the same page again, which ends the loop.
    """
    features: list[dict] = []
    seen: set[Any] = set()
    featureset: dict = {}
    pages = 0
    exceeded = False
    while len(features) < cap:
        featureset = new_query().offset(len(features)).limit(min(page_size, cap - len(features))).run()
        pages += 1
        id_field = featureset.get("objectIdFieldName")
        page = [f for f in featureset.get("features") or []
                if id_field is None or (f.get("attributes") or {}).get(id_field) not in seen]
        seen.update((f.get("attributes") or {}).get(id_field) for f in page)
        features.extend(page)
        exceeded = bool(featureset.get("exceededTransferLimit")) and bool(page)
        if not exceeded:
            break
    total = new_query().count() if exceeded else len(features)
    merged = {**featureset, "features": features, "exceededTransferLimit": exceeded}
    return Catalog(merged, total, pages)


def catalog_query(params: dict, bounds: Sequence[Sequence[float]], where: str, order_field: str) -> Query:
    """The layer's catalog query for a view's lat/lng bounds [[south, west], [north, east]],
    with the layer's time range when it has one."""
    (south, west), (north, east) = bounds
    box = (max(west, -180.0), max(south, -90.0), min(east, 180.0), min(north, 90.0))
    layer = edit(params)
    query = layer.query().intersects(box).where(where).order_by(order_field)
    start, end = layer.get_time_range()
    return query.between(start, end) if start is not None and end is not None else query


# --- FeatureSet -> table and footprints -----------------------------------------------------------


def header(name: str) -> str:
    """"CloudCover" -> "Cloud cover", "Shape_Area" -> "Shape area"; all-caps names stay."""
    if name.isupper():
        return name
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name.replace("_", " ")).split()
    return " ".join([words[0], *(w if w.isupper() else w.lower() for w in words[1:])])


def cell(value: Any) -> Any:
    """A JSON value for the grid: dates as "YYYY-MM-DD HH:MM" (sorting as text is by date),
    floats to 2 decimals, NaN/NaT as empty."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pandas.NaT:
        return None
    if isinstance(value, pandas.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, float):
        return round(value, 2)
    return value.item() if hasattr(value, "item") else value


def catalog_table(featureset: Mapping[str, Any], service: Mapping[str, Any]) -> tuple[list[dict], list[dict]]:
    """rowData and columnDefs: id, date, cloud cover and name first (the date sorted), the
    other attributes next, the mosaic dataset's bookkeeping fields last."""
    frame = featureset_to_frame(featureset)
    id_field = featureset.get("objectIdFieldName") or service["object_id_field"]
    first = [name for name in (id_field, service["date_field"], service["cloud_field"], "Name") if name in frame]
    last = [name for name in frame if name in BOOKKEEPING and name not in first]
    order = [*first, *(n for n in frame if n not in first and n not in last), *last]
    rows = [{**{name: cell(value) for name, value in row.items()}, ROW_ID: str(row[id_field])}
            for row in frame[order].to_dict("records")] if id_field in frame else []
    columns = []
    for name in order:
        column: dict[str, Any] = {"field": name, "headerName": header(name), "width": TEXT_WIDTH}
        if name == id_field:
            column.update(headerName="ID", width=ID_WIDTH)
        elif name == service["date_field"]:
            column.update(sort="asc", cellDataType="text", width=DATE_WIDTH)
        elif name == service["cloud_field"]:
            column.update(type="numericColumn", width=CLOUD_WIDTH, valueFormatter=CLOUD_FORMAT)
        elif pandas.api.types.is_numeric_dtype(frame[name]):
            column.update(type="numericColumn", width=NUMBER_WIDTH)
        columns.append(column)
    return rows, columns


def footprints(featureset: Mapping[str, Any], service: Mapping[str, Any]) -> dict:
    """The items as GeoJSON in lat/lng, each with a tooltip: name, date, cloud cover."""
    collection = featureset_to_geojson(featureset)
    for feature in collection["features"]:
        attributes = feature["properties"]
        parts = [str(attributes.get("Name") or f"Scene {feature.get('id')}")]
        date = attributes.get(service["date_field"]) if service["date_field"] else None
        if date is not None:
            parts.append(pandas.Timestamp(date, unit="ms", tz="UTC").strftime("%Y-%m-%d"))
        cloud = attributes.get(service["cloud_field"]) if service["cloud_field"] else None
        if cloud is not None:
            parts.append(f"{cloud:.1f} % cloud")
        feature["properties"] = {**attributes, "tooltip": " · ".join(parts)}
    return collection


def status_text(catalog: Catalog, page_size: int, *, timed: bool, filtered: bool) -> str:
    where = "in this view" + (" and time range" if timed else "") + (" match the filters" if filtered else "")
    if catalog.count == 0:
        return f"No scenes {where}."
    noun = "scene" if catalog.total == 1 else "scenes"
    text = (f"{catalog.total:,} {noun} {where}." if catalog.count == catalog.total
            else f"Showing the first {catalog.count:,} of {catalog.total:,} scenes {where}.")
    if catalog.pages > 1:
        text += f" Fetched in {catalog.pages} pages of up to {page_size:,} (the server's maxRecordCount)."
    return text


# --- the mosaic rule and the selection ---------------------------------------------------------


def locked_ids(rule: Mapping[str, Any] | None) -> list[int]:
    """The scenes a rule locks the mosaic to; [] unless its method is LockRaster."""
    if not rule or rule.get("mosaicMethod") != LOCK_RASTER:
        return []
    return [int(i) for i in rule.get("lockRasterIds") or []]


def lock_rule(rule: Mapping[str, Any] | None, raster_ids: Sequence[int]) -> dict:
    """The rule locked to these scenes, its other keys (operation, where, sort) kept."""
    return {**(rule or {}), "mosaicMethod": LOCK_RASTER, "lockRasterIds": sorted(raster_ids)}


def unlock_rule(rule: Mapping[str, Any] | None, prior_method: str | None) -> dict | None:
    """The rule without the lock: the method it had before the lock, its other keys kept;
    None (the service's default mosaic) when nothing is left."""
    rest = {key: value for key, value in (rule or {}).items() if key not in ("mosaicMethod", "lockRasterIds")}
    return {"mosaicMethod": prior_method, **rest} if prior_method else (rest or None)


def selection_ids(selected: Sequence[Mapping[str, Any]] | None, rows: Sequence[Mapping[str, Any]] | None,
                  current: Sequence[int]) -> list[int]:
    """The scenes to lock: the ticked rows, plus locked scenes that are not in the table (out of
    the view or filtered out), which the table can neither show nor untick."""
    listed = {int(row[ROW_ID]) for row in rows or ()}
    ticked = {int(row[ROW_ID]) for row in selected or () if ROW_ID in row}
    return sorted(ticked | {i for i in current if i not in listed})


def selection_text(raster_ids: Sequence[int]) -> str:
    if not raster_ids:
        return "Tick scenes to show only them on the map."
    listed = ", ".join(str(i) for i in raster_ids[:8]) + (", …" if len(raster_ids) > 8 else "")
    noun = "scene" if len(raster_ids) == 1 else "scenes"
    return f"Map locked to {len(raster_ids)} {noun} (ID {listed})."


# --- callbacks ---------------------------------------------------------------------------------


def refresh_catalog(view: dict | None, params: dict | None, where_text: str | None, cloud_max: float | None,
                    tab: str | None, last_key: dict | None, service: dict | None) -> dict:
    """Query the catalog when what it depends on (service, view, time, where) has changed, and
    only while the tab is open."""
    if not view or not params or not service or service["url"] != params.get("url") or tab != "catalog":
        return no_update
    unchanged = {"rows": no_update, "columns": no_update, "selected": no_update, "footprints": no_update,
                 "key": no_update}
    if not service["has_catalog"]:
        return {**unchanged, "rows": [], "columns": [], "footprints": EMPTY_FOOTPRINTS, "where_error": "",
                "status": "This service has no catalog of scenes (it is a single raster): nothing to list."}
    try:
        where = build_where(service["cloud_field"], cloud_max, where_text)
    except ParameterError as error:
        return {**unchanged, "where_error": f"Check the where clause: {error}.", "status": no_update}
    time = [params.get("time_from"), params.get("time_to")]
    key = {"url": params["url"], "bounds": view["bounds"], "time": time, "where": where}
    if key == last_key:
        return no_update
    try:
        catalog = fetch_catalog(lambda: catalog_query(params, view["bounds"], where, service["object_id_field"]),
                                page_size=service["page_size"])
        service = with_answer_fields(service, catalog.featureset)
        shapes = footprints(catalog.featureset, service)  # an answer it cannot place is an InvalidResponse
    except ArcGISError as error:
        if (where_text or "").strip():
            refused = "; ".join(error.details) or error.message
            return {**unchanged, "where_error": f"The server refused the where clause: {refused}",
                    "status": "The table still shows the last scenes found."}
        return {**unchanged, "where_error": "", "status": f"Could not query the catalog: {error}"}
    except ImageServiceError as error:
        return {**unchanged, "where_error": "", "status": f"Could not query the catalog: {error}"}
    rows, columns = catalog_table(catalog.featureset, service)
    shown = {int(row[ROW_ID]) for row in rows}
    locked = [i for i in locked_ids(params.get("mosaic_rule")) if i in shown]
    return {
        "rows": rows,
        "columns": columns,
        "selected": {"ids": [str(i) for i in locked]},
        "footprints": shapes,
        "status": status_text(catalog, service["page_size"], timed=None not in time, filtered=where != "1=1"),
        "where_error": "",
        "key": key,
    }


def select_scenes(params: dict, wanted: list[int], prior: str | None) -> dict | None:
    """The params, mosaic method dropdown value and remembered method for locking the mosaic
    to `wanted` ([] unlocks); None when the layer is locked to exactly those already.

    The dropdown is set too, so the control panel, which rebuilds the rule from its dropdowns
    on every change, keeps the lock instead of dropping it.
    """
    rule = params.get("mosaic_rule")
    current = locked_ids(rule)
    if wanted == sorted(current):
        return None
    if wanted:
        new_rule, method = lock_rule(rule, wanted), LOCK_RASTER
        prior = prior if current else (rule or {}).get("mosaicMethod")
    else:
        new_rule, method, prior = unlock_rule(rule, prior), prior, None
    return {"params": edit(params).set_mosaic_rule(new_rule).params.to_dict(), "method": method, "prior": prior}


def toggled(raster_ids: Sequence[int], raster_id: int) -> list[int]:
    """The scenes with `raster_id` added, or taken out when it was there (a footprint click)."""
    return sorted(set(raster_ids) ^ {raster_id})


def choose_scenes(selected: list | None, n_clear: int | None, clicked: dict | None, rows: list | None,
                  params: dict | None, prior: str | None) -> dict:
    """Ticked rows, or a clicked footprint, lock the mosaic to those scenes; unticking all, or
    Clear, removes the lock."""
    current = locked_ids((params or {}).get("mosaic_rule"))
    ticks = no_update  # the grid already shows what was ticked
    if ctx.triggered_id == ids.CATALOG_CLEAR:
        wanted = ticks = []
    elif ctx.triggered_id == ids.CATALOG_FOOTPRINTS:
        wanted = toggled(current, int(clicked["id"]))
        ticks = {"ids": [str(i) for i in wanted]}
    else:
        wanted = selection_ids(selected, rows, current)
    change = select_scenes(params, wanted, prior) if params else None
    if change is None:
        return no_update
    return {**change, "selected": ticks}


def show_selection(params: dict | None, selected: list | None) -> dict:
    """The locked scenes drawn apart on the map and named under the table; when something else
    replaced the lock (another method chosen, a new service), the ticks go too."""
    raster_ids = locked_ids((params or {}).get("mosaic_rule"))
    return {
        "hideout": {"selected": raster_ids},
        "text": selection_text(raster_ids),
        "clear_disabled": not raster_ids,
        "selected": [] if not raster_ids and selected else no_update,
    }


def reset_for_service(service: dict | None) -> dict:
    """A new service starts with no filters; the cloud slider only where there is a cloud field.
    No service facts means its description could not be read (the service tab says why)."""
    return {"where": "", "where_error": "", "cloud": CLOUD_ANY,
            "cloud_disabled": not (service and service["cloud_field"]), "prior": None,
            "status": no_update if service else "The service's description could not be read, so its "
                                                "catalog cannot be listed (see the Service tab)."}


def register(app: Dash) -> None:
    params_store = ImageMapLayerAIO.ids.params(ids.MAIN_LAYER)
    app.clientside_callback(
        ClientsideFunction(namespace="catalog", function_name="settle"),
        Output(ids.CATALOG_VIEW, "data"),
        Input(ImageMapLayerAIO.ids.view(ids.MAIN_LAYER), "data"),
        Input(ids.INSPECTOR_TABS, "value"),
        State(ids.CATALOG_VIEW, "id"),
    )
    app.clientside_callback(
        ClientsideFunction(namespace="catalog", function_name="shown"),
        Output(ids.CATALOG_FOOTPRINTS, "data"),
        Input(ids.CATALOG_FOOTPRINT_DATA, "data"),
        Input(ids.CATALOG_SHOW_FOOTPRINTS, "value"),
        Input(ids.INSPECTOR_TABS, "value"),
    )
    app.callback(
        Output(ids.CATALOG_CLOUD_LABEL, "children"),
        Input(ids.CATALOG_CLOUD, "value"),
        Input(ids.CATALOG_SERVICE, "data"),
        prevent_initial_call=True,
    )(cloud_label)
    app.callback(
        output={
            "where": Output(ids.CATALOG_WHERE, "value"),
            "where_error": Output(ids.CATALOG_WHERE_ERROR, "children"),
            "cloud": Output(ids.CATALOG_CLOUD, "value"),
            "cloud_disabled": Output(ids.CATALOG_CLOUD, "disabled"),
            "prior": Output(ids.CATALOG_PRIOR_METHOD, "data"),
            "status": Output(ids.CATALOG_STATUS, "children", allow_duplicate=True),
        },
        inputs={"service": Input(ids.CATALOG_SERVICE, "data")},
        prevent_initial_call=True,
    )(reset_for_service)
    app.callback(
        output={
            "rows": Output(ids.CATALOG_GRID, "rowData"),
            "columns": Output(ids.CATALOG_GRID, "columnDefs"),
            "selected": Output(ids.CATALOG_GRID, "selectedRows"),
            "footprints": Output(ids.CATALOG_FOOTPRINT_DATA, "data"),
            "status": Output(ids.CATALOG_STATUS, "children"),
            "where_error": Output(ids.CATALOG_WHERE_ERROR, "children", allow_duplicate=True),
            "key": Output(ids.CATALOG_KEY, "data"),
        },
        inputs={
            "view": Input(ids.CATALOG_VIEW, "data"),
            "params": Input(params_store, "data"),
            "where_text": Input(ids.CATALOG_WHERE, "value"),
            "cloud_max": Input(ids.CATALOG_CLOUD, "value"),
            "tab": Input(ids.INSPECTOR_TABS, "value"),
            "last_key": State(ids.CATALOG_KEY, "data"),
            "service": Input(ids.CATALOG_SERVICE, "data"),
        },
        prevent_initial_call=True,
    )(refresh_catalog)
    app.callback(
        output={
            "params": Output(params_store, "data", allow_duplicate=True),
            "method": Output(ids.MOSAIC_METHOD, "value", allow_duplicate=True),
            "prior": Output(ids.CATALOG_PRIOR_METHOD, "data", allow_duplicate=True),
            "selected": Output(ids.CATALOG_GRID, "selectedRows", allow_duplicate=True),
        },
        inputs={
            "selected": Input(ids.CATALOG_GRID, "selectedRows"),
            "n_clear": Input(ids.CATALOG_CLEAR, "n_clicks"),
            "clicked": Input(ids.CATALOG_FOOTPRINTS, "clickData"),
            "rows": State(ids.CATALOG_GRID, "rowData"),
            "params": State(params_store, "data"),
            "prior": State(ids.CATALOG_PRIOR_METHOD, "data"),
        },
        prevent_initial_call=True,
    )(choose_scenes)
    app.callback(
        output={
            "hideout": Output(ids.CATALOG_FOOTPRINTS, "hideout"),
            "text": Output(ids.CATALOG_SELECTION, "children"),
            "clear_disabled": Output(ids.CATALOG_CLEAR, "disabled"),
            "selected": Output(ids.CATALOG_GRID, "selectedRows", allow_duplicate=True),
        },
        inputs={"params": Input(params_store, "data"), "selected": State(ids.CATALOG_GRID, "selectedRows")},
        prevent_initial_call=True,
    )(show_selection)
