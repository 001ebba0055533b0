"""Opening a service: its URL → metadata → the layer's parameters, the map's extent, a status line."""

from __future__ import annotations

from urllib.parse import urljoin

import flask
from dash import Dash, Input, Output, State, no_update

from components import ids
from components.imagemaplayer import ImageMapLayer
from imageservice.client import ImageServiceClient
from imageservice.errors import ImageServiceError
from imageservice.metadata import ServiceInfo, parse_service_info
from imageservice.params import LayerParams


def absolute_url(url: str) -> str:
    """A relative service URL (the embedded server's default) resolved against this app's origin."""
    url = (url or "").strip()
    return urljoin(flask.request.host_url, url) if url.startswith("/") else url


def default_params(url: str, info: ServiceInfo) -> LayerParams:
    """What a new service opens with: its first raster function template when it has one
    (a stretched, coloured picture rather than raw values), else the raw bands."""
    templates = [name for name in info.raster_functions if name != "None"]
    rule = {"rasterFunction": templates[0]} if templates else None
    return LayerParams(url=url, rendering_rule=rule)


def describe(info: ServiceInfo) -> str:
    bands = ", ".join(info.band_names)
    text = f"{info.name}: {info.band_count} band{'s' if info.band_count != 1 else ''} ({bands}), {info.pixel_type}"
    return text + (", time-aware" if info.is_time_aware else "")


def open_service(url: str) -> tuple[str, str, dict | object, dict | object]:
    """(status text, status class, layer params, map viewport) for a service URL, errors in plain words."""
    try:
        client = ImageServiceClient(absolute_url(url), timeout=20)
        info = parse_service_info(client.metadata())
        params = default_params(client.base_url, info)
    except ImageServiceError as error:
        return f"Could not open the service: {error}", "service-status error", no_update, no_update
    viewport = no_update
    if info.extent_latlng:
        south, west, north, east = info.extent_latlng
        viewport = {"bounds": [[south, west], [north, east]], "transition": "fitBounds"}
    return describe(info), "service-status", params.to_dict(), viewport


def register(app: Dash) -> None:
    app.callback(
        Output(ids.SERVICE_STATUS, "children"),
        Output(ids.SERVICE_STATUS, "className"),
        Output(ImageMapLayer.ids.params(ids.MAIN_LAYER), "data"),
        Output(ids.MAP, "viewport"),
        Input(ids.SERVICE_URL, "value"),
    )(open_service)
