"""Mosaicking: which catalog items a request shows, in what order, and their pixels on an output grid.

`select_items` applies a mosaic rule (reference §5) and the time filter; `read_mosaic` reads the
items onto the output grid and combines them with the mosaic operation. It runs on every map pan,
so each item is read only over the part of the view it covers (for MT_FIRST / MT_LAST only where
no item above it gave a value), at the overview level that matches the output resolution.

Method notes where ArcGIS is not explicit: Nadir is taken as the item centre (the nadir point of an
orthorectified image); Viewpoint orders by distance to `viewpoint` (default: the view centre);
ties keep OBJECTID order; MT_BLEND is an equal-weight blend, i.e. MT_MEAN.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from affine import Affine
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.errors import CRSError, WindowError
from rasterio.io import DatasetReader
from rasterio.features import geometry_mask
from rasterio.transform import array_bounds
from rasterio.warp import reproject, transform_bounds
from rasterio.windows import Window, from_bounds
from shapely.geometry import Point, Polygon, box

from .catalog import Item, Service, open_dataset, parse_date_ms
from .encode import PIXEL_TYPES
from .errors import BadParameter, UnableToComplete
from .spatial import WGS84, parse_sr, transform_points
from .multidimensional import rule_filter
from .where import compile_where
from .query import overlaps_time

EARTH_RADIUS_M = 6_371_008.8
METHODS = {          # request name without "esriMosaic", or root name, lower case -> method
    "none": "none", "center": "center", "nadir": "center", "viewpoint": "viewpoint",
    "northwest": "northwest", "attribute": "attribute", "byattribute": "attribute",
    "lockraster": "lockraster", "seamline": "seamline",
}
OPERATIONS = {       # "MT_FIRST" or root name "First", upper case -> operation
    "FIRST": "first", "LAST": "last", "MIN": "min", "MAX": "max", "MEAN": "mean", "BLEND": "mean", "SUM": "sum",
}
NUMERIC_FIELDS = {"esriFieldTypeOID", "esriFieldTypeDouble", "esriFieldTypeSingle", "esriFieldTypeInteger",
                  "esriFieldTypeSmallInteger", "esriFieldTypeDate"}
BLOCK = 512          # output pixels per side of the blocks First/Last read separately
LATTICE_STEP = 16    # output pixels between exactly projected points
KERNEL_MARGIN = 2    # source pixels read beyond the view so bilinear/cubic kernels have neighbours


@dataclass(frozen=True)
class Grid:
    """The output raster grid."""
    crs: CRS
    transform: Affine
    width: int
    height: int

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        west, south, east, north = array_bounds(self.height, self.width, self.transform)
        return west, south, east, north

    def part(self, rows: slice, cols: slice) -> Grid:
        """The sub-grid of the given row and column ranges."""
        return Grid(self.crs, self.transform @ Affine.translation(cols.start, rows.start),
                    cols.stop - cols.start, rows.stop - rows.start)


def centre_steps(grid: Grid, crs: CRS) -> tuple[list[float], list[float]]:
    """The grid's centre and the points one pixel right and one pixel down from it, in `crs`."""
    cx, cy = grid.transform @ (grid.width / 2, grid.height / 2)
    dx, dy = grid.transform.a, grid.transform.e
    return transform_points(grid.crs, crs, [cx, cx + dx, cx], [cy, cy, cy + dy])


def ground_cell_size(grid: Grid) -> tuple[float, float]:
    """The grid's pixel width and height in metres on the ground at its centre, whatever its CRS
    (degrees, or Web Mercator metres that grow with latitude): what Hillshade and Slope need."""
    lons, lats = centre_steps(grid, WGS84)
    return haversine(lons[0], lats[0], lons[1], lats[1]), haversine(lons[0], lats[0], lons[2], lats[2])


def haversine(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(a, 1.0)))


# ----------------------------------------------------------------------------------------------
# Item selection


