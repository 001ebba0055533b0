"""Opening a service: its URL → metadata → the layer's parameters, the map's extent, a status line,
and what the controls offer (with the catalog's acquisition dates). A secured service that refuses
(498/499) asks for a sign-in instead; a service the resource proxy forwards to is opened through it."""

from __future__ import annotations

from urllib.parse import urljoin

import flask
from dash import Dash, Input, Output, State, no_update

from callbacks.auth import auth_code, sign_in_status, token_for
from callbacks.control_options import date_field, service_options
from callbacks.urlstate import checked_link, link_warning
from components import ids
from components.authpanel import CLOSED_PROMPT
from imageservice.dash import ImageMapLayerAIO, current_policy, server_session
from imageservice.client import METADATA_MAX_AGE, ImageServiceClient
from imageservice.errors import AuthenticationRequired, ImageServiceError
from imageservice import ImageMapLayer
from imageservice.metadata import ServiceInfo, parse_service_info
from imageservice.params import LayerParams
from imageservice.proxy import ProxyConfig
from imageservice.proxy.errors import Refused
from imageservice.proxy.targets import parse_location


def absolute_url(url: str) -> str:
    """A relative service URL (the embedded server's default) resolved against this app's origin."""
    url = (url or "").strip()
    return urljoin(flask.request.host_url, url) if url.startswith("/") else url


def default_params(url: str, options: dict | None = None) -> LayerParams:
    """What a new service opens with: no rendering rule, so the server applies the publisher's
    default (as esri-leaflet and the ArcGIS JS SDK do), then the operator's layer options
    (command line or environment)."""
    return LayerParams.from_dict({"url": url, **(options or {})})


def with_link(params: dict, linked: dict | None) -> dict:
    """A page link's params over the defaults: what the link sets wins, what it leaves out opens
    as a typed URL would, so `/?service=URL` and typing URL open the service the same way."""
    if not linked:
        return params
    blank = LayerParams(url=linked["url"]).to_dict()
    return {**params, **{key: value for key, value in linked.items() if key != "url" and value != blank.get(key)}}


def service_name(url: str) -> str:
    """A service's name from its URL (.../services/Folder/Name/ImageServer -> Folder/Name)."""
    path = url.split("?", 1)[0].rstrip("/").removesuffix("/ImageServer")
    return path.split("/services/", 1)[-1]


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
        features = ImageMapLayer(client.base_url, client=client).query().fields(field).return_geometry(False).run()
    except ImageServiceError:
        return []
    return [f["attributes"][field] for f in features.get("features", []) if f["attributes"].get(field) is not None]


def proxy_for(config: ProxyConfig | None, service_url: str, proxy_url: str) -> str | None:
    """`proxy_url` when the app's resource proxy forwards to this service (its allow-list names
    it), else None: the layer and the dashboard's own requests then go through the proxy, which
    adds the operator's token on the server."""
    if config is None:
        return None
    try:
        allowed = config.entry_for(parse_location(service_url.split("?", 1)[0]), "GET") is not None
    except Refused:
        return None
    return proxy_url if allowed else None


def open_service(url: str, restored: dict | None, options: dict | None = None, session: dict | None = None,
                 prompt: dict | None = None, proxy: str | None = None, previous: dict | None = None,
                 *, with_options: bool = True) -> tuple:
    """(status text, status class, layer params, map viewport, control options, sign-in prompt)
    for a service URL, errors in plain words. A page link's params and view (`restored`, see
    urlstate) win over the defaults when they are for this service. The session's token is used
    when it is for this service's server; `proxy` routes every request through the resource
    proxy. A 498/499 asks for a sign-in, after which this runs again (callbacks/auth).
    `with_options=False` leaves out the control options, and with them the catalog query for
    acquisition dates (no_update in their place)."""
    prompt = prompt or CLOSED_PROMPT
    service_url = absolute_url(url)
    try:
        client = ImageServiceClient(service_url, token=token_for(session, service_url), proxy=proxy, timeout=20,
                                    policy=current_policy(), session=server_session(proxy))
        info = parse_service_info(client.metadata(METADATA_MAX_AGE))
        params = default_params(client.base_url, options).to_dict()
    except AuthenticationRequired as error:
        asked = {**prompt, "open": True, "code": error.code, "pending": "open", "url": client.base_url}
        return sign_in_status(error.code), "service-status error", no_update, no_update, no_update, asked
    except ImageServiceError as error:
        text = f"Could not open the service: {error}"
        if previous and previous.get("url") and previous["url"] != service_url:
            text += f" The map and controls still show the previous service, {service_name(previous['url'])}."
        return text, "service-status error", no_update, no_update, no_update, no_update
    viewport = no_update
    if info.extent_latlng:
        south, west, north, east = info.extent_latlng
        viewport = {"bounds": [[south, west], [north, east]], "transition": "fitBounds"}
    warning = ""
    if restored and absolute_url(restored["url"]) == service_url:
        if restored["params"]:
            linked, problems = checked_link(restored["params"], info.band_count, params)
            params, warning = with_link(params, linked), link_warning(problems)
        viewport = {**restored["view"], "transition": "setView"} if restored["view"] else viewport
    params = LayerParams.from_dict(params).replace(token=client.token, proxy=proxy).to_dict()
    options = service_options(info, acquisition_dates(client, info)) if with_options else no_update
    asking = prompt.get("open") or prompt.get("pending")
    answered = {**prompt, "open": False, "pending": None, "url": None} if asking else no_update
    if warning:
        return f"{describe(info)}. {warning}", "service-status warning", params, viewport, options, answered
    return describe(info), "service-status", params, viewport, options, answered


