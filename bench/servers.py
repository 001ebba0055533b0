"""The two HTTP servers under test, each in its own child process so neither shares a GIL with the
load generator: `python -m bench.servers embedded DATA_DIR PORT` or `python -m bench.servers titiler PORT`.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import warnings
from pathlib import Path

EMBEDDED_THREADS = 4  # waitress worker threads: as many as the concurrent clients


def has_waitress() -> bool:
    return importlib.util.find_spec("waitress") is not None


def embedded_server_name() -> str:
    """What serves the embedded ImageServer in the benchmarks, for the report."""
    return f"waitress, {EMBEDDED_THREADS} threads" if has_waitress() else "werkzeug, threaded"


def serve_embedded(data_dir: Path, port: int) -> None:
    """The embedded ImageServer (the standalone Flask app) under waitress, a production WSGI server,
    or werkzeug's threaded server when waitress is not installed."""
    from imageservice.server.server import create_app

    app = create_app(data_dir)
    if not has_waitress():
        app.run(host="127.0.0.1", port=port, threaded=True)
        return
    from waitress import serve

    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # a queued request is expected at 4 clients
    serve(app, host="127.0.0.1", port=port, threads=EMBEDDED_THREADS, _quiet=True)


def serve_titiler(port: int) -> None:
    """titiler.core's stock TilerFactory (GeoTIFF by `url=` path) under uvicorn, one worker."""
    import uvicorn
    from fastapi import FastAPI
    from rasterio.errors import NotGeoreferencedWarning
    from titiler.core.factory import TilerFactory

    # rio-tiler encodes PNGs through an ungeoreferenced GDAL MemoryFile; GDAL's warning says nothing here.
    warnings.filterwarnings("ignore", category=NotGeoreferencedWarning)
    app = FastAPI()
    app.include_router(TilerFactory().router)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.servers", description=__doc__)
    commands = parser.add_subparsers(dest="server", required=True)
    embedded = commands.add_parser("embedded")
    embedded.add_argument("data_dir", type=Path)
    embedded.add_argument("port", type=int)
    titiler = commands.add_parser("titiler")
    titiler.add_argument("port", type=int)
    options = parser.parse_args()
    if options.server == "embedded":
        serve_embedded(options.data_dir, options.port)
    else:
        serve_titiler(options.port)


if __name__ == "__main__":
    main()
