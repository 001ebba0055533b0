"""Swipe comparison (another rendering or other dates left of a draggable divider): layout only.

The compare layer draws in its own pane, which assets/swipe.js clips to the left of the divider
(and builds the divider); its params come from callbacks/swipe: the main layer's, with the
overrides chosen in this tab.
"""

from __future__ import annotations

import dash_leaflet as dl
from dash import dcc, html

from . import ids
from imageservice.dash import ImageMapLayerAIO

# Above the overlay pane (400), below shadows, markers and popups (500+).
SWIPE_Z_INDEX = 450
# Just below the overlay pane, so footprints and the pixel marker stay above the image.
MAIN_Z_INDEX = 399
NO_SWIPE = {"enabled": False, "left": "", "right": ""}
DATES_CHOICE = "Left side from other dates"


def swipe_panel() -> html.Div:
    return html.Div(
        className="inspector-panel swipe-panel",
        children=[
            dcc.Checklist(id=ids.SWIPE_ENABLED, className="swipe-enable",
                          options=[{"label": "Enable swipe", "value": "on"}], value=[]),
            html.P(className="swipe-help", children=(
                "The map's left side shows what you choose here, the right side the layer as the "
                "controls set it. Drag the divider on the map to compare.")),
            html.Div(className="swipe-field", children=[
                html.Label("Left side rendering", htmlFor=ids.SWIPE_RULE, className="swipe-label-text"),
                dcc.Dropdown(id=ids.SWIPE_RULE, className="swipe-rule", options=[], value=None,
                             placeholder="Same as the main layer", clearable=True),
            ]),
            html.Div(className="swipe-field", children=[
                dcc.Checklist(id=ids.SWIPE_DATES_ON, className="swipe-dates-on",
                              options=[{"label": DATES_CHOICE, "value": "on", "disabled": True}],
                              value=[]),
                html.Div(className="swipe-slider", children=dcc.RangeSlider(
                    id=ids.SWIPE_DATES, min=0, max=1, value=[0, 1], disabled=True, allowCross=False,
                    allow_direct_input=False)),
                html.Div(id=ids.SWIPE_DATES_LABEL, className="swipe-dates-label"),
            ]),
            html.Div(id=ids.SWIPE_STATUS, className="swipe-status", role="status"),
            dcc.Store(id=ids.SWIPE_STATE, data=NO_SWIPE),
            dcc.Store(id=ids.SWIPE_ERROR),
        ],
    )


def main_map_layer(params: dict) -> dl.Pane:
    """The main layer (opening with `params` when the service was read already) in its own pane:
    with swipe on, assets/swipe.js clips it right of the divider, so where the left side has no
    data the main layer does not show through."""
    options = {key: value for key, value in params.items() if key not in ("url", "pane")}
    return dl.Pane(name=ids.MAIN_PANE, style={"zIndex": MAIN_Z_INDEX}, children=[
        ImageMapLayerAIO(params.get("url"), aio_id=ids.MAIN_LAYER, pane=ids.MAIN_PANE, **options),
    ])


def swipe_map_layers() -> list:
    """The compare layer in its clipped pane, and a hook that hands the map to assets/swipe.js."""
    return [
        dl.Pane(name=ids.SWIPE_PANE, style={"zIndex": SWIPE_Z_INDEX}, children=[
            ImageMapLayerAIO(None, aio_id=ids.COMPARE_LAYER, pane=ids.SWIPE_PANE),
        ]),
        dl.LayerGroup(id=ids.SWIPE_HOOK, eventHandlers={"add": {"variable": "swipeCompare.attach"}}),
    ]
