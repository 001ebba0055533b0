"""The dashboard's page: layout only, no logic."""

from __future__ import annotations

import dash_leaflet as dl
from dash import dcc, html

from . import ids
from .authpanel import auth_panel
from .basemaps import basemap_layers, basemap_options
from .catalogpanel import catalog_map_layers, catalog_panel
from .controls import control_panel
from .histogrampanel import histogram_panel
from .infopanel import info_panel
from .mapaids import map_aids
from .multidimpanel import md_profiles_section
from .pixelpanel import pixel_map_layers, pixel_panel
from .swipe import main_map_layer, swipe_map_layers, swipe_panel


# On screen until the service answers: a cold start reads the data for the first time.
TITLE = "ArcGIS Image Service Explorer"
OPENING = "Opening the service… the first image can take a few seconds while the server reads the data."


def build_layout(*, service_url: str, basemap: str, opened: tuple[dict, list] | None = None) -> html.Div:
    """The page for one service URL and basemap (both come from the command line or environment).
    `opened`, (layer params, map bounds) of the service already read, lets the map open at its
    extent with the layer drawing at once (callbacks.service.first_view)."""
    params, bounds = opened or ({}, None)
    view = {"bounds": bounds} if bounds else {"center": [38.55, -121.75], "zoom": 10}
    return html.Div(
        className="page",
        children=[
            html.Header(
                className="topbar",
                children=[
                    html.H1(TITLE),
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
                    auth_panel(),
                ],
            ),
            html.Div(id=ids.SERVICE_STATUS, className="service-status", role="status", children=OPENING),
            html.Div(
                className="workspace",
                children=[
                    control_panel(),
                    dl.Map(
                        id=ids.MAP,
                        className="map",
                        **view,
                        # No center/zoom/bounds props written back on every move: nothing reads
                        # them, and each write costs the renderer tens of ms while the image loads.
                        trackViewport=False,
                        children=[
                            dl.LayerGroup(id=ids.BASEMAP, children=basemap_layers(basemap)),
                            *swipe_map_layers(),
                            main_map_layer(params),
                            *catalog_map_layers(),
                            *pixel_map_layers(),
                            *map_aids(),
                        ],
                    ),
                    inspector(),
                ],
            ),
            dcc.Location(id=ids.LOCATION, refresh=False),
            dcc.Store(id=ids.RESTORED),
            dcc.Store(id=ids.SERVICE_INFO),
            dcc.Store(id=ids.IMAGE_ERROR),
            html.Div(id=ids.URL_QUERY, hidden=True),
        ],
    )


def inspector() -> html.Aside:
    """The tools right of the map, one tab each."""
    tabs = [("pixel", "Pixel", [pixel_panel(), md_profiles_section()]), ("catalog", "Catalog", catalog_panel()),
            ("histogram", "Histogram", histogram_panel()), ("compare", "Compare", swipe_panel()),
            ("info", "Service", info_panel())]
    return html.Aside(
        id=ids.INSPECTOR,
        className="inspector",
        children=dcc.Tabs(
            id=ids.INSPECTOR_TABS,
            value="pixel",
            className="inspector-tabs",
            children=[dcc.Tab(label=label, value=value, className="inspector-tab",
                              selected_className="inspector-tab--selected", children=content)
                      for value, label, content in tabs],
        ),
    )
