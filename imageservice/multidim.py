"""Multidimensional image services: `multidimensionalInfo` as typed objects, and the mosaic rule's
`multidimensionalDefinition` that picks a variable at given dimension values.

ArcGIS serves climate, ocean and weather cubes as image services with `hasMultidimensions: true`:
each variable (temperature, salinity) has dimensions (`StdTime` in epoch ms, `StdZ` in metres,
negative below the surface), and a request shows one slice when its mosaic rule names the
variable and one value per dimension. Pure functions, no I/O and no pandas here: the slice
tables are in `imageservice.tables`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from imageservice.errors import InvalidResponse, ParameterError
from imageservice.params import DEFINITION_KEY, parse_multidimensional_definition, to_epoch_ms

TIME_DIMENSION = "StdTime"
TIME_UNIT = "ISO8601"
INFO_PARAMS = {"returnDimensionValues": "always"}  # every dimension's values, also regular ones
Value = int | float | tuple[float, float]


@dataclass(frozen=True)
class Dimension:
    """One dimension of a variable, as multidimensionalInfo describes it."""

    name: str  # "StdTime", "StdZ"
    description: str
    unit: str  # "ISO8601" for time, "m" for depth
    field: str  # the catalog field holding the slice's value (usually the name)
    values: tuple[Value, ...]  # ascending; (start, end) pairs when has_ranges; () when not sent
    extent: tuple[float, float] | None
    has_ranges: bool
    has_regular_intervals: bool
    interval: float | None
    interval_unit: str | None  # "Months", "Hours"... for time; the unit otherwise
    recurring: bool

    @property
    def is_time(self) -> bool:
        return self.name == TIME_DIMENSION or self.unit.upper() == TIME_UNIT


@dataclass(frozen=True)
class Statistics:
    """A variable's statistics over all its slices (one band), for a legend or a stretch."""

    min: float
    max: float
    mean: float | None
    standard_deviation: float | None


@dataclass(frozen=True)
class Variable:
    name: str
    description: str
    unit: str
    dimensions: tuple[Dimension, ...]
    statistics: tuple[Statistics, ...]  # one per band, when the service sends them

    def dimension(self, name: str) -> Dimension:
        for dimension in self.dimensions:
            if dimension.name == name:
                return dimension
        known = ", ".join(d.name for d in self.dimensions) or "none"
        raise ParameterError(f"variable {self.name!r} has no dimension {name!r}; its dimensions: {known}")

    @property
    def time(self) -> Dimension | None:
        return next((d for d in self.dimensions if d.is_time), None)


@dataclass(frozen=True)
class MultidimensionalInfo:
    variables: tuple[Variable, ...]

    def variable(self, name: str) -> Variable:
        for variable in self.variables:
            if variable.name == name:
                return variable
        known = ", ".join(v.name for v in self.variables) or "none"
        raise ParameterError(f"unknown variable {name!r}; the service has: {known}")

    @property
    def variable_names(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.variables)


# --- parsing -----------------------------------------------------------------------------------


def parse_multidimensional_info(response: Mapping[str, Any]) -> MultidimensionalInfo:
    """MultidimensionalInfo from `GET <service>/multidimensionalInfo?f=json`; InvalidResponse for
    anything else (an error body, a service that is not multidimensional)."""
    if not isinstance(response, Mapping):
        raise InvalidResponse(f"multidimensionalInfo must be a JSON object; got {type(response).__name__}")
    if isinstance(response.get("error"), Mapping):
        error = response["error"]
        details = " ".join(str(d) for d in error.get("details") or [])
        raise InvalidResponse(f"the service has no multidimensional information: {error.get('message')} {details}".strip())
    info = response.get("multidimensionalInfo")
    if not isinstance(info, Mapping) or not isinstance(info.get("variables"), list):
        raise InvalidResponse(f"this is not a multidimensionalInfo answer: {str(response)[:200]}")
    return MultidimensionalInfo(tuple(_variable(v) for v in info["variables"]))


def _variable(variable: Mapping[str, Any]) -> Variable:
    return Variable(
        name=str(variable.get("name") or ""),
        description=str(variable.get("description") or ""),
        unit=str(variable.get("unit") or ""),
        dimensions=tuple(_dimension(d) for d in variable.get("dimensions") or ()),
        statistics=tuple(_statistics(s) for s in variable.get("statistics") or () if isinstance(s, Mapping)
                         and s.get("min") is not None and s.get("max") is not None),
    )


