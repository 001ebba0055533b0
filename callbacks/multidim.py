"""Multidimensional services: multidimensionalInfo → a variable picker and one control per
dimension; their values → the layer's mosaic rule (multidimensionalDefinition); a map click → the
pixel's profiles through time and through the levels (depth, height), with a CSV.

The selection lives in the layer's params only (so the page URL keeps it, as it keeps the mosaic
rule); the controls are rebuilt from it. Pure functions first; `register` only wires them.
"""

from __future__ import annotations

from typing import Any

import pandas
import plotly.graph_objects as go
from dash import ALL, Dash, Input, Output, State, dcc, no_update

from callbacks.controls import play_state
from callbacks.pixel import point_name
from callbacks.profiles import CHART_LAYOUT, empty_figure, records
from callbacks.time_slider import format_date
from components import ids
from components.multidimpanel import dimension_control, legend_view
from components.pixelpanel import chart
from imageservice.dash import ImageMapLayerAIO, edit
from imageservice.client import METADATA_MAX_AGE
from imageservice.errors import ImageServiceError
from imageservice.metadata import parse_legend, parse_service_info
from imageservice.multidim import (
    INFO_PARAMS,
    Dimension,
    MultidimensionalInfo,
    Variable,
    default_value,
    dimension_value,
    parse_multidimensional_info,
    selection_of,
)

# --- the service's multidimensional information ------------------------------------------------------


def load_info(params: dict | None, stored: dict | None) -> dict | None:
    """{"url", "info": the multidimensionalInfo JSON or None, "error"} for the layer's service;
    fetched once per service URL (None info: not multidimensional, nothing is shown)."""
    if not params:
        return None
    if stored and stored.get("url") == params["url"] and not stored.get("error"):
        return no_update
    layer = edit(params)
    try:
        if not parse_service_info(layer.metadata(METADATA_MAX_AGE)).has_multidimensions:
            return {"url": params["url"], "info": None}
        raw = layer.client.get("multidimensionalInfo", INFO_PARAMS)
        parse_multidimensional_info(raw)
    except ImageServiceError as error:
        return {"url": params["url"], "info": None, "error": f"Could not read the variables and dimensions: {error}"}
    return {"url": params["url"], "info": raw}


def info_of(md: dict | None) -> MultidimensionalInfo | None:
    return parse_multidimensional_info(md["info"]) if md and md.get("info") else None


def chosen_variable(info: MultidimensionalInfo, params: dict | None) -> Variable:
    """The variable the layer's mosaic rule names, else the service's first (its default)."""
    name, _ = selection_of((params or {}).get("mosaic_rule"))
    return info.variable(name) if name in info.variable_names else info.variables[0]


