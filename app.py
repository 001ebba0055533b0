"""The dashboard: `python app.py` serves it, with the embedded sample ImageServer, on 127.0.0.1:8050.

Only wiring lives here: the layout comes from `components`, behaviour from `callbacks`, the
ImageServer client, the Dash layer, the embedded server and the proxy from the `imageservice`
library, through its public names only.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import flask

from dash import Dash

from callbacks import (auth, basemap, catalog, controls, events, histogram, info, legend, multidim, pixel, service,
                       swipe, urlstate)
from callbacks.background import background_manager
from components.basemaps import BASEMAPS, DEFAULT_BASEMAP
from components.firstview import first_view_html
from components.layout import TITLE, build_layout
from imageservice.dash import register as register_layers
from imageservice.fetchpolicy import FetchPolicy
from imageservice.proxy import ProxyConfig, install as install_proxy
from imageservice.server import RedactingRequestHandler
from signin import CONFIG_ENV as AUTH_CONFIG_ENV, PUBLIC_ENV, AuthConfig, exposure_problem, is_loopback, protect

HERE = Path(__file__).resolve().parent
DEFAULT_DATA_DIR = HERE / ".data"
# Relative, so it resolves against whatever host and port the app is served on.
DEFAULT_SERVICE_URL = "/arcgis/rest/services/SampleMultispectral/ImageServer"
# Open even with sign-in: the dashboard's callbacks read the embedded ImageServer over HTTP from
# the server itself, without the browser's credentials (docs/hosting.md, "Sign-in").
SAMPLE_SERVER_ROUTE = "/arcgis/<path:path>"


class Dashboard(Dash):
    """Dash whose index page draws the page's frame and first image before Dash's scripts are
    fetched (components.firstview); `first_view(dash_scripts)` gives that HTML for the request
    being answered, and then loads the scripts itself ("" leaves the page as Dash makes it).

    Only the app's own page gets it: Dash answers every other path with the index too, and a
    service URL under such a path would otherwise open itself while answering its own fetch."""

    first_view: Callable[[str], str] = staticmethod(lambda dash_scripts: "")

    def interpolate_index(self, **kwargs: Any) -> str:
        dash_scripts = kwargs["scripts"] + kwargs["renderer"]
        shell = self.first_view(dash_scripts) if flask.request.path == self.config.routes_pathname_prefix else ""
        if not shell:
            return super().interpolate_index(**kwargs)
        # The shell's script loads Dash's scripts itself, after the first picture.
        return super().interpolate_index(**{**kwargs, "app_entry": shell + kwargs["app_entry"], "scripts": "",
                                            "renderer": ""})


def create_app(
    *,
    service_url: str = DEFAULT_SERVICE_URL,
    basemap_key: str = DEFAULT_BASEMAP,
    data_dir: Path | None = DEFAULT_DATA_DIR,
    layer_options: dict | None = None,
    proxy_config: ProxyConfig | None = None,
    auth_config: AuthConfig | None = None,
    fetch_policy: FetchPolicy | None = None,
) -> Dash:
    """Build the Dash app; `data_dir=None` leaves out the embedded ImageServer. `layer_options`
    (LayerParams fields, e.g. {"band_ids": [3, 2, 1]}) apply to every service opened.
    `proxy_config` serves the resource proxy at /proxy (see docs/proxy.md); a service it allows is
    then opened through it, for the layer and the dashboard's own requests. `auth_config` asks
    for sign-in on every route but the embedded ImageServer's (docs/hosting.md). `fetch_policy`
    limits what the server side fetches for visitors (docs/hosting.md, "What the server may fetch")."""
    app = Dashboard(__name__, title=TITLE, assets_folder=str(HERE / "assets"),
               background_callback_manager=background_manager())
    if auth_config is not None:
        protect(app, auth_config, open_routes=[SAMPLE_SERVER_ROUTE] if data_dir is not None else [])
    if data_dir is not None:
        mount_sample_server(app, data_dir)
    if proxy_config is not None:
        install_proxy(app.server, proxy_config, prefix=app.config.requests_pathname_prefix)
    app.layout = functools.partial(page, app, service_url, basemap_key, layer_options, proxy_config)
    app.first_view = functools.partial(index_first_view, app, service_url, layer_options, proxy_config)
    register_layers(app, fetch_policy=fetch_policy)
    basemap.register(app)
    service.register(app, layer_options, proxy_config)
    auth.register(app)
    controls.register(app)
    urlstate.register(app)
    events.register(app)
    legend.register(app)
    for tool in (pixel, catalog, info, histogram, swipe, multidim):
        tool.register(app)
    return app


def page(app: Dash, service_url: str, basemap_key: str, layer_options: dict | None,
         proxy_config: ProxyConfig | None) -> Any:
    """The layout for each page load, with the service already open when it can be (its root
    JSON is shared with the opening callbacks), so the first image needs no callback round trip."""
    opened = service.first_view(app, service_url, layer_options, proxy_config) if flask.has_request_context() else None
    return build_layout(service_url=service_url, basemap=basemap_key, opened=opened)


def index_first_view(app: Dash, service_url: str, layer_options: dict | None,
                     proxy_config: ProxyConfig | None, dash_scripts: str) -> str:
    """The index page's shell with the first image of the service the layout will open."""
    opened = service.first_view(app, service_url, layer_options, proxy_config)
    return first_view_html(*opened, dash_scripts) if opened else ""


