"""The control panel: service options → controls, and control values → the layer's params.

One flow: every control value goes through the seed's setters on the current params (never a
hand-built wire string); invalid input leaves the params as they were and puts a plain message
next to the control. The functions here are pure so they can be tested without a browser.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from dash import Dash, Input, Output, State, no_update

from components import ids
from imageservice.dash import ImageMapLayerAIO, edit
from imageservice.errors import ParameterError
from imageservice.metadata import ServiceInfo
from imageservice.params import parse_rule
from imageservice.presets import band_presets
from imageservice.wire import serialize_value

# Without acquisition dates the play button steps through this many equal windows.
TIME_STOPS = 12
# More dates than this would crowd the slider: it then moves freely instead of date to date.
MAX_DATE_MARKS = 60
DAY_MS = 86_400_000

# Control name (a keyword of params_from_controls) -> component id.
CONTROL_IDS = {
    "band_r": ids.BAND_R,
    "band_g": ids.BAND_G,
    "band_b": ids.BAND_B,
    "pixel_type": ids.PIXEL_TYPE,
    "no_data": ids.NO_DATA,
    "no_data_interpretation": ids.NO_DATA_INTERPRETATION,
    "rendering_rule": ids.RENDERING_RULE,
    "custom_rule": ids.CUSTOM_RULE,
    "mosaic_method": ids.MOSAIC_METHOD,
    "sort_field": ids.SORT_FIELD,
    "sort_value": ids.SORT_VALUE,
    "sort_ascending": ids.SORT_ASCENDING,
    "mosaic_operation": ids.MOSAIC_OPERATION,
    "time_range": ids.TIME_RANGE,
    "opacity": ids.OPACITY,
    "position": ids.POSITION,
    "image_format": ids.IMAGE_FORMAT,
}
# Message group -> the element under its controls.
ERROR_IDS = {
    "bands": ids.BANDS_ERROR,
    "no_data": ids.NO_DATA_ERROR,
    "rule": ids.RULE_ERROR,
    "mosaic": ids.MOSAIC_ERROR,
    "time": ids.TIME_ERROR,
    "display": ids.DISPLAY_ERROR,
}


# --- service → control options -----------------------------------------------------------------


def service_options(info: ServiceInfo, dates: list[int]) -> dict:
    """What the controls offer for one service (JSON for the SERVICE_INFO store).

    `dates` are the catalog's acquisition dates (epoch ms); the time slider snaps to them.
    """
    dates = sorted(set(dates))
    if len(dates) > MAX_DATE_MARKS:
        dates = []
    time = None
    if info.time_extent and None not in info.time_extent:
        time = {"min": min([info.time_extent[0], *dates]), "max": max([info.time_extent[1], *dates]), "dates": dates}
    elif dates:
        time = {"min": dates[0], "max": dates[-1], "dates": dates}
    return {
        "band_names": list(info.band_names),
        "presets": band_presets(info.band_names),
        "raster_functions": list(info.raster_functions),
        "mosaic_methods": [[label, name] for label, name in zip(info.mosaic_methods, info.mosaic_method_request_names)],
        "sort_fields": [f["name"] for f in info.fields if f.get("type") not in ("esriFieldTypeGeometry", "esriFieldTypeOID")],
        "time": time,
    }


def date_field(info: ServiceInfo) -> str | None:
    """The catalog field holding acquisition dates: AcquisitionDate, else the first date field."""
    names = [f["name"] for f in info.fields if f.get("type") == "esriFieldTypeDate"]
    return "AcquisitionDate" if "AcquisitionDate" in names else (names[0] if names else None)


def slider_config(time: dict | None) -> dict:
    """The time RangeSlider's min, max, marks and step: date to date when the dates are known."""
    if not time:
        return {"min": 0, "max": 1, "marks": None, "step": 1, "disabled": True}
    dates = time["dates"]
    marks = {str(d): "" for d in dates} or None
    if marks:
        marks[str(dates[0])] = format_date(dates[0], "%b %d")
        marks[str(dates[-1])] = format_date(dates[-1], "%b %d")
    return {"min": time["min"], "max": time["max"], "marks": marks, "step": None if dates else DAY_MS,
            "disabled": False}


