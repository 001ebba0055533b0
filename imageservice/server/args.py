"""Request arguments read the way ArcGIS Server reads them.

Names are case-insensitive, blanks are trimmed, and an empty value means "not given"
(HTML forms and many scripts send `bboxSR=&time=`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from .errors import BadParameter


class Args:
    """Case-insensitive, empty-means-absent view over GET query and POST form values."""

    def __init__(self, pairs: Iterable[tuple[str, str]] | Mapping[str, str]) -> None:
        items = pairs.items() if isinstance(pairs, Mapping) else pairs
        self._values: dict[str, str] = {}
        for key, value in items:
            value = (value or "").strip()
            if value:
                self._values[key.strip().lower()] = value

    def get(self, name: str, default: str | None = None) -> str | None:
        return self._values.get(name.lower(), default)

    def __contains__(self, name: str) -> bool:
        return name.lower() in self._values

    def require(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise BadParameter(f"'{name}' parameter is required.")
        return value

    def json(self, name: str) -> Any:
        """A JSON-valued parameter (mosaicRule, renderingRule, geometry, ...), or None."""
        value = self.get(name)
        if value is None:
            return None
        try:
            return json.loads(value)
        except ValueError:
            raise BadParameter(f"'{name}' parameter is not valid JSON.") from None

    def boolean(self, name: str, default: bool) -> bool:
        value = self.get(name)
        if value is None:
            return default
        lowered = value.lower()
        if lowered in ("true", "1", "yes"):
            return True
        if lowered in ("false", "0", "no"):
            return False
        raise BadParameter(f"'{name}' parameter must be true or false.")

    def integer(self, name: str, default: int | None = None) -> int | None:
        value = self.get(name)
        if value is None:
            return default
        try:
            return int(float(value))
        except ValueError:
            raise BadParameter(f"'{name}' parameter must be a number.") from None

    def numbers(self, name: str) -> list[float] | None:
        """A comma (or space) separated list of numbers, e.g. bbox, size, noData."""
        value = self.get(name)
        if value is None:
            return None
        parts = [p for p in value.replace(" ", ",").split(",") if p]
        try:
            return [float(p) for p in parts]
        except ValueError:
            raise BadParameter(f"'{name}' parameter is invalid.") from None

    def time_range(self) -> tuple[int | None, int | None] | None:
        """`time=t` or `time=t1,t2` in epoch ms; `null` means an open end."""
        value = self.get("time")
        if value is None:
            return None
        parts = [p.strip() for p in value.split(",")]
        if len(parts) not in (1, 2):
            raise BadParameter("'time' parameter is invalid.")
        try:
            ends = [None if p.lower() in ("null", "") else int(float(p)) for p in parts]
        except ValueError:
            raise BadParameter("'time' parameter is invalid.") from None
        start, end = (ends[0], ends[0]) if len(ends) == 1 else (ends[0], ends[1])
        if start is not None and end is not None and start > end:
            raise BadParameter("'time' parameter is invalid: start is after end.")
        return start, end
