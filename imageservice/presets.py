"""Band presets (Natural Color, Color Infrared, ...: the spelling ArcGIS services use) found from a service's band names.

Services name their bands freely ("Red", "NearInfrared", "SWIR 1", "B4_Red"), so each role is
matched by a few spellings; a preset is offered only when all its bands exist.
"""

from __future__ import annotations

import re

# Role -> normalised band-name spellings (lower case, letters and digits only).
ROLES = {
    "blue": ("blue", "b2blue", "coastalblue"),
    "green": ("green", "b3green"),
    "red": ("red", "b4red"),
    "nir": ("nir", "nearinfrared", "nearir", "infrared", "b5nir", "b8nir"),
    "swir1": ("swir1", "shortwaveinfrared1", "swir", "b6swir1"),
    "swir2": ("swir2", "shortwaveinfrared2", "b7swir2"),
}
# Label -> the roles shown as red, green, blue.
COMPOSITES = {
    "Natural Color": ("red", "green", "blue"),
    "Color Infrared": ("nir", "red", "green"),
    "SWIR": ("swir2", "nir", "red"),
    "Agriculture": ("swir1", "nir", "blue"),
}


def _normalise(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def band_roles(band_names: list[str] | tuple[str, ...]) -> dict[str, int]:
    """Role -> 0-based band index, for the roles whose band is found (first match wins)."""
    roles: dict[str, int] = {}
    for index, name in enumerate(band_names):
        key = _normalise(name)
        for role, spellings in ROLES.items():
            if key in spellings and role not in roles:
                roles[role] = index
    return roles


def band_presets(band_names: list[str] | tuple[str, ...]) -> dict[str, list[int]]:
    """Preset label -> band ids: the composites whose bands exist, then one single-band preset
    per band."""
    roles = band_roles(band_names)
    presets = {
        label: [roles[role] for role in composite]
        for label, composite in COMPOSITES.items()
        if all(role in roles for role in composite)
    }
    for index, name in enumerate(band_names):
        presets[f"Single band: {name}"] = [index]
    return presets
