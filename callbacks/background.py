"""Where Dash background callbacks (temporal profiles, histograms) run.

Without `REDIS_URL`: a disk cache shared by every process on the machine, so the dashboard's
workers and the callback processes they start see the same results. With `REDIS_URL` (team
hosting): a Celery queue on that Redis, so the jobs run in Celery workers, on any machine, and
the results and progress live in Redis where every dashboard worker can read them.
"""

from __future__ import annotations

import functools
import os
import tempfile
from pathlib import Path

import diskcache
from dash import CeleryManager, DiskcacheManager

REDIS_ENV = "REDIS_URL"
CACHE_DIR = Path(os.environ.get("IMAGESERVICE_CALLBACK_CACHE") or Path(tempfile.gettempdir()) / "dash-imageservice-callbacks")
EXPIRE_SECONDS = 3600


@functools.cache
def celery_app(redis_url: str):
    """The one Celery app per Redis URL in this process: the Dash app registers its background
    callbacks on it as tasks, and a worker started on it (`celery --app wsgi:celery`) runs them."""
    from celery import Celery  # only needed, and only installed, for team hosting

    app = Celery("imageservice", broker=redis_url, backend=redis_url)
    app.conf.update(
        broker_connection_retry_on_startup=True,
        result_expires=EXPIRE_SECONDS,
        worker_prefetch_multiplier=1,  # a profile is long: do not let one worker hoard the queue
    )
    return app


def background_manager(cache_dir: Path = CACHE_DIR, redis_url: str | None = None) -> DiskcacheManager | CeleryManager:
    """The manager for `Dash(background_callback_manager=...)`: Celery on `redis_url` (default
    the `REDIS_URL` environment variable) when set, else the disk cache; results expire after an hour."""
    redis_url = redis_url or os.environ.get(REDIS_ENV)
    if redis_url:
        return CeleryManager(celery_app(redis_url), expire=EXPIRE_SECONDS)
    return DiskcacheManager(diskcache.Cache(str(cache_dir)), expire=EXPIRE_SECONDS)
