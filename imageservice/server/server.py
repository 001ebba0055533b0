"""The HTTP face of the embedded ImageServer: a Flask blueprint laid out like ArcGIS Server.

Mount `create_blueprint(...)` at url_prefix "/arcgis" on any Flask app (the dashboard does), or run
`create_app(data_dir)` on its own. Every failure answers HTTP 200 with the ArcGIS error envelope,
even for `f=image`, because that is what ArcGIS clients are written against. What a request may
cost (memory, body size) is bounded by `limits`.
"""

from __future__ import annotations

import html
import json
import logging
import math
import re
import sys
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from flask import Blueprint, Flask, Response, redirect, request, url_for
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.serving import WSGIRequestHandler

from . import boundary, items, legend, operations, rendered, statistics, thematic
from .args import Args
from .catalog import Item, Service, load_services
from .errors import UNABLE_TO_COMPLETE, ArcGISError, BadParameter, NotFound
from .limits import MAX_BODY_BYTES, MemoryBudget, budget_from_environment
from .multidimensional import multidimensional_info, slices
from .query import featureset_to_geojson, run_query
from .rasterfunctions import function_infos
from .sampledata import ensure_sample_data, stale_sample_size
from .tokens import Caller, Security, request_token

log = logging.getLogger(__name__)

EXPORT_FAILED = "Error exporting image"
CALLBACK_NAME = re.compile(r"^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$")
OUTPUT_NAME = re.compile(r"^_ags_[0-9a-f]{32}\.[a-z0-9]{2,5}$")
JSON_FORMATS = ("json", "pjson", "html")
SECRET_NAMES = ("token", "password")
LONG_REQUEST_LINE = ("The request line is longer than 65536 bytes: send long parameters in a POST form "
                     "(application/x-www-form-urlencoded), as ArcGIS clients do.")


def redacted_target(target: str) -> str:
    """A request target with the values of `token` and `password` masked. The query is parsed
    exactly as werkzeug parses it for the app, and names are compared as `Args` compares them, so
    a secret the server would accept (`%74oken=`, ` Token=`) is a secret the log never shows. A
    target that is no URL keeps nothing of its query."""
    try:
        parts = urlsplit(target)
    except ValueError:
        return target.partition("?")[0] + ("?***" if "?" in target else "")
    if not parts.query:
        return target
    pairs = parse_qsl(parts.query, keep_blank_values=True, errors="werkzeug.url_quote")
    shown = [(name, "***" if name.strip().lower() in SECRET_NAMES else value) for name, value in pairs]
    return parts._replace(query=urlencode(shown, safe="*")).geturl()


