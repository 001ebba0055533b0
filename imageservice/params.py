"""One serialisable, validated model of every ImageMapLayer option (Python names inside).

`LayerParams` is frozen and normalises/validates in its constructor, so an invalid state cannot
be built: user input (text from a form, JSON from a dcc.Store) goes through the small parsers
below and comes out as plain numbers, lists and dicts, or as a `ParameterError` that names the
field and the allowed values.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from imageservice.errors import ParameterError
from imageservice.wire import epoch_ms, serialize_params

FORMATS = ("jpgpng", "png", "png8", "png24", "png32", "jpg", "bmp", "gif", "tiff", "bip", "bsq", "lerc")
PIXEL_TYPES = ("C128", "C64", "F32", "F64", "S16", "S32", "S8", "U1", "U16", "U2", "U32", "U4", "U8", "UNKNOWN")
NO_DATA_INTERPRETATIONS = ("esriNoDataMatchAny", "esriNoDataMatchAll")
INTERPOLATIONS = (
    "RSP_BilinearInterpolation",
    "RSP_CubicConvolution",
    "RSP_Majority",
    "RSP_NearestNeighbor",
)
RESPONSE_FORMATS = ("image", "json")
POSITIONS = ("front", "back")

Number = int | float
_URL_REQUIRED = "url is required: the ImageServer root, e.g. https://host/arcgis/rest/services/Name/ImageServer"


def normalize_url(url: str) -> tuple[str, dict[str, str]]:
    """Split a service URL into its root (ending in exactly one "/") and its query parameters.

    Like esri-leaflet, the query string becomes request parameters that ride along on every
    request, but they are percent-decoded properly (esri-leaflet's naive split breaks on an
    encoded "&" or "=").
    """
    if not isinstance(url, str) or not url.strip():
        raise ParameterError(_URL_REQUIRED)
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ParameterError(f"url must be an http(s) URL of an ArcGIS ImageServer; got {url.strip()!r}")
    path = parts.path.rstrip("/")
    segments = path.split("/")
    server_index = next((i for i, s in enumerate(segments) if s.lower() == "imageserver"), None)
    if server_index is None:
        raise ParameterError(
            "url does not look like an ArcGIS ImageServer (expected a path ending in /ImageServer); "
            f"got {url.strip()!r}"
        )
    if server_index != len(segments) - 1:
        root = "/".join(segments[: server_index + 1])
        raise ParameterError(
            f"url must be the service root ending in /ImageServer, not an operation or resource under it; "
            f"use {urlunsplit((parts.scheme, parts.netloc, root, '', ''))!r}"
        )
    root = urlunsplit((parts.scheme, parts.netloc, path + "/", "", ""))
    return root, dict(parse_qsl(parts.query, keep_blank_values=True))


def _choice(field_name: str, value: Any, allowed: tuple[str, ...]) -> str:
    """The canonical spelling of an enum value (ArcGIS matches them case-insensitively)."""
    for option in allowed:
        if isinstance(value, str) and value.strip().lower() == option.lower():
            return option
    raise ParameterError(f"{field_name} must be one of {', '.join(allowed)}; got {value!r}")


def _optional_choice(field_name: str, value: Any, allowed: tuple[str, ...]) -> str | None:
    return None if value is None or value == "" else _choice(field_name, value, allowed)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _parse_number(field_name: str, text: str) -> Number:
    try:
        number = float(text)
    except ValueError:
        raise ParameterError(f"{field_name} must be a number or comma-separated numbers; got {text!r}") from None
    return int(number) if number.is_integer() else number


def parse_band_ids(value: Any) -> list[int] | None:
    """Band ids from a list or from text like "3,0,1" (0-based; order picks R,G,B)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    items = value.split(",") if isinstance(value, str) else [value] if _is_number(value) else value
    if not isinstance(items, (list, tuple)) or not items:
        raise ParameterError(f"band_ids must be a list of band indexes or text like '3,0,1'; got {value!r}")
    band_ids = []
    for item in items:
        number = int(item.strip()) if isinstance(item, str) and item.strip().isdigit() else item
        if not _is_number(number) or number != int(number) or number < 0:
            raise ParameterError(f"band_ids must be non-negative integers (0-based band indexes); got {value!r}")
        band_ids.append(int(number))
    return band_ids


