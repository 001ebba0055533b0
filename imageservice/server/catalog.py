"""Services from folders of GeoTIFFs: the catalog (items, footprints, fields, statistics) of each.

A folder under the data root is a service; its GeoTIFFs are the catalog items. An optional
`catalog.json` sidecar adds service text, item names, acquisition times and other attributes (see
docs/server.md). A GeoTIFF directly in the root is a single-raster service. Statistics and
footprints take a pass over every file, so they are cached in a `.stats.json` next to the data.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import re
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import rasterio
import shapely
from rasterio.crs import CRS
from rasterio.features import shapes
from rasterio.io import DatasetReader
from shapely.geometry import Polygon, box, shape

from . import thematic
from .errors import UnableToComplete
from .multidimensional import Multidimensional, read_multidimensional

log = logging.getLogger(__name__)

SIDECAR = "catalog.json"
STATS_CACHE = ".stats.json"
SERVICE_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
ATTRIBUTE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
TIFF_SUFFIXES = (".tif", ".tiff")
OVERVIEW_SIZE = 512                      # statistics and footprints come from a read this big
CACHE_FORMAT = 1                         # bump when the .stats.json entries change
GENERIC = "esriImageServiceDataTypeGeneric"
ELEVATION = "esriImageServiceDataTypeElevation"
DATA_TYPES = ("Generic", "Elevation", "Thematic", "Processed", "Scientific", "RGB", "Vector-UV", "Vector-MagDir")
PIXEL_TYPES = {"uint8": "U8", "int8": "S8", "uint16": "U16", "int16": "S16", "uint32": "U32", "int32": "S32",
               "float32": "F32", "float64": "F64", "complex64": "C64", "complex128": "C128"}
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")
# Fields every mosaic catalog has, ahead of / after the sidecar's own attributes.
LEADING_FIELDS = ("OBJECTID", "Shape", "Name", "MinPS", "MaxPS", "CenterX", "CenterY", "ZOrder")
TRAILING_FIELDS = ("Shape_Length", "Shape_Area")
RESERVED = {name.lower() for name in LEADING_FIELDS + TRAILING_FIELDS if name != "Name"} | {"file"}

OID = "esriFieldTypeOID"
GEOMETRY = "esriFieldTypeGeometry"
STRING = "esriFieldTypeString"
DOUBLE = "esriFieldTypeDouble"
INTEGER = "esriFieldTypeInteger"
DATE = "esriFieldTypeDate"


@dataclass(frozen=True)
class Item:
    """One catalog item (a GeoTIFF) with its footprint and attributes as ArcGIS emits them, and
    its raster's bounds, so that no file is opened to learn where an item lies."""
    object_id: int
    name: str
    path: Path
    footprint: Polygon
    start_ms: int | None
    end_ms: int | None
    attributes: dict[str, Any] = field(compare=False, hash=False)
    bounds: tuple[float, float, float, float] = field(compare=False, hash=False)


@dataclass(frozen=True, eq=False)
class Service:
    """An image service: a mosaic of catalog items, or one raster."""
    name: str
    folder: Path
    description: str
    copyright_text: str
    kind: str
    crs: CRS
    extent: tuple[float, float, float, float]
    pixel_size: tuple[float, float]
    band_names: tuple[str, ...]
    pixel_type: str
    source_no_data: float | None
    statistics: tuple[tuple[float, float, float, float], ...]
    data_type: str
    time_extent: tuple[int, int] | None
    start_time_field: str | None
    end_time_field: str | None
    items: tuple[Item, ...]
    fields: tuple[dict, ...]
    default_mosaic_method: str
    sort_field: str | None
    sort_value: str | None
    sort_ascending: bool
    raster_function_templates: dict[str, dict]
    colormap: tuple[tuple[int, int, int, int], ...] = ()     # (value, red, green, blue) of a thematic raster
    attribute_table: tuple[dict, ...] = ()                   # the sidecar's rasterAttributeTable rows
    multidimensional: Multidimensional | None = None
    default_raster_function: str | None = None   # the template exportImage applies unasked

    def item(self, object_id: int) -> Item:
        if 1 <= object_id <= len(self.items):
            return self.items[object_id - 1]
        raise UnableToComplete(f"No catalog item with OBJECTID {object_id}.")


# ----------------------------------------------------------------------------------------------
# Open datasets

_local = threading.local()


