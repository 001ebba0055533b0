"""The service description → what the sidebar controls offer (the SERVICE_INFO store).

Read once when a service opens and shared by the callbacks that need the service's bands,
functions, fields or dates (controls, catalog, pixel inspector); pure functions of plain values.
"""

from __future__ import annotations

from imageservice.metadata import ServiceInfo
from imageservice.presets import band_presets

# More dates than this would crowd the slider: it then moves freely instead of date to date.
MAX_DATE_MARKS = 60


def service_options(info: ServiceInfo, dates: list[int]) -> dict:
    """What the controls offer for one service (JSON for the SERVICE_INFO store).

    `dates` are the catalog's acquisition dates (epoch ms); the time slider snaps to them.
    """
    dates = sorted(set(dates))
    if len(dates) > MAX_DATE_MARKS:
        dates = []
    time = None
    if info.time_extent and None not in info.time_extent:
        time = {"min": min([info.time_extent[0], *dates]), "max": max([info.time_extent[1], *dates]), "dates": dates}
    elif dates:
        time = {"min": dates[0], "max": dates[-1], "dates": dates}
    return {
        "band_names": list(info.band_names),
        "presets": band_presets(info.band_names),
        "raster_functions": list(info.raster_functions),
        # The server applies the first listed function when a request names none (reference §1).
        "default_function": info.raster_functions[0] if info.raster_functions else None,
        "extent": list(info.extent_latlng) if info.extent_latlng else None,   # south, west, north, east
        "mosaic_methods": [[label, name] for label, name in zip(info.mosaic_methods, info.mosaic_method_request_names)],
        "sort_fields": [f["name"] for f in info.fields if f.get("type") not in ("esriFieldTypeGeometry", "esriFieldTypeOID")],
        "time": time,
    }


def date_field(info: ServiceInfo) -> str | None:
    """The catalog field holding acquisition dates: AcquisitionDate, else the first date field."""
    names = [f["name"] for f in info.fields if f.get("type") == "esriFieldTypeDate"]
    return "AcquisitionDate" if "AcquisitionDate" in names else (names[0] if names else None)