class RedactingRequestHandler(WSGIRequestHandler):
    """werkzeug's request handler with two changes for a server on a network: the access log masks
    secrets sent in URLs, and the errors the HTTP layer answers itself (a request line over 64 KB,
    a malformed request) are ArcGIS JSON envelopes rather than HTML pages."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        self.requestline = " ".join(redacted_target(word) for word in self.requestline.split(" "))
        if hasattr(self, "path"):
            self.path = redacted_target(self.path)
        super().log_request(code, size)

    def run_wsgi(self) -> None:
        """A target werkzeug cannot split into a URL (`http://[x/`) gets a 400; werkzeug would fail
        and drop the connection without an answer."""
        try:
            urlsplit(self.path)
        except ValueError:
            del self.path           # werkzeug's log splits the path too; without one it logs the request line
            self.send_error(400, "Bad Request", "The request target is not a valid URL.")
            return
        super().run_wsgi()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        short, long = self.responses.get(code, ("Error", ""))
        detail = LONG_REQUEST_LINE if code == 414 else explain or long
        body = json.dumps(ArcGISError(code, message or short, [detail]).envelope()).encode()
        self.log_error("code %d, message %s", code, message or short)
        self.send_response(code, message or short)
        self.send_header("Connection", "close")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class OutputStore:
    """Images exported with `f=json`, fetched later through their href.

    Bounded in count, bytes and age, like ArcGIS's arcgisoutput folder that is cleaned after
    minutes. Kept in memory, or in `folder` when one is given (the bytes then live on disk).
    """

    def __init__(self, folder: Path | None = None, *, max_files: int = 256,
                 max_bytes: int = 256 * 2**20, max_age: float = 600.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.folder = folder
        self.max_files = max_files
        self.max_bytes = max_bytes
        self.max_age = max_age
        self.clock = clock
        # (folder name, file name) -> (created, content type, bytes or None when on disk, size)
        self._entries: OrderedDict[tuple[str, str], tuple[float, str, bytes | None, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def put(self, service_name: str, body: bytes, extension: str, content_type: str) -> tuple[str, str]:
        """Store one image; returns (folder name, file name) for its href."""
        key = (f"{service_name}_ImageServer", f"_ags_{uuid.uuid4().hex}.{extension}")
        kept: bytes | None = body
        if self.folder is not None:
            path = self.folder / key[0] / key[1]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(body)
            kept = None
        with self._lock:
            self._entries[key] = (self.clock(), content_type, kept, len(body))
            self._bytes += len(body)
            self._evict()
        return key

    def get(self, folder_name: str, file_name: str) -> tuple[bytes, str] | None:
        """The stored bytes and content type, or None when unknown or expired."""
        if not OUTPUT_NAME.match(file_name):
            return None
        key = (folder_name, file_name)
        with self._lock:
            self._evict()
            entry = self._entries.get(key)
        if entry is None:
            return None
        _, content_type, body, _ = entry
        if body is None:
            assert self.folder is not None
            path = self.folder / folder_name / file_name
            if not path.is_file():
                return None
            body = path.read_bytes()
        return body, content_type

    def _evict(self) -> None:
        """Drop expired entries, then the oldest ones beyond the count and size limits."""
        now = self.clock()
        while self._entries:
            key, (created, _, _, size) = next(iter(self._entries.items()))
            over = len(self._entries) > self.max_files or self._bytes > self.max_bytes
            if not over and now - created < self.max_age:
                break
            del self._entries[key]
            self._bytes -= size
            if self.folder is not None:
                (self.folder / key[0] / key[1]).unlink(missing_ok=True)


def create_blueprint(services: Mapping[str, Service] | Path, *, security: Security | None = None,
                     output_dir: Path | None = None, memory_budget_mb: int | None = None) -> Blueprint:
    """The `/arcgis` routes for the given services (or the services found in a folder).

    `memory_budget_mb` is the pixel memory its requests may hold at once (default
    $IMAGESERVICE_MEMORY_BUDGET_MB, else `limits.DEFAULT_MEMORY_BUDGET_MB`).
    """
    loaded = load_services(services) if isinstance(services, Path) else dict(services)
    budget = MemoryBudget(memory_budget_mb or budget_from_environment())
    views = ImageServerViews(loaded, security, OutputStore(output_dir), budget)
    bp = Blueprint("arcgis", __name__)
    bp.before_request(limit_request_body)
    bp.register_error_handler(RequestEntityTooLarge, body_too_large)
    bp.after_request(allow_cross_origin)
    get_post = ["GET", "POST"]
    bp.add_url_rule("/rest/info", "info", views.info, methods=get_post, strict_slashes=False)
    bp.add_url_rule("/rest/services", "directory", views.directory, methods=get_post, strict_slashes=False)
    bp.add_url_rule("/tokens/generateToken", "generate_token", views.generate_token, methods=get_post,
                    strict_slashes=False)
    bp.add_url_rule("/rest/services/<path:subpath>", "service_resource", views.service_resource, methods=get_post)
    bp.add_url_rule("/rest/directories/arcgisoutput/<folder_name>/<file_name>", "output_file", views.output_file,
                    methods=["GET"])
    bp.add_url_rule("/<path:anything>", "unknown", views.unknown, methods=get_post)
    return bp


def limit_request_body() -> None:
    """Bodies over MAX_BODY_BYTES are refused before they are read (werkzeug reads url-encoded
    forms whole, however large)."""
    request.max_content_length = MAX_BODY_BYTES


def body_too_large(error: RequestEntityTooLarge) -> Response:
    """A refused body, as an ArcGIS envelope: JSON, as the `f` in the unread body most likely
    asked, unless the query string says otherwise."""
    refusal = BadParameter(f"The request body is larger than the limit of {MAX_BODY_BYTES} bytes.")
    return payload_response(refusal.envelope(), Args([("f", "json"), *request.args.items(multi=True)]), "Error")


def allow_cross_origin(response: Response) -> Response:
    """CORS headers on every answer: ArcGIS clients call services from pages on other origins."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = (
        "Authorization, X-Esri-Authorization, Content-Type, X-Requested-With")
    return response


ServiceOperation = Callable[[Service, Args], Response]
ItemResource = Callable[[Service, Item, Args], Response]


