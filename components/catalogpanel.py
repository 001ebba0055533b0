"""The catalog tab (query footprints and scene picking): layout only. Placeholder until #6 lands."""

from __future__ import annotations

from dash import html


def catalog_panel() -> html.Div:
    return html.Div(className="inspector-panel")


def catalog_map_layers() -> list:
    return []
