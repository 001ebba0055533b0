"""Placeholder: the catalog tab's callbacks land with their issue."""

from __future__ import annotations

from dash import Dash


def register(app: Dash) -> None:
    """Nothing yet."""
