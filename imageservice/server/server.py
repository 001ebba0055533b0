"""The HTTP face of the embedded ImageServer: a Flask blueprint laid out like ArcGIS Server.

Mount `create_blueprint(...)` at url_prefix "/arcgis" on any Flask app (the dashboard does), or run
`create_app(data_dir)` on its own. Every failure answers HTTP 200 with the ArcGIS error envelope,
even for `f=image`, because that is what ArcGIS clients are written against.
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

from flask import Blueprint, Flask, Response, redirect, request, url_for
from werkzeug.serving import WSGIRequestHandler

from . import operations
from .args import Args
from .catalog import Service, load_services
from .errors import UNABLE_TO_COMPLETE, ArcGISError, BadParameter, NotFound
from .query import featureset_to_geojson, run_query
from .sampledata import ensure_sample_data
from .tokens import Security, request_token

log = logging.getLogger(__name__)

EXPORT_FAILED = "Error exporting image"
CALLBACK_NAME = re.compile(r"^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$")
OUTPUT_NAME = re.compile(r"^_ags_[0-9a-f]{32}\.[a-z0-9]{2,5}$")
JSON_FORMATS = ("json", "pjson", "html")
SECRET_IN_URL = re.compile(r"(token|password)=[^&\s]*", re.IGNORECASE)


class RedactingRequestHandler(WSGIRequestHandler):
    """werkzeug's access log with `token=` and `password=` values blanked, so secrets sent in URLs
    never reach the logs."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        self.requestline = SECRET_IN_URL.sub(r"\1=***", self.requestline)
        if hasattr(self, "path"):
            self.path = SECRET_IN_URL.sub(r"\1=***", self.path)
        super().log_request(code, size)


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
                     output_dir: Path | None = None) -> Blueprint:
    """The `/arcgis` routes for the given services (or the services found in a folder)."""
    loaded = load_services(services) if isinstance(services, Path) else dict(services)
    by_name = {name.lower(): service for name, service in loaded.items()}
    store = OutputStore(output_dir)
    bp = Blueprint("arcgis", __name__)

    def find_service(name: str) -> Service:
        service = by_name.get(name.lower())
        if service is None:
            raise NotFound("Service not found.", f"There is no ImageServer named '{name}'.")
        return service

    @bp.after_request
    def cors(response: Response) -> Response:
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = (
            "Authorization, X-Esri-Authorization, Content-Type, X-Requested-With")
        return response

    @bp.route("/rest/info", methods=["GET", "POST"], strict_slashes=False)
    def info() -> Response:
        args = request_args()
        auth: dict[str, Any] = {"isTokenBasedSecurity": security is not None}
        if security is not None:
            auth["tokenServicesUrl"] = url_for(".generate_token", _external=True)
            auth["shortLivedTokenValidity"] = security.token_minutes
        return handle(args, lambda: payload_response(
            {"currentVersion": operations.CURRENT_VERSION, "fullVersion": "11.1.0", "authInfo": auth}, args, "Info"))

    @bp.route("/rest/services", methods=["GET", "POST"], strict_slashes=False)
    def directory() -> Response:
        args = request_args()
        listing = {"currentVersion": operations.CURRENT_VERSION, "folders": [],
                   "services": [{"name": name, "type": "ImageServer"} for name in sorted(loaded)]}
        return handle(args, lambda: payload_response(listing, args, "Services Directory"))

    @bp.route("/tokens/generateToken", methods=["GET", "POST"], strict_slashes=False)
    def generate_token() -> Response:
        args = request_args()

        def run() -> Response:
            if security is None:
                raise ArcGISError(400, "Unable to generate token.", ["Token based security is not enabled."])
            return payload_response(security.generate_token(args), args, "Token")

        return handle(args, run)

    @bp.route("/rest/services/<path:subpath>", methods=["GET", "POST"])
    def service_resource(subpath: str) -> Response:
        args = request_args()
        parts = subpath.split("/")
        operation = parts[2].lower() if len(parts) == 3 else ""
        failure = EXPORT_FAILED if operation == "exportimage" else UNABLE_TO_COMPLETE

        def run() -> Response:
            if security is not None:
                security.check(request_token(args, request.headers))
            if len(parts) not in (2, 3) or parts[1].lower() != "imageserver":
                raise NotFound("Service not found.", f"'{'/'.join(parts)}' is not an ImageServer.")
            return service_operation(find_service(parts[0]), operation, args)

        return handle(args, run, failure)

    @bp.route("/rest/directories/arcgisoutput/<folder_name>/<file_name>", methods=["GET"])
    def output_file(folder_name: str, file_name: str) -> Response:
        args = request_args()

        def run() -> Response:
            found = store.get(folder_name, file_name)
            if found is None:
                raise NotFound("The requested output file does not exist or has expired.")
            body, content_type = found
            return Response(body, mimetype=content_type)

        return handle(args, run)

    @bp.route("/<path:anything>", methods=["GET", "POST"])
    def unknown(anything: str) -> Response:
        args = request_args()

        def run() -> Response:
            raise NotFound("Resource not found.")

        return handle(args, run)

    def service_operation(service: Service, operation: str, args: Args) -> Response:
        """Run one ImageServer resource or operation and shape its answer for `f`."""
        title = f"{service.name} (ImageServer)"
        if operation == "exportimage":
            return export_response(service, args, title)
        if operation == "query":
            fmt = response_format(args, JSON_FORMATS + ("geojson",))
            featureset = run_query(service, args)
            if fmt == "geojson":
                return payload_response(featureset_to_geojson(featureset), args, title)
            return payload_response(featureset, args, title)
        handlers: dict[str, Callable[[], dict]] = {
            "": lambda: operations.service_root(service),
            "identify": lambda: operations.identify(service, args),
            "computehistograms": lambda: operations.compute_histograms(service, args),
            "getsamples": lambda: operations.get_samples(service, args),
            "keyproperties": lambda: operations.key_properties(service),
        }
        handler = handlers.get(operation)
        if handler is None:
            raise NotFound("Operation not supported.", f"The ImageServer has no operation '{operation}'.")
        response_format(args, JSON_FORMATS)
        return payload_response(handler(), args, title)

    def export_response(service: Service, args: Args, title: str) -> Response:
        fmt = response_format(args, JSON_FORMATS + ("image",))
        image = operations.export_image(service, args)
        if fmt == "image":
            return Response(image.body, mimetype=image.content_type)
        folder_name, file_name = store.put(service.name, image.body, image.extension, image.content_type)
        href = url_for(".output_file", folder_name=folder_name, file_name=file_name, _external=True)
        return payload_response(operations.export_json(image, href), args, title, image_href=href)

    return bp


def open_services(data_dir: Path) -> dict[str, Service]:
    """The services in a data folder; an empty or missing folder gets the generated sample data."""
    services = load_services(data_dir) if data_dir.is_dir() else {}
    if services:
        return services
    print(f"Generating the synthetic sample data in {data_dir} (once; about 15 s) ...", file=sys.stderr, flush=True)
    return load_services(ensure_sample_data(data_dir))


def create_app(data_dir: Path, *, secure: bool = False, users: dict[str, str] | None = None) -> Flask:
    """A standalone server over a folder of services; the sample data is generated when it is empty."""
    if secure and not users:
        raise ValueError("secure mode needs at least one user")
    services = open_services(data_dir)
    security = Security(users or {}) if secure else None
    app = Flask(__name__)
    app.config["IMAGE_SERVICES"] = tuple(sorted(services))
    app.register_blueprint(create_blueprint(services, security=security), url_prefix="/arcgis")
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
