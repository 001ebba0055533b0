"""Basemap switching."""

from __future__ import annotations

from dash import Dash, Input, Output

from components import ids
from components.basemaps import basemap_layers


def register(app: Dash) -> None:
    app.callback(Output(ids.BASEMAP, "children"), Input(ids.BASEMAP_CHOICE, "value"))(basemap_layers)