def value_label(dimension: Dimension, value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return " – ".join(value_label(dimension, v) for v in value)
    if dimension.is_time:
        return f"{format_date(int(value))} UTC"
    return f"{value:g} {dimension.unit}".strip()


def index_of(dimension: Dimension, value: Any) -> int:
    """The position of a value among the dimension's values (the nearest one), for a control."""
    wanted = dimension_value(dimension.name, value)
    if isinstance(wanted, list):
        return next((i for i, v in enumerate(dimension.values) if list(v) == wanted), 0)
    return min(range(len(dimension.values)), key=lambda i: abs(float(dimension.values[i]) - float(wanted)))


# --- the controls ----------------------------------------------------------------------------------------


def variable_choice(md: dict | None, params: dict | None) -> tuple:
    """(section hidden, variable options, variable, message) for a newly opened service."""
    info = info_of(md)
    if info is None or not info.variables:
        return True, [], None, (md or {}).get("error") or ""
    options = [{"label": f"{v.name} ({v.unit})" if v.unit else v.name, "value": v.name} for v in info.variables]
    return False, options, chosen_variable(info, params).name, ""


def dimension_controls(variable: str | None, md: dict | None, params: dict | None) -> tuple[list, bool]:
    """One control per dimension of the variable, at the layer's selected value of a dimension of
    that name (so another variable keeps the time and depth), else at the dimension's default;
    the Play button when there is a time dimension."""
    info = info_of(md)
    if info is None or variable not in info.variable_names:
        return [], True
    var = info.variable(variable)
    _, selected = selection_of((params or {}).get("mosaic_rule"))
    controls = []
    for dimension in var.dimensions:
        if not dimension.values:
            continue
        value = selected.get(dimension.name)
        index = index_of(dimension, default_value(dimension) if value is None else value)
        labels = [value_label(dimension, v) for v in dimension.values]
        title = dimension.description or dimension.name
        controls.append(dimension_control(dimension.name, title, dimension.is_time, labels, index))
    return controls, var.time is None or not var.time.values


def units_text(var: Variable) -> str:
    """The variable's meaning and unit, and its range over all slices (a legend in words)."""
    text = f"{var.description or var.name}, in {var.unit}" if var.unit else (var.description or var.name)
    if var.statistics:
        stats = var.statistics[0]
        text += f" · {stats.min:.4g} to {stats.max:.4g} {var.unit} over all slices".rstrip()
    return text


def variable_legend(variable: str | None, params: dict | None, md: dict | None, shown: dict | None) -> tuple:
    """(legend children, what they are for): the service's `legend` for the variable under the
    layer's rendering rule and bands (its ramp, High and Low); fetched again only when one of those
    changes, and left out when the service offers none."""
    if info_of(md) is None or not params or not variable:
        return [], None
    key = {"url": params["url"], "variable": variable, "rendering_rule": params.get("rendering_rule"),
           "band_ids": params.get("band_ids")}
    if key == shown:
        return no_update, no_update
    query = {"variable": variable, "renderingRule": key["rendering_rule"], "bandIds": key["band_ids"]}
    try:
        layers = parse_legend(edit(params).client.get("legend", query))
    except ImageServiceError:
        return [], key
    entries = [(entry.image_data_uri, entry.label) for layer in layers for entry in layer.entries if entry.image_data_uri]
    return legend_view(entries), key


def apply_selection(variable: str | None, indexes: list, control_ids: list, md: dict | None,
                    params: dict | None) -> tuple:
    """(params, units text, value labels): the chosen variable at the chosen dimension values,
    written into the layer's mosaic rule; controls of another variable's dimensions (still on
    the page while the picker rebuilds them) are not applied."""
    labels = [no_update] * len(control_ids)
    info = info_of(md)
    if info is None or not params or variable not in info.variable_names:
        return no_update, no_update, labels
    var = info.variable(variable)
    names = {d.name for d in var.dimensions}
    if any(cid["name"] not in names for cid in control_ids):
        return no_update, units_text(var), labels
    picked = [(cid["name"], picked_value(var.dimension(cid["name"]), index)) for cid, index in zip(control_ids, indexes)]
    labels = [no_update if value is None else value_label(var.dimension(name), value) for name, value in picked]
    values = {name: value for name, value in picked if value is not None}
    new = edit(params).set_slice(variable, **values).params.to_dict()
    return (no_update if new == params else new), units_text(var), labels


def picked_value(dimension: Dimension, index: int | None) -> Any:
    """The value a control's position stands for; None for no choice or a position from another
    service's controls."""
    return dimension.values[index] if index is not None and 0 <= index < len(dimension.values) else None


def step_time(_ticks: int | None, indexes: list, control_ids: list, md: dict | None, variable: str | None) -> list:
    """Each tick of Play moves the time control one value on (back to the first after the last)."""
    info = info_of(md)
    if info is None or variable not in info.variable_names or info.variable(variable).time is None:
        return [no_update] * len(control_ids)
    time = info.variable(variable).time
    return [(index + 1) % len(time.values) if cid["name"] == time.name and index is not None else no_update
            for cid, index in zip(control_ids, indexes)]


# --- profiles -------------------------------------------------------------------------------------------


def pixel_profiles(click: dict | None, params: dict | None, md: dict | None, stored: dict | None) -> tuple:
    """(profile data, status, section hidden): the clicked pixel of the chosen variable along each
    dimension, the other dimensions held at the chosen values. Read again when the point or the
    selection changes, not for other layer settings."""
    info = info_of(md)
    if info is None or not params or not click:
        return None, "", True
    var = chosen_variable(info, params)
    _, selected = selection_of(params.get("mosaic_rule"))
    key = {"lat": click["lat"], "lng": click["lng"], "url": params["url"], "variable": var.name, "selected": selected}
    if stored and stored.get("key") == key:
        return no_update, no_update, False
    layer = edit(params)
    profiles = {}
    try:
        for dimension in var.dimensions:
            fixed = {name: value for name, value in selected.items() if name != dimension.name}
            frame = layer.profile(click["lat"], click["lng"], var.name, dimension.name, info=info, **fixed)
            profiles[dimension.name] = records(frame.astype({"value": float}))
    except ImageServiceError as error:
        return None, f"Could not read the profiles: {error}", False
    level = next((d for d in var.dimensions if not d.is_time), None)
    data = {"key": key, "variable": var.name, "unit": var.unit, "profiles": profiles,
            "time": var.time.name if var.time else None, "level": level.name if level else None,
            "level_unit": level.unit if level else ""}
    return data, f"{var.name} at this pixel: {profiles_text(var, selected, profiles)}.", False


def profiles_text(var: Variable, selected: dict, profiles: dict) -> str:
    """What each profile holds: "12 values along StdTime at -50 m; 6 along StdZ at 2025-01-15 ...". """
    parts = []
    for dimension in var.dimensions:
        fixed = [value_label(d, selected[d.name]) for d in var.dimensions if d is not dimension and d.name in selected]
        parts.append(f"{len(profiles[dimension.name])} along {dimension.name}" + (f" at {', '.join(fixed)}" if fixed else ""))
    return "; ".join(parts)


def profile_figures(data: dict | None) -> tuple[go.Figure, go.Figure]:
    """The time series (at the chosen level) and the level profile (at the chosen time)."""
    if not data:
        return empty_figure(""), empty_figure("")
    axis = f"{data['variable']} ({data['unit']})" if data["unit"] else data["variable"]
    return _time_figure(data, axis), _level_figure(data, axis)


def profile_charts(data: dict | None) -> list:
    """Both charts, once a pixel was clicked (components.pixelpanel.chart says why not before)."""
    if not data:
        return []
    time_figure, level_figure = profile_figures(data)
    return [chart(ids.MD_TIME_CHART, time_figure), chart(ids.MD_LEVEL_CHART, level_figure, height="300px")]


def _time_figure(data: dict, axis: str) -> go.Figure:
    frame = pandas.DataFrame(data["profiles"].get(data["time"]) or [])
    if frame.empty:
        return empty_figure("No time dimension." if not data["time"] else "No values through time here.")
    figure = go.Figure(go.Scatter(
        x=pandas.to_datetime(frame[data["time"]], utc=True), y=frame["value"], mode="lines+markers",
        connectgaps=False, line={"color": "#1f5f9e", "width": 2}, marker={"size": 6},
        hovertemplate="%{x|%Y-%m-%d}<br>%{y:.4~f}<extra></extra>"))
    figure.update_layout(**CHART_LAYOUT, yaxis_title=axis)
    return figure


def _level_figure(data: dict, axis: str) -> go.Figure:
    """Value across, level up: the ocean's and the atmosphere's convention, surface on top."""
    level = data["level"]
    frame = pandas.DataFrame(data["profiles"].get(level) or [])
    if frame.empty:
        return empty_figure("No depth or height dimension." if not level else "No values through the levels here.")
    figure = go.Figure(go.Scatter(
        x=frame["value"], y=frame[level], mode="lines+markers", connectgaps=False,
        line={"color": "#b5542a", "width": 2}, marker={"size": 6},
        hovertemplate="%{x:.4~f} at %{y:g} " + data["level_unit"] + "<extra></extra>"))
    figure.update_layout(**{**CHART_LAYOUT, "height": 300}, xaxis_title=axis,
                         yaxis_title=f"{level} ({data['level_unit']})" if data["level_unit"] else level)
    return figure


def profile_csv(_clicks: int | None, data: dict | None) -> dict:
    """Both profiles in one CSV, a column `along` naming the dimension each row runs along."""
    if not data:
        return no_update
    frames = [pandas.DataFrame(rows).assign(along=name) for name, rows in data["profiles"].items() if rows]
    content = pandas.concat(frames, ignore_index=True).to_csv(index=False) if frames else ""
    point = {"lat": data["key"]["lat"], "lng": data["key"]["lng"]}
    return dcc.send_string(content, f"profiles_{data['variable']}_{point_name(point)}.csv", type="text/csv")


# --- wiring -----------------------------------------------------------------------------------------------


def register(app: Dash) -> None:
    params = ImageMapLayerAIO.ids.params(ids.MAIN_LAYER)
    controls = {"type": ids.MD_DIMENSION, "name": ALL}
    app.callback(Output(ids.MD_INFO, "data"), Input(params, "data"), State(ids.MD_INFO, "data"))(load_info)
    app.callback(
        Output(ids.MD_SECTION, "hidden"), Output(ids.MD_VARIABLE, "options"), Output(ids.MD_VARIABLE, "value"),
        Output(ids.MD_ERROR, "children"),
        Input(ids.MD_INFO, "data"), State(params, "data"),
        prevent_initial_call=True,
    )(variable_choice)
    app.callback(
        Output(ids.MD_DIMENSIONS, "children"), Output(ids.MD_PLAY, "hidden"),
        Input(ids.MD_VARIABLE, "value"), State(ids.MD_INFO, "data"), State(params, "data"),
        prevent_initial_call=True,
    )(dimension_controls)
    app.callback(
        Output(params, "data", allow_duplicate=True), Output(ids.MD_UNITS, "children"),
        Output({"type": ids.MD_DIMENSION_LABEL, "name": ALL}, "children"),
        Input(ids.MD_VARIABLE, "value"), Input(controls, "value"), State(controls, "id"),
        State(ids.MD_INFO, "data"), State(params, "data"),
        prevent_initial_call=True,
    )(apply_selection)
    app.callback(
        Output(ids.MD_LEGEND, "children"), Output(ids.MD_LEGEND_KEY, "data"),
        Input(ids.MD_VARIABLE, "value"), Input(params, "data"), State(ids.MD_INFO, "data"),
        State(ids.MD_LEGEND_KEY, "data"),
        prevent_initial_call=True,
    )(variable_legend)
    app.callback(
        Output(ids.MD_TICK, "disabled"), Output(ids.MD_PLAY, "children"),
        Input(ids.MD_PLAY, "n_clicks"), State(ids.MD_TICK, "disabled"),
        prevent_initial_call=True,
    )(lambda _clicks, disabled: play_state(disabled))
    app.callback(
        Output(controls, "value", allow_duplicate=True),
        Input(ids.MD_TICK, "n_intervals"), State(controls, "value"), State(controls, "id"),
        State(ids.MD_INFO, "data"), State(ids.MD_VARIABLE, "value"),
        prevent_initial_call=True,
    )(step_time)
    app.callback(
        Output(ids.MD_PROFILE_DATA, "data"), Output(ids.MD_PROFILE_STATUS, "children"), Output(ids.MD_PROFILES, "hidden"),
        Input(ImageMapLayerAIO.ids.click(ids.MAIN_LAYER), "data"), Input(params, "data"),
        State(ids.MD_INFO, "data"), State(ids.MD_PROFILE_DATA, "data"),
        prevent_initial_call=True,
    )(pixel_profiles)
    app.callback(
        Output(ids.MD_CHARTS, "children"),
        Input(ids.MD_PROFILE_DATA, "data"),
    )(profile_charts)
    app.callback(
        Output(ids.MD_PROFILE_DOWNLOAD, "data"),
        Input(ids.MD_PROFILE_CSV, "n_clicks"), State(ids.MD_PROFILE_DATA, "data"),
        prevent_initial_call=True,
    )(profile_csv)
