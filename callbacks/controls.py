"""The sidebar controls' callbacks: a service's options fill the controls, and control values
become the layer's params.

The work is done by pure functions in callbacks.control_options (service → what the controls
offer), callbacks.control_params (control values ↔ params) and callbacks.time_slider (the time
slider); this module only wires them to the page, so each callback is a plain function too.
"""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, State, no_update

from callbacks.catalog import LOCK_RASTER
from callbacks.control_options import preset_bands
from callbacks.control_params import ERROR_GROUPS, controls_from_params, params_from_controls
from callbacks.time_slider import next_window, slider_config, time_label
from components import ids
from imageservice.dash import ImageMapLayerAIO

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
# Message group (control_params.ERROR_GROUPS) -> the element under its controls.
ERROR_IDS = {
    "bands": ids.BANDS_ERROR,
    "no_data": ids.NO_DATA_ERROR,
    "rule": ids.RULE_ERROR,
    "mosaic": ids.MOSAIC_ERROR,
    "time": ids.TIME_ERROR,
    "display": ids.DISPLAY_ERROR,
}


# --- callbacks ---------------------------------------------------------------------------------


def mosaic_method_options(methods: list[list[str]]) -> list[dict]:
    """The method dropdown's options: LockRaster is shown but disabled, as it needs raster ids the
    dropdown cannot give; it still shows as chosen when the Catalog tab locks scenes."""
    return [{"label": f"{label} — select scenes in the Catalog tab", "value": name, "disabled": True}
            if name == LOCK_RASTER else {"label": label, "value": name} for label, name in methods]


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
        "rule_placeholder": default_rule_label(options.get("default_function")),
        "method_options": mosaic_method_options(options["mosaic_methods"]),
        "field_options": options["sort_fields"],
        "slider": slider_config(options["time"]),
    }


def default_rule_label(function: str | None) -> str:
    """What the empty rendering-rule dropdown means: the function the service applies unasked."""
    return f"Service default ({function})" if function else "Service default"


def apply_controls(current: dict | None, options: dict | None, custom_rule_blur: int | None = None,
                   **values: Any) -> dict:
    """The params store (written only when different) and the messages."""
    if not current or not options:
        return no_update
    params, errors = params_from_controls(current, options, **values)
    return {"params": params if params != current else no_update, "errors": errors,
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
    """Each tick of the play interval moves the time window one step (nothing without time)."""
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
            "rule_placeholder": Output(ids.RENDERING_RULE, "placeholder"),
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
            "errors": {group: Output(ERROR_IDS[group], "children") for group in ERROR_GROUPS},
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