def open_dataset(path: Path) -> DatasetReader:
    """An open dataset for `path`, one per thread: GDAL handles must not be shared across threads."""
    cache: dict[Path, DatasetReader] = _local.__dict__.setdefault("datasets", {})
    dataset = cache.get(path)
    if dataset is None or dataset.closed:
        dataset = cache[path] = rasterio.open(path)
    return dataset


# ----------------------------------------------------------------------------------------------
# Loading


def load_services(root: Path) -> dict[str, Service]:
    """Every service under `root`, by name; folders and files that are not services are skipped with a warning."""
    root = Path(root)
    services: dict[str, Service] = {}
    for entry in sorted(root.iterdir()):
        if entry.name.startswith("."):
            continue
        is_folder = entry.is_dir()
        if not is_folder and entry.suffix.lower() not in TIFF_SUFFIXES:
            continue
        name = entry.name if is_folder else entry.stem
        if not SERVICE_NAME.match(name):
            log.warning("Skipping %s: a service name may only hold letters, digits, '_' and '-'.", entry)
            continue
        if name in services:
            log.warning("Skipping %s: a service named %r already exists.", entry, name)
            continue
        try:
            service = load_folder(entry, name) if is_folder else load_raster(entry, name)
        except (OSError, ValueError, rasterio.errors.RasterioError) as error:
            log.warning("Skipping %s: %s", entry, error)
            continue
        if service is not None:
            services[name] = service
    return services


def load_raster(path: Path, name: str) -> Service:
    """A single GeoTIFF in the root: a raster service with no sidecar."""
    return build_service(name, path.parent, {}, [(path, {})])


def load_folder(folder: Path, name: str) -> Service | None:
    """A folder of GeoTIFFs with an optional sidecar; None if it holds no GeoTIFF."""
    sidecar = read_sidecar(folder)
    entries = sidecar_entries(folder, sidecar["items"]) if "items" in sidecar else folder_entries(folder)
    if not entries:
        return None
    return build_service(name, folder, sidecar, entries)


def sidecar_entries(folder: Path, listed: Any) -> list[tuple[Path, Mapping[str, Any]]]:
    """The files the sidecar's `items` list, in its order, each with its entry; a missing file, or one
    outside the folder, is skipped so one stale line does not take the whole service down."""
    entries = []
    for entry in listed:
        if not isinstance(entry, dict) or not isinstance(entry.get("file"), str):
            raise ValueError(f"every item in {SIDECAR} needs a \"file\"")
        path = folder / entry["file"]
        if path.parent != folder or not path.is_file():
            log.warning("Skipping item %r of %s: no such file in the folder.", entry["file"], folder)
            continue
        entries.append((path, entry))
    return entries


def folder_entries(folder: Path) -> list[tuple[Path, Mapping[str, Any]]]:
    """Without a sidecar item list, every visible GeoTIFF of the folder, by name, with no attributes."""
    return [(path, {}) for path in sorted(folder.iterdir())
            if path.suffix.lower() in TIFF_SUFFIXES and not path.name.startswith(".")]


def read_sidecar(folder: Path) -> dict:
    """The folder's `catalog.json` as a dict; empty when there is none, an error when it is not an object."""
    path = folder / SIDECAR
    if not path.is_file():
        return {}
    content = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(content, dict):
        raise ValueError(f"{SIDECAR} must hold a JSON object")
    return content


class ScannedFile(NamedTuple):
    """A catalog file with its sidecar entry and what the scan found in it."""
    path: Path
    entry: Mapping[str, Any]
    scan: FileScan


