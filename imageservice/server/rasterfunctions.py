"""Raster functions (`renderingRule`, reference §5) applied to mosaicked pixels.

A rule is resolved into a chain of `Node`s first (service templates expanded, argument names made
case-insensitive, the input slot found through `variableName`, `Raster` or `DEM`), so that
`required_bands` and `apply_rendering_rule` read the same tree. Every function has one input
raster; `"$$"` or a missing input means the service's own pixels.

Choices where ArcGIS leaves room:
- Stretch defaults to StretchType 3 with 2 standard deviations; percent clip (6) always takes its
  percentiles from the current pixels (the service keeps no histograms); statistics come from the
  `Statistics` argument, else the current pixels when `DRA` is true or the input is not the
  service's own bands, else the service statistics. Gamma g maps a normalised value v to v**(1/g)
  (g > 1 brightens mid-tones).
- NDVI's 8-bit output rounds NDVI*100+100 to the nearest integer; a zero denominator is NoData.
- Named colormaps cover the values 0..255 (stretch the data to 8 bits first); input values without
  a colour are NoData; float input is rounded to the nearest integer.
- Hillshade, Slope and Aspect take `cell_size` in metres; NoData neighbours (and cells beyond the
  edge) count as the centre cell's value, as ArcGIS does.
- Template calls: an argument given with the call replaces the template argument of the same name,
  looked for from the outermost function inwards, else it is added to the outermost function; the
  template's input chain itself is not replaceable.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .catalog import Service
from .encode import to_pixel_type
from .errors import ArcGISError, BadParameter, UnableToComplete
from .expressions import parse as parse_expression
from .limits import band_list_limit

SOURCE = "$$"
INPUT_NAMES = ("raster", "dem")
MAX_CHAIN = 32                           # functions a rule may nest
UNPROCESSED_DATA_TYPES = {"esriImageServiceDataType" + kind for kind in ("Thematic", "Vector-UV", "Vector-MagDir")}
U8_MAX = 255


# ----------------------------------------------------------------------------------------------
# Rules resolved into chains


class Arguments:
    """A function's arguments with case-insensitive names and typed readers whose errors name
    the function and the argument."""

    def __init__(self, function: str, values: dict[str, Any]) -> None:
        self.function = function
        self.values = {key.lower(): value for key, value in values.items() if value is not None}

    def error(self, detail: str) -> BadParameter:
        return BadParameter(f"Raster function '{self.function}': {detail}")

    def get(self, name: str, default: Any = None) -> Any:
        return self.values.get(name.lower(), default)

    def number(self, name: str, default: float | None = None) -> float:
        value = self.get(name, default)
        try:
            if isinstance(value, bool):
                raise ValueError
            number = float(value)
        except (TypeError, ValueError):
            raise self.error(f"'{name}' must be a number.") from None
        if not math.isfinite(number):
            raise self.error(f"'{name}' must be a finite number.")
        return number

    def integer(self, name: str, default: int | None = None) -> int:
        number = self.number(name, default)
        if number != int(number):
            raise self.error(f"'{name}' must be a whole number.")
        return int(number)

    def boolean(self, name: str, default: bool) -> bool:
        value = self.get(name, default)
        if isinstance(value, bool):
            return value
        if str(value).strip().lower() in ("true", "1"):
            return True
        if str(value).strip().lower() in ("false", "0"):
            return False
        raise self.error(f"'{name}' must be true or false.")

    def numbers(self, name: str) -> list[float] | None:
        """A list of numbers, given as a JSON list or a comma/space separated string."""
        value = self.get(name)
        if value is None:
            return None
        items = value if isinstance(value, list) else str(value).replace(",", " ").split()
        try:
            if any(isinstance(v, bool) for v in items):
                raise ValueError
            numbers = [float(v) for v in items]
        except (TypeError, ValueError):
            raise self.error(f"'{name}' must be a list of numbers.") from None
        if not all(math.isfinite(v) for v in numbers):
            raise self.error(f"'{name}' must be a list of finite numbers.")
        return numbers


@dataclass(frozen=True)
class Node:
    """One function of a resolved chain; `input` None means the service's own pixels."""
    function: str
    arguments: Arguments
    input: Node | None
    output_type: str | None


