"""The band boxes, the band preset and the rendering rule kept consistent with each other.

bandIds are applied before a rendering rule, so a template that picks its own bands (ExtractBand)
refuses most band choices: the controls therefore hold either chosen bands or a rule, never both.
The preset box names the chosen bands ("Custom" when no preset has them) and, while a template is
on, the band boxes show the bands it puts on screen when its name says which (a template named like
a preset). Pure functions of plain values, wired in callbacks/controls.
"""

from __future__ import annotations

import re

CUSTOM = "Custom"
NO_BAND = "–"
RULE_CLEARED = "The rendering rule was cleared: chosen bands replace the rule's own band choice."
DEFAULT_SKIPPED = "Chosen bands are drawn without the service's default function."
NO_RULE = "No rendering rule"
CUSTOM_RULE = "Custom (the JSON rule below)"


def band_label(index: int, name: str) -> str:
    """A band as the boxes list it: its 1-based number and name, and the 0-based id bandIds uses."""
    return f"{index + 1}: {name} (id {index})"


def band_options(band_names: list[str]) -> list[dict]:
    return [{"label": band_label(i, name), "value": i} for i, name in enumerate(band_names)]


def preset_options(presets: dict[str, list[int]]) -> list[dict]:
    """The presets, then "Custom", shown (not chosen) when the bands match no preset."""
    return [{"label": label, "value": label} for label in presets] + [
        {"label": CUSTOM, "value": CUSTOM, "disabled": True}]


def chosen_bands(red: int | None, green: int | None, blue: int | None) -> list[int]:
    return [band for band in (red, green, blue) if band is not None]


def preset_for(bands: list[int], presets: dict[str, list[int]]) -> str | None:
    """The preset showing exactly these bands, "Custom" for others, None without bands."""
    if not bands:
        return None
    return next((label for label, ids in presets.items() if ids == bands), CUSTOM)


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def template_bands(template: str | None, presets: dict[str, list[int]]) -> list[int] | None:
    """The bands a template named like a composite preset ("Natural Color") shows; None when its
    name does not say."""
    if not template:
        return None
    return next((ids for label, ids in presets.items() if _key(label) == _key(template) and len(ids) == 3), None)


def band_placeholders(template: str | None, custom: str | None, options: dict) -> list[str]:
    """What the empty band boxes say: the template's bands on screen ("shown: 3: Red (id 2)", the
    word first so a narrow box keeps it), "set by the rule"
    when a rule's bands are unknown, "–" without a rule."""
    bands = template_bands(template, options["presets"])
    if bands:
        return [f"shown: {band_label(b, options['band_names'][b])}" for b in bands]
    if template or (custom or "").strip():
        return ["set by the rule"] * 3
    return [NO_BAND] * 3


def sync(changed: set[str], preset: str | None, bands: list[int | None], rule: str | None, custom: str | None,
         options: dict) -> dict:
    """The controls after one of them changed (`changed`: "preset", "bands", "rule", "custom").

    A preset sets the bands, bands clear the rule (and say so), a template clears the bands and
    the custom rule, a custom rule the bands and the template; when several changed at once (a service opened) nothing is cleared.
    """
    presets = options["presets"]
    note = ""
    if changed == {"preset"} and preset in presets:
        chosen = presets[preset]
        bands = chosen if len(chosen) == 3 else [chosen[0], None, None]
    if changed in ({"preset"}, {"bands"}) and chosen_bands(*bands) and (rule or (custom or "").strip()):
        rule, custom, note = None, "", RULE_CLEARED
    elif changed in ({"preset"}, {"bands"}) and chosen_bands(*bands) and options.get("default_function"):
        note = DEFAULT_SKIPPED
    elif changed == {"rule"} and rule:
        bands, custom = [None, None, None], ""
    elif changed == {"custom"} and (custom or "").strip():
        bands, rule = [None, None, None], None
    return {"preset": preset_for(chosen_bands(*bands), presets), "bands": list(bands), "rule": rule,
            "custom": custom, "note": note, **rule_hints(bands, rule, custom, options)}


def rule_hints(bands: list[int | None], rule: str | None, custom: str | None, options: dict) -> dict:
    """What the empty band boxes and the empty rule dropdown say. With neither bands nor a rule the
    server draws with the publisher's default function, so its name and bands are shown."""
    if (custom or "").strip() and not rule:
        return {"rule_placeholder": CUSTOM_RULE, "band_placeholders": band_placeholders(None, custom, options)}
    if chosen_bands(*bands):
        return {"rule_placeholder": NO_RULE, "band_placeholders": band_placeholders(rule, custom, options)}
    default = options.get("default_function")
    return {"rule_placeholder": default_rule_label(default),
            "band_placeholders": band_placeholders(rule or default, custom, options)}


def default_rule_label(function: str | None) -> str:
    """What the empty rendering-rule dropdown means: the function the service applies unasked."""
    return f"Service default ({function})" if function else "Service default"
