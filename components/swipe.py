"""Swipe comparison (a second rendering under a draggable divider): layout only. Placeholder until #6 lands."""

from __future__ import annotations

from dash import html


def swipe_panel() -> html.Div:
    return html.Div(className="inspector-panel")


def swipe_map_layers() -> list:
    return []
