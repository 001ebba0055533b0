"""The control panel beside the map: layout only (options and values come from callbacks/controls)."""

from __future__ import annotations

from dash import dcc, html

from imageservice.params import FORMATS, NO_DATA_INTERPRETATIONS

from . import ids
from .multidimpanel import multidim_section

MOSAIC_OPERATIONS = ("MT_FIRST", "MT_LAST", "MT_MIN", "MT_MAX", "MT_MEAN", "MT_BLEND", "MT_SUM")
PLAY_MS = 1500
# Only formats a browser can draw as the map image: tiff, bip, bsq and lerc are data downloads,
# and bmp has no transparency.
FORMAT_OPTIONS = [{"label": name, "value": name} for name in FORMATS
                  if name not in ("bmp", "tiff", "bip", "bsq", "lerc")]
# Common types first, with what the server does to the values: integer types truncate and clamp
# to their range; every type but U8 is then stretched to 0-255 for display. Complex types,
# U1/U2/U4 (drawn near black) and UNKNOWN (the service default) are left out.
PIXEL_TYPE_OPTIONS = [{"label": f"{name} — {what}", "value": name} for name, what in (
    ("U8", "8-bit, clamped to 0–255, drawn unstretched"),
    ("U16", "16-bit, clamped to 0–65535, stretched"),
    ("S16", "signed 16-bit, stretched"),
    ("U32", "32-bit, stretched"),
    ("S32", "signed 32-bit, stretched"),
    ("F32", "32-bit float, stretched"),
    ("F64", "64-bit float, stretched"),
    ("S8", "signed 8-bit, clamped to −128–127, stretched"),
)]


def _section(title: str, *children) -> html.Section:
    return html.Section(className="control-section", children=[html.H2(title), *children])


def _field(label: str, control, *, class_name: str = "control-field") -> html.Div:
    return html.Div(className=class_name, children=[html.Span(label, className="control-label"), control])


def _error(error_id: str) -> html.Div:
    return html.Div(id=error_id, className="control-error", role="alert")


def _dropdown(control_id: str, placeholder: str, options: list | tuple = (), **kwargs) -> dcc.Dropdown:
    return dcc.Dropdown(id=control_id, options=list(options), placeholder=placeholder, className="control-dropdown",
                        **kwargs)


def control_panel() -> html.Aside:
    """Every layer option the dashboard edits, grouped as the seed groups them."""
    return html.Aside(
        id=ids.CONTROLS,
        className="controls",
        children=[
            multidim_section(),
            _section(
                "Bands",
                _dropdown(ids.BAND_PRESET, "Band preset…", searchable=False),
                *(_field(channel, _dropdown(cid, "–", searchable=False))
                  for channel, cid in (("Red", ids.BAND_R), ("Green", ids.BAND_G), ("Blue", ids.BAND_B))),
                _field("Pixel type", _dropdown(ids.PIXEL_TYPE, "Service default", PIXEL_TYPE_OPTIONS)),
                _error(ids.BANDS_ERROR),
                html.Div(id=ids.BANDS_NOTE, className="control-note", role="status"),
            ),
            _section(
                "No data",
                dcc.Input(id=ids.NO_DATA, type="text", debounce=True, placeholder="e.g. 0, or 0,0,0 per band",
                          className="control-input"),
                dcc.RadioItems(
                    id=ids.NO_DATA_INTERPRETATION,
                    options=[{"label": name.removeprefix("esriNoData"), "value": name} for name in NO_DATA_INTERPRETATIONS],
                    inline=True,
                    className="control-radio",
                ),
                _error(ids.NO_DATA_ERROR),
            ),
            _section(
                "Rendering rule",
                _dropdown(ids.RENDERING_RULE, "Service default"),
                dcc.Textarea(id=ids.CUSTOM_RULE, className="control-textarea", rows=3, spellCheck=False,
                             placeholder='Custom rule as JSON, e.g. {"rasterFunction": "Stretch"}'),
                _error(ids.RULE_ERROR),
            ),
            _section(
                "Mosaic rule",
                _dropdown(ids.MOSAIC_METHOD, "Service default method"),
                html.Div(className="sort-row", children=[
                    _dropdown(ids.SORT_FIELD, "Sort field"),
                    dcc.Input(id=ids.SORT_VALUE, type="text", debounce=True, placeholder="Sort value",
                              className="control-input"),
                ]),
                dcc.RadioItems(id=ids.SORT_ASCENDING, value=True, inline=True, className="control-radio",
                               options=[{"label": "Ascending", "value": True}, {"label": "Descending", "value": False}]),
                _dropdown(ids.MOSAIC_OPERATION, "Service default operation", MOSAIC_OPERATIONS),
                _error(ids.MOSAIC_ERROR),
            ),
            _section(
                "Time",
                html.Div(className="time-slider", children=dcc.RangeSlider(
                    id=ids.TIME_RANGE, min=0, max=1, disabled=True, allowCross=False, allow_direct_input=False)),
                html.Div(className="time-row", children=[
                    html.Button("▶ Play", id=ids.TIME_PLAY, className="time-play"),
                    html.Span(id=ids.TIME_LABEL, className="time-label"),
                ]),
                dcc.Interval(id=ids.TIME_TICK, interval=PLAY_MS, disabled=True),
                dcc.Store(id=ids.TIME_SETTLED),
                dcc.Store(id=ids.TIME_PLAY_EXTENT),
                _error(ids.TIME_ERROR),
            ),
            _section(
                "Display",
                _field("Opacity", dcc.Slider(id=ids.OPACITY, min=0, max=1, step=0.05, value=1,
                                             marks={0: "0", 0.5: "0.5", 1: "1"}, allow_direct_input=False)),
                _field("Position", dcc.RadioItems(id=ids.POSITION, value="front", inline=True, className="control-radio",
                                                  options=[{"label": "Front", "value": "front"},
                                                           {"label": "Back", "value": "back"}])),
                _field("Format", _dropdown(ids.IMAGE_FORMAT, "jpgpng", FORMAT_OPTIONS, value="jpgpng",
                                           clearable=False)),
                _error(ids.DISPLAY_ERROR),
            ),
            _section(
                "Layer events",
                html.Div(id=ids.LAYER_COUNTS, className="event-counts"),
                html.Ol(id=ids.EVENTS_LOG, className="events-log", reversed=True),
            ),
        ],
    )