def select_items(service: Service, mosaic_rule: dict | None, time: tuple[int | None, int | None] | None,
                 center: tuple[float, float] | None) -> list[Item]:
    """The items a request shows, first on top. `center` is the view centre in the service CRS."""
    rule = {str(key).lower(): value for key, value in (mosaic_rule or {}).items()}
    items = [item for item in service.items if in_time(service, item, time)]
    if rule.get("fids") is not None:
        fids = set(id_list(rule["fids"], "fids"))
        items = [item for item in items if item.object_id in fids]
    if rule.get("where"):
        keep = compile_where(str(rule["where"]), service.fields)
        items = [item for item in items if keep(item.attributes)]
    if service.multidimensional is not None:
        in_slices = rule_filter(service.multidimensional, rule)
        items = [item for item in items if in_slices(item)]
    method = method_name(rule.get("mosaicmethod") or service.default_mosaic_method)
    if method == "lockraster":
        return locked(items, rule)
    if method == "none":
        return sorted(items, key=lambda item: item.object_id)
    if method == "attribute":
        return by_attribute(service, items, rule)
    target = target_point(service, method, rule, center)
    return sorted(items, key=lambda item: (item.footprint.centroid.distance(target), item.object_id))


def method_name(value: Any) -> str:
    key = str(value).strip().lower().removeprefix("esrimosaic")
    method = METHODS.get(key)
    if method is None:
        raise BadParameter(f"'mosaicRule' parameter is invalid: unknown mosaicMethod '{value}'.")
    if method == "seamline":
        raise UnableToComplete("Mosaic method 'esriMosaicSeamline' is not supported.")
    return method


def in_time(service: Service, item: Item, time: tuple[int | None, int | None] | None) -> bool:
    """Whether the item's time range overlaps the request's; either end of the request may be open.
    Services without time ignore the filter, as ArcGIS does."""
    return time is None or service.time_extent is None or overlaps_time(item, time)


def id_list(value: Any, name: str) -> list[int]:
    if not isinstance(value, list) or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        raise BadParameter(f"'mosaicRule' parameter is invalid: '{name}' must be a list of object ids.")
    return [int(v) for v in value]


def locked(items: list[Item], rule: dict) -> list[Item]:
    """The listed items, in the listed order; ids the other filters removed (or unknown) are skipped."""
    if rule.get("lockrasterids") is None:
        raise BadParameter("'mosaicRule' parameter is invalid: esriMosaicLockRaster needs 'lockRasterIds'.")
    by_id = {item.object_id: item for item in items}
    ids = id_list(rule["lockrasterids"], "lockRasterIds")
    return [by_id[i] for i in dict.fromkeys(ids) if i in by_id]


def target_point(service: Service, method: str, rule: dict, center: tuple[float, float] | None) -> Point:
    """The point items are ordered by distance to, in the service CRS."""
    xmin, ymin, xmax, ymax = service.extent
    if method == "northwest":
        return Point(xmin, ymax)
    viewpoint = rule.get("viewpoint")
    if method == "viewpoint" and isinstance(viewpoint, dict):
        try:
            x, y = float(viewpoint["x"]), float(viewpoint["y"])
        except (KeyError, TypeError, ValueError):
            x = y = math.nan
        if not (math.isfinite(x) and math.isfinite(y)):
            raise BadParameter("'mosaicRule' parameter is invalid: 'viewpoint' needs finite x and y.")
        crs = parse_sr(viewpoint.get("spatialReference"), "mosaicRule", service.crs)
        xs, ys = transform_points(crs, service.crs, [x], [y])
        return Point(xs[0], ys[0])
    if center is None:
        return Point((xmin + xmax) / 2, (ymin + ymax) / 2)
    return Point(center)


def by_attribute(service: Service, items: list[Item], rule: dict) -> list[Item]:
    """Order by the distance of `sortField` to `sortValue` (by the value itself without one); nearest
    first when ascending. Dates compare as epoch ms; items without a value go last."""
    field_name = rule.get("sortfield")
    if field_name:
        sort_value, ascending = rule.get("sortvalue"), rule.get("ascending", True)
    else:
        field_name, sort_value = service.sort_field, service.sort_value
        ascending = rule.get("ascending", service.sort_ascending)
    if not field_name:
        raise BadParameter("'mosaicRule' parameter is invalid: esriMosaicAttribute needs 'sortField'.")
    field = next((f for f in service.fields if f["name"].lower() == str(field_name).lower()), None)
    if field is None or field["type"] not in NUMERIC_FIELDS:
        raise BadParameter(f"'mosaicRule' parameter is invalid: '{field_name}' is not a numeric or date field.")
    target = None if sort_value in (None, "") else sort_number(sort_value, field["type"] == "esriFieldTypeDate")
    sign = 1 if ascending is not False and str(ascending).lower() != "false" else -1

    def key(item: Item) -> tuple[bool, float, int]:
        value = item.attributes.get(field["name"])
        if value is None:
            return True, 0.0, item.object_id
        distance = float(value) if target is None else abs(float(value) - target)
        return False, sign * distance, item.object_id

    return sorted(items, key=key)