# The layer's state store changes on every pan; this passes on only what changes the status line:
# a new image error, or the first image shown after one, so that a pan costs no server callback.
ERROR_CHANGE = """function (state, last) {
    const skip = window.dash_clientside.no_update;
    if (!state) { return skip; }
    const failed = Boolean(last && last.error);
    if (state.error) {
        return failed && last.seq === state.seq ? skip : {error: state.error, seq: state.seq};
    }
    return failed && !state.loading && state.url ? {error: null, seq: state.seq} : skip;
}"""


def service_description(params: dict | None) -> str | None:
    """The open service's status line, read again from its metadata: after an image error the
    status line goes back to it. None when there is no service or it cannot be read now."""
    if not params or not params.get("url"):
        return None
    proxy = params.get("proxy")
    try:
        client = ImageServiceClient(params["url"], token=params.get("token"), proxy=proxy, timeout=20,
                                    policy=current_policy(), session=server_session(proxy))
        return describe(parse_service_info(client.metadata(METADATA_MAX_AGE)))
    except ImageServiceError:
        return None


def image_status(state: dict | None, params: dict | None = None) -> tuple[str, str] | tuple[object, object]:
    """The server's words when the layer's image fails (e.g. an ArcGIS error body); the service's
    description again once a newer image shows after an error; else unchanged."""
    if not state:
        return no_update, no_update
    if not state.get("error"):
        text = service_description(params)
        return (text, "service-status") if text else (no_update, no_update)
    code = auth_code(state["error"])
    text = sign_in_status(code) if code else f"The image could not be drawn: {state['error']}"
    return text, "service-status error"


def proxy_here(app: Dash, proxy_config: ProxyConfig | None, url: str) -> str | None:
    """proxy_for with the app's own proxy address as browsers reach it: the configured public
    URL, else this request's origin."""
    public = proxy_config.public_url if proxy_config is not None else None
    own_proxy = (public.rstrip("/") + "/proxy" if public
                 else urljoin(flask.request.host_url, app.config.requests_pathname_prefix + "proxy"))
    return proxy_for(proxy_config, absolute_url(url), own_proxy)


def first_view(app: Dash, url: str, layer_options: dict | None = None,
               proxy_config: ProxyConfig | None = None) -> tuple[dict, list] | None:
    """(layer params, map bounds) the page can open with, so that the browser asks for the first
    image straight from the layout instead of after the opening callbacks' round trips; None when
    the service cannot be opened so (it fails, or asks for a sign-in): the callbacks then do it.
    Only the root metadata is read (cached): the controls' options, with the catalog's dates, are
    the opening callback's."""
    _, _, params, viewport, _, _ = open_service(url, None, layer_options, proxy=proxy_here(app, proxy_config, url),
                                                with_options=False)
    if params is no_update or not isinstance(viewport, dict):
        return None
    return params, viewport["bounds"]


def register(app: Dash, layer_options: dict | None = None, proxy_config: ProxyConfig | None = None) -> None:
    def open_here(url: str, _retry: int, restored: dict | None, session: dict | None, prompt: dict | None,
                  previous: dict | None) -> tuple:
        return open_service(url, restored, layer_options, session, prompt, proxy_here(app, proxy_config, url),
                            previous)

    app.callback(
        Output(ids.SERVICE_STATUS, "children"),
        Output(ids.SERVICE_STATUS, "className"),
        Output(ImageMapLayerAIO.ids.params(ids.MAIN_LAYER), "data"),
        Output(ids.MAP, "viewport"),
        Output(ids.SERVICE_INFO, "data"),
        Output(ids.AUTH_PROMPT, "data"),
        Input(ids.SERVICE_URL, "value"),
        Input(ids.AUTH_RETRY, "data"),
        State(ids.RESTORED, "data"),
        State(ids.AUTH_SESSION, "data"),
        State(ids.AUTH_PROMPT, "data"),
        State(ImageMapLayerAIO.ids.params(ids.MAIN_LAYER), "data"),
    )(open_here)
    # The state store changes on every pan: only a new error, or its clearing, goes on to the server.
    app.clientside_callback(
        ERROR_CHANGE,
        Output(ids.IMAGE_ERROR, "data"),
        Input(ImageMapLayerAIO.ids.state(ids.MAIN_LAYER), "data"),
        State(ids.IMAGE_ERROR, "data"),
        prevent_initial_call=True,
    )
    app.callback(
        Output(ids.SERVICE_STATUS, "children", allow_duplicate=True),
        Output(ids.SERVICE_STATUS, "className", allow_duplicate=True),
        Input(ids.IMAGE_ERROR, "data"),
        State(ImageMapLayerAIO.ids.params(ids.MAIN_LAYER), "data"),
        prevent_initial_call=True,
    )(image_status)
