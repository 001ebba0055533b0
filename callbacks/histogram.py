"""The histogram tab: computeHistograms of the main layer's view, one line per band.

The browser passes the view and the layer's params on once they rest (assets/histogram.js);
the server asks for the histogram only while the tab is open and only when the request would
differ from the one drawn. Everything here but `register` is a plain function of plain values.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go
from dash import ClientsideFunction, Dash, Input, Output, State, html, no_update

from components import ids
from components.histogrampanel import CHART_HEIGHT, CHART_HIDDEN, CHART_SHOWN
from imageservice.dash import ImageMapLayerAIO, edit, with_policy
from imageservice.errors import ArcGISError, ImageServiceError
from imageservice.tables import histograms_to_frame
from imageservice.tasks import ComputeHistograms

TAB = "histogram"
# The histogram is counted at the screen's resolution, but on no more than this many pixels across.
MAX_GRID = 1024
WEB_MERCATOR = {"wkid": 3857}
CHANNEL_COLOURS = {"red": "#d62728", "green": "#2ca02c", "blue": "#1f77b4"}
OTHER_COLOURS = ("#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#ff7f0e")
NO_SERVICE = "Open a service to see the histogram of the map's view."
NOT_SUPPORTED = "This service does not support computeHistograms, so no histogram can be shown."
TOO_LARGE = "The view is too large for this service to count: zoom in."
NO_PIXELS = "No pixels with data in this view: move the map over the service's imagery."


# --- the request -----------------------------------------------------------------------------------


def view_area(view: dict) -> tuple[dict, dict]:
    """(envelope, pixelSize) of a view store value, both in EPSG:3857 like its bbox."""
    xs_ys = [float(v) for v in str(view["bbox"]).split(",")]
    xmin, xmax = sorted(xs_ys[0::2])
    ymin, ymax = sorted(xs_ys[1::2])
    width, height = xmax - xmin, ymax - ymin
    size = max(width / view["width"], height / view["height"], width / MAX_GRID, height / MAX_GRID)
    envelope = {"xmin": xmin, "ymin": ymin, "xmax": xmax, "ymax": ymax, "spatialReference": WEB_MERCATOR}
    return envelope, {"x": size, "y": size, "spatialReference": WEB_MERCATOR}


def shown_rule(params: dict, info: dict | None) -> dict | None:
    """The rendering rule the picture is drawn with: the layer's own, else (with no bands chosen)
    the function the service applies unasked, which computeHistograms does not apply by itself."""
    if params.get("rendering_rule") or params.get("band_ids"):
        return params.get("rendering_rule")
    default = (info or {}).get("default_function")
    return {"rasterFunction": default} if default and default != "None" else None


def histogram_task(params: dict, view: dict, rule: dict | None) -> ComputeHistograms:
    """The main layer's computeHistograms for a view: its mosaic rule and time, and `rule`
    (None: raw values)."""
    envelope, pixel_size = view_area(view)
    task = edit(params).compute_histograms().within(envelope).set_pixel_size(pixel_size)
    return task.set_rendering_rule(rule) if rule else task


def band_labels(count: int, band_names: Sequence[str], rule: dict | None) -> list[str]:
    """Trace names: the service's band names; for a rendered result that changed the band count,
    its display channels (3 bands) or the rule's name (1 band); else Band 1..N."""
    if count == len(band_names):
        return list(band_names)
    if rule and count == 3:
        return ["Red", "Green", "Blue"]
    if rule and count == 1 and rule.get("rasterFunction"):
        return [str(rule["rasterFunction"])]
    return [f"Band {i}" for i in range(1, count + 1)]


def error_message(error: ImageServiceError) -> str:
    """An ArcGIS or transport error in plain words."""
    if isinstance(error, ArcGISError):
        said = " ".join([error.message, *error.details]).lower()
        if "not supported" in said:
            return NOT_SUPPORTED
        if "size limit" in said:
            return TOO_LARGE
    return f"The histogram could not be computed: {error}"


def refresh_histogram(request: dict | None, tab: str, apply_rule: list | None, info: dict | None,
                      last: dict | None) -> dict | Any:
    """The HISTOGRAM_DATA store: {key, bands, histograms, error} for the resting view and params.

    Nothing is asked while another tab is open, or when the request is the one already drawn
    (the same view again, or a parameter the histogram does not depend on, like opacity or
    bands); a failed one is asked again.
    """
    if tab != TAB:
        return no_update
    params = (request or {}).get("params")
    view = (request or {}).get("view")
    if not params:
        return {"key": None, "bands": [], "histograms": [], "error": NO_SERVICE}
    if not view:
        return no_update
    rule = shown_rule(params, info) if apply_rule else None
    task = histogram_task(params, view, rule)
    key = {"url": params["url"], "params": task.to_params()}
    if last and last.get("key") == key and not last.get("error"):
        return no_update
    try:
        response = task.run()
        bands = band_labels(len(response.get("histograms") or []), (info or {}).get("band_names") or [], rule)
        histograms_to_frame(response, bands)  # an unusable answer fails here, not in the chart
    except ImageServiceError as error:
        return {"key": key, "bands": [], "histograms": [], "error": error_message(error)}
    return {"key": key, "bands": bands, "histograms": response["histograms"], "error": None}


