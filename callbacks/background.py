"""Where Dash background callbacks (temporal profiles, histograms) run.

A disk cache shared by every process on the machine, so the dashboard's workers and the
callback processes they start see the same results.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import diskcache
from dash import DiskcacheManager

CACHE_DIR = Path(os.environ.get("IMAGESERVICE_CALLBACK_CACHE") or Path(tempfile.gettempdir()) / "dash-imageservice-callbacks")


def background_manager(cache_dir: Path = CACHE_DIR) -> DiskcacheManager:
    """The manager for `Dash(background_callback_manager=...)`; results expire after an hour."""
    return DiskcacheManager(diskcache.Cache(str(cache_dir)), expire=3600)
