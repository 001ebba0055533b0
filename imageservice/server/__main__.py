"""`imageservice-server [DIR]`: the embedded ImageServer on its own, over your GeoTIFFs or the sample data."""

from __future__ import annotations

import argparse
import ctypes
import os
from pathlib import Path

import platformdirs

from imageservice.server.limits import MEMORY_BUDGET_ENV, budget_from_environment
from imageservice.server.server import RedactingRequestHandler, create_app

DATA_ENV = "IMAGESERVICE_DATA_DIR"
M_ARENA_MAX = -8                         # glibc's mallopt option, as MALLOC_ARENA_MAX sets it


def default_data_dir() -> Path:
    """$IMAGESERVICE_DATA_DIR, else the user's data folder (~/.local/share/imageservice on Linux):
    never inside the installed package, which may be read-only and is replaced on upgrade."""
    return Path(os.environ.get(DATA_ENV) or platformdirs.user_data_dir("imageservice", appauthor=False))


def parse_user(text: str) -> tuple[str, str]:
    name, sep, password = text.partition(":")
    if not sep or not name or not password:
        raise argparse.ArgumentTypeError("expected NAME:PASSWORD")
    return name, password


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError("expected a whole number of at least 1")
    return int(text)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="imageservice-server", description=__doc__)
    parser.add_argument("data", nargs="?", type=Path, default=None, metavar="DIR",
                        help="folder of services (one subfolder of GeoTIFFs each); an empty or new folder gets the "
                             f"generated sample data. Default: ${DATA_ENV}, else {default_data_dir()}")
    parser.add_argument("--data", dest="data_option", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--secure", action="store_true", help="require tokens from /arcgis/tokens/generateToken")
    parser.add_argument("--user", type=parse_user, action="append", default=[], metavar="NAME:PASSWORD",
                        help="a user allowed to generate tokens (repeatable; needs --secure)")
    parser.add_argument("--memory-budget-mb", type=positive_int, default=None, metavar="MB",
                        help="pixel memory the requests may hold at once; larger requests are refused. "
                             f"Default: ${MEMORY_BUDGET_ENV}, else {budget_from_environment()}")
    options = parser.parse_args(argv)
    if options.secure and not options.user:
        parser.error("--secure needs at least one --user NAME:PASSWORD")
    options.data = options.data or options.data_option or default_data_dir()
    return options


def limit_malloc_arenas() -> None:
    """Two glibc malloc arenas, as scripts/serve.sh gives gunicorn with MALLOC_ARENA_MAX=2. The
    server runs each request in a thread; with glibc's default (8 arenas per core) the memory one
    request freed stays with its thread's arena while the next allocates anew, and the peak RSS
    of large requests doubled (bench/RESULTS.md, bench.fuzz). An explicit MALLOC_ARENA_MAX wins;
    without glibc this does nothing."""
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is not None and "MALLOC_ARENA_MAX" not in os.environ:
        mallopt(M_ARENA_MAX, 2)


def main(argv: list[str] | None = None) -> None:
    limit_malloc_arenas()
    options = parse_args(argv)
    app = create_app(options.data, secure=options.secure, users=dict(options.user),
                     memory_budget_mb=options.memory_budget_mb)
    print(f"Serving the services in {options.data}:", flush=True)
    root = f"http://{options.host}:{options.port}/arcgis/rest/services"
    for name in sorted(app.config["IMAGE_SERVICES"]):
        print(f"  {root}/{name}/ImageServer", flush=True)
    if options.secure:
        print(f"tokens: http://{options.host}:{options.port}/arcgis/tokens/generateToken", flush=True)
    app.run(host=options.host, port=options.port, threaded=True, request_handler=RedactingRequestHandler)


if __name__ == "__main__":
    main()
