"""Multidimensional services: the variable picker with one control per dimension (left panel), and
the Pixel tab's profiles through time and depth. Layout only: callbacks/multidim fills them; both
stay hidden for a service without multidimensional information."""

from __future__ import annotations

from dash import dcc, html

from . import ids

PLAY_MS = 1500


def multidim_section() -> html.Section:
    """Variable, units and the dimension controls (built per variable by callbacks/multidim)."""
    return html.Section(
        id=ids.MD_SECTION,
        className="control-section md-section",
        hidden=True,
        children=[
            html.H2("Variable and dimensions"),
            dcc.Dropdown(id=ids.MD_VARIABLE, className="control-dropdown md-variable", clearable=False,
                         searchable=False, placeholder="Variable…"),
            html.Div(id=ids.MD_UNITS, className="md-units"),
            html.Div(id=ids.MD_LEGEND, className="md-legend"),
            dcc.Store(id=ids.MD_LEGEND_KEY),
            html.Div(id=ids.MD_DIMENSIONS, className="md-dimensions"),
            html.Button("▶ Play", id=ids.MD_PLAY, className="time-play md-play", hidden=True,
                        title="Step through the time dimension"),
            dcc.Interval(id=ids.MD_TICK, interval=PLAY_MS, disabled=True),
            html.Div(id=ids.MD_ERROR, className="control-error", role="alert"),
            dcc.Store(id=ids.MD_INFO),
        ],
    )


def dimension_control(name: str, label: str, is_time: bool, value_labels: list[str], index: int) -> html.Div:
    """One dimension: a slider over its values for time (played by the Play button), a dropdown
    for a level (depth, height, pressure); the value picked is shown with its unit."""
    control_id = {"type": ids.MD_DIMENSION, "name": name}
    if is_time:
        last = len(value_labels) - 1
        slider = dcc.Slider(id=control_id, min=0, max=last, step=1, value=index, included=False,
                            marks={0: value_labels[0][:10], last: value_labels[last][:10]} if last else None)
        control = html.Div(className="time-slider", children=slider)
    else:
        control = dcc.Dropdown(id=control_id, className="control-dropdown", clearable=False, searchable=False,
                               options=[{"label": text, "value": i} for i, text in enumerate(value_labels)], value=index)
    return html.Div(className="md-dimension", children=[
        html.Div(className="md-dimension-head", children=[
            html.Span(label, className="control-label"),
            html.Span(id={"type": ids.MD_DIMENSION_LABEL, "name": name}, className="md-dimension-value"),
        ]),
        control,
    ])


def legend_view(entries: list[tuple[str, str]]) -> list[html.Div]:
    """The service's legend for the variable: each symbol (a data URI) with its label."""
    return [html.Div(className="md-legend-entry", children=[html.Img(src=src, alt=""), html.Span(label)])
            for src, label in entries]


def md_profiles_section() -> html.Section:
    """The clicked pixel of the chosen variable through time (at the chosen level) and through
    the levels (at the chosen time), with one CSV of both."""
    return html.Section(
        id=ids.MD_PROFILES,
        className="inspector-panel pixel-section md-profiles",
        hidden=True,
        children=[
            html.Div(className="pixel-section-head", children=[
                html.H3("Profiles through the dimensions"),
                html.Button("CSV", id=ids.MD_PROFILE_CSV, className="pixel-csv", title="Download both profiles as CSV"),
            ]),
            html.Div(id=ids.MD_PROFILE_STATUS, className="temporal-status", role="status"),
            html.Div(id=ids.MD_CHARTS),  # the two charts (components.pixelpanel.chart), from callbacks.multidim
            dcc.Store(id=ids.MD_PROFILE_DATA),
            dcc.Download(id=ids.MD_PROFILE_DOWNLOAD),
        ],
    )