def build_service(name: str, folder: Path, sidecar: Mapping[str, Any],
                  entries: list[tuple[Path, Mapping[str, Any]]]) -> Service:
    """Assemble a service from its files (with their sidecar entries) and the sidecar's service keys.

    Each step checks its own part of the sidecar; their order decides which error a sidecar with
    several problems reports.
    """
    scanned = scan_files(folder, entries)
    first = scanned[0].scan
    attribute_fields = infer_fields([file.entry for file in scanned])
    start_field, end_field = time_fields(sidecar, attribute_fields)
    items = make_items(scanned, attribute_fields, start_field, end_field)
    time_extent = items_time_extent(items)
    kind = service_kind(items, time_extent)
    band_names = service_band_names(sidecar, first)
    statistics = pooled_statistics([file.scan for file in scanned])
    data_type = service_data_type(sidecar.get("serviceDataType"))
    default_method, sort_field, sort_value, ascending = mosaic_defaults(sidecar, start_field)
    templates = raster_function_templates(sidecar, data_type, band_names, statistics, scanned)
    description, copyright_text = service_texts(sidecar, name)
    attribute_table = thematic.attribute_table(sidecar.get("rasterAttributeTable"))
    return Service(
        name=name,
        folder=folder,
        description=description,
        copyright_text=copyright_text,
        kind=kind,
        crs=first.crs,
        extent=union_extent(scanned),
        pixel_size=finest_pixel_size(scanned),
        band_names=band_names,
        pixel_type=first.pixel_type,
        source_no_data=first.nodata,
        statistics=statistics,
        data_type=data_type,
        time_extent=time_extent,
        start_time_field=start_field if time_extent else None,
        end_time_field=end_field if time_extent else None,
        items=tuple(items),
        fields=tuple(catalog_fields(attribute_fields)) if kind == "mosaic" else (),
        default_mosaic_method=default_method,
        sort_field=sort_field,
        sort_value=sort_value,
        sort_ascending=ascending,
        raster_function_templates=templates,
        colormap=thematic.file_colormap(scanned[0].path, attribute_table, statistics),
        attribute_table=attribute_table,
        multidimensional=read_multidimensional(sidecar, items, [file.scan for file in scanned]),
        default_raster_function=default_template(sidecar, templates),
    )


def scan_files(folder: Path, entries: list[tuple[Path, Mapping[str, Any]]]) -> list[ScannedFile]:
    """Scan every file (through the folder's statistics cache) and keep those that mosaic with the
    first: a service has one CRS, band count and pixel type."""
    cache = StatsCache(folder)
    scanned: list[ScannedFile] = []
    for path, entry in entries:
        scan = cache.scan(path)
        if scanned and not scanned[0].scan.compatible(scan):
            log.warning("Skipping %s: its CRS, band count or pixel type differs from %s.", path, scanned[0].path)
            continue
        scanned.append(ScannedFile(path, entry, scan))
    cache.save()
    return scanned


def make_items(scanned: list[ScannedFile], attribute_fields: list[dict],
               start_field: str | None, end_field: str | None) -> list[Item]:
    """The catalog items, OBJECTIDs from 1 in file order, with their attributes typed as their fields."""
    types = {f["name"]: f["type"] for f in attribute_fields}
    items = []
    for object_id, (path, entry, scan) in enumerate(scanned, start=1):
        values = {key: to_field_value(value, types[key]) for key, value in entry.items() if key in types}
        start_ms, end_ms = item_times(values, start_field, end_field)
        items.append(make_item(object_id, path, entry.get("Name"), scan, values, attribute_fields, start_ms, end_ms))
    return items


def item_times(values: Mapping[str, Any], start_field: str | None,
               end_field: str | None) -> tuple[int | None, int | None]:
    """An item's start and end (epoch ms); without an end time an item is an instant and ends when it starts."""
    start_ms = values.get(start_field) if start_field else None
    end_ms = values.get(end_field) if end_field else None
    return start_ms, start_ms if end_ms is None else end_ms


def items_time_extent(items: list[Item]) -> tuple[int, int] | None:
    """From the earliest start to the latest end of the timed items; None when no item has a time."""
    times = [(item.start_ms, item.end_ms) for item in items if item.start_ms is not None]
    if not times:
        return None
    return min(t[0] for t in times), max(t[1] for t in times)


def service_kind(items: list[Item], time_extent: tuple[int, int] | None) -> str:
    """A raster service for one file without a time; otherwise a mosaic with a catalog of items
    (even for one file, so that its time has an item to live on)."""
    return "raster" if len(items) == 1 and time_extent is None else "mosaic"


def service_texts(sidecar: Mapping[str, Any], name: str) -> tuple[str, str]:
    """The service description and copyright text from the sidecar, with a plain default description."""
    return (str(sidecar.get("description") or f"Images from {name}."),
            str(sidecar.get("copyrightText") or ""))


def service_band_names(sidecar: Mapping[str, Any], first: FileScan) -> tuple[str, ...]:
    """The sidecar's `bandNames`, else the first file's band descriptions; one name per band."""
    band_names = tuple(sidecar.get("bandNames") or first.band_names)
    if len(band_names) != first.count:
        raise ValueError(f"bandNames lists {len(band_names)} names for {first.count} bands")
    return band_names