def parse_no_data(value: Any) -> Number | list[Number] | None:
    """A no-data value: one number ("0" or 0), or one per band ("58,128,187" or a list)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        items: list[Any] = [_parse_number("no_data", part.strip()) for part in value.split(",")]
    elif _is_number(value):
        items = [value]
    elif isinstance(value, (list, tuple)) and value:
        items = [_parse_number("no_data", v.strip()) if isinstance(v, str) else v for v in value]
    else:
        raise ParameterError(f"no_data must be a number or a list of numbers; got {value!r}")
    if not all(_is_number(v) and math.isfinite(v) for v in items):
        raise ParameterError(f"no_data must be finite numbers; got {value!r}")
    single = _is_number(value) or (isinstance(value, str) and len(items) == 1)
    return items[0] if single else items


def parse_compression_quality(value: Any) -> int | None:
    """JPEG quality 0..100 (0 is a valid value, not "unset")."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    number = _parse_number("compression_quality", value) if isinstance(value, str) else value
    if not _is_number(number) or number != int(number) or not 0 <= number <= 100:
        raise ParameterError(f"compression_quality must be an integer from 0 to 100; got {value!r}")
    return int(number)


def to_epoch_ms(value: Any, field_name: str = "time") -> int | None:
    """Epoch milliseconds from a datetime (naive means UTC), a date, an ISO text or a ms number."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, (datetime, date)):
        return epoch_ms(value)
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return int(text)
        try:
            return epoch_ms(datetime.fromisoformat(text.replace("Z", "+00:00")))
        except ValueError:
            raise ParameterError(
                f"{field_name} must be epoch milliseconds, a datetime or ISO text like "
                f"'2014-01-09T08:00:00Z'; got {value!r}"
            ) from None
    if _is_number(value) and math.isfinite(value) and value == int(value):
        return int(value)
    raise ParameterError(f"{field_name} must be epoch milliseconds (an integer) or a datetime; got {value!r}")


_RULE_HINTS = {
    "rendering_rule": '{"rasterFunction": "<name>"}',
    "mosaic_rule": '{"mosaicMethod": "esriMosaicLockRaster", "lockRasterIds": [1]}',
}


def parse_rule(value: Any, field_name: str) -> dict | None:
    """A rendering or mosaic rule as a plain JSON object (a dict, or JSON text of one).

    A bare name such as "Natural Color" is rejected: servers ignore it and render raw data, the
    bug a peer R wrapper shipped.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text.startswith("{"):
            raise ParameterError(
                f"{field_name} must be a JSON object, not a bare name; got {value!r}, "
                f"did you mean {_RULE_HINTS[field_name].replace('<name>', text)}?"
            )
        try:
            value = json.loads(text)
        except json.JSONDecodeError as error:
            raise ParameterError(f"{field_name} is not valid JSON: {error}") from None
    if not isinstance(value, Mapping):
        raise ParameterError(f"{field_name} must be a JSON object such as {_RULE_HINTS[field_name]}; got {value!r}")
    try:
        return json.loads(json.dumps(value, allow_nan=False))  # a deep, plain-JSON copy
    except (TypeError, ValueError) as error:
        raise ParameterError(f"{field_name} must hold only JSON values: {error}") from None


DEFINITION_KEY = "multidimensionalDefinition"


def _dimension_value(value: Any) -> Number | list[Number]:
    """One value of a multidimensional definition: a number (epoch ms for time) or [min, max]."""
    if _is_number(value) and math.isfinite(value):
        return value
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(_is_number(v) and math.isfinite(v) for v in value):
        return list(value)
    raise ParameterError(f"{DEFINITION_KEY} values must be numbers (epoch ms for time) or [min, max] pairs; "
                         f"got {value!r}")


def parse_multidimensional_definition(value: Any) -> list[dict] | None:
    """A mosaic rule's multidimensionalDefinition, checked entry by entry in ArcGIS's shape:
    `[{"variableName", "dimensionName", "values", "isSlice"}]` (only variableName is required)."""
    if value is None:
        return None
    if not isinstance(value, list):
        raise ParameterError(f"{DEFINITION_KEY} must be a list of {{variableName, dimensionName, values, isSlice}} "
                             f"objects; got {value!r}")
    entries = []
    for entry in value:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("variableName"), str):
            raise ParameterError(f"each {DEFINITION_KEY} entry must be an object with a variableName; got {entry!r}")
        checked: dict[str, Any] = {"variableName": entry["variableName"]}
        if entry.get("dimensionName") is not None:
            checked["dimensionName"] = str(entry["dimensionName"])
            checked["values"] = [_dimension_value(v) for v in entry.get("values") or []]
            checked["isSlice"] = bool(entry.get("isSlice", True))
        entries.append({**entry, **checked})
    return entries