def resolve(rule: Any, service: Service, expanding: frozenset[str] = frozenset(), depth: int = 0) -> Node | None:
    """A rule as a chain of built-in functions; None for no processing ("None" or no rule)."""
    if rule is None or rule == SOURCE:
        return None
    if not isinstance(rule, dict):
        raise BadParameter("'renderingRule' parameter is invalid.")
    if depth > MAX_CHAIN:
        raise BadParameter(f"'renderingRule' parameter is invalid: more than {MAX_CHAIN} nested functions.")
    keys = {key.lower(): value for key, value in rule.items()}
    if "rasterfunction" not in keys:
        if "rasterfunctiondefinition" in keys or "function" in keys:
            raise UnableToComplete("Raster function definitions (rasterFunctionDefinition) are not supported; "
                                   "use 'rasterFunction' with a function or template name.")
        if "url" in keys:
            raise UnableToComplete("Raster function inputs from other services are not supported.")
        raise BadParameter("'renderingRule' parameter is invalid: 'rasterFunction' is missing.")
    name = str(keys["rasterfunction"]).strip()
    arguments = keys.get("rasterfunctionarguments") or {}
    if not isinstance(arguments, dict):
        raise BadParameter(f"Raster function '{name}': 'rasterFunctionArguments' must be an object.")
    output_type = str(keys["outputpixeltype"]) if keys.get("outputpixeltype") else None
    templates = {key.lower(): value for key, value in service.raster_function_templates.items()}
    if name.lower() in templates and name.lower() not in expanding:
        body = with_call_arguments(templates[name.lower()], arguments, keys.get("variablename"))
        if output_type is not None:
            body["outputPixelType"] = output_type
        return resolve(body, service, expanding | {name.lower()}, depth + 1)
    function = FUNCTIONS_BY_KEY.get(name.lower())
    if function is None:
        raise UnableToComplete(f"Raster function '{name}' is not supported.")
    slot = input_slot(arguments, keys.get("variablename"))
    upstream = resolve(arguments[slot], service, expanding, depth + 1) if slot is not None else None
    if function.name == "None":
        return upstream
    values = {key: value for key, value in arguments.items() if key != slot}
    return Node(function.name, Arguments(function.name, values), upstream, output_type)


def input_slot(arguments: dict, variable_name: Any) -> str | None:
    """The key of the argument that holds the input raster: `variableName`, else Raster or DEM."""
    wanted = [str(variable_name).lower()] if variable_name else []
    for name in wanted + list(INPUT_NAMES):
        for key in arguments:
            if key.lower() == name:
                return key
    return None


def with_call_arguments(template: dict, arguments: dict, variable_name: Any) -> dict:
    """A copy of a template with the call's arguments applied (rules in the module docstring)."""
    body = copy.deepcopy(template)
    slot = input_slot(arguments, variable_name)
    for key, value in arguments.items():
        if key == slot:
            continue
        target = function_with_argument(body, key) or body
        target_arguments = target.setdefault("rasterFunctionArguments", {})
        existing = next((k for k in target_arguments if k.lower() == key.lower()), key)
        target_arguments[existing] = value
    return body


def function_with_argument(rule: Any, name: str) -> dict | None:
    """The outermost function of a raw rule chain that has an argument called `name`."""
    while isinstance(rule, dict):
        arguments = rule.get("rasterFunctionArguments") or {}
        if any(key.lower() == name.lower() for key in arguments):
            return rule
        slot = input_slot(arguments, rule.get("variableName"))
        rule = arguments.get(slot) if slot else None
    return None


def innermost(node: Node) -> Node:
    while node.input is not None:
        node = node.input
    return node


# ----------------------------------------------------------------------------------------------
# Public entry points


def required_bands(rule: dict | None, service: Service) -> list[int] | None:
    """The 0-based service bands a rule reads (None = all): only the innermost function reads the
    service's pixels, so only its band arguments matter."""
    node = resolve(rule, service)
    if node is None:
        return None
    first = innermost(node)
    used = FUNCTIONS_BY_KEY[first.function.lower()].bands_used(first.arguments, service.band_names)
    return None if used is None else sorted(set(used))


def apply_rendering_rule(rule: dict | None, data: np.ma.MaskedArray, service: Service,
                         cell_size: tuple[float, float]) -> np.ma.MaskedArray:
    """Run a rule on mosaicked pixels. `data` holds all service bands, or the `required_bands` of
    the rule in that order; `cell_size` is the pixel size in metres (see mosaic.ground_cell_size)."""
    node = resolve(rule, service)
    if node is None:
        return data
    band_count = len(service.band_names)
    ids = list(range(band_count)) if data.shape[0] == band_count else required_bands(rule, service)
    if ids is None or len(ids) != data.shape[0]:
        raise ValueError(f"data has {data.shape[0]} bands; the rule needs {ids}")
    source = Layer(np.ma.asarray(data), tuple(ids), service.band_names, is_source=True)
    return run(node, source, Context(service, cell_size)).data


