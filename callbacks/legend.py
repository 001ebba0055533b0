"""The legend of the current rendering, and the button back to the service's extent.

The service's own `legend` operation (with the layer's rendering rule) is asked first; a service
without it gets a legend derived from what the dashboard knows of the rendering: the bands each
colour shows, or the colour ramp a function or a custom rule's colormap implies.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from dash import Dash, Input, Output, State, html

from components import ids
from imageservice.client import ImageServiceClient
from imageservice.dash import ImageMapLayerAIO, current_policy, server_session
from imageservice.errors import ImageServiceError
from imageservice.metadata import LegendLayer, parse_legend

RGB = ("Red", "Green", "Blue")
# Band recipes of the usual multispectral templates, by band name.
COMPOSITES = {
    "natural color": ("red", "green", "blue"),
    "color infrared": ("nir", "red", "green"),
    "swir": ("swir2", "swir1", "red"),
}
GREY = "linear-gradient(to right, #000, #fff)"
# (what the colours mean, gradient, low label, high label) for functions known by name.
RAMPS = {
    "ndvi": ("NDVI", "linear-gradient(to right, #00006e, #aa8c64, #dcc882, #8cc850, #288c28, #005014)",
             "-1 water, bare", "+1 dense vegetation"),
    "hillshade": ("Shaded relief", GREY, "in shade", "sunlit"),
    "slope": ("Slope", "linear-gradient(to right, #ffffcc, #fed976, #fd8d3c, #e31a1c, #800026)", "flat", "steep"),
    "elevation": ("Elevation", "linear-gradient(to right, #3c8250, #aac878, #ebdca0, #be9664, #8c6e5a, #fafafa)",
                  "low", "high"),
}


def service_legend(params: Mapping[str, Any]) -> tuple[LegendLayer, ...] | None:
    """The service's legend for the layer's rendering rule; None when it has no legend operation
    or cannot answer now."""
    rule = params.get("rendering_rule")
    try:
        client = ImageServiceClient(params["url"], token=params.get("token"), proxy=params.get("proxy"), timeout=10,
                                    policy=current_policy(), session=server_session(params.get("proxy")))
        layers = parse_legend(client.get("legend", {"renderingRule": json.dumps(rule)} if rule else {}))
    except ImageServiceError:
        return None
    return layers if any(layer.entries for layer in layers) else None


def rule_name(rule: Mapping[str, Any] | None) -> str | None:
    return str(rule.get("rasterFunction") or "") or None if rule else None


def colormap_gradient(rule: Any) -> str | None:
    """A CSS gradient from the first Colormap's [[value, r, g, b], ...] entries in a rule."""
    if isinstance(rule, Mapping):
        entries = (rule.get("rasterFunctionArguments") or {}).get("Colormap")
        if rule.get("rasterFunction") == "Colormap" and isinstance(entries, list) and len(entries) > 1:
            step = max(1, len(entries) // 8)
            stops = [f"rgb({r},{g},{b})" for _, r, g, b in entries[::step]]
            return f"linear-gradient(to right, {', '.join(stops)})"
        return next((g for g in map(colormap_gradient, rule.values()) if g), None)
    if isinstance(rule, list):
        return next((g for g in map(colormap_gradient, rule) if g), None)
    return None


def band_rows(bands: Sequence[int], names: Sequence[str]) -> list[tuple[str, str]]:
    """(colour, band name) for the bands on screen; one band is drawn in grey."""
    label = [names[b] if 0 <= b < len(names) else f"Band {b + 1}" for b in bands]
    if len(label) == 1:
        return [("Grey", label[0])]
    return list(zip(RGB, label))


def derived_legend(params: Mapping[str, Any], options: Mapping[str, Any]) -> dict:
    """{title, rows: [(colour, label)], ramp: (meaning, gradient, low, high) | None, source}."""
    names = options.get("band_names") or []
    rule = params.get("rendering_rule")
    name = rule_name(rule) or options.get("default_function") or "None"
    title = name if rule else f"Service default ({name})"
    if params.get("band_ids") and (not rule or name == "None"):
        return {"title": "Bands", "rows": band_rows(params["band_ids"], names), "ramp": None}
    gradient = colormap_gradient(rule)
    if gradient:
        return {"title": title, "rows": [], "ramp": ("Colormap", gradient, "low", "high")}
    key = name.lower()
    by_name = {band.lower(): i for i, band in enumerate(names)}
    if key in COMPOSITES and all(band in by_name for band in COMPOSITES[key]):
        return {"title": title, "rows": band_rows([by_name[b] for b in COMPOSITES[key]], names), "ramp": None}
    ramp = next((value for word, value in RAMPS.items() if word in key), None)
    if ramp:
        return {"title": title, "rows": [], "ramp": ramp}
    if name == "None":
        return {"title": title, "rows": band_rows(list(range(min(3, len(names)))), names), "ramp": None}
    return {"title": title, "rows": [], "ramp": None}


def legend_view(params: dict | None, options: dict | None) -> tuple[list, bool]:
    """The legend's children and whether it is hidden (no service open): the rendering's name,
    then the service's own symbols when it has a legend operation, else the derived ones."""
    if not params or not params.get("url") or not options:
        return [], True
    legend = derived_legend(params, options)
    children: list = [html.Div(legend["title"], className="map-legend-title")]
    layers = service_legend(params)
    if layers:
        for entry in layers[0].entries:
            symbol = html.Img(src=entry.image_data_uri) if entry.image_data_uri else html.Span()
            children.append(html.Div(className="map-legend-row", children=[symbol, html.Span(entry.label)]))
        return children, False
    for colour, label in legend["rows"]:
        children.append(html.Div(className="map-legend-row", children=[
            html.Span(className=f"map-legend-swatch map-legend-{colour.lower()}"), html.Span(label)]))
    if legend["ramp"]:
        meaning, gradient, low, high = legend["ramp"]
        children += [html.Div(meaning, className="map-legend-meaning"),
                     html.Div(className="map-legend-ramp", style={"background": gradient}),
                     html.Div(className="map-legend-ends", children=[html.Span(low), html.Span(high)])]
    return children, False


# The home button flies back to the extent the service opened with.
HOME = """function (clicks, options) {
    const extent = options && options.extent;   // [south, west, north, east]
    if (!clicks || !extent) { return window.dash_clientside.no_update; }
    return {bounds: [[extent[0], extent[1]], [extent[2], extent[3]]], transition: "flyToBounds"};
}"""


def register(app: Dash) -> None:
    app.callback(
        Output(ids.MAP_LEGEND, "children"),
        Output(ids.MAP_LEGEND, "hidden"),
        Input(ImageMapLayerAIO.ids.params(ids.MAIN_LAYER), "data"),
        State(ids.SERVICE_INFO, "data"),
    )(legend_view)
    app.clientside_callback(
        HOME,
        Output(ids.MAP, "viewport", allow_duplicate=True),
        Input(ids.MAP_HOME, "n_clicks"),
        State(ids.SERVICE_INFO, "data"),
        prevent_initial_call=True,
    )
