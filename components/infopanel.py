"""The service tab (metadata): layout only. Placeholder until #6 lands."""

from __future__ import annotations

from dash import html


def info_panel() -> html.Div:
    return html.Div(className="inspector-panel")
