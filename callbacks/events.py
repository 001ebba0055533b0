"""The layer's events (the seed's loading, load, error and request events), shown as they happen."""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urlparse

from dash import Dash, Input, Output, html

from components import ids
from components.imagemaplayer import ImageMapLayer

SHOWN = 12


def event_line(event: dict) -> str:
    """One event in a line: time, type, and the message or the request path."""
    when = datetime.fromtimestamp(event["time"] / 1000, tz=timezone.utc).strftime("%H:%M:%S")
    detail = event.get("message") or ("stale image dropped" if event.get("stale") else "")
    if not detail and event.get("url"):
        detail = urlparse(event["url"]).path.rsplit("/", 1)[-1]
    return f"{when} {event['type']}" + (f": {detail}" if detail else "")


def event_list(events: list[dict] | None) -> list:
    """The newest events first, as list items."""
    return [html.Li(event_line(event), className=f"event-{event['type']}") for event in reversed((events or [])[-SHOWN:])]


def counts_text(state: dict | None) -> str:
    counts = (state or {}).get("counts") or {}
    status = "loading…" if (state or {}).get("loading") else "idle"
    return f"{status} · {counts.get('loading', 0)} requested · {counts.get('load', 0)} loaded · {counts.get('error', 0)} failed"


def register(app: Dash) -> None:
    app.callback(Output(ids.EVENTS_LOG, "children"), Input(ImageMapLayer.ids.events(ids.MAIN_LAYER), "data"))(event_list)
    app.callback(Output(ids.LAYER_COUNTS, "children"), Input(ImageMapLayer.ids.state(ids.MAIN_LAYER), "data"))(counts_text)
