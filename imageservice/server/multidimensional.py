"""Multidimensional services: variables and dimensions read from the catalog items, and the
slices a `multidimensionalDefinition` selects.

ArcGIS stores multidimensional data as a mosaic dataset whose items each hold one slice: a
`Variable` attribute and one attribute per dimension (`StdTime`, `StdZ`). A folder whose sidecar
items carry `Variable` is served the same way. Which variables there are, their units and the
values of their dimensions are all derived from the items; the sidecar only adds descriptions
and units (`variables`, `dimensions`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import BadParameter, UnableToComplete

if TYPE_CHECKING:                        # the catalog builds services with this module's help
    from .catalog import FileScan, Item, Service

VARIABLE_FIELD = "Variable"
STANDARD_DIMENSIONS = ("StdTime", "StdZ")
TIME_UNIT = "ISO8601"
TOLERANCE = 1e-6                         # how close a requested value must be to a slice's
ITEM_CHOICES = ("fids", "where", "lockrasterids")   # mosaic rule keys that pick items themselves
NOT_MULTIDIMENSIONAL = "The service has no multidimensional information."
TIME_STEPS_MS = (("Days", 86_400_000), ("Hours", 3_600_000), ("Minutes", 60_000), ("Seconds", 1000))


@dataclass(frozen=True)
class Dimension:
    """One dimension of a variable: its attribute field and the values its slices take (ascending)."""
    name: str
    description: str
    unit: str
    values: tuple[float, ...]

    @property
    def is_time(self) -> bool:
        return self.unit == TIME_UNIT


@dataclass(frozen=True)
class Variable:
    name: str
    description: str
    unit: str
    dimensions: tuple[Dimension, ...]
    statistics: tuple[float, float, float, float]   # min, max, mean, standard deviation of band 1

    def dimension(self, name: str) -> Dimension:
        """The dimension of this name (any case); a 400 naming both when the variable has none."""
        for dimension in self.dimensions:
            if dimension.name.lower() == name.lower():
                return dimension
        raise invalid(f"unknown dimension '{name}' of variable '{self.name}'.")


@dataclass(frozen=True)
class Multidimensional:
    """The variables of a service, in the order their first slice appears in the catalog."""
    variables: tuple[Variable, ...]

    def find(self, name: str) -> Variable | None:
        """The variable of this name (any case), if there is one."""
        return next((v for v in self.variables if v.name.lower() == name.lower()), None)

    def variable(self, name: str) -> Variable:
        """The variable of this name (any case); a 400 when there is none."""
        found = self.find(name)
        if found is None:
            raise invalid(f"unknown variable '{name}'.")
        return found

    def slice_key(self, item: Item) -> tuple:
        """Slices in the order of the multidimensionalInfo: variable, then each dimension's value."""
        variable = self.variable(item.attributes[VARIABLE_FIELD])
        values = (item.attributes.get(d.name) for d in variable.dimensions)
        return (self.variables.index(variable), *(-math.inf if v is None else v for v in values))


def invalid(detail: str) -> BadParameter:
    return BadParameter(f"'multidimensionalDefinition' is invalid: {detail}")


# ----------------------------------------------------------------------------------------------
# Reading the catalog


def read_multidimensional(sidecar: Mapping[str, Any], items: Sequence[Item],
                          scans: Sequence[FileScan]) -> Multidimensional | None:
    """The variables and dimensions of a catalog whose items carry `Variable`; None otherwise.
    `scans` are the items' file scans, in the same order, for the per-variable statistics."""
    from .catalog import pooled_statistics   # catalog imports this module, so not at the top

    if not any(item.attributes.get(VARIABLE_FIELD) for item in items):
        return None
    texts = sidecar.get("variables") or {}
    dimension_texts = sidecar.get("dimensions") or {}
    if not isinstance(texts, dict) or not isinstance(dimension_texts, dict):
        raise ValueError("'variables' and 'dimensions' must map names to {\"description\", \"unit\"}")
    names = list(dimension_texts) or [n for n in STANDARD_DIMENSIONS if any(n in i.attributes for i in items)]
    variables = []
    for variable_name in dict.fromkeys(str(i.attributes[VARIABLE_FIELD]) for i in items
                                       if i.attributes.get(VARIABLE_FIELD)):
        chosen = [index for index, item in enumerate(items) if item.attributes.get(VARIABLE_FIELD) == variable_name]
        dimensions = tuple(dimension_of(name, dimension_texts.get(name) or {}, [items[i] for i in chosen])
                           for name in names)
        text = texts.get(variable_name) or {}
        variables.append(Variable(
            name=variable_name,
            description=str(text.get("description") or variable_name),
            unit=str(text.get("unit") or ""),
            dimensions=tuple(d for d in dimensions if d.values),
            statistics=pooled_statistics([scans[i] for i in chosen])[0],
        ))
    return Multidimensional(tuple(variables))


