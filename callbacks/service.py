"""Opening a service: its URL → metadata → the layer's parameters, the map's extent, a status line,
and what the controls offer (with the catalog's acquisition dates)."""

from __future__ import annotations

from urllib.parse import urljoin

import flask
from dash import Dash, Input, Output, State, no_update

from callbacks.controls import date_field, service_options
from components import ids
from components.imagemaplayer import ImageMapLayer
from imageservice.client import ImageServiceClient
from imageservice.layer import ImageMapLayer as Layer
from imageservice.errors import ImageServiceError
from imageservice.metadata import ServiceInfo, parse_service_info
from imageservice.params import LayerParams


def absolute_url(url: str) -> str:
    """A relative service URL (the embedded server's default) resolved against this app's origin."""
    url = (url or "").strip()
    return urljoin(flask.request.host_url, url) if url.startswith("/") else url


def default_params(url: str, info: ServiceInfo, options: dict | None = None) -> LayerParams:
    """What a new service opens with: its first raster function template when it has one
    (a stretched, coloured picture rather than raw values), else the raw bands; then the
    operator's layer options (command line or environment), which win. Chosen bands replace the
    template, whose own band choice would conflict with them."""
    options = options or {}
    templates = [name for name in info.raster_functions if name != "None"]
    rule = {"rasterFunction": templates[0]} if templates and "band_ids" not in options else None
    return LayerParams.from_dict({"url": url, "rendering_rule": rule, **options})


def describe(info: ServiceInfo) -> str:
    bands = ", ".join(info.band_names)
    text = f"{info.name}: {info.band_count} band{'s' if info.band_count != 1 else ''} ({bands}), {info.pixel_type}"
    return text + (", time-aware" if info.is_time_aware else "")


def acquisition_dates(client: ImageServiceClient, info: ServiceInfo) -> list[int]:
    """The catalog's acquisition dates (epoch ms) for the time slider's marks; [] when the
    service has no catalog or date field, or the query fails (the slider then moves freely)."""
    field = date_field(info)
    if not info.is_time_aware or field is None or "Catalog" not in info.capabilities:
        return []
    try:
        features = Layer(client.base_url, client=client).query().fields(field).return_geometry(False).run()
    except ImageServiceError:
        return []
    return [f["attributes"][field] for f in features.get("features", []) if f["attributes"].get(field) is not None]


def open_service(url: str, restored: dict | None, options: dict | None = None) -> tuple:
    """(status text, status class, layer params, map viewport, control options) for a service
    URL, errors in plain words. A page link's params and view (`restored`, see urlstate) win
    over the defaults when they are for this service."""
    try:
        client = ImageServiceClient(absolute_url(url), timeout=20)
        info = parse_service_info(client.metadata())
        params = default_params(client.base_url, info, options).to_dict()
    except ImageServiceError as error:
        return f"Could not open the service: {error}", "service-status error", no_update, no_update, no_update
    viewport = no_update
    if info.extent_latlng:
        south, west, north, east = info.extent_latlng
        viewport = {"bounds": [[south, west], [north, east]], "transition": "fitBounds"}
    if restored and absolute_url(restored["url"]) == absolute_url(url):
        params = restored["params"] or params
        viewport = {**restored["view"], "transition": "setView"} if restored["view"] else viewport
    options = service_options(info, acquisition_dates(client, info))
    return describe(info), "service-status", params, viewport, options


def image_status(state: dict | None) -> tuple[str, str] | tuple[object, object]:
    """The server's words when the layer's image fails (e.g. an ArcGIS error body); else unchanged."""
    if not state or not state.get("error"):
        return no_update, no_update
    return f"The image could not be drawn: {state['error']}", "service-status error"


def register(app: Dash, layer_options: dict | None = None) -> None:
    app.callback(
        Output(ids.SERVICE_STATUS, "children"),
        Output(ids.SERVICE_STATUS, "className"),
        Output(ImageMapLayer.ids.params(ids.MAIN_LAYER), "data"),
        Output(ids.MAP, "viewport"),
        Output(ids.SERVICE_INFO, "data"),
        Input(ids.SERVICE_URL, "value"),
        State(ids.RESTORED, "data"),
    )(lambda url, restored: open_service(url, restored, layer_options))
    app.callback(
        Output(ids.SERVICE_STATUS, "children", allow_duplicate=True),
        Output(ids.SERVICE_STATUS, "className", allow_duplicate=True),
        Input(ImageMapLayer.ids.state(ids.MAIN_LAYER), "data"),
        prevent_initial_call=True,
    )(image_status)