def run(node: Node, source: Layer, context: Context) -> Layer:
    layer = source if node.input is None else run(node.input, source, context)
    result = FUNCTIONS_BY_KEY[node.function.lower()].apply(node.arguments, layer, context)
    if node.output_type is not None:
        result = Layer(to_pixel_type(result.data, node.output_type), result.ids, result.names)
    return result


def function_infos(service: Service) -> list[dict]:
    """`rasterFunctionInfos`: the service's default first (the one exportImage applies unasked, "None"
    unless the publisher chose a template), then the other templates, then the built-in functions
    that work on this service without arguments (none for class values and vector components,
    which no stretch, index or terrain fits)."""
    infos = [{"name": "None", "description": "The service's pixels without processing.", "help": ""}]
    templates = dict(service.raster_function_templates)
    if service.default_raster_function is not None:
        name = service.default_raster_function
        infos.insert(0, {"name": name, "description": template_description(name, templates.pop(name), service), "help": ""})
    for name, template in templates.items():
        infos.append({"name": name, "description": template_description(name, template, service), "help": ""})
    taken = {info["name"].lower() for info in infos}
    for function in FUNCTIONS if service.data_type not in UNPROCESSED_DATA_TYPES else ():
        if function.listed and function.applies(service) and function.name.lower() not in taken:
            infos.append({"name": function.name, "description": function.description, "help": function.help})
    return infos


def template_description(name: str, template: dict, service: Service) -> str:
    if isinstance(template.get("description"), str):
        return template["description"]
    chain = []
    try:
        node = resolve(template, service, frozenset({name.lower()}))
    except ArcGISError:
        return "A service template (it cannot be applied as defined)."
    while node is not None:
        chain.append(node.function)
        node = node.input
    return "Applies " + ", then ".join(reversed(chain)) + "." if chain else "The service's pixels."


# ----------------------------------------------------------------------------------------------
# Layers and the functions


@dataclass(frozen=True, eq=False)
class Layer:
    """A raster between functions. `ids[i]` is the band number held in row i of `data`: a subset
    only for the service's own pixels, read with `required_bands`."""
    data: np.ma.MaskedArray
    ids: tuple[int, ...]
    names: tuple[str, ...]
    is_source: bool = False

    @classmethod
    def of(cls, data: np.ma.MaskedArray, names: Sequence[str] | None = None) -> Layer:
        names = tuple(names) if names is not None else tuple(f"Band_{i + 1}" for i in range(data.shape[0]))
        return cls(data, tuple(range(data.shape[0])), names)

    @property
    def count(self) -> int:
        return len(self.names)

    def band(self, band: int) -> np.ma.MaskedArray:
        return self.data[self.ids.index(band)]

    def all_bands(self) -> np.ma.MaskedArray:
        if self.ids != tuple(range(self.count)):
            raise ValueError("a function that reads every band got a band subset")
        return self.data


@dataclass(frozen=True)
class Context:
    service: Service
    cell_size: tuple[float, float]


@dataclass(frozen=True)
class Function:
    """A built-in raster function: how it runs, which input bands it reads (None = all), and
    whether `rasterFunctionInfos` offers it for a service."""
    name: str
    description: str
    help: str
    apply: Callable[[Arguments, Layer, Context], Layer]
    bands_used: Callable[[Arguments, Sequence[str]], list[int] | None] = field(default=lambda arguments, names: None)
    applies: Callable[[Service], bool] = field(default=lambda service: True)
    listed: bool = True              # offered in rasterFunctionInfos (works without arguments)


def as_float(band: np.ma.MaskedArray) -> np.ndarray:
    return np.ma.getdata(band).astype(np.float64)


def result(values: np.ndarray, mask: np.ndarray, dtype: Any) -> np.ma.MaskedArray:
    """Computed values with NoData where `mask` is set or the computation is not finite."""
    mask = mask | ~np.isfinite(values)
    values = np.where(mask, 0, values)
    return np.ma.masked_array(values.astype(dtype), mask=mask)


