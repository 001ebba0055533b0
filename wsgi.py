"""The dashboard for team hosting: `gunicorn wsgi:server` and `celery --app wsgi:celery worker`.

Asking this module for `server` or `celery` builds the dashboard, once, from the environment (the
IMAGESERVICE_* variables `app.py` reads, and REDIS_URL). It is a module of its own, not a factory in
app.py, because the Celery worker needs a module attribute whose lookup builds the very same Dash
app: building it is what registers the background callbacks as Celery tasks. `scripts/serve.sh`
runs both; see docs/hosting.md.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dash import Dash

from app import build, parse_args
from callbacks.background import REDIS_ENV, celery_app


@contextmanager
def data_lock(data_dir: Path) -> Iterator[None]:
    """One process at a time per data folder: the first one generates the sample data into an
    empty folder, the others (gunicorn, the Celery worker, other hosts' mounts) wait, then load it.
    The lock file sits in the temporary folder, so a read-only data folder works too."""
    digest = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:16]
    with open(Path(tempfile.gettempdir()) / f"imageservice-data-{digest}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@functools.cache
def dashboard() -> Dash:
    """The dashboard `python app.py` would serve with no arguments, with its embedded ImageServer.
    It refuses to start as app.py does: IMAGESERVICE_HOST is where serve.sh binds gunicorn."""
    args = parse_args([])
    with data_lock(args.data_dir):
        return build(args)


def __getattr__(name: str) -> object:
    """`server`: the WSGI callable gunicorn serves; `celery`: the Celery app the worker runs, with
    the dashboard's background callbacks registered on it."""
    if name not in ("server", "celery"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if name == "celery" and not os.environ.get(REDIS_ENV):
        raise RuntimeError("REDIS_URL is not set: without it background callbacks run in the web server "
                           "(disk cache) and there is no Celery worker to start.")
    try:
        app = dashboard()
    except AttributeError as error:  # gunicorn and Celery would report it as "no attribute 'server'"
        raise RuntimeError(f"building the dashboard failed: {error!r}") from error
    return app.server if name == "server" else celery_app(os.environ[REDIS_ENV])
