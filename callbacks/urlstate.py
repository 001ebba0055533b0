"""The page URL keeps the view: `?service=...&bandIds=3,2,1&renderingRule=...&center=..&zoom=..`.

The query uses the ArcGIS parameter names and the same serializer as requests, so a shared link
reads like the exportImage call it produces. The server writes the layer's part when the params
change; the browser appends the map's own center and zoom on every move (no round trip per pan)
and rewrites the address in place (history.replaceState), so it never reloads the page or loops
back into the callbacks. The query is read once, when the page opens.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urljoin

import flask
from dash import ClientsideFunction, Dash, Input, Output, State

from components import ids
from components.controls import FORMAT_OPTIONS, PIXEL_TYPE_OPTIONS
from imageservice.dash import ImageMapLayerAIO
from imageservice.errors import ParameterError
from imageservice.params import LayerParams
from imageservice.wire import encode_query

# Query name -> LayerParams field, for the options a view depends on.
QUERY_FIELDS = {
    "bandIds": "band_ids",
    "pixelType": "pixel_type",
    "noData": "no_data",
    "noDataInterpretation": "no_data_interpretation",
    "renderingRule": "rendering_rule",
    "mosaicRule": "mosaic_rule",
    "format": "format",
    "opacity": "opacity",
    "position": "position",
}
DEFAULTS = {"format": "jpgpng", "opacity": 1.0, "position": "front"}


def to_query(params: dict | None) -> str:
    """The search string ("?service=...") for the layer's params; the browser adds the view."""
    if not params:
        return ""
    values: dict[str, Any] = {"service": params["url"]}
    for name, field in QUERY_FIELDS.items():
        if params.get(field) is not None and params.get(field) != DEFAULTS.get(field):
            values[name] = params[field]
    if params.get("time_from") is not None and params.get("time_to") is not None:
        values["time"] = [params["time_from"], params["time_to"]]
    return "?" + encode_query(values, xhr=False)


def from_query(search: str | None, origin: str = "") -> dict | None:
    """{"url", "params", "view"} from a search string; params and view are None when missing or
    invalid (a hand-edited link then opens the service with its defaults). A relative service
    URL (the embedded server's) is resolved against `origin` for the params."""
    query = dict(parse_qsl((search or "").lstrip("?")))
    if not query.get("service"):
        return None
    options = {field: query[name] for name, field in QUERY_FIELDS.items() if name in query}
    try:
        if "opacity" in options:
            options["opacity"] = float(options["opacity"])
        if "time" in query:
            options["time_from"], options["time_to"] = query["time"].split(",")
        params = LayerParams(url=urljoin(origin, query["service"]), **options).to_dict()
    except (ParameterError, ValueError):
        params = None
    return {"url": query["service"], "params": params, "view": _view(query)}


def checked_link(params: dict, band_count: int, defaults: dict) -> tuple[dict, list[str]]:
    """The link's params with what cannot work on this service or in the controls replaced by the
    service defaults, and a sentence for each replacement, so a bad link fails visibly (the server
    accepts any bandIds syntax, then refuses or draws grey)."""
    problems = []
    bands = params.get("band_ids") or []
    if any(not 0 <= band < band_count for band in bands):
        problems.append(f"bandIds={','.join(map(str, bands))} are not valid for this service "
                        f"(its band ids are 0–{band_count - 1})")
        params = {**params, "band_ids": None, "rendering_rule": params.get("rendering_rule")
                  or defaults.get("rendering_rule")}
    for name, field, offered in (("format", "format", FORMAT_OPTIONS), ("pixelType", "pixel_type", PIXEL_TYPE_OPTIONS)):
        if params.get(field) is not None and params[field] not in {option["value"] for option in offered}:
            problems.append(f"{name}={params[field]} is not offered by the controls (a browser cannot draw it well)")
            params = {**params, field: defaults.get(field)}
    return params, problems


def link_warning(problems: list[str]) -> str:
    return "The link's " + "; ".join(problems) + ": the service defaults are shown instead." if problems else ""


def _view(query: dict[str, str]) -> dict | None:
    try:
        lat, lng = (float(v) for v in query["center"].split(","))
        return {"center": [lat, lng], "zoom": float(query["zoom"])}
    except (KeyError, ValueError):
        return None


def restore(search: str | None, current_url: str, origin: str = "") -> tuple[str, dict | None]:
    """At page load: the service to open (the link's, else the one already in the box) and what
    the link asked for."""
    restored = from_query(search, origin)
    return (restored["url"] if restored else current_url), restored


def restore_here(search: str | None, current_url: str) -> tuple[str, dict | None]:
    return restore(search, current_url, flask.request.host_url)


def register(app: Dash) -> None:
    app.callback(
        Output(ids.SERVICE_URL, "value"),
        Output(ids.RESTORED, "data"),
        Input(ids.LOCATION, "search"),
        State(ids.SERVICE_URL, "value"),
    )(restore_here)
    app.callback(
        Output(ids.URL_QUERY, "children"),
        Input(ImageMapLayerAIO.ids.params(ids.MAIN_LAYER), "data"),
        prevent_initial_call=True,
    )(to_query)
    app.clientside_callback(
        ClientsideFunction(namespace="urlState", function_name="write"),
        Output(ids.URL_QUERY, "title"),
        Input(ids.URL_QUERY, "children"),
        Input(ImageMapLayerAIO.ids.view(ids.MAIN_LAYER), "data"),
        State(ImageMapLayerAIO.ids.view(ids.MAIN_LAYER), "id"),
        prevent_initial_call=True,
    )