# -- Stretch -------------------------------------------------------------------------------------


def stretch(arguments: Arguments, layer: Layer, context: Context) -> Layer:
    kind = arguments.integer("StretchType", 3)
    if kind == 0:
        return Layer.of(layer.all_bands(), layer.names)
    if kind not in (3, 5, 6):
        raise arguments.error(f"StretchType {kind} is not supported (0 none, 3 standard deviation, "
                              "5 minimum-maximum, 6 percent clip).")
    data = layer.all_bands()
    low_out, high_out = arguments.number("Min", 0), arguments.number("Max", U8_MAX)
    gammas = gamma_values(arguments, data.shape[0])
    limits = stretch_limits(arguments, kind, layer, context.service)
    bands = []
    for band, (low, high), gamma in zip(data, limits, gammas):
        values = as_float(band)
        span = high - low
        normal = np.clip((values - low) / span, 0, 1) if span > 0 else (values > low).astype(np.float64)
        if gamma is not None:
            normal = normal ** (1 / gamma)
        bands.append(np.rint(low_out + normal * (high_out - low_out)))
    dtype = np.uint8 if 0 <= low_out and high_out <= U8_MAX else np.float32
    return Layer.of(result(np.stack(bands), np.ma.getmaskarray(data), dtype), layer.names)


def stretch_limits(arguments: Arguments, kind: int, layer: Layer, service: Service) -> list[tuple[float, float]]:
    """(low, high) input values per band that map to the output Min and Max."""
    data = layer.data
    if kind == 6:
        low_percent = arguments.number("MinPercent", 0.25)
        high_percent = arguments.number("MaxPercent", 0.25)
        if not (0 <= low_percent < 100 and 0 <= high_percent < 100 and low_percent + high_percent < 100):
            raise arguments.error("'MinPercent' and 'MaxPercent' must be percentages that leave some values.")
        limits = []
        for band in data:
            valid = band.compressed().astype(np.float64)
            if valid.size == 0:
                limits.append((0.0, 0.0))
            else:
                low, high = np.percentile(valid, [low_percent, 100 - high_percent])
                limits.append((float(low), float(high)))
        return limits
    statistics = stretch_statistics(arguments, layer, service)
    if kind == 5:
        return [(s[0], s[1]) for s in statistics]
    deviations = arguments.number("NumberOfStandardDeviations", 2)
    return [(s[2] - deviations * s[3], s[2] + deviations * s[3]) for s in statistics]


def stretch_statistics(arguments: Arguments, layer: Layer, service: Service) -> list[tuple[float, ...]]:
    """(min, max, mean, stdv) per band: the Statistics argument (one entry for all bands or one per
    band), else the current pixels (DRA, or derived input), else the service statistics."""
    count = layer.data.shape[0]
    given = arguments.get("Statistics")
    if given is not None:
        if not isinstance(given, list) or not given or not all(
                isinstance(s, list) and len(s) >= 4 and all(isinstance(v, (int, float)) for v in s[:4]) for s in given):
            raise arguments.error("'Statistics' must be a list of [min, max, mean, stdv] per band.")
        if len(given) not in (1, count):
            raise arguments.error(f"'Statistics' has {len(given)} entries for {count} band(s).")
        return [tuple(float(v) for v in s[:4]) for s in (given * count if len(given) == 1 else given)]
    if arguments.boolean("DRA", False) or not layer.is_source:
        return [band_statistics(band) for band in layer.data]
    return [tuple(service.statistics[i]) for i in layer.ids]


def band_statistics(band: np.ma.MaskedArray) -> tuple[float, float, float, float]:
    valid = band.compressed().astype(np.float64)
    valid = valid[np.isfinite(valid)]
    if valid.size == 0:
        return 0.0, 0.0, 0.0, 0.0
    return float(valid.min()), float(valid.max()), float(valid.mean()), float(valid.std())


def gamma_values(arguments: Arguments, count: int) -> list[float | None]:
    gammas = arguments.numbers("Gamma")
    if gammas is None or not arguments.boolean("UseGamma", True):
        return [None] * count
    if len(gammas) not in (1, count) or not all(g > 0 for g in gammas):
        raise arguments.error(f"'Gamma' must hold one positive value or one per band ({count}).")
    return gammas * count if len(gammas) == 1 else gammas


# -- NDVI and band arithmetic --------------------------------------------------------------------


