"""The sidebar controls' callbacks: a service's options fill the controls, and control values
become the layer's params.

The work is done by pure functions in callbacks.control_options (service → what the controls
offer), callbacks.control_params (control values ↔ params) and callbacks.time_slider (the time
slider); this module only wires them to the page, so each callback is a plain function too.
"""

from __future__ import annotations

from typing import Any

from dash import ClientsideFunction, Dash, Input, Output, State, ctx, no_update

from callbacks import band_choice
from callbacks.catalog import LOCK_RASTER
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
    bands = band_choice.band_options(options["band_names"])
    values = controls_from_params(params, options)
    return {
        **values,
        "band_options": [bands, bands, bands],
        "preset_options": band_choice.preset_options(options["presets"]),
        "preset": band_choice.preset_for(band_choice.chosen_bands(
            values["band_r"], values["band_g"], values["band_b"]), options["presets"]),
        "rule_options": options["raster_functions"],
        "rule_placeholder": band_choice.default_rule_label(options.get("default_function")),
        "method_options": mosaic_method_options(options["mosaic_methods"]),
        "field_options": options["sort_fields"],
        "slider": slider_config(options["time"]),
        "time_settled": values["time_range"],
    }


def apply_controls(current: dict | None, options: dict | None, custom_rule_blur: int | None = None,
                   **values: Any) -> dict:
    """The params store (written only when different) and the messages."""
    if not current or not options:
        return no_update
    params, errors = params_from_controls(current, options, **values)
    return {"params": params if params != current else no_update, "errors": errors,
            "time_label": time_label(values["time_range"], options["time"])}


# Component id -> what band_choice.sync calls it.
BAND_CHOICE_GROUPS = {ids.BAND_PRESET: "preset", ids.BAND_R: "bands", ids.BAND_G: "bands", ids.BAND_B: "bands",
                      ids.RENDERING_RULE: "rule", ids.CUSTOM_RULE: "custom"}


def sync_band_choice(preset: str | None, red: int | None, green: int | None, blue: int | None, rule: str | None,
                     _custom_blur: int | None, custom: str | None, options: dict | None) -> dict:
    """Bands, preset and rule after one of them changed (see callbacks/band_choice)."""
    if not options:
        return no_update
    changed = {BAND_CHOICE_GROUPS[component] for component in ctx.triggered_prop_ids.values()}
    return band_choice.sync(changed, preset, [red, green, blue], rule, custom, options)


def play_state(disabled: bool) -> tuple[bool, str]:
    """After a click on a play button: whether its interval is now disabled, and its label."""
    return (False, "❚❚ Pause") if disabled else (True, "▶ Play")


def toggle_play(n_clicks: int | None, disabled: bool, value: list[int] | None) -> tuple:
    """The play button starts or stops the interval that steps the time window; starting keeps
    the range on the slider as the extent Play goes through."""
    stopped, label = play_state(disabled)
    return stopped, label, no_update if stopped else value


def step_time(n_intervals: int | None, value: list[int] | None, extent: list[int] | None,
              options: dict | None) -> list[int]:
    """Each tick of the play interval shows the next window of the play extent (nothing without time)."""
    return next_window(value, extent, options["time"]) if options and options["time"] else no_update


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
            "time_settled": Output(ids.TIME_SETTLED, "data"),
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
            "time_range": Input(ids.TIME_SETTLED, "data"),
            # The custom rule is read when the box loses focus, not at every keystroke.
            "custom_rule": State(ids.CUSTOM_RULE, "value"),
            "custom_rule_blur": Input(ids.CUSTOM_RULE, "n_blur"),
        },
        prevent_initial_call=True,
    )(apply_controls)
    bands = (ids.BAND_R, ids.BAND_G, ids.BAND_B)
    app.callback(
        output={
            "preset": Output(ids.BAND_PRESET, "value", allow_duplicate=True),
            "bands": [Output(cid, "value", allow_duplicate=True) for cid in bands],
            "rule": Output(ids.RENDERING_RULE, "value", allow_duplicate=True),
            "custom": Output(ids.CUSTOM_RULE, "value", allow_duplicate=True),
            "note": Output(ids.BANDS_NOTE, "children"),
            "band_placeholders": [Output(cid, "placeholder") for cid in bands],
            "rule_placeholder": Output(ids.RENDERING_RULE, "placeholder", allow_duplicate=True),
        },
        inputs=[Input(ids.BAND_PRESET, "value"), *(Input(cid, "value") for cid in bands),
                Input(ids.RENDERING_RULE, "value"), Input(ids.CUSTOM_RULE, "n_blur"), State(ids.CUSTOM_RULE, "value"),
                State(ids.SERVICE_INFO, "data")],
        prevent_initial_call=True,
    )(sync_band_choice)
    app.callback(
        Output(ids.TIME_TICK, "disabled"), Output(ids.TIME_PLAY, "children"), Output(ids.TIME_PLAY_EXTENT, "data"),
        Input(ids.TIME_PLAY, "n_clicks"), State(ids.TIME_TICK, "disabled"), State(ids.TIME_RANGE, "value"),
        prevent_initial_call=True,
    )(toggle_play)
    app.callback(
        Output(ids.TIME_RANGE, "value", allow_duplicate=True),
        Input(ids.TIME_TICK, "n_intervals"), State(ids.TIME_RANGE, "value"), State(ids.TIME_PLAY_EXTENT, "data"),
        State(ids.SERVICE_INFO, "data"),
        prevent_initial_call=True,
    )(step_time)
    # Keyboard steps and Play ticks reach the layer once the slider has rested (assets/timeslider.js).
    app.clientside_callback(
        ClientsideFunction(namespace="timeSlider", function_name="settle"),
        Output(ids.TIME_SETTLED, "data"), Input(ids.TIME_RANGE, "value"),
        prevent_initial_call=True,
    )