def mount_sample_server(app: Dash, data_dir: Path) -> None:
    """Serve the embedded ImageServer at /arcgis on the dashboard's own Flask server.

    A data folder that already holds services (the user's own GeoTIFFs, or sample data made
    earlier) is served as it is; an empty one gets the generated sample data.
    """
    from imageservice.server import create_blueprint, open_services

    services = open_services(data_dir)
    app.server.register_blueprint(create_blueprint(services), url_prefix="/arcgis")


def json_object(text: str) -> dict:
    """A JSON object from the command line or environment, or a clear usage error."""
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("must be a JSON object, e.g. {\"band_ids\": [3, 2, 1]}")
    return value


def proxy_config(path: str) -> ProxyConfig:
    """The proxy's allow-list file (REDIS_URL picks the Redis cache), or a clear usage error."""
    try:
        return ProxyConfig.from_env({**os.environ, "IMAGESERVICE_PROXY_CONFIG": path})
    except (OSError, ValueError) as exc:
        raise argparse.ArgumentTypeError(f"proxy configuration {path}: {exc}") from None


def auth_config(path: str) -> AuthConfig | None:
    """The sign-in file (and IMAGESERVICE_AUTH_USERS), or a clear usage error; None: no sign-in."""
    try:
        return AuthConfig.from_env({**os.environ, AUTH_CONFIG_ENV: path})
    except (OSError, ValueError) as exc:
        raise argparse.ArgumentTypeError(f"sign-in configuration {path or 'from the environment'}: {exc}") from None


def fetch_policy_for(args: argparse.Namespace) -> FetchPolicy | None:
    """None (anything may be opened) for one person on this machine; when hosted (listening beyond
    it, asking for sign-in, or --hosted), public services, the proxy's services and this app's own
    server (docs/hosting.md)."""
    if is_loopback(args.host) and args.auth_config is None and not args.hosted:
        return None
    listed = tuple(entry.url for entry in args.proxy_config.services) if args.proxy_config else ()
    return FetchPolicy(allowed=listed, own_port=args.port)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=env("IMAGESERVICE_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(env("IMAGESERVICE_PORT", "8050")))
    parser.add_argument("--service-url", default=env("IMAGESERVICE_URL", DEFAULT_SERVICE_URL),
                        help="ImageServer to open (default: the embedded sample service)")
    parser.add_argument("--basemap", choices=sorted(BASEMAPS), default=env("IMAGESERVICE_BASEMAP", DEFAULT_BASEMAP))
    parser.add_argument("--data-dir", type=Path, default=Path(env("IMAGESERVICE_DATA_DIR", str(DEFAULT_DATA_DIR))),
                        help="the embedded server's data: a folder of services (GeoTIFFs); sample data is generated into an empty one")
    parser.add_argument("--layer-options", type=json_object, default=env("IMAGESERVICE_LAYER_OPTIONS", "{}"),
                        help='layer options as JSON with Python names, e.g. \'{"band_ids": [3, 2, 1], "opacity": 0.8}\'')
    parser.add_argument("--proxy-config", type=proxy_config, default=env("IMAGESERVICE_PROXY_CONFIG"),
                        help="serve the resource proxy at /proxy with this allow-list (TOML or JSON, see docs/proxy.md)")
    parser.add_argument("--auth-config", type=auth_config, default=env(AUTH_CONFIG_ENV, ""),
                        help="ask for sign-in: basic-auth users or an OpenID Connect provider (TOML or JSON, "
                             "see docs/hosting.md)")
    parser.add_argument("--public", action="store_true",
                        default=env(PUBLIC_ENV, "").lower() in ("1", "true", "yes"),
                        help="listen beyond this machine without sign-in although the proxy holds operator credentials")
    parser.add_argument("--hosted", action="store_true",
                        default=env("IMAGESERVICE_HOSTED", "").lower() in ("1", "true", "yes"),
                        help="others use it (e.g. behind a reverse proxy on 127.0.0.1): the server then fetches only "
                             "public services, the proxy's services and its own")
    parser.add_argument("--no-embedded-server", action="store_true", help="do not serve the sample ImageServer")
    parser.add_argument("--debug", action="store_true")
    args = parser.parse_args(argv)
    problem = exposure_problem(args.host, args.proxy_config, args.auth_config, args.public)
    if problem:
        parser.exit(2, problem + "\n")
    return args


def build(args: argparse.Namespace) -> Dash:
    """The dashboard the command line (or, under gunicorn, the environment) describes."""
    return create_app(
        service_url=args.service_url,
        basemap_key=args.basemap,
        data_dir=None if args.no_embedded_server else args.data_dir,
        layer_options=args.layer_options,
        proxy_config=args.proxy_config,
        auth_config=args.auth_config,
        fetch_policy=fetch_policy_for(args),
    )


# waitress's worker threads: exportImage and identify release the GIL in GDAL and numpy, and a
# page sends a few requests at once (its image, Dash callbacks, identify).
SERVER_THREADS = 8


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    app = build(args)
    print(f"Dashboard: http://{args.host}:{args.port}/", flush=True)
    if args.debug:
        # Flask's development server, for its reloader and debugger. Its access log must not show
        # tokens or passwords in request lines.
        app.run(host=args.host, port=args.port, debug=True, request_handler=RedactingRequestHandler)
        return
    # A production WSGI server: a fixed pool of threads (so per-thread dataset handles are reused,
    # where the development server starts a thread per connection) and HTTP keep-alive. It writes
    # no access log, so no token or password in request lines reaches one.
    from waitress import serve

    serve(app.server, host=args.host, port=args.port, threads=SERVER_THREADS, ident="dash-imageservice")


if __name__ == "__main__":
    main()
