"""ImageMapLayerAIO: esri-leaflet's L.esri.imageMapLayer as a reusable Dash component (All-in-One).

Put it inside any dash-leaflet Map and register its callbacks once:

    dl.Map(children=[ImageMapLayerAIO("https://host/arcgis/rest/services/X/ImageServer", aio_id="x",
                                      band_ids=[3, 2, 1], opacity=0.8)])
    register(app)

Its options live in `ImageMapLayerAIO.ids.params(aio_id)` (a dcc.Store holding LayerParams as JSON);
any callback that writes that store redraws the layer (see `edit`). The server turns the params
into an exportImage URL template once; the browser (imagemaplayer.js, shipped beside this module
and served by Dash from the package, see imageservice/__init__.py) fills in the view on every pan
and zoom and swaps a double buffer, so moving the map needs no round trip.

`bind_popup(fn)` identifies the clicked pixel on the server and shows what `fn` returns in a
popup; the service's copyrightText (or the `attribution` option) goes to the map's attribution.

A hosted app passes a fetch policy to `register(app, fetch_policy=...)`: it is kept in the Flask
app's config, and every layer `edit` builds inside that app (in any callback of it, and in its
background jobs run through `with_policy`) checks its requests against it. One app, one policy,
no module-level state: several apps in one process each keep their own.
"""

from __future__ import annotations

import html
import json
import logging
import uuid
import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import dash_leaflet as dl
import flask
import requests
from dash import MATCH, ClientsideFunction, Dash, Input, Output, State, ctx, dcc, no_update

from imageservice.client import METADATA_MAX_AGE
from imageservice.errors import ImageServiceError, ParameterError
from imageservice.fetchpolicy import FetchPolicy
from imageservice.geojson import identify_to_geojson
from imageservice.layer import ImageMapLayer
from imageservice.params import LayerParams
from imageservice.urls import export_url_template

# fn(error, results, response) -> Dash children, or False/None for no popup.
PopupFunction = Callable[[Any, dict, dict], Any]
# The popup functions by aio_id (JSON): Python functions cannot travel to the browser, so the
# component keeps only {"bound", "options"} and the callbacks look the function up here.
_POPUPS: dict[str, PopupFunction] = {}
log = logging.getLogger(__name__)
# The Flask config key under which `register` keeps the app's fetch policy.
FETCH_POLICY = "IMAGESERVICE_FETCH_POLICY"
# Where imageservice.proxy.install keeps the app's own resource proxy (Flask's `extensions`).
LOCAL_PROXY = "imageservice.proxy"

# A transparent 1x1 GIF: the buffers need an image to be added to the map before the first view.
BLANK = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"
NOWHERE = [[0, 0], [1e-9, 1e-9]]
FRONT_Z, BACK_Z = 200, 100
# The state store before the browser has drawn anything (imagemaplayer.js keeps its shape).
INITIAL_STATE = {"loading": False, "url": None, "error": None, "counts": {"loading": 0, "load": 0, "error": 0}, "seq": 0}
# A clientside callback from the state store (it changes on every pan) to a store of the image's
# errors, {error, seq}: a server callback listening to that one runs only when an image fails.
NEW_ERROR = """function (state) {
    const error = state && state.error;
    return error ? {error: error, seq: state.seq} : window.dash_clientside.no_update;
}"""


def _id(subcomponent: str, aio_id: Any) -> dict:
    return {"component": "ImageMapLayer", "subcomponent": subcomponent, "aio_id": id_value(aio_id)}


