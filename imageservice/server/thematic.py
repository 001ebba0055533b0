"""Thematic (class) rasters: their colormap and raster attribute table, and the colours that
exportImage draws them with by default.

The colormap is the GeoTIFF's own palette (band 1), listed for the classes of the attribute
table, else for every value between the band's minimum and maximum. The attribute table comes
from the sidecar's `rasterAttributeTable` (rows with an integer `Value`, any other columns); rows
with Red, Green and Blue give the colours when the GeoTIFF has no palette. As on ArcGIS, a
picture exported without a renderingRule is drawn through the colormap; `{"rasterFunction":
"None"}` (or a raw format: tiff, bip, bsq, lerc) gives the class values.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import rasterio
from rasterio.enums import ColorInterp

from .errors import UnableToComplete

if TYPE_CHECKING:
    from .catalog import Service

COLOUR_COLUMNS = ("Red", "Green", "Blue")


def attribute_table(rows: Any) -> tuple[dict, ...]:
    """The sidecar's `rasterAttributeTable`, each row numbered by OBJECTID; () when absent."""
    if rows is None:
        return ()
    if not isinstance(rows, list) or not all(isinstance(r, dict) and isinstance(r.get("Value"), int) for r in rows):
        raise ValueError("rasterAttributeTable must be a list of rows, each with an integer \"Value\"")
    return tuple({"OBJECTID": number, **row} for number, row in enumerate(rows, start=1))


def file_colormap(path: Path, table: Sequence[dict],
                  statistics: Sequence[Sequence[float]]) -> tuple[tuple[int, int, int, int], ...]:
    """(value, red, green, blue) entries from a one-band file's palette, else the table's colours."""
    with rasterio.open(path) as dataset:
        palette = (dataset.colormap(1) if dataset.count == 1 and dataset.colorinterp[0] == ColorInterp.palette
                   else None)
    if palette is not None:
        low, high = statistics[0][0], statistics[0][1]
        values = [row["Value"] for row in table] or range(int(low), int(high) + 1)
        return tuple((int(v), *palette[int(v)][:3]) for v in values if int(v) in palette)
    if table and all(column in row for row in table for column in COLOUR_COLUMNS):
        return tuple((row["Value"], *(int(row[c]) for c in COLOUR_COLUMNS)) for row in table)
    return ()


def colormap_resource(service: Service) -> dict:
    """The `colormap` resource: [[value, red, green, blue], ...]."""
    if not service.colormap:
        raise UnableToComplete("The image service has no colormap.")
    return {"colormap": [list(entry) for entry in service.colormap]}


def attribute_table_resource(service: Service) -> dict:
    """The `rasterAttributeTable` resource: a feature set of the rows, without geometry."""
    if not service.attribute_table:
        raise UnableToComplete("The image service has no raster attribute table.")
    columns: dict[str, str] = {}
    for row in service.attribute_table:
        for name, value in row.items():
            columns.setdefault(name, field_type(name, value))
    return {
        "objectIdFieldName": "OBJECTID",
        "fields": [{"name": name, "type": kind, "alias": name, "domain": None} for name, kind in columns.items()],
        "features": [{"attributes": dict(row)} for row in service.attribute_table],
    }


def field_type(name: str, value: Any) -> str:
    if name == "OBJECTID":
        return "esriFieldTypeOID"
    if isinstance(value, int) and not isinstance(value, bool):
        return "esriFieldTypeInteger"
    if isinstance(value, float):
        return "esriFieldTypeDouble"
    return "esriFieldTypeString"


def class_names(service: Service) -> dict[int, str]:
    """Class value -> its name (ClassName, else the first text column), for legends."""
    names = {}
    for row in service.attribute_table:
        text = row.get("ClassName") or next((v for k, v in row.items() if isinstance(v, str)), None)
        if text is not None:
            names[row["Value"]] = str(text)
    return names


def colormap_rule(service: Service) -> dict:
    """The Colormap raster function that draws the service's classes in their colours."""
    return {"rasterFunction": "Colormap",
            "rasterFunctionArguments": {"Colormap": [list(entry) for entry in service.colormap]},
            "variableName": "Raster"}