class ImageServerViews:
    """The view functions of one blueprint, with what they share: the services, the token security
    and the store of exported images. Each view reads the request's arguments and leaves errors to
    `handle`, which answers them as ArcGIS envelopes."""

    def __init__(self, services: dict[str, Service], security: Security | None, store: OutputStore,
                 budget: MemoryBudget) -> None:
        self.services = services
        self.by_name = {name.lower(): service for name, service in services.items()}
        self.security = security
        self.store = store
        self.budget = budget
        # The ImageServer resource ("") and its operations, by lower-case name.
        self.handlers: dict[str, ServiceOperation] = {
            "": json_operation(rendered.rendered_root),
            "exportimage": self.export_image,
            "query": query_features,
            "identify": json_operation(lambda service, args: operations.identify(service, args)),
            "computehistograms": json_operation(
                lambda service, args: operations.compute_histograms(service, args, self.budget)),
            "getsamples": json_operation(lambda service, args: operations.get_samples(service, args)),
            "keyproperties": json_operation(rendered.rendered_key_properties),
            "multidimensionalinfo": json_operation(
                lambda service, args: multidimensional_info(service, args.get("returnDimensionValues"))),
            "slices": json_operation(lambda service, args: slices(service, args.json("multidimensionalDefinition"))),
            "rasterfunctioninfos": json_operation(lambda service, args: raster_function_infos(service)),
            "computestatisticshistograms": json_operation(
                lambda service, args: statistics.compute_statistics_histograms(service, args, self.budget)),
            "histograms": json_operation(rendered.rendered_histograms),
            "statistics": json_operation(rendered.rendered_statistics),
            "queryboundary": json_operation(lambda service, args: boundary.query_boundary(service, args)),
            "legend": json_operation(lambda service, args: legend.legend(service, args)),
            "colormap": json_operation(lambda service, args: thematic.colormap_resource(service)),
            "rasterattributetable": json_operation(lambda service, args: thematic.attribute_table_resource(service)),
        }
        # The resources of one catalog item (`<oid>/...`), by lower-case path below the item.
        self.item_handlers: dict[str, ItemResource] = {
            "info": json_item(items.item_info),
            "info/keyproperties": json_item(items.item_key_properties),
            "thumbnail": item_thumbnail,
        }

    # -- Views, one per route

    def info(self) -> Response:
        """`rest/info`: the server version and how to get a token."""
        args = request_args()
        payload = {"currentVersion": operations.CURRENT_VERSION, "fullVersion": "11.1.0", "authInfo": self.auth_info()}
        return handle(args, lambda: payload_response(payload, args, "Info"))

    def directory(self) -> Response:
        """`rest/services`: the services directory (one root folder, image services only)."""
        args = request_args()
        listing = {"currentVersion": operations.CURRENT_VERSION, "folders": [],
                   "services": [{"name": name, "type": "ImageServer"} for name in sorted(self.services)]}
        return handle(args, lambda: payload_response(listing, args, "Services Directory"))

    def generate_token(self) -> Response:
        """`tokens/generateToken`: a token for a user name and password, when security is on."""
        args = request_args()
        return handle(args, lambda: self.new_token(args))

    def service_resource(self, subpath: str) -> Response:
        """`rest/services/<name>/ImageServer[/<operation>]`: a service's root or one of its operations."""
        args = request_args()
        parts = subpath.split("/")
        operation = "/".join(parts[2:]).lower()
        failure = EXPORT_FAILED if operation == "exportimage" else UNABLE_TO_COMPLETE
        return handle(args, lambda: self.run_operation(parts, operation, args), failure)

    def output_file(self, folder_name: str, file_name: str) -> Response:
        """`rest/directories/arcgisoutput/...`: an image exported with f=json, through its href."""
        args = request_args()
        return handle(args, lambda: self.stored_output(folder_name, file_name))

    def unknown(self, anything: str) -> Response:
        """Any other path: a "Resource not found" envelope rather than an HTML 404 page."""
        args = request_args()
        return handle(args, resource_not_found)

    # -- What the views run

    def auth_info(self) -> dict[str, Any]:
        """The `authInfo` of rest/info: token based security and where tokens come from."""
        auth: dict[str, Any] = {"isTokenBasedSecurity": self.security is not None}
        if self.security is not None:
            auth["tokenServicesUrl"] = url_for(".generate_token", _external=True)
            auth["shortLivedTokenValidity"] = self.security.token_minutes
        return auth

    def new_token(self, args: Args) -> Response:
        """A generated token; the ArcGIS errors when the request is not a POST with the credentials
        in its body (as ArcGIS Server 10.3+ answers), or when token security is off."""
        if request.method != "POST" or any(name.strip().lower() in ("username", "password") for name in request.args):
            raise ArcGISError(405, "Method not supported.",
                              ["generateToken takes a POST request with the username and password in its body."])
        if self.security is None:
            raise ArcGISError(400, "Unable to generate token.", ["Token based security is not enabled."])
        return payload_response(self.security.generate_token(args, caller()), args, "Token")

    def run_operation(self, parts: list[str], operation: str, args: Args) -> Response:
        """Check the token, find the ImageServer the path names and run the operation on it."""
        if self.security is not None:
            self.security.check(request_token(args, request.headers), caller())
        if len(parts) < 2 or parts[1].lower() != "imageserver" or (len(parts) > 3 and not parts[2].isdigit()):
            raise NotFound("Service not found.", f"'{'/'.join(parts)}' is not an ImageServer.")
        service = self.find_service(parts[0])
        if len(parts) > 3:
            return self.run_item_resource(service, int(parts[2]), "/".join(parts[3:]).lower(), args)
        run = self.handlers.get(operation)
        if run is None:
            raise NotFound("Operation not supported.", f"The ImageServer has no operation '{operation}'.")
        return run(service, args)

    def run_item_resource(self, service: Service, object_id: int, resource: str, args: Args) -> Response:
        """A resource of one catalog item: `<oid>/info`, `<oid>/info/keyProperties`, `<oid>/thumbnail`."""
        run = self.item_handlers.get(resource)
        if run is None:
            raise NotFound("Resource not found.", f"A catalog item has no resource '{resource}'.")
        return run(service, items.catalog_item(service, object_id), args)

    def find_service(self, name: str) -> Service:
        """A service by name, matched without regard to case as ArcGIS does."""
        service = self.by_name.get(name.lower())
        if service is None:
            raise NotFound("Service not found.", f"There is no ImageServer named '{name}'.")
        return service

    def export_image(self, service: Service, args: Args) -> Response:
        """exportImage: the image itself for f=image; otherwise the image is stored and described by
        its href, as ArcGIS does with its output directory."""
        fmt = response_format(args, JSON_FORMATS + ("image",))
        image = operations.export_image(service, args, self.budget)
        if fmt == "image":
            return Response(image.body, mimetype=image.content_type)
        folder_name, file_name = self.store.put(service.name, image.body, image.extension, image.content_type)
        href = url_for(".output_file", folder_name=folder_name, file_name=file_name, _external=True)
        return payload_response(operations.export_json(image, href), args, service_title(service), image_href=href)

    def stored_output(self, folder_name: str, file_name: str) -> Response:
        """The bytes of a stored export, or NotFound once it has expired."""
        found = self.store.get(folder_name, file_name)
        if found is None:
            raise NotFound("The requested output file does not exist or has expired.")
        body, content_type = found
        return Response(body, mimetype=content_type)


