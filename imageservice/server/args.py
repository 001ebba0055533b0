"""Request arguments read the way ArcGIS Server reads them.

Names are case-insensitive, blanks are trimmed, and an empty value means "not given"
(HTML forms and many scripts send `bboxSR=&time=`). Numbers must be finite, in plain parameters
and inside JSON ones, and JSON may nest only `MAX_JSON_DEPTH` levels: anything else is a 400 that
names the parameter, never a failure further down.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

from .errors import BadParameter
from .limits import MAX_JSON_DEPTH


def finite_number(text: str) -> float:
    """A number written as text; ValueError for anything else, infinities and NaN included."""
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text!r} is not a finite number")
    return number


def finite_integer(text: str) -> int:
    """A JSON integer within a float's range: ids, times and coordinates are all used as floats."""
    finite_number(text)
    return int(text)


def refuse_constant(name: str) -> float:
    """json's hook for the NaN and Infinity literals: they are not numbers here."""
    raise ValueError(f"{name} is not a finite number")


def json_depth(value: Any) -> int:
    """How deeply lists and objects nest in a parsed JSON value (a scalar is 0)."""
    depth, level = 0, [(value, 1)]
    while level:
        item, at = level.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is not None:
            depth = max(depth, at)
            level.extend((child, at + 1) for child in children)
    return depth


def parse_json(text: str, name: str) -> Any:
    """The JSON value of parameter `name`: finite numbers only, nested at most MAX_JSON_DEPTH deep."""
    too_deep = BadParameter(f"'{name}' parameter is invalid: JSON nested deeper than {MAX_JSON_DEPTH} levels.")
    try:
        parsed = json.loads(text, parse_float=finite_number, parse_int=finite_integer, parse_constant=refuse_constant)
    except RecursionError:
        raise too_deep from None
    except json.JSONDecodeError:
        raise BadParameter(f"'{name}' parameter is not valid JSON.") from None
    except ValueError:          # from the hooks: NaN, Infinity or a number beyond a float's range
        raise BadParameter(f"'{name}' parameter is invalid: numbers must be finite.") from None
    if json_depth(parsed) > MAX_JSON_DEPTH:
        raise too_deep
    return parsed


class Args:
    """Case-insensitive, empty-means-absent view over GET query and POST form values."""

    def __init__(self, pairs: Iterable[tuple[str, str]] | Mapping[str, str]) -> None:
        items = pairs.items() if isinstance(pairs, Mapping) else pairs
        self._values: dict[str, str] = {}
        for key, value in items:
            value = (value or "").strip()
            if value:
                self._values[key.strip().lower()] = value

    def with_value(self, name: str, value: str) -> Args:
        """A copy with `name` set to `value` (a server-side default the request did not give)."""
        return Args({**self._values, name.lower(): value})

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
        return None if value is None else parse_json(value, name)

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
            return int(finite_number(value))
        except ValueError:
            raise BadParameter(f"'{name}' parameter must be a finite number.") from None

    def numbers(self, name: str) -> list[float] | None:
        """A comma (or space) separated list of finite numbers, e.g. bbox, size, noData."""
        value = self.get(name)
        if value is None:
            return None
        parts = [p for p in value.replace(" ", ",").split(",") if p]
        try:
            return [finite_number(p) for p in parts]
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
            ends = [None if p.lower() in ("null", "") else int(finite_number(p)) for p in parts]
        except ValueError:
            raise BadParameter("'time' parameter is invalid.") from None
        start, end = (ends[0], ends[0]) if len(ends) == 1 else (ends[0], ends[1])
        if start is not None and end is not None and start > end:
            raise BadParameter("'time' parameter is invalid: start is after end.")
        return start, end