# --- the chart -------------------------------------------------------------------------------------


def band_colours(bands: Sequence[str]) -> list[str]:
    """Red, green or blue where a band's name says so; the other bands take other colours, in turn."""
    colours, others = [], itertools.cycle(OTHER_COLOURS)
    for band in bands:
        words = re.findall(r"[a-z]+", band.lower())
        colours.append(next((c for channel, c in CHANNEL_COLOURS.items() if channel in words), None) or next(others))
    return colours


def histogram_figure(data: dict, log_y: bool, shown: Sequence[str]) -> go.Figure:
    """One step line per shown band: x the bin centres, y the pixel counts."""
    frame = histograms_to_frame({"histograms": data["histograms"]}, data["bands"])
    figure = go.Figure()
    for band, colour in zip(data["bands"], band_colours(data["bands"])):
        if band not in shown:
            continue
        rows = frame[frame["band"] == band]
        figure.add_trace(go.Scatter(x=rows["value"], y=rows["count"], name=band, mode="lines",
                                    line={"shape": "hvh", "width": 1.5, "color": colour}))
    figure.update_layout(
        template="plotly_white", height=CHART_HEIGHT, margin={"l": 56, "r": 8, "t": 8, "b": 40},
        showlegend=False, hovermode="x unified",
        xaxis={"title": {"text": "Pixel value"}},
        yaxis={"title": {"text": "Pixels"}, "type": "log" if log_y else "linear"},
    )
    return figure


def pixel_count(data: dict | None) -> int:
    """The pixels with data the histogram counted (the fullest band's total)."""
    return max((sum(h.get("counts") or []) for h in (data or {}).get("histograms") or []), default=0)


def status_text(data: dict | None) -> str:
    """What the chart shows (or why there is none), in plain words."""
    if not data:
        return "Computing the histogram of the view…"
    if data["error"]:
        return data["error"]
    count = pixel_count(data)
    if not count:
        return NO_PIXELS
    values = "after the rendering rule" if "renderingRule" in data["key"]["params"] else "raw values"
    return f"{count:,} pixels with data in the view ({values})."


def band_options(bands: Sequence[str]) -> list[dict]:
    """The band toggles, each with its line's colour as a swatch."""
    return [{"label": html.Span(className="histogram-band", children=[
                html.Span(className="histogram-swatch", style={"background": colour}), band]),
             "value": band} for band, colour in zip(bands, band_colours(bands))]


def render_histogram(data: dict | None, log: list | None, shown: list | None, options: list | None) -> dict:
    """Chart, band toggles and status for the HISTOGRAM_DATA store. New band names (another
    service, or a rendering rule that changes the bands) show every band again."""
    bands = (data or {}).get("bands") or []
    if bands != [option["value"] for option in options or []]:
        shown = list(bands)
        options = band_options(bands)
    drawn = pixel_count(data) > 0 and not data["error"]
    return {
        "figure": histogram_figure(data, bool(log), shown or []) if drawn else no_update,
        "style": CHART_SHOWN if drawn else CHART_HIDDEN,
        "options": options or [],
        "shown": shown or [],
        "status": status_text(data),
    }


BACKGROUND_POLL_MS = 250


def register(app: Dash) -> None:
    app.clientside_callback(
        ClientsideFunction(namespace="histogram", function_name="settle"),
        Output(ids.HISTOGRAM_REQUEST, "data"),
        Input(ImageMapLayerAIO.ids.view(ids.MAIN_LAYER), "data"),
        Input(ImageMapLayerAIO.ids.params(ids.MAIN_LAYER), "data"),
        Input(ids.INSPECTOR_TABS, "value"),
        State(ids.HISTOGRAM_REQUEST, "id"),
    )
    app.callback(
        Output(ids.HISTOGRAM_DATA, "data"),
        Input(ids.HISTOGRAM_REQUEST, "data"),
        State(ids.INSPECTOR_TABS, "value"),
        Input(ids.HISTOGRAM_APPLY_RULE, "value"),
        State(ids.SERVICE_INFO, "data"),
        State(ids.HISTOGRAM_DATA, "data"),
        prevent_initial_call=True,
        # A background job (diskcache, or Celery with REDIS_URL): a large view or a slow service
        # does not hold a web worker; Dash cancels a running job when a newer view triggers it.
        background=True,
        interval=BACKGROUND_POLL_MS,
    )(with_policy(app, refresh_histogram))
    app.callback(
        output={
            "figure": Output(ids.HISTOGRAM_GRAPH, "figure"),
            "style": Output(ids.HISTOGRAM_GRAPH, "style"),
            "options": Output(ids.HISTOGRAM_BANDS, "options"),
            "shown": Output(ids.HISTOGRAM_BANDS, "value"),
            "status": Output(ids.HISTOGRAM_STATUS, "children"),
        },
        inputs={
            "data": Input(ids.HISTOGRAM_DATA, "data"),
            "log": Input(ids.HISTOGRAM_LOG, "value"),
            "shown": Input(ids.HISTOGRAM_BANDS, "value"),
            "options": State(ids.HISTOGRAM_BANDS, "options"),
        },
        prevent_initial_call=True,
    )(render_histogram)