def union_extent(scanned: list[ScannedFile]) -> tuple[float, float, float, float]:
    """The bounds that hold every file."""
    bounds = [file.scan.bounds for file in scanned]
    return (min(b[0] for b in bounds), min(b[1] for b in bounds),
            max(b[2] for b in bounds), max(b[3] for b in bounds))


def finest_pixel_size(scanned: list[ScannedFile]) -> tuple[float, float]:
    """The smallest pixel size in x and in y over the files: the service's full resolution."""
    return (min(file.scan.pixel_size[0] for file in scanned), min(file.scan.pixel_size[1] for file in scanned))


def make_item(object_id: int, path: Path, name: Any, scan: FileScan, values: Mapping[str, Any],
              attribute_fields: list[dict], start_ms: int | None, end_ms: int | None) -> Item:
    """One item with the standard mosaic attributes around the sidecar's (every field present, maybe None)."""
    footprint = scan.footprint
    centre = footprint.centroid
    name = str(name) if name is not None else path.stem
    attributes: dict[str, Any] = {
        "OBJECTID": object_id,
        "Name": name,
        "MinPS": 0.0,
        "MaxPS": scan.pixel_size[0] * max(scan.width, scan.height),   # visible at every scale
        "CenterX": centre.x,
        "CenterY": centre.y,
        "ZOrder": 0,
    }
    attributes.update({f["name"]: values.get(f["name"]) for f in attribute_fields})
    attributes.update(Shape_Length=footprint.length, Shape_Area=footprint.area)
    return Item(object_id=object_id, name=name, path=path, footprint=footprint,
                start_ms=start_ms, end_ms=end_ms, attributes=attributes, bounds=scan.bounds)


# ----------------------------------------------------------------------------------------------
# Fields and attribute values


def field_info(name: str, field_type: str) -> dict:
    info: dict[str, Any] = {"name": name, "type": field_type, "alias": name, "domain": None}
    if field_type == STRING:
        info["length"] = 200 if name == "Name" else 50
    elif field_type == DATE:
        info["length"] = 8
    return info


def catalog_fields(attribute_fields: list[dict]) -> list[dict]:
    """The catalog's field descriptors: the standard mosaic fields around the sidecar's."""
    types = {"OBJECTID": OID, "Shape": GEOMETRY, "Name": STRING, "ZOrder": INTEGER}
    leading = [field_info(name, types.get(name, DOUBLE)) for name in LEADING_FIELDS]
    trailing = [field_info(name, DOUBLE) for name in TRAILING_FIELDS]
    return leading + attribute_fields + trailing


def infer_fields(entries: list[Mapping[str, Any]]) -> list[dict]:
    """Field descriptors for the sidecar attributes, typed from their values (first seen order)."""
    found: dict[str, list[Any]] = {}
    for entry in entries:
        for key, value in entry.items():
            if key == "Name" or key.lower() in RESERVED:
                continue
            if not ATTRIBUTE_NAME.match(key):
                raise ValueError(f"attribute name {key!r} must start with a letter "
                                 "and hold only letters, digits and '_'")
            found.setdefault(key, []).append(value)
    return [field_info(key, value_type(values)) for key, values in found.items()]


def value_type(values: list[Any]) -> str:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, str) and ISO_DATE.match(v) for v in present):
        return DATE
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return INTEGER
    if present and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return DOUBLE
    return STRING


def to_field_value(value: Any, field_type: str) -> Any:
    """A sidecar value as the catalog stores it (dates become epoch milliseconds, UTC)."""
    if value is None:
        return None
    if field_type == DATE:
        return parse_date_ms(value)
    if field_type == DOUBLE:
        return float(value)
    if field_type == STRING:
        return value if isinstance(value, str) else json.dumps(value)
    return value


def parse_date_ms(text: str) -> int:
    """ISO 8601 date or date-time as epoch ms; times without a zone are UTC."""
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return int(round(moment.timestamp() * 1000))


def time_fields(sidecar: Mapping[str, Any], attribute_fields: list[dict]) -> tuple[str | None, str | None]:
    """The start and end time fields: named by the sidecar, else AcquisitionDate or the first date field."""
    dates = [f["name"] for f in attribute_fields if f["type"] == DATE]
    start = sidecar.get("startTimeField") or ("AcquisitionDate" if "AcquisitionDate" in dates else None)
    start = start or (dates[0] if dates else None)
    end = sidecar.get("endTimeField")
    for name in (start, end):
        if name is not None and name not in dates:
            raise ValueError(f"time field {name!r} is not a date attribute of the items")
    return start, end