def format_date(ms: int, pattern: str = "%Y-%m-%d %H:%M") -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime(pattern)


# --- params ↔ control values -------------------------------------------------------------------


def controls_from_params(params: dict, options: dict) -> dict:
    """The control values that show `params` (the inverse of params_from_controls)."""
    bands = list(params.get("band_ids") or [])[:3]
    rule = params.get("rendering_rule")
    template = rule.get("rasterFunction") if rule and list(rule) == ["rasterFunction"] else None
    if template not in options["raster_functions"]:
        template = None
    mosaic = params.get("mosaic_rule") or {}
    time = options["time"]
    if params.get("time_from") is not None and params.get("time_to") is not None:
        time_range = [params["time_from"], params["time_to"]]
    else:
        time_range = [time["min"], time["max"]] if time else None
    no_data = params.get("no_data")
    return {
        "band_r": bands[0] if bands else None,
        "band_g": bands[1] if len(bands) == 3 else None,
        "band_b": bands[2] if len(bands) == 3 else None,
        "pixel_type": params.get("pixel_type"),
        "no_data": "" if no_data is None else serialize_value(no_data),
        "no_data_interpretation": params.get("no_data_interpretation"),
        "rendering_rule": template,
        "custom_rule": "" if template or not rule else json.dumps(rule),
        "mosaic_method": mosaic.get("mosaicMethod"),
        "sort_field": mosaic.get("sortField"),
        "sort_value": "" if mosaic.get("sortValue") is None else str(mosaic["sortValue"]),
        "sort_ascending": bool(mosaic.get("ascending", True)),
        "mosaic_operation": mosaic.get("mosaicOperation"),
        "time_range": time_range,
        "opacity": params.get("opacity", 1.0),
        "position": params.get("position", "front"),
        "image_format": params.get("format", "jpgpng"),
    }


def band_ids_from(red: int | None, green: int | None, blue: int | None) -> list[int] | None:
    """[r, g, b] for three bands, [r] for one band shown grey, None for the service default."""
    if red is None and green is None and blue is None:
        return None
    if green is None and blue is None:
        return [red]
    if None in (red, green, blue):
        raise ParameterError("choose all three bands (red, green, blue), only red for one band, or none")
    return [red, green, blue]


def rendering_rule_from(template: str | None, custom: str | None) -> dict | None:
    """The custom JSON rule when one is typed, else the chosen raster function template."""
    if custom and custom.strip():
        return parse_rule(custom, "rendering_rule")
    return {"rasterFunction": template} if template else None


def mosaic_rule_from(method: str | None, sort_field: str | None, sort_value: str | None, ascending: bool,
                     operation: str | None) -> dict | None:
    """A mosaicRule from its controls; None (the service default) when no method is chosen."""
    if not method:
        if sort_field or operation or (sort_value or "").strip():
            raise ParameterError("choose a mosaic method first (sort and operation belong to a method)")
        return None
    if method == "esriMosaicAttribute" and not sort_field:
        raise ParameterError("mosaicking by attribute needs a sort field")
    rule: dict[str, Any] = {"mosaicMethod": method}
    if sort_field:
        rule.update(sortField=sort_field, sortValue=(sort_value or "").strip() or None, ascending=bool(ascending))
    if operation:
        rule["mosaicOperation"] = operation
    return {key: value for key, value in rule.items() if value is not None}


MOSAIC_CONTROL_KEYS = {"mosaicMethod", "sortField", "sortValue", "ascending", "mosaicOperation"}


def with_other_keys(rule: dict | None, current: dict | None) -> dict | None:
    """The controls' rule plus what they do not edit (lockRasterIds, where, fids, ... from a link
    or another callback), so a control change never drops them."""
    if rule is None:
        return None
    kept = {key: value for key, value in (current or {}).items() if key not in MOSAIC_CONTROL_KEYS}
    return {**kept, **rule}


def time_from_range(value: list[int] | None, time: dict | None) -> tuple[int | None, int | None]:
    """(from, to) of the slider; the full extent means no time filter (every scene)."""
    if not value or not time or list(value) == [time["min"], time["max"]]:
        return None, None
    return value[0], value[1]


