"""Control values ↔ the layer's params (LayerParams fields as a dict).

One flow: every control value goes through the seed's setters on the current params (never a
hand-built wire string); invalid input keeps that group's last good value and gives a plain
message for the group of controls it came from, while the other groups still apply. Pure
functions, so they can be tested without a browser.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from callbacks.time_slider import time_from_range
from imageservice.dash import edit
from imageservice.errors import ParameterError
from imageservice.params import parse_rule
from imageservice.wire import serialize_value

# The groups of controls that share one message; params_from_controls gives one message each.
ERROR_GROUPS = ("bands", "no_data", "rule", "mosaic", "time", "display")
BAND_CHANNELS = ("Red", "Green", "Blue")
# Said after an invalid group's message: the controls then show a value the map does not use.
KEPT = " (the map keeps the last valid setting)"
# The mosaicRule keys the controls edit; any other key (from a link or another callback) is kept.
MOSAIC_CONTROL_KEYS = {"mosaicMethod", "sortField", "sortValue", "ascending", "mosaicOperation"}
KEPT_WITHOUT_METHOD = ("multidimensionalDefinition",)


def controls_from_params(params: dict, options: dict) -> dict:
    """The control values that show `params` (the inverse of params_from_controls)."""
    bands = list(params.get("band_ids") or [])[:3]
    rule = params.get("rendering_rule")
    template = rule.get("rasterFunction") if rule and list(rule) == ["rasterFunction"] else None
    if template not in options["raster_functions"]:
        template = None
    mosaic = params.get("mosaic_rule") or {}
    time = options["time"]
    if params.get("time_from") is not None and params.get("time_to") is not None:
        time_range = [params["time_from"], params["time_to"]]
    else:
        time_range = [time["min"], time["max"]] if time else None
    no_data = params.get("no_data")
    return {
        "band_r": bands[0] if bands else None,
        "band_g": bands[1] if len(bands) == 3 else None,
        "band_b": bands[2] if len(bands) == 3 else None,
        "pixel_type": params.get("pixel_type"),
        "no_data": "" if no_data is None else serialize_value(no_data),
        "no_data_interpretation": params.get("no_data_interpretation"),
        "rendering_rule": template,
        "custom_rule": "" if template or not rule else json.dumps(rule),
        "mosaic_method": mosaic.get("mosaicMethod"),
        "sort_field": mosaic.get("sortField"),
        "sort_value": "" if mosaic.get("sortValue") is None else str(mosaic["sortValue"]),
        "sort_ascending": bool(mosaic.get("ascending", True)),
        "mosaic_operation": mosaic.get("mosaicOperation"),
        "time_range": time_range,
        "opacity": params.get("opacity", 1.0),
        "position": params.get("position", "front"),
        "image_format": params.get("format", "jpgpng"),
    }


def missing_bands(red: int | None, green: int | None, blue: int | None) -> list[str]:
    """The channels left empty in a partial triple, so the hint can name them (red alone is a
    grey single band, and no band at all the service default: neither is partial)."""
    chosen = (red, green, blue)
    if (green is None and blue is None) or None not in chosen:
        return []
    return [name for name, band in zip(BAND_CHANNELS, chosen) if band is None]


def band_ids_from(red: int | None, green: int | None, blue: int | None) -> list[int] | None:
    """[r, g, b] for three bands, [r] for one band shown grey, None for the service default,
    also for a partial triple: it is not sent, so it cannot hold the other controls back."""
    if red is None or missing_bands(red, green, blue):
        return None
    return [red] if green is None and blue is None else [red, green, blue]


def rendering_rule_from(template: str | None, custom: str | None) -> dict | None:
    """The custom JSON rule when one is typed, else the chosen raster function template."""
    if custom and custom.strip():
        return parse_rule(custom, "rendering_rule")
    return {"rasterFunction": template} if template else None


def mosaic_rule_from(method: str | None, sort_field: str | None, sort_value: str | None, ascending: bool,
                     operation: str | None) -> dict | None:
    """A mosaicRule from its controls; None (the service default) when no method is chosen."""
    if not method:
        if sort_field or operation or (sort_value or "").strip():
            raise ParameterError("choose a mosaic method first (sort and operation belong to a method)")
        return None
    if method == "esriMosaicAttribute" and not sort_field:
        raise ParameterError("mosaicking by attribute needs a sort field")
    rule: dict[str, Any] = {"mosaicMethod": method}
    if sort_field:
        rule.update(sortField=sort_field, sortValue=(sort_value or "").strip() or None, ascending=bool(ascending))
    if operation:
        rule["mosaicOperation"] = operation
    return {key: value for key, value in rule.items() if value is not None}


def with_other_keys(rule: dict | None, current: dict | None) -> dict | None:
    """The controls' rule plus what they do not edit (lockRasterIds, where, fids, ... from a link
    or another callback), so a control change never drops them. Without a method only the
    multidimensional selection stays: it is the variable picker's, not the method's."""
    kept = {key: value for key, value in (current or {}).items() if key not in MOSAIC_CONTROL_KEYS}
    if rule is None:
        return {key: kept[key] for key in KEPT_WITHOUT_METHOD if key in kept} or None
    return {**kept, **rule}


def params_from_controls(params: dict, options: dict, **values: Any) -> tuple[dict, dict[str, str]]:
    """New params from the control values with the seed's setters, and a message per group.

    An invalid group keeps its last good value and says so; the other groups still apply, so
    one bad control never freezes the rest. A group's message is "" when its controls are valid.
    """
    layer = edit(params)
    errors = dict.fromkeys(ERROR_GROUPS, "")

    def attempt(group: str, change: Callable[[], Any]) -> None:
        try:
            change()
        except ParameterError as error:
            errors[group] = f"{error}{KEPT}"

    v = values
    no_data_set = bool(str(v["no_data"] or "").strip())
    bands = (v["band_r"], v["band_g"], v["band_b"])
    attempt("bands", lambda: layer.set_band_ids(band_ids_from(*bands)))
    attempt("bands", lambda: layer.set_pixel_type(v["pixel_type"] or None))
    if missing := missing_bands(*bands):
        errors["bands"] = f"{' and '.join(missing)} band{'s' if len(missing) > 1 else ''} missing: " \
                          "the service default bands are shown"
    attempt("no_data", lambda: layer.set_no_data(v["no_data"], v["no_data_interpretation"] if no_data_set else None))
    attempt("rule", lambda: layer.set_rendering_rule(rendering_rule_from(v["rendering_rule"], v["custom_rule"])))
    attempt("mosaic", lambda: layer.set_mosaic_rule(with_other_keys(mosaic_rule_from(
        v["mosaic_method"], v["sort_field"], v["sort_value"], v["sort_ascending"], v["mosaic_operation"]),
        params.get("mosaic_rule"))))
    attempt("time", lambda: layer.set_time_range(*time_from_range(v["time_range"], options["time"])))
    attempt("display", lambda: layer.set_opacity(v["opacity"]))
    attempt("display", lambda: layer.bring_to_back() if v["position"] == "back" else layer.bring_to_front())
    # format has no setter in the seed: it is a constructor option.
    return layer.params.replace(format=v["image_format"] or "jpgpng").to_dict(), errors