def dimension_of(name: str, text: Mapping[str, Any], items: Sequence[Item]) -> Dimension:
    """A dimension from the values its items hold in the attribute of the same name."""
    values = sorted({float(item.attributes[name]) for item in items if item.attributes.get(name) is not None})
    default_unit = TIME_UNIT if name == "StdTime" else ""
    return Dimension(name=name, description=str(text.get("description") or name),
                     unit=str(text.get("unit") or default_unit), values=tuple(values))


# ----------------------------------------------------------------------------------------------
# multidimensionalInfo


def multidimensional_info(service: Service, return_values: str | None) -> dict:
    """The `multidimensionalInfo` resource; `returnDimensionValues` is always, never or ifIrregular."""
    info = required(service)
    mode = (return_values or "always").lower()
    if mode not in ("always", "never", "ifirregular"):
        raise BadParameter("'returnDimensionValues' parameter is invalid.")
    return {"multidimensionalInfo": {"variables": [variable_json(v, mode) for v in info.variables]}}


def requested_variable(service: Service, name: str | None) -> Variable | None:
    """The `variable` parameter of statistics, histograms and legend: None when it is not given
    or the service has no variables (as ArcGIS ignores it there), a 400 when it names none."""
    if not name or service.multidimensional is None:
        return None
    found = service.multidimensional.find(name)
    if found is None:
        raise BadParameter(f"'variable' parameter is invalid: unknown variable '{name}'.")
    return found


def required(service: Service) -> Multidimensional:
    if service.multidimensional is None:
        raise UnableToComplete(NOT_MULTIDIMENSIONAL)
    return service.multidimensional


def variable_json(variable: Variable, mode: str) -> dict:
    low, high, mean, deviation = variable.statistics
    return {
        "name": variable.name,
        "description": variable.description,
        "unit": variable.unit,
        "dimensions": [dimension_json(d, mode) for d in variable.dimensions],
        "statistics": [{"min": low, "max": high, "mean": mean, "standardDeviation": deviation}],
    }


def dimension_json(dimension: Dimension, mode: str) -> dict:
    values = [number(v, dimension) for v in dimension.values]
    result: dict[str, Any] = {
        "name": dimension.name,
        "description": dimension.description,
        "unit": dimension.unit,
        "field": dimension.name,
        "extent": [values[0], values[-1]],
        "hasRanges": False,
    }
    interval = regular_interval(dimension)
    if mode == "always" or (mode == "ifirregular" and interval is None):
        result["values"] = values
    result["hasRegularIntervals"] = interval is not None
    if interval is not None:
        result["interval"], result["intervalUnit"] = interval
    if dimension.is_time:
        result["recurring"] = False
    return result


def number(value: float, dimension: Dimension) -> float | int:
    """Times as integer epoch milliseconds, other values as floats."""
    return int(value) if dimension.is_time else value


def regular_interval(dimension: Dimension) -> tuple[float | int, str] | None:
    """The step between consecutive values when it is constant: calendar months or years for
    times on the same day of the month, else days/hours/minutes/seconds; the unit's steps otherwise."""
    values = dimension.values
    if len(values) < 2:
        return None
    if dimension.is_time:
        return time_interval(values)
    steps = [b - a for a, b in zip(values, values[1:])]
    if max(steps) - min(steps) > TOLERANCE * max(1.0, abs(steps[0])):
        return None
    return steps[0], dimension.unit