def sort_number(value: Any, is_date: bool) -> float:
    """A sortValue as a number; dates may be epoch ms or text like 2020/01/01 or 2020-01-01T12:00:00Z."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if math.isfinite(number):
        return number
    if is_date:
        try:
            return float(parse_date_ms(text.replace("/", "-")))
        except ValueError:
            pass
    raise BadParameter(f"'mosaicRule' parameter is invalid: sortValue '{value}' is not a number or date.")


# ----------------------------------------------------------------------------------------------
# Reading pixels


def read_mosaic(service: Service, items: Sequence[Item], grid: Grid, *, bands: Sequence[int] | None,
                operation: str = "MT_FIRST", resampling: str = "nearest") -> np.ma.MaskedArray:
    """The items' pixels on `grid`, combined by the mosaic operation; source NoData stays masked.

    `bands` are 0-based service band ids (None = all). First/Last/Min/Max keep the service's pixel
    type (their values are source values); Mean and Sum give floats. Each item is read only over
    the part of the grid its footprint covers, and for First/Last only where no item above it has
    already given a value. Nearest-neighbour sampling (the default, and every map pan) looks
    source pixels up from coordinates computed once per grid; other methods warp with GDAL.
    """
    combine = OPERATIONS.get(str(operation).strip().upper().removeprefix("MT_"))
    if combine is None:
        raise BadParameter(f"'mosaicRule' parameter is invalid: unknown mosaicOperation '{operation}'.")
    method = resampling_method(resampling)
    band_count = len(service.band_names)
    indexes = list(range(1, band_count + 1)) if bands is None else [int(b) + 1 for b in bands]
    if not all(1 <= i <= band_count for i in indexes):
        raise BadParameter("'bandIds' parameter is invalid.")
    natural = np.dtype(PIXEL_TYPES.get(service.pixel_type, (np.float64,))[0])
    work = np.float64 if natural.itemsize >= 4 and natural != np.float32 else np.float32
    shape = (len(indexes), grid.height, grid.width)
    ordered = list(reversed(items)) if combine == "last" else list(items)

    nearest = method == Resampling.nearest
    target = Target.of(grid, service.crs, with_coordinates=nearest)
    result = np.full(shape, np.nan, work)
    total = np.zeros(shape, work) if combine in ("mean", "sum") else None
    count = np.zeros(shape, np.int32) if total is not None else None
    missing = np.ones(shape[1:], bool)       # First/Last: pixels where some band has no value yet
    for item in ordered:
        region = item_region(item, grid, service.crs)
        if region is None:
            continue
        rows, cols, inside = region
        parts = [(rows, cols)]
        if combine in ("first", "last"):
            parts = needed_parts(rows, cols, missing[rows, cols] & inside)
        for rows, cols in parts:
            layer = read_item(item, target, rows, cols, indexes, method, work)
            if layer is None:
                continue
            part = result[:, rows, cols]          # a view: writing to it fills `result`
            if total is not None:
                valid = ~np.isnan(layer)
                total[:, rows, cols][valid] += layer[valid]
                count[:, rows, cols] += valid
            elif combine in ("first", "last"):
                empty = np.isnan(part)
                np.copyto(part, layer, where=empty)
                missing[rows, cols] = (empty & np.isnan(layer)).any(axis=0)
            else:
                part[...] = (np.fmin if combine == "min" else np.fmax)(part, layer)
        if combine in ("first", "last") and not missing.any():
            break
    if total is not None:
        with np.errstate(invalid="ignore", divide="ignore"):
            result = np.where(count > 0, total / count if combine == "mean" else total, np.nan).astype(work)
        return masked(result)
    return masked(result, natural, rounded=not nearest)


def masked(values: np.ndarray, dtype: np.dtype | None = None, *, rounded: bool = False) -> np.ma.MaskedArray:
    """NaN-marked pixels (changed in place) as a masked array with 0 under the mask, optionally cast
    to `dtype`; `rounded` resampled values are rounded and clamped to an integer type's range first."""
    mask = np.isnan(values)
    values[mask] = 0
    if rounded and dtype is not None and dtype.kind in "iu":
        info = np.iinfo(dtype)
        np.clip(np.rint(values, out=values), info.min, info.max, out=values)
    return np.ma.masked_array(values.astype(dtype or values.dtype, copy=False), mask=mask)