def service_data_type(value: Any) -> str:
    if value is None:
        return GENERIC
    short = str(value).removeprefix("esriImageServiceDataType")
    if short not in DATA_TYPES:
        raise ValueError(f"unknown serviceDataType {value!r}")
    return "esriImageServiceDataType" + short


def mosaic_defaults(sidecar: Mapping[str, Any], start_field: str | None) -> tuple[str, str | None, str | None, bool]:
    """Default mosaic method and sort: time-aware catalogs show the newest item on top, as Landsat services do."""
    if start_field:
        method, sort_field, sort_value = "ByAttribute", start_field, "2100/01/01"
    else:
        method, sort_field, sort_value = "Northwest", None, None
    return (str(sidecar.get("defaultMosaicMethod", method)), sidecar.get("sortField", sort_field),
            sidecar.get("sortValue", sort_value), bool(sidecar.get("sortAscending", True)))


# ----------------------------------------------------------------------------------------------
# Per-file scan: grid, statistics and footprint, cached in .stats.json


@dataclass(frozen=True)
class FileScan:
    """What the catalog needs to know about one GeoTIFF."""
    crs: CRS
    bounds: tuple[float, float, float, float]
    pixel_size: tuple[float, float]
    width: int
    height: int
    count: int
    pixel_type: str
    nodata: float | None
    band_names: tuple[str, ...]
    statistics: tuple[tuple[float, ...], ...]    # per band: min, max, mean, stdv, valid count, 2nd and 98th percentile
    footprint: Polygon

    def compatible(self, other: FileScan) -> bool:
        return (self.crs, self.count, self.pixel_type) == (other.crs, other.count, other.pixel_type)


