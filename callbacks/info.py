"""The service tab: the open service's description (its root JSON) as plain facts, and what the
catalog tab needs to know about the service (read from the same description)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dash import Dash, Input, Output, State, no_update

from callbacks.catalog import catalog_service
from callbacks.time_slider import format_date
from components import ids
from imageservice.dash import ImageMapLayerAIO, edit
from components.infopanel import info_content, info_error
from imageservice.client import METADATA_MAX_AGE
from imageservice.errors import ImageServiceError
from imageservice.metadata import (
    EPSG_MAX,
    ServiceInfo,
    parse_service_info,
    spatial_reference_crs,
    spatial_reference_name,
)

PIXEL_TYPES = {
    "U1": "1-bit", "U2": "2-bit", "U4": "4-bit",
    "U8": "unsigned 8-bit integer", "S8": "signed 8-bit integer",
    "U16": "unsigned 16-bit integer", "S16": "signed 16-bit integer",
    "U32": "unsigned 32-bit integer", "S32": "signed 32-bit integer",
    "F32": "32-bit float", "F64": "64-bit float", "C64": "64-bit complex", "C128": "128-bit complex",
}
UNITS = {"metre": "m", "meter": "m", "foot": "ft", "US survey foot": "US ft"}


def number(value: float, decimals: int = 6) -> str:
    """A number as people write it: thousands separated, no trailing zeros."""
    text = f"{value:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def extent_text(extent: tuple[float, float, float, float]) -> str:
    xmin, ymin, xmax, ymax = extent
    return f"x {number(xmin)} to {number(xmax)}, y {number(ymin)} to {number(ymax)}"


def latlng_text(extent: tuple[float, float, float, float]) -> str:
    south, west, north, east = extent
    return f"lat {south:.4f} to {north:.4f}, lng {west:.4f} to {east:.4f}"


def spatial_reference_text(spatial_reference: Mapping[str, Any] | None, wkid: int | None) -> str:
    """ "EPSG:32610, WGS 84 / UTM zone 10N"; Esri's own codes as ESRI:n; a bare wkid when unnamed."""
    if wkid is None:
        return "not given"
    code = f"{'EPSG' if wkid <= EPSG_MAX else 'ESRI'}:{wkid}"
    name = spatial_reference_name(spatial_reference)
    return f"{code}, {name}" if name else code


def pixel_size_text(root: Mapping[str, Any]) -> str | None:
    x, y = root.get("pixelSizeX"), root.get("pixelSizeY")
    if x is None or y is None:
        return None
    crs = spatial_reference_crs(root.get("spatialReference") or (root.get("extent") or {}).get("spatialReference"))
    if crs is not None and crs.is_geographic:
        units = "°"
    else:
        unit = crs.axis_info[0].unit_name if crs is not None and crs.axis_info else None
        units = UNITS.get(unit, unit) if unit else "map units"
    return f"{number(float(x))} × {number(float(y))} {units}"


def time_text(info: ServiceInfo) -> str:
    if not info.is_time_aware:
        return "not time-aware"
    start, end = info.time_extent or (None, None)
    first = format_date(start, "%Y-%m-%d") if start is not None else "open"
    last = format_date(end, "%Y-%m-%d") if end is not None else "open"
    return f"{first} to {last} (UTC)"


def mosaic_text(info: ServiceInfo) -> str | None:
    if not info.mosaic_methods:
        return None
    text = ", ".join(info.mosaic_methods)
    return f"{text} (default {info.default_mosaic_method})" if info.default_mosaic_method else text


def service_facts(root: Mapping[str, Any], info: ServiceInfo) -> list[tuple[str, str]]:
    """(label, text) for everything the description says that people ask about; facts the
    service does not state are left out rather than shown empty."""
    pixel_type = info.pixel_type
    if pixel_type in PIXEL_TYPES:
        pixel_type = f"{pixel_type} ({PIXEL_TYPES[pixel_type]})"
    spatial_reference = root.get("spatialReference") or (root.get("extent") or {}).get("spatialReference")
    facts = [
        ("Name", info.name),
        ("Description", info.description),
        ("Spatial reference", spatial_reference_text(spatial_reference, info.spatial_reference)),
        ("Extent", info.extent and extent_text(info.extent)),
        ("Extent (lat/lng)", info.extent_latlng and latlng_text(info.extent_latlng)),
        ("Bands", f"{info.band_count}: {', '.join(info.band_names)}"),
        ("Pixel type", pixel_type),
        ("Pixel size", pixel_size_text(root)),
        ("Time extent", time_text(info)),
        ("Capabilities", ", ".join(info.capabilities)),
        ("Mosaic methods", mosaic_text(info)),
        ("Raster functions", info.raster_functions
         and f"{', '.join(info.raster_functions)} (default {info.raster_functions[0]})"),
        ("Max image size", info.max_image_width and info.max_image_height
         and f"{info.max_image_width:,} × {info.max_image_height:,} px"),
        ("Max record count", "Catalog" in info.capabilities and info.max_record_count is not None
         and f"{info.max_record_count:,} catalog items per query"),
        ("Copyright", info.copyright_text),
    ]
    return [(label, value) for label, value in facts if value]


def describe_service(options: dict | None, params: dict | None) -> dict:
    """The service tab's content and the catalog tab's service facts, for a newly opened service."""
    if not options or not params:
        return no_update
    layer = edit(params)
    try:
        root = layer.metadata(METADATA_MAX_AGE)
        info = parse_service_info(root)
    except ImageServiceError as error:
        return {"content": info_error(f"Could not read the service description: {error}"), "catalog": None}
    return {"content": info_content(layer.params.url.rstrip("/"), service_facts(root, info)),
            "catalog": catalog_service(info, layer.params.url)}


def register(app: Dash) -> None:
    app.callback(
        output={"content": Output(ids.INFO_CONTENT, "children"), "catalog": Output(ids.CATALOG_SERVICE, "data")},
        inputs={"options": Input(ids.SERVICE_INFO, "data"),
                "params": State(ImageMapLayerAIO.ids.params(ids.MAIN_LAYER), "data")},
        prevent_initial_call=True,
    )(describe_service)