def resampling_method(name: str) -> Resampling:
    try:
        return Resampling[name.lower()]
    except KeyError:
        raise BadParameter("'interpolation' parameter is invalid.") from None


def item_region(item: Item, grid: Grid, crs: CRS) -> tuple[slice, slice, np.ndarray] | None:
    """The rows and columns of `grid` an item's footprint covers, with the footprint's pixel mask
    there; None when it misses the grid. The footprint is widened by a margin well above the
    catalog's outline simplification (so no pixel with data is left out), within the raster's bounds."""
    xmin, ymin, xmax, ymax = item.footprint.bounds
    margin = 0.01 * max(xmax - xmin, ymax - ymin)
    outline = item.footprint.buffer(margin, quad_segs=2).intersection(box(*item.bounds))
    if not isinstance(outline, Polygon) or outline.is_empty:
        return None
    if crs != grid.crs:
        coordinates = np.asarray(outline.exterior.coords)
        xs, ys = transform_points(crs, grid.crs, coordinates[:, 0].tolist(), coordinates[:, 1].tolist())
        if not (np.isfinite(xs).all() and np.isfinite(ys).all()):
            return None
        outline = Polygon(zip(xs, ys))
    cols, rows = (~grid.transform) @ np.asarray(outline.exterior.coords).T
    row_slice = slice(max(0, math.floor(rows.min())), min(grid.height, math.ceil(rows.max())))
    col_slice = slice(max(0, math.floor(cols.min())), min(grid.width, math.ceil(cols.max())))
    if row_slice.start >= row_slice.stop or col_slice.start >= col_slice.stop:
        return None
    part = grid.part(row_slice, col_slice)
    inside = geometry_mask([outline], out_shape=(part.height, part.width), transform=part.transform,
                           all_touched=True, invert=True)
    if not inside.any():
        return None
    return row_slice, col_slice, inside


def needed_parts(rows: slice, cols: slice, needed: np.ndarray) -> list[tuple[slice, slice]]:
    """Parts of (rows, cols) that hold the needed pixels: one box around them all when they fill
    most of it, else blocks cut to the pixels they hold, so an item that only fills slivers along
    other items' edges is read over little more than those (each read has a fixed cost too)."""
    all_rows, all_cols = np.flatnonzero(needed.any(axis=1)), np.flatnonzero(needed.any(axis=0))
    if all_rows.size == 0:
        return []
    box_area = (all_rows[-1] + 1 - all_rows[0]) * (all_cols[-1] + 1 - all_cols[0])
    if np.count_nonzero(needed) > box_area / 2:
        return [(slice(rows.start + all_rows[0], rows.start + all_rows[-1] + 1),
                 slice(cols.start + all_cols[0], cols.start + all_cols[-1] + 1))]
    parts = []
    for top in range(0, needed.shape[0], BLOCK):
        for left in range(0, needed.shape[1], BLOCK):
            block = needed[top:top + BLOCK, left:left + BLOCK]
            block_rows = np.flatnonzero(block.any(axis=1))
            if block_rows.size == 0:
                continue
            block_cols = np.flatnonzero(block.any(axis=0))
            parts.append((slice(rows.start + top + block_rows[0], rows.start + top + block_rows[-1] + 1),
                          slice(cols.start + left + block_cols[0], cols.start + left + block_cols[-1] + 1)))
    return parts