def params_from_controls(params: dict, options: dict, **values: Any) -> tuple[dict | None, dict[str, str]]:
    """New params from the control values with the seed's setters, and a message per group.

    Any invalid group gives no params (the layer keeps its last good ones); each group's
    message is "" when its controls are valid.
    """
    layer = edit(params)
    errors = dict.fromkeys(ERROR_IDS, "")

    def attempt(group: str, change: Callable[[], Any]) -> None:
        try:
            change()
        except ParameterError as error:
            errors[group] = str(error)

    v = values
    no_data_set = bool(str(v["no_data"] or "").strip())
    attempt("bands", lambda: layer.set_band_ids(band_ids_from(v["band_r"], v["band_g"], v["band_b"]))
            .set_pixel_type(v["pixel_type"] or None))
    attempt("no_data", lambda: layer.set_no_data(v["no_data"], v["no_data_interpretation"] if no_data_set else None))
    attempt("rule", lambda: layer.set_rendering_rule(rendering_rule_from(v["rendering_rule"], v["custom_rule"])))
    attempt("mosaic", lambda: layer.set_mosaic_rule(with_other_keys(mosaic_rule_from(
        v["mosaic_method"], v["sort_field"], v["sort_value"], v["sort_ascending"], v["mosaic_operation"]),
        params.get("mosaic_rule"))))
    attempt("time", lambda: layer.set_time_range(*time_from_range(v["time_range"], options["time"])))
    attempt("display", lambda: layer.set_opacity(v["opacity"]))
    attempt("display", lambda: layer.bring_to_back() if v["position"] == "back" else layer.bring_to_front())
    if any(errors.values()):
        return None, errors
    # format has no setter in the seed: it is a constructor option.
    return layer.params.replace(format=v["image_format"] or "jpgpng").to_dict(), errors


def preset_bands(label: str | None, options: dict | None) -> list[int | None] | None:
    """The (red, green, blue) dropdown values for a preset; None when no preset is chosen."""
    if not label or not options or label not in options["presets"]:
        return None
    bands = options["presets"][label]
    return bands if len(bands) == 3 else [bands[0], None, None]


def time_label(value: list[int] | None, time: dict | None) -> str:
    if not time:
        return "The service is not time-aware."
    start, end = time_from_range(value, time)
    if start is None:
        return "All dates"
    if start == end:
        return f"{format_date(start)} UTC"
    return f"{format_date(start)} – {format_date(end)} UTC"


def time_stops(time: dict) -> list[int]:
    """Where the play button's window may start and end: the dates, else equal steps."""
    if time["dates"]:
        return time["dates"]
    step = (time["max"] - time["min"]) / TIME_STOPS
    return [round(time["min"] + i * step) for i in range(TIME_STOPS + 1)]


def next_window(value: list[int] | None, time: dict) -> list[int]:
    """The time window one step later, as wide (in steps) as the current one; from the whole
    extent it starts with the first date alone; past the end it wraps to the start."""
    stops = time_stops(time)
    value = value or [time["min"], time["max"]]
    first = min(bisect.bisect_left(stops, value[0]), len(stops) - 1)
    width = max(bisect.bisect_left(stops, value[1]) - first, 0)
    if time_from_range(value, time) == (None, None):
        first, width = -1, 0
    first = first + 1 if first + 1 + width < len(stops) else 0
    return [stops[first], stops[first + width]]


# --- callbacks ---------------------------------------------------------------------------------


def fill_controls(options: dict | None, params: dict | None) -> dict:
    """Options and values of every control for a newly opened service."""
    if not options or not params:
        return no_update
    bands = [{"label": f"{i + 1}: {name}", "value": i} for i, name in enumerate(options["band_names"])]
    return {
        **controls_from_params(params, options),
        "band_options": [bands, bands, bands],
        "preset_options": list(options["presets"]),
        "preset": None,
        "rule_options": options["raster_functions"],
        "method_options": [{"label": label, "value": name} for label, name in options["mosaic_methods"]],
        "field_options": options["sort_fields"],
        "slider": slider_config(options["time"]),
    }


