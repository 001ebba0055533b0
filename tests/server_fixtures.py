"""Shared fixtures for the ImageServer tests: sample data made once, real servers on 127.0.0.1.

Import the fixtures you use into a test module (`from server_fixtures import server_url, ...`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from imageservice.server.catalog import Service, load_services
from imageservice.server.sampledata import ensure_sample_data
from imageservice.server.server import RedactingRequestHandler, create_app, create_blueprint
from imageservice.server.tokens import Security

SAMPLE_SIZE = int(os.environ.get("SAMPLE_SIZE", "64"))  # README screenshots use the full 1280
USERS = {"analyst": "s3cret-pass"}
TOKEN_MINUTES = 60


class FakeClock:
    """A settable epoch-seconds clock, so token expiry is tested without waiting."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@contextmanager
def serving(app: Flask, request_handler: type | None = RedactingRequestHandler) -> Iterator[str]:
    """Run `app` on an ephemeral 127.0.0.1 port in a thread; yields the base URL.
    `request_handler=None` keeps werkzeug's own (unredacted) access log."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=request_handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


@pytest.fixture(scope="session")
def sample_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_sample_data(tmp_path_factory.mktemp("sampledata"), size=SAMPLE_SIZE)


@pytest.fixture(scope="session")
def services(sample_root: Path) -> dict[str, Service]:
    return load_services(sample_root)


@pytest.fixture(scope="session")
def server_url(sample_root: Path) -> Iterator[str]:
    with serving(create_app(sample_root)) as url:
        yield url


@pytest.fixture(scope="session")
def token_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def secure_url(services: dict[str, Service], token_clock: FakeClock) -> Iterator[str]:
    """A token-secured instance whose clock the tests move."""
    app = Flask("secure_imageserver")
    security = Security(USERS, token_minutes=TOKEN_MINUTES, clock=token_clock)
    app.register_blueprint(create_blueprint(services, security=security), url_prefix="/arcgis")
    with serving(app) as url:
        yield url