@dataclass(frozen=True)
class Target:
    """The output grid seen from the source CRS, worked out once per request."""
    grid: Grid
    spacing: float                       # output pixel spacing in source units at the grid centre
    x: np.ndarray | None                 # source coordinates of every output pixel centre (h, w),
    y: np.ndarray | None                 # for nearest-neighbour lookups

    @classmethod
    def of(cls, grid: Grid, crs: CRS, *, with_coordinates: bool) -> Target:
        x, y = source_coordinates(grid, crs) if with_coordinates else (None, None)
        return cls(grid, source_spacing(grid, crs), x, y)


def source_spacing(grid: Grid, crs: CRS) -> float:
    """The distance in `crs` between neighbouring output pixel centres (0 where it cannot be projected)."""
    xs, ys = centre_steps(grid, crs)
    spacing = min(math.hypot(xs[1] - xs[0], ys[1] - ys[0]), math.hypot(xs[2] - xs[0], ys[2] - ys[0]))
    return spacing if math.isfinite(spacing) else 0.0


def source_coordinates(grid: Grid, crs: CRS) -> tuple[np.ndarray, np.ndarray]:
    """x and y in `crs` of every output pixel centre. Across CRSs only a lattice of every
    `LATTICE_STEP`-th pixel edge is projected and the rest interpolated bilinearly (as GDAL's
    approximate transformer does); NaN marks points that cannot be projected."""
    if grid.crs == crs:
        return pixel_centres(grid.transform, np.arange(grid.height) + 0.5, np.arange(grid.width) + 0.5)
    rows = np.unique(np.r_[np.arange(0, grid.height, LATTICE_STEP), grid.height]).astype(np.float64)
    cols = np.unique(np.r_[np.arange(0, grid.width, LATTICE_STEP), grid.width]).astype(np.float64)
    lattice_x, lattice_y = pixel_centres(grid.transform, rows, cols)
    xs, ys = transform_points(grid.crs, crs, lattice_x.ravel().tolist(), lattice_y.ravel().tolist())
    xs = np.asarray(xs, np.float64).reshape(lattice_x.shape)
    ys = np.asarray(ys, np.float64).reshape(lattice_y.shape)
    xs[~np.isfinite(xs) | ~np.isfinite(ys)] = np.nan
    ys[np.isnan(xs)] = np.nan
    return (interpolate(xs, rows, cols, grid.height, grid.width),
            interpolate(ys, rows, cols, grid.height, grid.width))