def ndvi_bands(arguments: Arguments, names: Sequence[str]) -> list[int]:
    """VisibleBandID and InfraredBandID (0-based); defaults are the bands named Red and NIR, else 0 and 1."""
    lowered = [name.lower() for name in names]
    red = lowered.index("red") if "red" in lowered else 0
    nir = lowered.index("nir") if "nir" in lowered else 1
    bands = [arguments.integer("VisibleBandID", red), arguments.integer("InfraredBandID", nir)]
    for band, name in zip(bands, ("VisibleBandID", "InfraredBandID")):
        if not 0 <= band < len(names):
            raise arguments.error(f"'{name}' {band} is out of range: the input has {len(names)} band(s).")
    return bands


def ndvi(arguments: Arguments, layer: Layer, context: Context) -> Layer:
    visible, infrared = ndvi_bands(arguments, layer.names)
    red, nir = layer.band(visible), layer.band(infrared)
    mask = np.ma.getmaskarray(red) | np.ma.getmaskarray(nir)
    with np.errstate(divide="ignore", invalid="ignore"):
        index = (as_float(nir) - as_float(red)) / (as_float(nir) + as_float(red))
    if arguments.boolean("ScientificOutput", False):
        return Layer.of(result(index[np.newaxis], mask[np.newaxis], np.float32), ("NDVI",))
    return Layer.of(result(np.rint(index * 100 + 100)[np.newaxis], mask[np.newaxis], np.uint8), ("NDVI",))


# Predefined BandArithmetic methods: (band order, band count, constant count, formula of (bands, constants)).
INDEX_METHODS: dict[int, tuple[str, int, int, Callable[[list[np.ndarray], list[float]], np.ndarray]]] = {
    1: ("NIR Red", 2, 0, lambda b, c: (b[0] - b[1]) / (b[0] + b[1])),
    2: ("NIR Red L", 2, 1, lambda b, c: (b[0] - b[1]) / (b[0] + b[1] + c[0]) * (1 + c[0])),
    3: ("NIR Red s a X", 2, 3, lambda b, c: c[0] * (b[0] - c[0] * b[1] - c[1])
        / (c[1] * b[0] + b[1] - c[1] * c[0] + c[2] * (1 + c[0] ** 2))),
    4: ("NIR Red", 2, 0, lambda b, c: (2 * b[0] + 1 - np.sqrt((2 * b[0] + 1) ** 2 - 8 * (b[0] - b[1]))) / 2),
    5: ("NIR Red", 2, 0, lambda b, c: gemi(b[0], b[1])),
    6: ("NIR Red a b", 2, 2, lambda b, c: (b[0] - c[0] * b[1] - c[1]) / math.sqrt(1 + c[0] ** 2)),
}
METHOD_NAMES = {0: "user defined", 1: "NDVI", 2: "SAVI", 3: "TSAVI", 4: "MSAVI", 5: "GEMI", 6: "PVI"}


def gemi(nir: np.ndarray, red: np.ndarray) -> np.ndarray:
    eta = (2 * (nir ** 2 - red ** 2) + 1.5 * nir + 0.5 * red) / (nir + red + 0.5)
    return eta * (1 - 0.25 * eta) - (red - 0.125) / (1 - red)


Formula = Callable[[dict[int, np.ndarray]], np.ndarray]


def arithmetic_plan(arguments: Arguments, count: int) -> tuple[list[int], Formula]:
    """The 1-based bands a BandArithmetic call reads and the formula over them (band number -> values)."""
    method = arguments.integer("Method", 0)
    text = arguments.get("BandIndexes")
    if not isinstance(text, str) or not text.strip():
        raise arguments.error("'BandIndexes' is required (an expression, or band numbers such as \"4 3\").")
    if method == 0:
        expression = parse_expression(text)
        bands = expression.bands
        formula = expression.evaluate
        if not bands:
            raise arguments.error("the expression must use at least one band (B1, B2, ...).")
    elif method in INDEX_METHODS:
        order, band_count, constant_count, compute = INDEX_METHODS[method]
        try:
            values = [float(v) for v in text.replace(",", " ").split()]
        except ValueError:
            raise arguments.error(f"'BandIndexes' must be numbers in the order {order}.") from None
        if len(values) != band_count + constant_count or any(v != int(v) for v in values[:band_count]):
            raise arguments.error(f"Method {method} ({METHOD_NAMES[method]}) needs 'BandIndexes' as {order}.")
        bands = [int(v) for v in values[:band_count]]
        constants = values[band_count:]
        formula = lambda found: compute([found[b] for b in bands], constants)  # noqa: E731
    else:
        raise arguments.error(f"Method {method} is not supported (" +
                              ", ".join(f"{k} {v}" for k, v in METHOD_NAMES.items()) + ").")
    for band in bands:
        if not 1 <= band <= count:
            raise arguments.error(f"band B{band} is out of range: the input has {count} band(s) (B1..B{count}).")
    return bands, formula