def parse_mosaic_rule(value: Any) -> dict | None:
    """parse_rule for a mosaic rule, whose multidimensionalDefinition is checked too."""
    rule = parse_rule(value, "mosaic_rule")
    if rule is not None and DEFINITION_KEY in rule:
        rule[DEFINITION_KEY] = parse_multidimensional_definition(rule[DEFINITION_KEY])
    return rule


@dataclass(frozen=True)
class LayerParams:
    """Every option of L.esri.imageMapLayer, normalised and validated on construction.

    Lists and dicts are copied in, so editing the caller's objects cannot change a LayerParams.
    """

    url: str
    format: str = "jpgpng"
    f: str = "image"
    opacity: float = 1.0
    position: str = "front"
    proxy: str | None = None
    band_ids: list[int] | None = None
    no_data: Number | list[Number] | None = None
    no_data_interpretation: str | None = None
    pixel_type: str | None = None
    use_cors: bool = True
    # Browser only: cookies / web-tier authentication on the images and f=json fetches (CORS).
    with_credentials: bool = False
    rendering_rule: dict | None = None
    mosaic_rule: dict | None = None
    time_from: int | None = None
    time_to: int | None = None
    token: str | None = None
    interpolation: str | None = None
    compression_quality: int | None = None
    transparent: bool = True
    request_params: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        url, url_params = normalize_url(self.url)
        request_params = {**url_params, **dict(self.request_params or {})}
        # A token in the url's query string is the layer token: kept in request_params it would
        # override a later authenticate() (request params are merged last).
        token = self.token or request_params.pop("token", None) or None
        request_params.pop("token", None)
        normalised = {
            "url": url,
            "request_params": serialize_params({str(k): v for k, v in request_params.items()}),
            "token": token,
            "proxy": self.proxy or None,  # esri-leaflet's default is `false`
            "format": _choice("format", self.format, FORMATS),
            "f": _choice("f", self.f, RESPONSE_FORMATS),
            "position": _choice("position", self.position, POSITIONS),
            "pixel_type": _optional_choice("pixel_type", self.pixel_type, PIXEL_TYPES),
            "interpolation": _optional_choice("interpolation", self.interpolation, INTERPOLATIONS),
            "no_data_interpretation": _optional_choice(
                "no_data_interpretation", self.no_data_interpretation, NO_DATA_INTERPRETATIONS
            ),
            "band_ids": parse_band_ids(self.band_ids),
            "no_data": parse_no_data(self.no_data),
            "rendering_rule": parse_rule(self.rendering_rule, "rendering_rule"),
            "mosaic_rule": parse_mosaic_rule(self.mosaic_rule),
            "time_from": to_epoch_ms(self.time_from, "time_from"),
            "time_to": to_epoch_ms(self.time_to, "time_to"),
            "compression_quality": parse_compression_quality(self.compression_quality),
            "opacity": float(self.opacity) if _is_number(self.opacity) else self.opacity,
        }
        for name, value in normalised.items():
            object.__setattr__(self, name, value)
        self.validate()

    def validate(self) -> None:
        """Check the ranges and types the normalising step cannot fix."""
        if not _is_number(self.opacity) or not 0 <= self.opacity <= 1:
            raise ParameterError(f"opacity must be a number from 0 to 1; got {self.opacity!r}")
        if self.time_from is not None and self.time_to is not None and self.time_from > self.time_to:
            raise ParameterError(
                f"time_from must not be after time_to; got time_from={self.time_from}, time_to={self.time_to}"
            )
        for name in ("use_cors", "with_credentials", "transparent"):
            if not isinstance(getattr(self, name), bool):
                raise ParameterError(f"{name} must be true or false; got {getattr(self, name)!r}")
        for name in ("token", "proxy"):
            if getattr(self, name) is not None and not isinstance(getattr(self, name), str):
                raise ParameterError(f"{name} must be text; got {getattr(self, name)!r}")

    def replace(self, **changes: Any) -> LayerParams:
        """A copy with some fields changed, validated like a new one."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (for a dcc.Store)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LayerParams:
        """The inverse of to_dict: missing keys take their defaults, unknown keys are an error."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ParameterError(
                f"unknown layer option(s) {', '.join(map(repr, unknown))}; known options: {', '.join(sorted(known))}"
            )
        if "url" not in data:
            raise ParameterError(_URL_REQUIRED)
        return cls(**data)