def caller() -> Caller:
    """The current request's client, for token binding and failed sign-in counts."""
    return Caller(request.remote_addr or "", request.headers.get("Referer"))


def json_operation(compute: Callable[[Service, Args], dict]) -> ServiceOperation:
    """An operation whose answer is one JSON payload, so it can be sent as json, pjson or html."""

    def run(service: Service, args: Args) -> Response:
        response_format(args, JSON_FORMATS)
        return payload_response(compute(service, args), args, service_title(service))

    return run


def json_item(compute: Callable[[Service, Item], dict]) -> ItemResource:
    """A catalog item resource whose answer is one JSON payload."""

    def run(service: Service, item: Item, args: Args) -> Response:
        response_format(args, JSON_FORMATS)
        return payload_response(compute(service, item), args, service_title(service))

    return run


def item_thumbnail(service: Service, item: Item, args: Args) -> Response:
    """`<oid>/thumbnail`: a small PNG of the item, answered as the image itself, as ArcGIS does."""
    body, content_type = items.item_thumbnail(service, item)
    return Response(body, mimetype=content_type)


def raster_function_infos(service: Service) -> dict:
    """The `rasterFunctionInfos` resource: the root's list, each entry with its functionType
    (0: applied to the mosaic)."""
    return {"rasterFunctionInfos": [{**info, "functionType": 0} for info in function_infos(service)]}


def query_features(service: Service, args: Args) -> Response:
    """query: the catalog items as an Esri featureset, or as GeoJSON for f=geojson."""
    fmt = response_format(args, JSON_FORMATS + ("geojson",))
    featureset = run_query(service, args)
    if fmt == "geojson":
        return payload_response(featureset_to_geojson(featureset), args, service_title(service))
    return payload_response(featureset, args, service_title(service))


