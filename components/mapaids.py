"""What a GIS analyst expects on the map besides the image: a scale bar, a button back to the
service's extent, and the legend of the current rendering (filled by callbacks/legend.py). The
cursor's coordinates, the basemap's tile errors and the first image's note are drawn in the
browser (assets/mapaids.js), with no round trip per mouse move."""

from __future__ import annotations

import dash_leaflet as dl
from dash import html

from . import ids

HOME_TITLE = "Zoom to the service's extent"


def map_aids() -> list:
    return [
        dl.ScaleControl(position="bottomleft", imperial=False),
        dl.EasyButton(id=ids.MAP_HOME, icon="&#8962;", title=HOME_TITLE, position="topleft"),  # ⌂, as HTML
        html.Div(id=ids.MAP_LEGEND, className="map-legend", hidden=True),
    ]