def band_arithmetic(arguments: Arguments, layer: Layer, context: Context) -> Layer:
    bands, formula = arithmetic_plan(arguments, layer.count)
    found = {b: as_float(layer.band(b - 1)) for b in bands}
    mask = np.zeros(layer.data.shape[1:], bool)
    for b in bands:
        mask |= np.ma.getmaskarray(layer.band(b - 1))
    with np.errstate(all="ignore"):
        values = np.broadcast_to(formula(found), mask.shape)
    return Layer.of(result(values[np.newaxis], mask[np.newaxis], np.float32))


# -- ExtractBand ---------------------------------------------------------------------------------


def extract_ids(arguments: Arguments, names: Sequence[str]) -> list[int]:
    """The listed bands; at most `band_list_limit` of them, so that no chain of functions holds
    more bands than max(bands read, 3), which is what the memory budget counts."""
    ids = listed_bands(arguments, names)
    limit = band_list_limit(len(names))
    if len(ids) > limit:
        raise arguments.error(f"'BandIDs' or 'BandNames' may list at most {limit} bands; the input has {len(names)}.")
    return ids


def listed_bands(arguments: Arguments, names: Sequence[str]) -> list[int]:
    """BandIDs or BandNames as 0-based ids of the input bands."""
    ids = arguments.numbers("BandIDs")
    if ids is not None:
        if not ids or any(v != int(v) for v in ids):
            raise arguments.error("'BandIDs' must be a list of 0-based band ids.")
        for band in ids:
            if not 0 <= band < len(names):
                raise arguments.error(f"'BandIDs' {int(band)} is out of range: the input has {len(names)} band(s).")
        return [int(v) for v in ids]
    wanted = arguments.get("BandNames")
    if wanted is not None:
        items = wanted if isinstance(wanted, list) else str(wanted).replace(",", " ").split()
        lowered = [name.lower() for name in names]
        missing = [str(n) for n in items if str(n).lower() not in lowered]
        if not items or missing:
            raise arguments.error(f"unknown band name(s) {missing}; the bands are {list(names)}.")
        return [lowered.index(str(n).lower()) for n in items]
    raise arguments.error("'BandIDs' or 'BandNames' is required.")


def extract_band(arguments: Arguments, layer: Layer, context: Context) -> Layer:
    ids = extract_ids(arguments, layer.names)
    data = np.ma.stack([layer.band(i) for i in ids])
    return Layer.of(data, [layer.names[i] for i in ids])


# -- Colormap ------------------------------------------------------------------------------------


def ramp(stops: list[tuple[int, int, int, int]]) -> np.ndarray:
    """A 256 x 3 colour table interpolated between (value, r, g, b) stops."""
    values = np.arange(256)
    return np.stack([np.interp(values, [s[0] for s in stops], [s[i] for s in stops]) for i in (1, 2, 3)],
                    axis=1).round().astype(np.uint8)


NAMED_COLORMAPS: dict[str, Callable[[], np.ndarray]] = {
    "gray": lambda: ramp([(0, 0, 0, 0), (255, 255, 255, 255)]),
    # For NDVI's 8-bit output (100 = NDVI 0): water blue, bare soil tan, vegetation green.
    "ndvi": lambda: ramp([(0, 0, 0, 140), (90, 110, 120, 170), (100, 200, 180, 140), (120, 230, 215, 140),
                          (150, 120, 185, 70), (200, 0, 100, 0), (255, 0, 60, 0)]),
    "elevation": lambda: ramp([(0, 40, 110, 60), (64, 130, 180, 90), (128, 230, 220, 150),
                               (192, 150, 110, 70), (255, 250, 250, 250)]),
    "random": lambda: np.random.default_rng(20250101).integers(0, 256, size=(256, 3), dtype=np.uint8),
}
NAMED_COLORMAPS["grey"] = NAMED_COLORMAPS["gray"]


