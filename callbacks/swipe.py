"""Swipe comparison: the compare layer's params (the main layer's, with the left side's rendering
rule or dates), the divider's labels and the tab's messages.

The divider, its dragging and the pane clip live in assets/swipe.js, which reads SWIPE_STATE.
Everything here but `register` is a plain function of plain values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dash import Dash, Input, Output, State, no_update

from callbacks.time_slider import format_date, slider_config, time_from_range, time_label
from components import ids
from imageservice.dash import NEW_ERROR, ImageMapLayerAIO, edit
from components.swipe import DATES_CHOICE, NO_SWIPE

LOCK_RASTER = "esriMosaicLockRaster"
# The raster function that means "no processing": it keeps the layer's band choice.
RAW = "None"


def compare_params(main: dict | None, enabled: bool, rule: str | None,
                   dates: tuple[int | None, int | None] | None) -> dict | None:
    """The compare layer's params: the main layer's with the left side's overrides; None (draw
    nothing) when swipe is off or no service is open.

    `rule` is a raster function name (None keeps the main layer's rendering); a template brings
    its own bands, so the main layer's band choice is dropped with it. `dates` is (from, to) in
    epoch ms, (None, None) for every date, or None to keep the main layer's time; other dates
    also drop a mosaic locked to the scenes picked in the catalog, which would show the same
    scenes whatever the dates. Opacity is full, so the main layer never shows through on the left.
    """
    if not enabled or not main:
        return None
    layer = edit(main).set_opacity(1.0)
    if rule:
        layer.set_rendering_rule({"rasterFunction": rule})
        if rule != RAW:
            layer.set_band_ids(None)
    if dates is not None:
        layer.set_time_range(*dates)
        if (layer.get_mosaic_rule() or {}).get("mosaicMethod") == LOCK_RASTER:
            layer.set_mosaic_rule(None)
    return layer.params.to_dict()


def dates_text(params: dict) -> str:
    start, end = params.get("time_from"), params.get("time_to")
    if start is None or end is None:
        return "all dates"
    if format_date(start, "%Y-%m-%d") == format_date(end, "%Y-%m-%d"):
        return format_date(start, "%Y-%m-%d")
    return f"{format_date(start, '%Y-%m-%d')} – {format_date(end, '%Y-%m-%d')}"


def side_label(params: dict, band_names: Sequence[str], with_dates: bool, default: str | None = None) -> str:
    """A side's name on the map: its raster function ("NDVI"), else its bands, else the function
    the service applies by default; with its dates when the sides differ by date."""
    rule = params.get("rendering_rule")
    bands = params.get("band_ids")
    if rule:
        name = rule.get("rasterFunction") or "Custom rendering"
        name = "No rendering rule" if name == RAW else name
    elif bands:
        name = ", ".join(band_names[b] if b < len(band_names) else f"Band {b + 1}" for b in bands)
    else:
        name = default if default and default != RAW else "Service default"
    return f"{name} · {dates_text(params)}" if with_dates else name


def swipe_options(info: dict | None) -> dict:
    """The tab's choices for a newly opened service: its raster functions and its dates (the
    left side starts with the second template, and at the first acquisition date)."""
    time = (info or {}).get("time")
    slider = {key: value for key, value in slider_config(time).items() if key != "disabled"}
    dates = time["dates"] if time else []
    value = [dates[0], dates[0]] if dates else [slider["min"], slider["max"]]
    functions = (info or {}).get("raster_functions") or []
    templates = [name for name in functions if name != RAW]
    return {
        "rules": [{"label": "None (raw pixels)" if name == RAW else name, "value": name} for name in functions],
        # The main layer opens with the first template; the left side starts with the next one,
        # so turning swipe on shows a difference at once.
        "rule": templates[1] if len(templates) > 1 else None,
        "slider": slider,
        "dates": value,
        "dates_on_options": [{"label": DATES_CHOICE, "value": "on", "disabled": not time}],
        "dates_on": [],
    }


def update_compare(main: dict | None, enabled: list | None, rule: str | None, dates_on: list | None,
                   dates: list[int] | None, info: dict | None) -> dict:
    """The compare layer's params, the divider's state {enabled, left, right} and the messages."""
    time = (info or {}).get("time")
    other_dates = bool(dates_on and time)
    chosen_dates = time_from_range(dates, time) if other_dates else None
    params = compare_params(main, bool(enabled), rule, chosen_dates)
    shared = {"dates_label": time_label(dates, time) if other_dates else "", "dates_disabled": not other_dates}
    if params is None:
        status = "Open a service first." if enabled else (
            "Turn swipe on to compare two renderings or two dates of the service side by side.")
        return {"params": None, "state": NO_SWIPE, "status": status, **shared}
    names = (info or {}).get("band_names") or []
    default = (info or {}).get("default_function")
    left, right = side_label(params, names, other_dates, default), side_label(main, names, other_dates, default)
    if rule is None and not other_dates:
        status = "Both sides show the same picture: choose a rendering or other dates for the left side."
    else:
        status = f"Left: {left}. Right: {right}. Drag the divider on the map."
    return {"params": params, "state": {"enabled": True, "left": left, "right": right}, "status": status, **shared}


def compare_error(error: dict | None) -> str | Any:
    """The server's words when the left side's image fails ({error, seq} from the state store)."""
    if not error or not error.get("error"):
        return no_update
    return f"The left side could not be drawn: {error['error']}"


def register(app: Dash) -> None:
    app.callback(
        output={
            "rules": Output(ids.SWIPE_RULE, "options"),
            "rule": Output(ids.SWIPE_RULE, "value"),
            "slider": {key: Output(ids.SWIPE_DATES, key) for key in ("min", "max", "marks", "step")},
            "dates": Output(ids.SWIPE_DATES, "value"),
            "dates_on_options": Output(ids.SWIPE_DATES_ON, "options"),
            "dates_on": Output(ids.SWIPE_DATES_ON, "value"),
        },
        inputs={"info": Input(ids.SERVICE_INFO, "data")},
        prevent_initial_call=True,
    )(swipe_options)
    app.callback(
        output={
            "params": Output(ImageMapLayerAIO.ids.params(ids.COMPARE_LAYER), "data"),
            "state": Output(ids.SWIPE_STATE, "data"),
            "status": Output(ids.SWIPE_STATUS, "children"),
            "dates_label": Output(ids.SWIPE_DATES_LABEL, "children"),
            "dates_disabled": Output(ids.SWIPE_DATES, "disabled"),
        },
        inputs={
            "main": Input(ImageMapLayerAIO.ids.params(ids.MAIN_LAYER), "data"),
            "enabled": Input(ids.SWIPE_ENABLED, "value"),
            "rule": Input(ids.SWIPE_RULE, "value"),
            "dates_on": Input(ids.SWIPE_DATES_ON, "value"),
            "dates": Input(ids.SWIPE_DATES, "value"),
            "info": State(ids.SERVICE_INFO, "data"),
        },
    )(update_compare)
    app.clientside_callback(
        NEW_ERROR,
        Output(ids.SWIPE_ERROR, "data"),
        Input(ImageMapLayerAIO.ids.state(ids.COMPARE_LAYER), "data"),
        prevent_initial_call=True,
    )
    app.callback(
        Output(ids.SWIPE_STATUS, "children", allow_duplicate=True),
        Input(ids.SWIPE_ERROR, "data"),
        prevent_initial_call=True,
    )(compare_error)
    app.clientside_callback(
        "function (state) { window.swipeCompare.configure(state); }",
        Input(ids.SWIPE_STATE, "data"),
    )
