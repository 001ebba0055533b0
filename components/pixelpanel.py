"""The pixel inspector (identify on map click): layout only. Placeholder until #5 lands."""

from __future__ import annotations

from dash import html


def pixel_panel() -> html.Div:
    return html.Div(className="inspector-panel", children="Click the map to see the pixel values.")


def pixel_map_layers() -> list:
    return []