def id_value(aio_id: Any) -> Any:
    """The aio_id as a Dash id value. Dash ids hold only strings, numbers and booleans, so a dict
    or list aio_id (handy for pattern-matching apps) becomes its JSON with sorted keys: one
    stable string per layer, the same in every process and in the browser."""
    if isinstance(aio_id, (dict, list, tuple)):
        return json.dumps(aio_id, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return aio_id


class _Ids:
    """Pattern-matching ids of one layer's parts; pass MATCH or ALL as aio_id in callbacks."""

    @staticmethod
    def params(aio_id: Any) -> dict:
        """dcc.Store: the layer's LayerParams as JSON. Write it to change the layer."""
        return _id("params", aio_id)

    @staticmethod
    def template(aio_id: Any) -> dict:
        """dcc.Store: the exportImage URL template and display options, derived from params."""
        return _id("template", aio_id)

    @staticmethod
    def view(aio_id: Any) -> dict:
        """dcc.Store: the map view the layer last drew for ({bbox, size, bounds, zoom, width, height})."""
        return _id("view", aio_id)

    @staticmethod
    def state(aio_id: Any) -> dict:
        """dcc.Store: {loading, url, error, counts, seq}: the image shown, the loading flag, the last error."""
        return _id("state", aio_id)

    @staticmethod
    def click(aio_id: Any) -> dict:
        """dcc.Store: the last map click, {lat, lng, time}, written 300 ms after it when no
        double-click (a zoom) followed, as esri-leaflet's popup does. Listen to it for identify."""
        return _id("click", aio_id)

    @staticmethod
    def events(aio_id: Any) -> dict:
        """dcc.Store: the last events (loading, load, error, request*) as [{type, time, ...}]."""
        return _id("events", aio_id)

    @staticmethod
    def popup(aio_id: Any) -> dict:
        """dcc.Store: {bound, options}. Write {"bound": False} to unbind the popup at runtime and
        {"bound": True, ...} to bind it again (the function given to bind_popup is kept)."""
        return _id("popup", aio_id)

    @staticmethod
    def identify(aio_id: Any) -> dict:
        """dcc.Store: the popup's last identify, {time, lat, lng, content, error}; `error` is the
        identify failure's message (the popup stays closed then, as in esri-leaflet)."""
        return _id("identify", aio_id)

    @staticmethod
    def attribution(aio_id: Any) -> dict:
        """dcc.Store: {option, source, text}: `text` is what the map's attribution shows for the
        layer (the `attribution` option, else the service's copyrightText)."""
        return _id("attribution", aio_id)


def cross_origin(use_cors: bool, with_credentials: bool) -> str | None:
    """The images' crossOrigin, as esri-leaflet's RasterLayer sets it: credentials win over useCors."""
    return "use-credentials" if with_credentials else "anonymous" if use_cors else None


def display_for(*, crs: str = "EPSG:3857", min_zoom: float | None = None, max_zoom: float | None = None,
                z_index: int | None = None) -> dict:
    """The display options of a layer (the component's options that are not request parameters),
    as its display store and `template_for` take them; the defaults are the component's."""
    return {"crs": crs, "minZoom": min_zoom, "maxZoom": max_zoom, "z_index": z_index}


def template_for(params: dict | None, display: dict) -> dict:
    """What the browser needs to draw a layer: the URL template, f, opacity, z-index, zoom range.

    `display` holds the component options that are not request parameters (crs, zoom range,
    z_index). No params (no service yet) draws nothing; invalid parameters draw nothing and carry
    the message in `error`.
    """
    nothing = {**display, "url": None, "error": None, "f": "image", "opacity": 0,
               "zIndex": display.get("z_index") or BACK_Z, "token": None, "proxy": None,
               "crossOrigin": None}
    if params is None:
        return nothing
    try:
        layer_params = LayerParams.from_dict(params)
    except (ParameterError, ValueError, TypeError) as exc:
        return {**nothing, "error": str(exc)}
    z_index = display.get("z_index") or (FRONT_Z if layer_params.position == "front" else BACK_Z)
    return {
        **display,
        "url": export_url_template(layer_params, display["crs"]),
        "error": None,
        "f": layer_params.f,
        "opacity": layer_params.opacity,
        "zIndex": z_index,
        "token": layer_params.token,
        "proxy": layer_params.proxy,
        "crossOrigin": cross_origin(layer_params.use_cors, layer_params.with_credentials),
    }


def edit(params: dict | None) -> ImageMapLayer:
    """The seed's setters for a callback that changes a layer: read its params store as State,
    call the setters, and write `.params.to_dict()` back to the same store.

        @app.callback(Output(ImageMapLayerAIO.ids.params("x"), "data"), Input("bands", "value"),
                      State(ImageMapLayerAIO.ids.params("x"), "data"))
        def set_bands(bands, data):
            return edit(data).set_band_ids(bands).params.to_dict()

    Every setter of imageservice.ImageMapLayer works (set_band_ids, set_no_data, set_pixel_type,
    set_time_range, set_rendering_rule, set_mosaic_rule, set_opacity, bring_to_front,
    bring_to_back, authenticate) and chains; the getters read the current value. Opacity and
    position changes redraw without a new request; the others request a new image. The layer's
    requests follow the app's fetch policy (`current_policy`), and reach the app's own resource
    proxy in-process (`server_session`).
    """
    if not params:
        raise ParameterError("the layer has no service yet: its params store is empty")
    return ImageMapLayer(**params, policy=current_policy(), session=server_session(params.get("proxy")))


def current_policy() -> FetchPolicy | None:
    """The fetch policy `register` kept for the app whose callback is running; None outside any
    app (a script), where nothing is hosted."""
    return flask.current_app.config.get(FETCH_POLICY) if flask.has_app_context() else None


def server_session(proxy_url: str | None) -> requests.Session | None:
    """A Session whose requests to this app's own resource proxy are answered in-process (the
    same allow-list and operator token, but no HTTP round trip through the app's sign-in); None
    when `proxy_url` is not that proxy, or outside an app."""
    local = flask.current_app.extensions.get(LOCAL_PROXY) if flask.has_app_context() else None
    own_paths = {local.path, urlsplit(local.own_url).path} if local is not None else set()
    if not proxy_url or urlsplit(proxy_url).path not in own_paths:  # own_url: its public address
        return None
    from imageservice.proxy.inprocess import InProcessAdapter  # the [proxy] extra: only when installed

    session = requests.Session()
    session.mount(proxy_url, InProcessAdapter(local))
    return session


def with_policy(app: Dash, fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn` run inside `app`'s Flask app context, so that `edit` finds its fetch policy there: for
    background callbacks, which a Celery worker runs outside any request of the app."""
    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        with app.server.app_context():
            return fn(*args, **kwargs)

    return run


class ImageMapLayerAIO(dl.LayerGroup):
    """An ArcGIS ImageServer drawn with exportImage for the current view of the enclosing Map."""

    ids = _Ids

    def __init__(
        self,
        url: str | None,
        aio_id: Any = None,
        *,
        crs: str = "EPSG:3857",
        min_zoom: float | None = None,
        max_zoom: float | None = None,
        z_index: int | None = None,
        pane: str | None = None,
        attribution: str | None = None,
        **options: Any,
    ) -> None:
        """`options` are the seed's options with Python names (band_ids, no_data, rendering_rule,
        mosaic_rule, opacity, position, f, format, token, proxy, time_from, time_to, ...).
        `crs` must match the Map's crs ("EPSG:3857" default, or "EPSG:4326"). With `url=None`
        the layer draws nothing until a callback writes its params store. `attribution` (HTML,
        as in Leaflet) replaces the service's copyrightText in the map's attribution."""
        aio_id = id_value(aio_id) if aio_id is not None else str(uuid.uuid4())
        self.aio_id = aio_id
        params = LayerParams.from_dict({"url": url, **options}).to_dict() if url else None
        display = display_for(crs=crs, min_zoom=min_zoom, max_zoom=max_zoom, z_index=z_index)
        overlay_options = {"url": BLANK, "bounds": NOWHERE, "opacity": 0, "crossOrigin": cross_origin(
            params is None or params["use_cors"], params is not None and params["with_credentials"])}
        if pane:
            overlay_options["pane"] = pane
        handlers = {"load": {"variable": "imageMapLayer.loaded"}, "error": {"variable": "imageMapLayer.failed"},
                    "add": {"variable": "imageMapLayer.attach"}}
        super().__init__(
            id=_id("group", aio_id),
            children=[
                dl.ImageOverlay(id=_id("a", aio_id), **overlay_options, eventHandlers=handlers),
                dl.ImageOverlay(id=_id("b", aio_id), **overlay_options, eventHandlers=handlers),
                dcc.Store(id=_id("params", aio_id), data=params),
                dcc.Store(id=_id("display", aio_id), data=display),
                dcc.Store(id=_id("template", aio_id), data=template_for(params, display)),
                dcc.Store(id=_id("view", aio_id)),
                dcc.Store(id=_id("state", aio_id), data=INITIAL_STATE),
                dcc.Store(id=_id("events", aio_id), data=[]),
                dcc.Store(id=_id("click", aio_id)),
                dcc.Store(id=_id("popup", aio_id), data={"bound": False, "options": {}}),
                dcc.Store(id=_id("identify", aio_id)),
                dl.LayerGroup(id=_id("popups", aio_id)),
                dcc.Store(id=_id("attribution", aio_id),
                          data={"option": attribution, "source": None, "text": None}),
            ],
        )

    def bind_popup(self, fn: PopupFunction, popup_options: dict | None = None) -> ImageMapLayerAIO:
        """esri-leaflet's bindPopup: on a map click, identify the pixel (with the layer's mosaic
        rule, not its rendering rule) and open a popup there showing `fn(None, results, response)`.

        `results` is {"pixel": Feature[, "catalogItems": FeatureCollection]}, `response` the raw
        identify JSON. `fn` returns Dash children (strings are shown as text) or False/None for
        no popup. `popup_options` are dash-leaflet Popup props (maxWidth, className, ...).
        The function is kept per aio_id for the whole process: popup layers need unique aio_ids.
        """
        options = dict(popup_options or {})
        dl.Popup(**options)  # unknown option names fail here rather than in the browser
        _POPUPS[_key(self.aio_id)] = fn
        self._part("popup").data = {"bound": True, "options": options}
        return self

    def unbind_popup(self) -> ImageMapLayerAIO:
        """esri-leaflet's unbindPopup: clicks no longer identify or open a popup."""
        self._part("popup").data = {**self._part("popup").data, "bound": False}
        return self

    def _part(self, subcomponent: str) -> Any:
        return next(c for c in self.children if c.id["subcomponent"] == subcomponent)


def _key(aio_id: Any) -> str:
    return json.dumps(aio_id, sort_keys=True)


def _bound(popup: dict | None) -> bool:
    return bool(popup and popup.get("bound"))


def identify_popup(click: dict | None, popup: dict | None, params: dict | None, aio_id: Any) -> dict | Any:
    """A click on a layer with a bound popup -> {time, lat, lng, content, error}.

    Unbound (or no service, or no function for aio_id): no identify request and no update. The
    identify carries the layer's mosaic rule and time range but not its rendering rule, so fn
    sees raw values. On an identify error fn is not called (as in esri-leaflet) and the message
    goes into `error`.
    """
    fn = _POPUPS.get(_key(aio_id))
    if not click or not params or not _bound(popup) or fn is None:
        return no_update
    answer = {"time": click["time"], "lat": click["lat"], "lng": click["lng"], "content": None, "error": None}
    try:
        response = edit(params).identify().at(click["lat"], click["lng"]).run()
    except ImageServiceError as exc:
        log.warning("popup identify failed for %s: %s", params.get("url"), exc)
        return {**answer, "error": str(exc)}
    content = fn(None, identify_to_geojson(response), response)
    if content is False or content is None or content in ("", []):
        return answer
    return {**answer, "content": content}


def popup_window(identified: dict | None, popup: dict | None, click: dict | None,
                 popup_changed: bool = False) -> list | Any:
    """The popup layer's children: one dl.Popup at the clicked point, or none.

    Only the newest click's answer opens (an answer whose time is not the last click's is
    stale and ignored); unbinding closes the popup; rebinding or new options wait for a click.
    """
    if not _bound(popup):
        return []
    if popup_changed or not identified or not click or identified["time"] != click["time"]:
        return no_update
    if identified["content"] is None:
        return []
    return [dl.Popup(position=[identified["lat"], identified["lng"]], children=identified["content"],
                     **popup.get("options", {}))]


def attribution_for(params: dict | None, current: dict) -> dict | Any:
    """The layer's attribution: the explicit option, else the service's copyrightText.

    `source` says where `text` came from: "option", or the [url, token] the metadata was fetched
    for, so it is fetched only when those change, not on every parameter change. The
    copyrightText is escaped (it is the remote service's plain text); a failed fetch leaves no
    attribution. The store is written at least once, so the browser applies an explicit option.
    """
    option = current.get("option")
    source = "option" if option is not None else [params["url"], params.get("token")] if params else None
    if source == current.get("source"):
        return no_update
    if option is not None:
        return {**current, "source": source, "text": option}
    text = None
    if params:
        try:
            text = html.escape(str(edit(params).metadata(METADATA_MAX_AGE).get("copyrightText") or "")) or None
        except ImageServiceError as exc:
            log.warning("no attribution for %s: %s", params["url"], exc)
    return {**current, "source": source, "text": text}


def register(app: Dash, *, fetch_policy: FetchPolicy | None = None) -> None:
    """Register the layer's callbacks on `app` (once per app, for any number of layers).

    Explicit rather than global callbacks, so several Dash apps in one process (tests, a
    multi-app server) each get their own. The layer's JS and CSS need no registration: Dash
    serves them from the package to any app that uses the component. `fetch_policy` (see
    imageservice.fetchpolicy) limits what the app's server side fetches; None fetches anything.
    """
    app.server.config[FETCH_POLICY] = fetch_policy
    app.callback(
        Output(_id("template", MATCH), "data"),
        Input(_id("params", MATCH), "data"),
        State(_id("display", MATCH), "data"),
        prevent_initial_call=True,
    )(template_for)
    # Moves are handled in the browser alone (imagemaplayer.js); new parameters go this way.
    app.clientside_callback(
        ClientsideFunction(namespace="imageMapLayer", function_name="configure"),
        Output(_id("a", MATCH), "zIndex"),
        Output(_id("b", MATCH), "zIndex"),
        Input(_id("template", MATCH), "data"),
        State(_id("template", MATCH), "id"),
    )
    app.callback(
        Output(_id("identify", MATCH), "data"),
        Input(_id("click", MATCH), "data"),
        State(_id("popup", MATCH), "data"),
        State(_id("params", MATCH), "data"),
        State(_id("click", MATCH), "id"),
        prevent_initial_call=True,
    )(lambda click, popup, params, click_id: identify_popup(click, popup, params, click_id["aio_id"]))
    app.callback(
        Output(_id("popups", MATCH), "children"),
        Input(_id("identify", MATCH), "data"),
        Input(_id("popup", MATCH), "data"),
        State(_id("click", MATCH), "data"),
        prevent_initial_call=True,
    )(lambda identified, popup, click: popup_window(
        identified, popup, click, popup_changed=ctx.triggered_id["subcomponent"] == "popup"))
    app.callback(
        Output(_id("attribution", MATCH), "data"),
        Input(_id("params", MATCH), "data"),
        State(_id("attribution", MATCH), "data"),
    )(attribution_for)
    app.clientside_callback(
        ClientsideFunction(namespace="imageMapLayer", function_name="attribute"),
        Input(_id("attribution", MATCH), "data"),
        State(_id("attribution", MATCH), "id"),
    )

