"""The histogram tab (computeHistograms of the view): layout only. Placeholder until #6 lands."""

from __future__ import annotations

from dash import html


def histogram_panel() -> html.Div:
    return html.Div(className="inspector-panel")
