"""The dashboard's page: layout only, no logic."""

from __future__ import annotations

import dash_leaflet as dl
from dash import dcc, html

from . import ids
from .basemaps import basemap_layers, basemap_options
from .controls import control_panel
from .imagemaplayer import ImageMapLayer


def build_layout(*, service_url: str, basemap: str) -> html.Div:
    """The page for one service URL and basemap (both come from the command line or environment)."""
    return html.Div(
        className="page",
        children=[
            html.Header(
                className="topbar",
                children=[
                    html.H1("ArcGIS Image Service Explorer"),
                    dcc.Input(
                        id=ids.SERVICE_URL,
                        className="service-url",
                        type="text",
                        value=service_url,
                        debounce=True,
                        placeholder="https://host/arcgis/rest/services/Name/ImageServer",
                        spellCheck=False,
                    ),
                    dcc.Dropdown(
                        id=ids.BASEMAP_CHOICE,
                        className="basemap-choice",
                        options=basemap_options(),
                        value=basemap,
                        clearable=False,
                    ),
                ],
            ),
            html.Div(id=ids.SERVICE_STATUS, className="service-status", role="status"),
            html.Div(
                className="workspace",
                children=[
                    control_panel(),
                    dl.Map(
                        id=ids.MAP,
                        className="map",
                        center=[38.55, -121.75],
                        zoom=10,
                        children=[
                            dl.LayerGroup(id=ids.BASEMAP, children=basemap_layers(basemap)),
                            ImageMapLayer(None, aio_id=ids.MAIN_LAYER),
                        ],
                    ),
                ],
            ),
            dcc.Location(id=ids.LOCATION, refresh=False),
            dcc.Store(id=ids.RESTORED),
            dcc.Store(id=ids.SERVICE_INFO),
            html.Div(id=ids.URL_QUERY, hidden=True),
        ],
    )
