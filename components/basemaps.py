"""Basemaps the dashboard offers.

The default is none, so the first start works fully offline (the embedded sample service needs no
network); the tiled basemaps are there for users on a connected machine.
"""

from __future__ import annotations

import dash_leaflet as dl

BASEMAPS: dict[str, dict[str, str]] = {
    "none": {"label": "No basemap", "url": "", "attribution": ""},
    "osm": {
        "label": "OpenStreetMap",
        "url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "attribution": "&copy; OpenStreetMap contributors",
    },
    "imagery": {
        "label": "Esri World Imagery",
        "url": "https://server.arcgisonline.com/ArcGIS/rest/services/World_Imagery/MapServer/tile/{z}/{y}/{x}",
        "attribution": "Esri, Maxar, Earthstar Geographics",
    },
}
DEFAULT_BASEMAP = "none"


def basemap_options() -> list[dict[str, str]]:
    return [{"label": spec["label"], "value": key} for key, spec in BASEMAPS.items()]


def basemap_layers(key: str) -> list:
    """The tile layer for a basemap key; none at all for "none", so no tile is ever requested."""
    spec = BASEMAPS.get(key, BASEMAPS[DEFAULT_BASEMAP])
    if not spec["url"]:
        return []
    return [dl.TileLayer(url=spec["url"], attribution=spec["attribution"], maxZoom=19)]