def pixel_centres(transform: Affine, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Map coordinates of the (fractional) pixel positions rows x cols, as (len(rows), len(cols)) arrays."""
    r, c = rows[:, np.newaxis], cols[np.newaxis, :]
    return transform.a * c + transform.b * r + transform.c, transform.d * c + transform.e * r + transform.f


def interpolate(lattice: np.ndarray, rows: np.ndarray, cols: np.ndarray, height: int, width: int) -> np.ndarray:
    """Bilinear interpolation of values given at lattice positions (rows x cols) to every pixel centre."""
    def weights(positions: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
        centres = np.arange(count) + 0.5
        index = np.clip(np.searchsorted(positions, centres, side="right") - 1, 0, len(positions) - 2)
        return index, (centres - positions[index]) / (positions[index + 1] - positions[index])

    row_index, row_fraction = weights(rows, height)
    col_index, col_fraction = weights(cols, width)
    across = lattice[:, col_index] + (lattice[:, col_index + 1] - lattice[:, col_index]) * col_fraction
    step = np.diff(across, axis=0)
    return across[row_index] + step[row_index] * row_fraction[:, np.newaxis]


def read_item(item: Item, target: Target, rows: slice, cols: slice, indexes: list[int],
              resampling: Resampling, work: type) -> np.ndarray | None:
    """One item's bands over the given rows and columns of the output grid (NaN where it has no
    data), or None when it misses them."""
    part = target.grid.part(rows, cols)
    with open_dataset(item.path) as dataset:  # lent for the read only; the warp needs no handle
        read = read_window(dataset, part, target.spacing, indexes, work)
    if read is None:
        return None
    source, transform, crs = read
    if target.x is not None:
        return look_up(source, transform, target.x[rows, cols], target.y[rows, cols])
    destination = np.full((len(indexes), part.height, part.width), np.nan, work)
    reproject(source, destination, src_transform=transform, src_crs=crs, src_nodata=np.nan,
              dst_transform=part.transform, dst_crs=part.crs, dst_nodata=np.nan, resampling=resampling)
    return destination


def read_window(dataset: DatasetReader, part: Grid, spacing: float, indexes: list[int],
                work: type) -> tuple[np.ndarray, Affine, CRS] | None:
    """The dataset's bands under `part` (NaN for no data) with their transform and CRS, or None
    when it misses them. Only the source window under those pixels is read, decimated to about the
    output resolution (`spacing`) so GDAL serves it from the matching overview."""
    try:
        left, bottom, right, top = transform_bounds(part.crs, dataset.crs, *part.bounds, densify_pts=21)
    except (CRSError, ValueError):
        return None
    if not all(math.isfinite(v) for v in (left, bottom, right, top)):
        return None
    full = Window(0, 0, dataset.width, dataset.height)
    try:
        exact = from_bounds(left, bottom, right, top, dataset.transform)
        col, row = math.floor(exact.col_off) - KERNEL_MARGIN, math.floor(exact.row_off) - KERNEL_MARGIN
        window = Window(col, row, math.ceil(exact.col_off + exact.width) + KERNEL_MARGIN - col,
                        math.ceil(exact.row_off + exact.height) + KERNEL_MARGIN - row).intersection(full)
    except WindowError:      # the pixels miss the item
        return None
    if window.width < 1 or window.height < 1:
        return None
    factor = max(1.0, spacing / max(dataset.res))
    out_width, out_height = max(1, math.ceil(window.width / factor)), max(1, math.ceil(window.height / factor))
    raw = dataset.read(indexes, window=window, out_shape=(len(indexes), out_height, out_width),
                       masked=True, resampling=Resampling.nearest)
    source = raw.data.astype(work)  # one copy (astype then filled would make two and copy the mask)
    np.putmask(source, np.ma.getmaskarray(raw), np.nan)
    transform = dataset.window_transform(window) @ Affine.scale(window.width / out_width, window.height / out_height)
    return source, transform, dataset.crs


def look_up(source: np.ndarray, transform: Affine, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Nearest neighbour: the source pixel that holds each point (NaN outside the source)."""
    inverse = ~transform
    bands, height, width = source.shape
    with np.errstate(invalid="ignore"):          # NaN points cast to some integer, then fail `inside`
        cols = np.floor(inverse.a * x + inverse.b * y + inverse.c).astype(np.intp)
        rows = np.floor(inverse.d * x + inverse.e * y + inverse.f).astype(np.intp)
    inside = (cols >= 0) & (cols < width) & (rows >= 0) & (rows < height)
    flat = rows * width + cols
    flat[~inside] = 0
    values = source.reshape(bands, -1).take(flat, axis=1)
    values[:, ~inside] = np.nan
    return values


def read_point(service: Service, item_or_none: Item | None, x: float, y: float, crs: CRS,
               bands: Sequence[int] | None = None) -> np.ndarray | None:
    """Source values at a point: of the given item, or of the top item with data there under the
    service's default mosaic. None when there is no data (a masked array when only some bands lack it)."""
    xs, ys = transform_points(crs, service.crs, [x], [y])
    if item_or_none is not None:
        candidates = [item_or_none]
    else:
        point = Point(xs[0], ys[0])
        candidates = [item for item in select_items(service, None, None, (xs[0], ys[0]))
                      if item.footprint.intersects(point)]
    for item in candidates:
        values = sample(item, xs[0], ys[0], service.crs, bands)
        if values is not None:
            return values
    return None


def sample(item: Item, x: float, y: float, crs: CRS, bands: Sequence[int] | None) -> np.ma.MaskedArray | None:
    with open_dataset(item.path) as dataset:
        if dataset.crs != crs:
            (x,), (y,) = transform_points(crs, dataset.crs, [x], [y])
        row, col = dataset.index(x, y)
        if not (0 <= row < dataset.height and 0 <= col < dataset.width):
            return None
        indexes = list(range(1, dataset.count + 1)) if bands is None else [int(b) + 1 for b in bands]
        values = dataset.read(indexes, window=Window(col, row, 1, 1), masked=True)[:, 0, 0]
    return None if np.ma.getmaskarray(values).all() else values