def _dimension(dimension: Mapping[str, Any]) -> Dimension:
    has_ranges = bool(dimension.get("hasRanges"))
    values = tuple(tuple(v) if isinstance(v, list) else v for v in dimension.get("values") or ())
    extent = dimension.get("extent")
    regular = bool(dimension.get("hasRegularIntervals"))
    return Dimension(
        name=str(dimension.get("name") or ""),
        description=str(dimension.get("description") or ""),
        unit=str(dimension.get("unit") or ""),
        field=str(dimension.get("field") or dimension.get("name") or ""),
        values=values,
        extent=tuple(extent) if isinstance(extent, list) and len(extent) == 2 else None,
        has_ranges=has_ranges,
        has_regular_intervals=regular,
        interval=dimension.get("interval") if regular else None,
        interval_unit=dimension.get("intervalUnit") if regular else None,
        recurring=bool(dimension.get("recurring")),
    )


def _statistics(stats: Mapping[str, Any]) -> Statistics:
    def number(key: str) -> float | None:
        return None if stats.get(key) is None else float(stats[key])

    return Statistics(float(stats["min"]), float(stats["max"]), number("mean"), number("standardDeviation"))


# --- the mosaic rule's multidimensionalDefinition ------------------------------------------------


def dimension_value(dimension_name: str, value: Any) -> float | int | list[float]:
    """A value as the wire wants it: times (datetime, date, ISO text) as epoch ms for StdTime,
    numbers as they are, (min, max) as a range."""
    if isinstance(value, (list, tuple)):
        return [dimension_value(dimension_name, v) for v in value]
    if dimension_name == TIME_DIMENSION:
        return to_epoch_ms(value, dimension_name)
    return value


def slice_definition(variable: str, **dimension_values: Any) -> list[dict]:
    """The definition of "this variable at this time and depth":
    `slice_definition("temperature", StdTime=datetime(2025, 3, 15), StdZ=-50)`. Without
    dimension values it selects the variable alone (the server picks the slice)."""
    if not dimension_values:
        return [{"variableName": variable}]
    return [{"variableName": variable, "dimensionName": name, "values": [dimension_value(name, value)], "isSlice": True}
            for name, value in dimension_values.items()]


def with_definition(rule: Mapping[str, Any] | None, definition: Sequence[Mapping[str, Any]] | None) -> dict | None:
    """A mosaic rule with its multidimensionalDefinition replaced (removed when None); the rule's
    other keys (method, where, lockRasterIds...) are kept. None when nothing is left."""
    kept = {key: value for key, value in (rule or {}).items() if key != DEFINITION_KEY}
    if definition:
        kept[DEFINITION_KEY] = parse_multidimensional_definition(list(definition))
    return kept or None


def selection_of(rule: Mapping[str, Any] | None) -> tuple[str | None, dict[str, Any]]:
    """(variable, {dimension: value}) of the first variable a mosaic rule's definition names, one
    single value per dimension; (None, {}) without a definition."""
    definition = (rule or {}).get(DEFINITION_KEY) or []
    if not definition:
        return None, {}
    variable = definition[0].get("variableName")
    values = {entry["dimensionName"]: entry["values"][0] for entry in definition
              if entry.get("variableName") == variable and entry.get("dimensionName") and entry.get("values")}
    return variable, values


def check_selection(info: MultidimensionalInfo, variable: str, dimension_values: Mapping[str, Any]) -> None:
    """A ParameterError naming the variable, dimension or value the service does not have."""
    var = info.variable(variable)
    for name, value in dimension_values.items():
        dimension = var.dimension(name)
        wanted = dimension_value(name, value)
        if dimension.values and not any(_same(wanted, v) for v in dimension.values):
            raise ParameterError(f"{name} of {variable!r} has no value {value!r}")


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        return list(a) == list(b) if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) else False
    return abs(float(a) - float(b)) <= 1e-6 * max(1.0, abs(float(b)))


def profile_definition(variable: str, along: str, fixed: Mapping[str, Any]) -> list[dict]:
    """The definition for a profile of `variable` along one dimension: every other dimension held
    at its `fixed` value, the `along` one left free (all its slices)."""
    fixed = {name: value for name, value in fixed.items() if name != along}
    return slice_definition(variable, **fixed)


def default_value(dimension: Dimension) -> Value | None:
    """Where a control for the dimension starts: the first time, else the level nearest zero (the
    sea surface or the ground), else the first value."""
    if not dimension.values:
        return None
    if dimension.is_time or dimension.has_ranges:
        return dimension.values[0]
    return min(dimension.values, key=lambda v: abs(float(v)))
