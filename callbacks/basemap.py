"""Basemap switching: the tiles, and whether Front/Back means anything (the map's grid without a
basemap is drawn in the browser, assets/mapaids.js)."""

from __future__ import annotations

from dash import Dash, Input, Output, html

from components import ids
from components.basemaps import BASEMAPS, basemap_layers

NO_BASEMAP_REASON = "Front and Back place the image above or below the basemap: choose a basemap first."


def position_options(basemap: str | None) -> list[dict]:
    """Front/Back, disabled with the reason while there is no basemap to put the image behind."""
    none = not BASEMAPS.get(basemap or "", {}).get("url")
    title = NO_BASEMAP_REASON if none else "Draw the image above or below the basemap"
    return [{"label": html.Span(label, title=title), "value": value, "disabled": none}
            for label, value in (("Front", "front"), ("Back", "back"))]


def register(app: Dash) -> None:
    app.callback(Output(ids.BASEMAP, "children"), Input(ids.BASEMAP_CHOICE, "value"))(basemap_layers)
    app.callback(Output(ids.POSITION, "options"), Input(ids.BASEMAP_CHOICE, "value"))(position_options)
