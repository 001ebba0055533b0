"""TiTiler, the peer of the identify and exportImage benchmarks, in its own process (so it shares no
GIL with the load generator): `python -m bench.servers titiler PORT`, run with the Python of
`.venv-titiler` (bench/README.md). The embedded server is started as the README does, by
`scripts/run.sh` (bench/common.py, readme_server).
"""

from __future__ import annotations

import argparse
import warnings


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
    titiler = commands.add_parser("titiler")
    titiler.add_argument("port", type=int)
    options = parser.parse_args()
    serve_titiler(options.port)


if __name__ == "__main__":
    main()
