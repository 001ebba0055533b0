"""The index page's first view: the page's frame and the service's first image, in plain HTML.

Dash draws nothing until its scripts (several MB) have run and the layout has come back; the
shell drawn here, with the same classes as the layout, shows the frame at once, and firstview.js
asks for the first exportImage for the view the map will open at, then loads Dash's scripts. The
layer asks for the same URL when it draws, so the picture is not fetched twice (bench/RESULTS.md,
"first image").
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from imageservice.dash.imagemaplayer import display_for, template_for

from .layout import OPENING, TITLE

SCRIPT = (Path(__file__).with_name("firstview.js")).read_text(encoding="utf-8")
# How long the shell waits, once the map is up, for the layer to show the picture it shows; and
# at most in all, should Dash never draw the page.
HOLD_MS, TIMEOUT_MS = 2000, 15000
# At most this long after the shell's image is asked for, Dash's scripts are fetched even if the
# picture is not in yet (a slow service): the page's controls come at most this much later.
SCRIPTS_AFTER_MS = 600


def first_view_html(params: dict, bounds: list, dash_scripts: str) -> str:
    """The shell and its script for a layer opening with `params` at the map bounds `bounds`
    (callbacks.service.first_view), which loads `dash_scripts` (the index page's script tags) once
    the first picture is on screen; "" when the layer would draw nothing."""
    template = template_for(params, display_for())  # the main layer's (components.swipe.main_map_layer)
    if not template["url"] or template["f"] != "image":
        return ""
    config = {"url": template["url"], "crossOrigin": template["crossOrigin"], "opacity": template["opacity"],
              "bounds": bounds, "holdMs": HOLD_MS, "timeoutMs": TIMEOUT_MS, "scriptsAfterMs": SCRIPTS_AFTER_MS}
    # "</" cannot end the script element early inside the JSON.
    script = SCRIPT.replace("__CONFIG__", json.dumps(config).replace("</", "<\\/"))
    return (
        '<div class="page first-view" aria-hidden="true">'
        f'<header class="topbar"><h1>{html.escape(TITLE)}</h1></header>'
        f'<div class="service-status">{html.escape(OPENING)}</div>'
        '<div class="workspace"><div class="controls"></div><div class="map"></div>'
        '<aside class="inspector"></aside></div></div>'
        # Inert until firstview.js copies them out (and still in the page for Dash's index check).
        f"<template>{dash_scripts}</template>"
        f"<script>{script}</script>"
    )