def apply_controls(current: dict | None, options: dict | None, custom_rule_blur: int | None = None,
                   **values: Any) -> dict:
    """The params store (unchanged unless valid and different) and the messages."""
    if not current or not options:
        return no_update
    params, errors = params_from_controls(current, options, **values)
    changed = params is not None and params != current
    return {"params": params if changed else no_update, "errors": errors,
            "time_label": time_label(values["time_range"], options["time"])}


def choose_preset(label: str | None, options: dict | None) -> tuple:
    """A preset sets the three band dropdowns and clears the rendering rule: the templates pick
    their own bands, and a service rejects them on bands it has already extracted."""
    bands = preset_bands(label, options)
    return no_update if bands is None else (*bands, None, "")


def clear_bands_for_rule(rule: str | None) -> tuple:
    """Choosing a rendering rule clears the band dropdowns, the mirror of choose_preset: the
    rule's output has its own bands, and bandIds meant for the raw bands would not fit it."""
    return (None, None, None) if rule else no_update


def toggle_play(n_clicks: int | None, disabled: bool) -> tuple[bool, str]:
    """The play button starts or stops the interval that steps the time window."""
    return (False, "❚❚ Pause") if disabled else (True, "▶ Play")


def step_time(n_intervals: int | None, value: list[int] | None, options: dict | None) -> list[int]:
    return next_window(value, options["time"]) if options and options["time"] else no_update


def register(app: Dash) -> None:
    params_store = ImageMapLayerAIO.ids.params(ids.MAIN_LAYER)
    app.callback(
        output={
            **{name: Output(cid, "value") for name, cid in CONTROL_IDS.items()},
            "band_options": [Output(ids.BAND_R, "options"), Output(ids.BAND_G, "options"), Output(ids.BAND_B, "options")],
            "preset_options": Output(ids.BAND_PRESET, "options"),
            "preset": Output(ids.BAND_PRESET, "value"),
            "rule_options": Output(ids.RENDERING_RULE, "options"),
            "method_options": Output(ids.MOSAIC_METHOD, "options"),
            "field_options": Output(ids.SORT_FIELD, "options"),
            "slider": {key: Output(ids.TIME_RANGE, key) for key in ("min", "max", "marks", "step", "disabled")},
        },
        inputs={"options": Input(ids.SERVICE_INFO, "data"), "params": State(params_store, "data")},
        prevent_initial_call=True,
    )(fill_controls)
    app.callback(
        output={
            "params": Output(params_store, "data", allow_duplicate=True),
            "errors": {group: Output(eid, "children") for group, eid in ERROR_IDS.items()},
            "time_label": Output(ids.TIME_LABEL, "children"),
        },
        inputs={
            "current": State(params_store, "data"),
            "options": State(ids.SERVICE_INFO, "data"),
            **{name: Input(cid, "value") for name, cid in CONTROL_IDS.items()},
            # The custom rule is read when the box loses focus, not at every keystroke.
            "custom_rule": State(ids.CUSTOM_RULE, "value"),
            "custom_rule_blur": Input(ids.CUSTOM_RULE, "n_blur"),
        },
        prevent_initial_call=True,
    )(apply_controls)
    app.callback(
        *(Output(cid, "value", allow_duplicate=True)
          for cid in (ids.BAND_R, ids.BAND_G, ids.BAND_B, ids.RENDERING_RULE, ids.CUSTOM_RULE)),
        Input(ids.BAND_PRESET, "value"), State(ids.SERVICE_INFO, "data"),
        prevent_initial_call=True,
    )(choose_preset)
    app.callback(
        *(Output(cid, "value", allow_duplicate=True) for cid in (ids.BAND_R, ids.BAND_G, ids.BAND_B)),
        Input(ids.RENDERING_RULE, "value"),
        prevent_initial_call=True,
    )(clear_bands_for_rule)
    app.callback(
        Output(ids.TIME_TICK, "disabled"), Output(ids.TIME_PLAY, "children"),
        Input(ids.TIME_PLAY, "n_clicks"), State(ids.TIME_TICK, "disabled"),
        prevent_initial_call=True,
    )(toggle_play)
    app.callback(
        Output(ids.TIME_RANGE, "value", allow_duplicate=True),
        Input(ids.TIME_TICK, "n_intervals"), State(ids.TIME_RANGE, "value"), State(ids.SERVICE_INFO, "data"),
        prevent_initial_call=True,
    )(step_time)
