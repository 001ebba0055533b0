"""What one request may cost the embedded server, checked before anything big is allocated.

Pixel memory is the one cost that grows with the request (size x bands), so it gets a budget: a
request needing more than the whole budget is refused; requests that fit share the budget, and one
that does not fit beside the others waits for them. The estimate is `BYTES_PER_VALUE` per pixel
and band held, plus `OVERHEAD_BANDS` bands' worth per pixel for what every pixel costs whatever the
band count (coordinates, masks, the RGBA picture). Those figures were measured as peak RSS growth
over exportImage and computeHistograms paths (mosaic operations, resampling, raster functions,
formats); see docs/server.md, "Limits".

The other limits bound what parsing may cost: the request body, JSON nesting and geometry size.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from .errors import INVALID_PARAMETERS, UNABLE_TO_COMPLETE, ArcGISError

MB = 2**20
MEMORY_BUDGET_ENV = "IMAGESERVICE_MEMORY_BUDGET_MB"
DEFAULT_MEMORY_BUDGET_MB = 1024          # sized for a 2-core / 4 GB machine (docs/server.md)
BYTES_PER_VALUE = 32                     # peak bytes per pixel and band through the pixel pipeline
OVERHEAD_BANDS = 3                       # per-pixel cost that does not depend on the band count
BUDGET_WAIT_SECONDS = 60.0               # how long a request waits for others to free the budget
MAX_BODY_BYTES = MB                      # a POST form; GET URLs are limited by the HTTP server
MAX_JSON_DEPTH = 100                     # nesting of JSON parameters (a 32-function rule needs ~66)
MAX_GEOMETRY_VERTICES = 10_000           # vertices of a geometry parameter
RGB_BANDS = 3                            # a band list may always name this many (`0,0,0`: one band in grey)
SIZE_LIMIT = "The requested image exceeds the size limit."
BUSY = "The server is busy with other large requests; try again shortly."


def request_bytes(width: int, height: int, bands: int) -> int:
    """The estimated peak memory of a request producing width x height pixels of `bands` bands."""
    return width * height * (bands + OVERHEAD_BANDS) * BYTES_PER_VALUE


def band_list_limit(band_count: int) -> int:
    """How many ids a band list (bandIds, ExtractBand's BandIDs) may hold for a raster of
    `band_count` bands: ids may repeat, but no list can make a raster wider than max(bands, 3)."""
    return max(band_count, RGB_BANDS)


def budget_from_environment() -> int:
    """The memory budget in MB: $IMAGESERVICE_MEMORY_BUDGET_MB, else the default."""
    text = os.environ.get(MEMORY_BUDGET_ENV, "").strip()
    if not text:
        return DEFAULT_MEMORY_BUDGET_MB
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{MEMORY_BUDGET_ENV} must be a whole number of megabytes, not {text!r}")
    return int(text)


class MemoryBudget:
    """The pixel memory the requests of one server process may hold at the same time."""

    def __init__(self, megabytes: int, wait_seconds: float = BUDGET_WAIT_SECONDS) -> None:
        if megabytes < 1:
            raise ValueError("the memory budget must be at least 1 MB")
        self.megabytes = megabytes
        self.wait_seconds = wait_seconds
        self._held = 0
        self._room = threading.Condition()

    @property
    def limit(self) -> int:
        return self.megabytes * MB

    @contextmanager
    def reserve(self, width: int, height: int, bands: int) -> Iterator[None]:
        """Hold the request's estimated memory while it runs; refuse a request bigger than the
        whole budget, and wait (up to `wait_seconds`) while others hold too much of it."""
        need = request_bytes(width, height, bands)
        if need > self.limit:
            raise ArcGISError(400, INVALID_PARAMETERS, [SIZE_LIMIT, self.refusal(width, height, bands, need)])
        with self._room:
            if not self._room.wait_for(lambda: self._held + need <= self.limit, self.wait_seconds):
                raise ArcGISError(503, UNABLE_TO_COMPLETE, [BUSY])
            self._held += need
        try:
            yield
        finally:
            with self._room:
                self._held -= need
                self._room.notify_all()

    def refusal(self, width: int, height: int, bands: int, need: int) -> str:
        return (f"{width} x {height} pixels with {bands} band(s) need about {math.ceil(need / MB)} MB, "
                f"more than the memory budget of {self.megabytes} MB: ask for fewer pixels or bands.")
