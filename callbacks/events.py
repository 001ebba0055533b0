"""The layer's events (the seed's loading, load, error and request events), shown as they happen.

Both displays are drawn in the browser (assets/events.js): the stores change on every pan.
"""

from __future__ import annotations

from dash import ClientsideFunction, Dash, Input, Output

from components import ids
from imageservice.dash import ImageMapLayerAIO


def register(app: Dash) -> None:
    app.clientside_callback(ClientsideFunction(namespace="layerEvents", function_name="list"),
                            Output(ids.EVENTS_LOG, "children"), Input(ImageMapLayerAIO.ids.events(ids.MAIN_LAYER), "data"))
    app.clientside_callback(ClientsideFunction(namespace="layerEvents", function_name="countsText"),
                            Output(ids.LAYER_COUNTS, "children"), Input(ImageMapLayerAIO.ids.state(ids.MAIN_LAYER), "data"))