def colormap_table(arguments: Arguments) -> tuple[np.ndarray, np.ndarray]:
    """(sorted values, their colours) from `Colormap` [[value, r, g, b], ...] or `ColormapName`."""
    entries = arguments.get("Colormap")
    if entries is not None:
        valid = isinstance(entries, list) and entries and all(
            isinstance(e, list) and len(e) >= 4 and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                         for v in e[:4]) for e in entries)
        if not valid:
            raise arguments.error("'Colormap' must be a list of [value, red, green, blue].")
        table = np.array([e[:4] for e in entries], dtype=np.float64)
        if np.any(table[:, 0] != np.round(table[:, 0])) or np.any((table[:, 1:] < 0) | (table[:, 1:] > U8_MAX)):
            raise arguments.error("'Colormap' values must be integers and colours 0..255.")
        order = np.argsort(table[:, 0], kind="stable")
        return table[order, 0], table[order, 1:].astype(np.uint8)
    name = arguments.get("ColormapName")
    if name is None:
        raise arguments.error("'Colormap' or 'ColormapName' is required.")
    build = NAMED_COLORMAPS.get(str(name).lower())
    if build is None:
        raise arguments.error(f"unknown ColormapName '{name}' (known: NDVI, Elevation, Gray, Random).")
    return np.arange(256, dtype=np.float64), build()


def colormap(arguments: Arguments, layer: Layer, context: Context) -> Layer:
    keys, colours = colormap_table(arguments)
    band = layer.band(0)
    values = np.rint(as_float(band))
    position = np.clip(np.searchsorted(keys, values), 0, len(keys) - 1)
    mask = np.ma.getmaskarray(band) | (keys[position] != values)
    rgb = np.moveaxis(colours[position], -1, 0)
    rgb = np.where(mask[np.newaxis], 0, rgb).astype(np.uint8)
    return Layer.of(np.ma.masked_array(rgb, mask=np.broadcast_to(mask, rgb.shape).copy()), ("Red", "Green", "Blue"))


# -- Terrain: Hillshade, Slope, Aspect -----------------------------------------------------------


def gradients(band: np.ma.MaskedArray, cell_size: tuple[float, float],
              z_factor: float) -> tuple[np.ndarray, np.ndarray]:
    """dz/dx and dz/dy by Horn's 3x3 method (x east, y down the rows), elevation scaled by z_factor;
    NoData neighbours and cells beyond the edge take the centre cell's value."""
    z = np.where(np.ma.getmaskarray(band), np.nan, as_float(band)) * z_factor
    padded = np.pad(z, 1, constant_values=np.nan)
    rows, cols = z.shape

    def neighbour(dr: int, dc: int) -> np.ndarray:
        values = padded[1 + dr:1 + dr + rows, 1 + dc:1 + dc + cols]
        return np.where(np.isnan(values), z, values)

    a, b, c = neighbour(-1, -1), neighbour(-1, 0), neighbour(-1, 1)
    d, f = neighbour(0, -1), neighbour(0, 1)
    g, h, i = neighbour(1, -1), neighbour(1, 0), neighbour(1, 1)
    dx, dy = cell_size
    dzdx = ((c + 2 * f + i) - (a + 2 * d + g)) / (8 * dx)
    dzdy = ((g + 2 * h + i) - (a + 2 * b + c)) / (8 * dy)
    return dzdx, dzdy


