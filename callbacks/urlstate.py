"""The page URL keeps the view: `?service=...&bandIds=3,2,1&renderingRule=...&center=..&zoom=..`.

The query uses the ArcGIS parameter names and the same serializer as requests, so a shared link
reads like the exportImage call it produces. The browser's address is rewritten in place
(history.replaceState), so it never reloads the page or loops back into the callbacks; the
query is read once, when the page opens.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import parse_qsl, urljoin

import flask
from dash import Dash, Input, Output, State

from components import ids
from components.imagemaplayer import ImageMapLayer
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
COORDINATE_DIGITS = 5


def to_query(params: dict | None, view: dict | None = None) -> str:
    """The search string ("?service=...") for the layer's params and the map's center and zoom."""
    if not params:
        return ""
    values: dict[str, Any] = {"service": params["url"]}
    for name, field in QUERY_FIELDS.items():
        if params.get(field) is not None and params.get(field) != DEFAULTS.get(field):
            values[name] = params[field]
    if params.get("time_from") is not None and params.get("time_to") is not None:
        values["time"] = [params["time_from"], params["time_to"]]
    if view and view.get("center") and view.get("zoom") is not None:
        values["center"] = [round(v, COORDINATE_DIGITS) for v in view["center"]]
        values["zoom"] = view["zoom"]
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


def _view(query: dict[str, str]) -> dict | None:
    try:
        lat, lng = (float(v) for v in query["center"].split(","))
        return {"center": [lat, lng], "zoom": float(query["zoom"])}
    except (KeyError, ValueError):
        return None


def map_view(layer_view: dict | None) -> dict | None:
    """{center, zoom} from the layer's view store ({bounds: [[s, w], [n, e]], zoom, ...}).

    The center latitude is the Web Mercator midpoint, where Leaflet puts it, so a reload does
    not drift north.
    """
    if not layer_view or not layer_view.get("bounds") or layer_view.get("zoom") is None:
        return None
    (south, west), (north, east) = layer_view["bounds"]
    y = (_mercator_y(south) + _mercator_y(north)) / 2
    lat = math.degrees(2 * math.atan(math.exp(y)) - math.pi / 2)
    return {"center": [lat, (west + east) / 2], "zoom": layer_view["zoom"]}


def _mercator_y(lat: float) -> float:
    return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def restore(search: str | None, current_url: str, origin: str = "") -> tuple[str, dict | None]:
    """At page load: the service to open (the link's, else the one already in the box) and what
    the link asked for."""
    restored = from_query(search, origin)
    return (restored["url"] if restored else current_url), restored


def restore_here(search: str | None, current_url: str) -> tuple[str, dict | None]:
    return restore(search, current_url, flask.request.host_url)


def query_for(params: dict | None, layer_view: dict | None) -> str:
    return to_query(params, map_view(layer_view))


def register(app: Dash) -> None:
    app.callback(
        Output(ids.SERVICE_URL, "value"),
        Output(ids.RESTORED, "data"),
        Input(ids.LOCATION, "search"),
        State(ids.SERVICE_URL, "value"),
    )(restore_here)
    app.callback(
        Output(ids.URL_QUERY, "children"),
        Input(ImageMapLayer.ids.params(ids.MAIN_LAYER), "data"),
        Input(ImageMapLayer.ids.view(ids.MAIN_LAYER), "data"),
        prevent_initial_call=True,
    )(query_for)
    app.clientside_callback(
        "function (search) { if (search) { window.history.replaceState(null, '', search); } return search; }",
        Output(ids.URL_QUERY, "title"),
        Input(ids.URL_QUERY, "children"),
        prevent_initial_call=True,
    )
