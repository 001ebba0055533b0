"""`python -m sampleserver`: the ImageServer on its own, over a folder of GeoTIFFs or the sample data."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from .server import RedactingRequestHandler, create_app

DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / ".data"


def parse_user(text: str) -> tuple[str, str]:
    name, sep, password = text.partition(":")
    if not sep or not name or not password:
        raise argparse.ArgumentTypeError("expected NAME:PASSWORD")
    return name, password


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sampleserver", description=__doc__)
    parser.add_argument("--data", type=Path, default=None,
                        help="folder of services (one subfolder each); default: the generated sample data "
                             "in $IMAGESERVICE_DATA_DIR or .data/")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--secure", action="store_true", help="require tokens from /arcgis/tokens/generateToken")
    parser.add_argument("--user", type=parse_user, action="append", default=[], metavar="NAME:PASSWORD",
                        help="a user allowed to generate tokens (repeatable; needs --secure)")
    options = parser.parse_args(argv)
    if options.secure and not options.user:
        parser.error("--secure needs at least one --user NAME:PASSWORD")
    data_dir = options.data or Path(os.environ.get("IMAGESERVICE_DATA_DIR") or DEFAULT_DATA_DIR)
    app = create_app(data_dir, secure=options.secure, users=dict(options.user))
    root = f"http://{options.host}:{options.port}/arcgis/rest/services"
    for name in sorted(app.config["IMAGE_SERVICES"]):
        print(f"{root}/{name}/ImageServer")
    if options.secure:
        print(f"tokens: http://{options.host}:{options.port}/arcgis/tokens/generateToken")
    app.run(host=options.host, port=options.port, threaded=True, request_handler=RedactingRequestHandler)


if __name__ == "__main__":
    main()