def terrain_input(arguments: Arguments, layer: Layer, context: Context) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mask, dz/dx, dz/dy) of the first input band, after checking the shared arguments."""
    slope_type = arguments.integer("SlopeType", 1)
    if slope_type not in (1, 2) or (slope_type == 2 and arguments.function != "Slope"):
        raise arguments.error(f"SlopeType {slope_type} is not supported.")
    if not all(s > 0 and math.isfinite(s) for s in context.cell_size):
        raise arguments.error("the cell size must be positive.")
    band = layer.band(0)
    dzdx, dzdy = gradients(band, context.cell_size, arguments.number("ZFactor", 1))
    return np.ma.getmaskarray(band), dzdx, dzdy


def hillshade(arguments: Arguments, layer: Layer, context: Context) -> Layer:
    if arguments.integer("HillshadeType", 0) != 0:
        raise arguments.error("only HillshadeType 0 (traditional) is supported.")
    azimuth, altitude = arguments.number("Azimuth", 315), arguments.number("Altitude", 45)
    if not 0 <= altitude <= 90:
        raise arguments.error("'Altitude' must be between 0 and 90 degrees.")
    mask, dzdx, dzdy = terrain_input(arguments, layer, context)
    zenith = math.radians(90 - altitude)
    sun = math.radians((450 - azimuth) % 360)           # compass azimuth to maths angle
    slope = np.arctan(np.hypot(dzdx, dzdy))
    aspect = np.mod(np.arctan2(dzdy, -dzdx), 2 * math.pi)
    light = math.cos(zenith) * np.cos(slope) + math.sin(zenith) * np.sin(slope) * np.cos(sun - aspect)
    shade = np.clip(np.rint(U8_MAX * light), 1, U8_MAX)
    return Layer.of(result(shade[np.newaxis], mask[np.newaxis], np.uint8), ("Hillshade",))


def slope(arguments: Arguments, layer: Layer, context: Context) -> Layer:
    mask, dzdx, dzdy = terrain_input(arguments, layer, context)
    rise = np.hypot(dzdx, dzdy)
    values = 100 * rise if arguments.integer("SlopeType", 1) == 2 else np.degrees(np.arctan(rise))
    return Layer.of(result(values[np.newaxis], mask[np.newaxis], np.float32), ("Slope",))


def aspect(arguments: Arguments, layer: Layer, context: Context) -> Layer:
    mask, dzdx, dzdy = terrain_input(arguments, layer, context)
    angle = np.degrees(np.arctan2(dzdy, -dzdx))           # maths angle of the downslope direction
    compass = np.mod(90 - angle, 360)
    values = np.where((dzdx == 0) & (dzdy == 0), -1, compass)
    return Layer.of(result(values[np.newaxis], mask[np.newaxis], np.float32), ("Aspect",))


# ----------------------------------------------------------------------------------------------
# The catalogue


def one_band(service: Service) -> bool:
    return len(service.band_names) == 1


def identity(arguments: Arguments, layer: Layer, context: Context) -> Layer:
    return layer


FUNCTIONS: tuple[Function, ...] = (
    Function("None", "No processing.", "", identity, listed=False),
    Function("Stretch", "Stretches the values to 0..255 by standard deviations, minimum-maximum or percent clip.",
             "StretchType 0 none, 3 standard deviation (NumberOfStandardDeviations, default 2), 5 min-max, "
             "6 percent clip (MinPercent, MaxPercent); Statistics [[min,max,mean,stdv],...]; DRA; Min; Max; Gamma.",
             stretch),
    Function("NDVI", "Normalized Difference Vegetation Index from a red and a near-infrared band.",
             "VisibleBandID, InfraredBandID (0-based); ScientificOutput true gives -1..1, false NDVI*100+100 as 8-bit.",
             ndvi, ndvi_bands,
             lambda service: len(service.band_names) >= 2),
    Function("BandArithmetic", "Band arithmetic: a user expression or a predefined index.",
             "Method 0 with BandIndexes an expression of B1..Bn (1-based); 1 NDVI, 2 SAVI, 3 TSAVI, 4 MSAVI, 5 GEMI, "
             "6 PVI with BandIndexes band numbers and constants, e.g. \"4 3\".",
             band_arithmetic, lambda arguments, names: [b - 1 for b in arithmetic_plan(arguments, len(names))[0]],
             listed=False),
    Function("ExtractBand", "Keeps the listed bands, in the listed order.",
             "BandIDs (0-based) or BandNames.", extract_band,
             extract_ids, listed=False),
    Function("Colormap", "Colours single-band values with a named or explicit colormap.",
             "ColormapName (NDVI, Elevation, Gray, Random) for values 0..255, or Colormap [[value,r,g,b],...].",
             colormap, lambda arguments, names: [0], listed=False),
    Function("Hillshade", "Shaded relief lit from a direction (8-bit, 1..255).",
             "Azimuth (default 315), Altitude (default 45), ZFactor (default 1).",
             hillshade, lambda arguments, names: [0], one_band),
    Function("Slope", "Steepness of the surface in degrees.",
             "ZFactor (default 1); SlopeType 1 degrees, 2 percent rise.",
             slope, lambda arguments, names: [0], one_band),
    Function("Aspect", "Compass direction the slope faces, in degrees (flat = -1).", "",
             aspect, lambda arguments, names: [0], one_band),
)
FUNCTIONS_BY_KEY = {function.name.lower(): function for function in FUNCTIONS}