class StatsCache:
    """Statistics and footprints of a folder's files, keyed by name, size and modification time."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / STATS_CACHE
        try:
            self.entries: dict[str, dict] = json.loads(self.path.read_text())
        except (OSError, ValueError):
            self.entries = {}
        self.changed = False

    def scan(self, path: Path) -> FileScan:
        stat = path.stat()
        key = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "format": CACHE_FORMAT}
        cached = self.entries.get(path.name)
        with rasterio.open(path) as dataset:
            if cached is None or cached.get("key") != key:
                cached = {"key": key, **measure(dataset)}
                self.entries[path.name] = cached
                self.changed = True
            return file_scan(dataset, cached)

    def save(self) -> None:
        """Write the cache atomically; a read-only folder only costs a rescan next time."""
        if not self.changed:
            return
        try:
            with tempfile.NamedTemporaryFile("w", dir=self.path.parent, prefix=".stats.", delete=False) as handle:
                json.dump(self.entries, handle)
            Path(handle.name).replace(self.path)
        except OSError as error:
            log.info("Cannot cache statistics in %s: %s", self.path, error)


def measure(dataset: DatasetReader) -> dict:
    """Per-band statistics and the valid-data outline, from a reduced read (GDAL uses the overviews)."""
    scale = max(1, math.ceil(max(dataset.width, dataset.height) / OVERVIEW_SIZE))
    height, width = math.ceil(dataset.height / scale), math.ceil(dataset.width / scale)
    data = dataset.read(out_shape=(dataset.count, height, width), masked=True)
    statistics = []
    for band in data:
        values = band.compressed().astype(np.float64)
        values = values[np.isfinite(values)]
        if values.size == 0:
            statistics.append([0.0, 0.0, 0.0, 0.0, 0, 0.0, 0.0])
        else:
            low, high = np.percentile(values, [2, 98])
            statistics.append([float(values.min()), float(values.max()), float(values.mean()),
                               float(values.std()), int(values.size), float(low), float(high)])
    mask = dataset.dataset_mask(out_shape=(height, width))
    transform = dataset.transform @ dataset.transform.scale(dataset.width / width, dataset.height / height)
    return {"statistics": statistics, "footprint": outline(mask, transform, dataset.bounds)}


def outline(mask: np.ndarray, transform: Any, bounds: Any) -> list[list[float]]:
    """The exterior ring of the largest valid-data area, simplified to about two reduced pixels."""
    if mask.all():
        polygon = box(*bounds)
    else:
        parts = [shape(geometry) for geometry, value in shapes(mask, mask=mask > 0, transform=transform) if value]
        if not parts:
            polygon = box(*bounds)
        else:
            polygon = max((Polygon(p.exterior) for p in parts), key=lambda p: p.area)
            polygon = polygon.simplify(2 * abs(transform.a), preserve_topology=True)
    return [list(xy) for xy in shapely.geometry.polygon.orient(polygon, sign=-1.0).exterior.coords]


def file_scan(dataset: DatasetReader, cached: dict) -> FileScan:
    descriptions = dataset.descriptions
    band_names = (tuple(descriptions) if all(descriptions)
                  else tuple(f"Band_{i}" for i in range(1, dataset.count + 1)))
    return FileScan(
        crs=dataset.crs,
        bounds=tuple(dataset.bounds),
        pixel_size=(abs(dataset.transform.a), abs(dataset.transform.e)),
        width=dataset.width,
        height=dataset.height,
        count=dataset.count,
        pixel_type=PIXEL_TYPES.get(dataset.dtypes[0], "UNKNOWN"),
        nodata=dataset.nodata,
        band_names=band_names,
        statistics=tuple(tuple(s) for s in cached["statistics"]),
        footprint=Polygon(cached["footprint"]),
    )


def pooled_statistics(scans: list[FileScan]) -> tuple[tuple[float, float, float, float], ...]:
    """Per-band (min, max, mean, stdv) over all items, weighting each item by its valid pixels."""
    result = []
    for band in range(scans[0].count):
        parts = [scan.statistics[band] for scan in scans if scan.statistics[band][4] > 0]
        total = sum(p[4] for p in parts)
        if total == 0:
            result.append((0.0, 0.0, 0.0, 0.0))
            continue
        mean = sum(p[2] * p[4] for p in parts) / total
        variance = sum(p[4] * (p[3] ** 2 + p[2] ** 2) for p in parts) / total - mean ** 2
        result.append((min(p[0] for p in parts), max(p[1] for p in parts), mean, math.sqrt(max(variance, 0.0))))
    return tuple(result)


# ----------------------------------------------------------------------------------------------
# Raster function templates


def raster_function_templates(sidecar: Mapping[str, Any], data_type: str, band_names: tuple[str, ...],
                              statistics: tuple[tuple[float, float, float, float], ...],
                              scanned: list[ScannedFile]) -> dict[str, dict]:
    """The templates that fit the bands, then the sidecar's own, which replace a default of the same name."""
    scans = [file.scan for file in scanned]
    ranges = sidecar_ranges(sidecar.get("displayRanges"), scans[0].count) or display_ranges(scans)
    templates = default_templates(data_type, band_names, statistics, ranges)
    templates.update(sidecar_templates(sidecar.get("rasterFunctionTemplates")))
    return templates


def default_template(sidecar: Mapping[str, Any], templates: Mapping[str, dict]) -> str | None:
    """The sidecar's `defaultRasterFunction`: the publisher's default rendering, which must name a template."""
    name = sidecar.get("defaultRasterFunction")
    if name is not None and name not in templates:
        raise ValueError(f"defaultRasterFunction {name!r} names no raster function template")
    return name


def sidecar_templates(value: Any) -> dict[str, dict]:
    """The sidecar's `rasterFunctionTemplates`: raster function objects by name (none when absent)."""
    extra = value or {}
    if not isinstance(extra, dict) or not all(isinstance(t, dict) for t in extra.values()):
        raise ValueError("rasterFunctionTemplates must map names to raster function objects")
    return extra


def sidecar_ranges(value: Any, count: int) -> tuple[tuple[float, float], ...] | None:
    """The sidecar's `displayRanges`: a [low, high] per band that the colour composites stretch over."""
    if value is None:
        return None
    try:
        ranges = tuple((float(low), float(high)) for low, high in value)
    except (TypeError, ValueError):
        ranges = ()
    if len(ranges) != count or any(low >= high for low, high in ranges):
        raise ValueError(f"displayRanges must give a [low, high] pair for each of the {count} bands")
    return ranges


def display_ranges(scans: list[FileScan]) -> tuple[tuple[float, float], ...]:
    """Per band, the typical 2nd-98th percentile range of the items (the median over items), so a
    few cloudy or dark scenes do not flatten the contrast of the colour composites."""
    count = scans[0].count
    return tuple((float(np.median([s.statistics[b][5] for s in scans])),
                  float(np.median([s.statistics[b][6] for s in scans]))) for b in range(count))