def resource_not_found() -> Response:
    """The answer for paths that are no resource of this server."""
    raise NotFound("Resource not found.")


def service_title(service: Service) -> str:
    """The title of a service's `f=html` pages."""
    return f"{service.name} (ImageServer)"


def open_services(data_dir: Path) -> dict[str, Service]:
    """The services in a data folder; an empty or missing folder gets the generated sample data,
    and sample data an older version generated is rebuilt."""
    stale = stale_sample_size(data_dir) if data_dir.is_dir() else None
    if stale is not None:
        print(f"Rebuilding the synthetic sample data in {data_dir} (an older version made it) ...",
              file=sys.stderr, flush=True)
        ensure_sample_data(data_dir, size=stale)
    services = load_services(data_dir) if data_dir.is_dir() else {}
    if services:
        return services
    print(f"Generating the synthetic sample data in {data_dir} (once; about 10 s) ...", file=sys.stderr, flush=True)
    return load_services(ensure_sample_data(data_dir))


def create_app(data_dir: Path, *, secure: bool = False, users: dict[str, str] | None = None,
               memory_budget_mb: int | None = None) -> Flask:
    """A standalone server over a folder of services; the sample data is generated when it is empty.
    `memory_budget_mb` as for `create_blueprint`."""
    if secure and not users:
        raise ValueError("secure mode needs at least one user")
    budget_mb = memory_budget_mb or budget_from_environment()      # a bad setting fails before the data loads
    services = open_services(data_dir)
    security = Security(users or {}) if secure else None
    app = Flask(__name__)
    app.config["IMAGE_SERVICES"] = tuple(sorted(services))
    blueprint = create_blueprint(services, security=security, memory_budget_mb=budget_mb)
    app.register_blueprint(blueprint, url_prefix="/arcgis")
    app.add_url_rule("/", "index", lambda: redirect("/arcgis/rest/services?f=html"))
    return app


def request_args() -> Args:
    """GET query and POST form values together (the form wins on a clash)."""
    return Args(list(request.args.items(multi=True)) + list(request.form.items(multi=True)))


def response_format(args: Args, allowed: tuple[str, ...]) -> str:
    """The `f` value, checked against what the resource can answer; ArcGIS defaults to html."""
    fmt = (args.get("f") or "html").lower()
    if fmt not in allowed:
        raise BadParameter("'f' parameter is invalid.")
    return fmt


def handle(args: Args, action: Callable[[], Response], failure_message: str = UNABLE_TO_COMPLETE) -> Response:
    """Run a view; ArcGIS errors and any unexpected exception become an envelope with HTTP 200."""
    try:
        return action()
    except ArcGISError as error:
        return payload_response(error.envelope(), args, "Error")
    except Exception:
        log.exception("ImageServer request failed: %s", request.path)
        return payload_response(ArcGISError(500, failure_message).envelope(), args, "Error")


def payload_response(payload: dict, args: Args, title: str, *, image_href: str | None = None) -> Response:
    """JSON, pretty JSON, JSONP or a minimal HTML page, as `f` and `callback` ask."""
    fmt = (args.get("f") or "html").lower()
    if fmt == "html":
        return Response(html_page(title, payload, image_href), mimetype="text/html")
    text = json.dumps(finite(payload), indent=2 if fmt == "pjson" else None, allow_nan=False)
    callback = args.get("callback")
    if callback is None:
        return Response(text, mimetype="application/json")
    if len(callback) > 128 or not CALLBACK_NAME.match(callback):
        invalid = json.dumps(BadParameter("'callback' parameter is invalid.").envelope())
        return Response(invalid, mimetype="application/json")
    return Response(f"/**/{callback}({text});", mimetype="application/javascript")


def html_page(title: str, payload: dict, image_href: str | None) -> str:
    """The minimal `f=html` page: the JSON answer, and the picture for exportImage."""
    image = f'<p><img src="{html.escape(image_href)}" alt="exported image"></p>' if image_href else ""
    body = html.escape(json.dumps(finite(payload), indent=2))
    return (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"</head><body><h2>{html.escape(title)}</h2>{image}<pre>{body}</pre></body></html>")


def finite(value: Any) -> Any:
    """JSON-safe copy: numpy scalars become Python numbers and NaN/Infinity become null."""
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(item) for item in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