def time_interval(values: Sequence[float]) -> tuple[int, str] | None:
    moments = [dt.datetime.fromtimestamp(v / 1000, dt.timezone.utc) for v in values]
    months = [m.year * 12 + m.month for m in moments]
    month_steps = {b - a for a, b in zip(months, months[1:])}
    same_day = len({(m.day, m.time()) for m in moments}) == 1
    if same_day and len(month_steps) == 1:
        step = month_steps.pop()
        return (step // 12, "Years") if step % 12 == 0 else (step, "Months")
    steps = {int(b - a) for a, b in zip(values, values[1:])}
    if len(steps) != 1:
        return None
    step = steps.pop()
    for unit, size in TIME_STEPS_MS:
        if step % size == 0:
            return step // size, unit
    return step, "Milliseconds"


# ----------------------------------------------------------------------------------------------
# Selecting slices


@dataclass(frozen=True)
class Condition:
    """One entry of a multidimensionalDefinition: the variable's slices whose dimension value lies
    in one of the (low, high) ranges (a single value is a range of one); no dimension = any slice."""
    variable: str
    dimension: str | None
    ranges: tuple[tuple[float, float], ...]


def slice_filter(info: Multidimensional, definition: Any, *, default_variable: bool) -> Callable[[Item], bool]:
    """Whether an item is a slice the definition selects. Without a definition, every slice of
    the first variable when `default_variable` (what an image of the service shows), else all."""
    conditions = parse_definition(info, definition)
    if not conditions:
        first = info.variables[0].name
        return lambda item: not default_variable or item.attributes.get(VARIABLE_FIELD) == first
    by_variable: dict[str, list[Condition]] = {}
    for condition in conditions:
        by_variable.setdefault(condition.variable, []).append(condition)

    def keep(item: Item) -> bool:
        wanted = by_variable.get(item.attributes.get(VARIABLE_FIELD))
        return wanted is not None and all(matches(item, c) for c in wanted)

    return keep


def rule_filter(info: Multidimensional, rule: Mapping[str, Any]) -> Callable[[Item], bool]:
    """The slices a mosaic rule (keys in lower case) shows: its definition's; without one, the
    first variable's, unless the rule picks items itself (fids, where, lockRasterIds)."""
    picks_items = any(rule.get(key) for key in ITEM_CHOICES)
    return slice_filter(info, rule.get("multidimensionaldefinition"), default_variable=not picks_items)


def shown_variable(info: Multidimensional, rule: Mapping[str, Any]) -> Variable | None:
    """The one variable a mosaic rule (keys in lower case) shows; None when it may show several."""
    names = {condition.variable for condition in parse_definition(info, rule.get("multidimensionaldefinition"))}
    if not names:
        return None if any(rule.get(key) for key in ITEM_CHOICES) else info.variables[0]
    return info.variable(names.pop()) if len(names) == 1 else None


def matches(item: Item, condition: Condition) -> bool:
    if condition.dimension is None:
        return True
    value = item.attributes.get(condition.dimension)
    return value is not None and any(low - TOLERANCE <= value <= high + TOLERANCE for low, high in condition.ranges)


def parse_definition(info: Multidimensional, definition: Any) -> list[Condition]:
    """The definition's entries checked against the variables: names must exist, and a single
    value must be one a slice has (a range may select nothing)."""
    if definition is None:
        return []
    if not isinstance(definition, list) or not all(isinstance(entry, dict) for entry in definition):
        raise invalid("it must be a list of dimensional definitions.")
    conditions = []
    for entry in definition:
        entry = {str(key).lower(): value for key, value in entry.items()}
        name = entry.get("variablename")
        variables = [info.variable(str(name))] if name else list(info.variables)
        for variable in variables:
            conditions.append(condition_of(variable, entry))
    return conditions


def condition_of(variable: Variable, entry: Mapping[str, Any]) -> Condition:
    if not entry.get("dimensionname"):
        return Condition(variable.name, None, ())
    dimension = variable.dimension(str(entry["dimensionname"]))
    ranges = tuple(value_range(value, dimension) for value in value_list(entry.get("values")))
    for low, high in ranges:
        if low == high and not any(abs(v - low) <= TOLERANCE for v in dimension.values):
            raise invalid(f"'{dimension.name}' has no value {low:g} for variable '{variable.name}'.")
    return Condition(variable.name, dimension.name, ranges)


def value_list(values: Any) -> list:
    if not isinstance(values, list) or not values:
        raise invalid("'values' of a dimensional definition must be a non-empty list.")
    return values


def value_range(value: Any, dimension: Dimension) -> tuple[float, float]:
    """A single value or a [low, high] pair, as a range."""
    if is_number(value):
        return float(value), float(value)
    if isinstance(value, list) and len(value) == 2 and all(is_number(v) for v in value):
        return float(min(value)), float(max(value))
    raise invalid(f"values of '{dimension.name}' must be numbers or [min, max] pairs.")


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# ----------------------------------------------------------------------------------------------
# slices


def slices(service: Service, definition: Any) -> dict:
    """The `slices` resource: the id and dimension values of every slice the definition selects."""
    info = required(service)
    keep = slice_filter(info, definition, default_variable=False)
    chosen = sorted((item for item in service.items if item.attributes.get(VARIABLE_FIELD) and keep(item)),
                    key=info.slice_key)
    return {"slices": [slice_json(info, item) for item in chosen]}


def slice_json(info: Multidimensional, item: Item) -> dict:
    return {"sliceId": item.object_id - 1, "multidimensionalDefinition": item_definition(info, item)}


def item_definition(info: Multidimensional, item: Item) -> list[dict]:
    """The multidimensionalDefinition that selects exactly this slice."""
    variable = info.variable(item.attributes[VARIABLE_FIELD])
    return [{"variableName": variable.name, "dimensionName": d.name,
             "values": [number(item.attributes[d.name], d)], "isSlice": True} for d in variable.dimensions]


def slice_definition(service: Service, slice_id: int) -> list[dict]:
    """The definition of the slice with this id (a `sliceId` request parameter)."""
    info = required(service)
    if not 0 <= slice_id < len(service.items) or not service.items[slice_id].attributes.get(VARIABLE_FIELD):
        raise BadParameter(f"'sliceId' parameter is invalid: there is no slice {slice_id}.")
    return item_definition(info, service.items[slice_id])