def default_templates(data_type: str, band_names: tuple[str, ...],
                      statistics: tuple[tuple[float, float, float, float], ...],
                      ranges: tuple[tuple[float, float], ...]) -> dict[str, dict]:
    """Templates that fit the bands: colour composites and NDVI when the band names allow them,
    terrain renderings for elevation. Stretch statistics are spelled out so each template stands alone."""
    if data_type == ELEVATION:
        return {
            "Hillshade": {"rasterFunction": "Hillshade", "rasterFunctionArguments": {
                "Azimuth": 315, "Altitude": 45, "ZFactor": 1}, "variableName": "Raster"},
            "Slope Map": colormap(stretch({"rasterFunction": "Slope", "rasterFunctionArguments": {
                "ZFactor": 1, "SlopeType": 1}, "variableName": "Raster"}, [(0.0, 45.0, 10.0, 8.0)]), SLOPE_RAMP),
            "Elevation Tinted": colormap(stretch("$$", [statistics[0]]), ELEVATION_RAMP),
        }
    index = {name.lower(): i for i, name in enumerate(band_names)}
    templates: dict[str, dict] = {}
    composites = {
        "Natural Color": ("red", "green", "blue"),
        "Color Infrared": ("nir", "red", "green"),
        "SWIR": ("swir2", "nir", "red"),  # Landsat's short-wave infrared composite, 7-5-4
    }
    for name, wanted in composites.items():
        if all(band in index for band in wanted):
            bands = [index[band] for band in wanted]
            extract = {"rasterFunction": "ExtractBand", "rasterFunctionArguments": {"BandIDs": bands},
                       "variableName": "Raster"}
            templates[name] = stretch(extract, [(*ranges[b], *statistics[b][2:4]) for b in bands])
    if "red" in index and "nir" in index:
        ndvi_args = {"VisibleBandID": index["red"], "InfraredBandID": index["nir"]}
        templates["NDVI Colorized"] = colormap({"rasterFunction": "NDVI", "rasterFunctionArguments": {
            **ndvi_args, "ScientificOutput": False}, "variableName": "Raster"}, NDVI_RAMP)
        templates["NDVI Raw"] = {"rasterFunction": "NDVI", "rasterFunctionArguments": {
            **ndvi_args, "ScientificOutput": True}, "variableName": "Raster"}
    return templates


def stretch(raster: dict | str, statistics: list[tuple[float, ...]]) -> dict:
    """A min-max Stretch to U8 between each band's given (min, max, mean, stdv) min and max."""
    return {"rasterFunction": "Stretch", "rasterFunctionArguments": {
        "StretchType": 5, "Statistics": [[round(v, 4) for v in s[:4]] for s in statistics],
        "Min": 0, "Max": 255, "Raster": raster}, "outputPixelType": "U8", "variableName": "Raster"}


def colormap(raster: dict, ramp: list[tuple[int, int, int, int]]) -> dict:
    """An explicit [[value, r, g, b], ...] colormap for every integer value of the ramp's range,
    interpolated between the ramp's (value, r, g, b) stops."""
    stops = [stop[0] for stop in ramp]
    values = np.arange(stops[0], stops[-1] + 1)
    channels = [np.interp(values, stops, [stop[i] for stop in ramp]).round().astype(int) for i in (1, 2, 3)]
    entries = [[int(v), int(r), int(g), int(b)] for v, r, g, b in zip(values, *channels)]
    return {"rasterFunction": "Colormap", "rasterFunctionArguments": {"Colormap": entries, "Raster": raster},
            "outputPixelType": "U8", "variableName": "Raster"}


# (value, r, g, b) stops. NDVI's U8 output is NDVI * 100 + 100: water blue, soil brown, crops green.
NDVI_RAMP = [(0, 0, 0, 110), (85, 70, 110, 170), (100, 170, 140, 100), (120, 220, 200, 130),
             (150, 140, 200, 80), (175, 40, 140, 40), (200, 0, 80, 20)]
SLOPE_RAMP = [(0, 255, 255, 204), (64, 254, 217, 118), (128, 253, 141, 60), (191, 227, 26, 28), (255, 128, 0, 38)]
ELEVATION_RAMP = [(0, 60, 130, 80), (50, 170, 200, 120), (100, 235, 220, 160), (150, 190, 150, 100),
                  (200, 140, 110, 90), (255, 250, 250, 250)]
