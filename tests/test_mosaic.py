"""Mosaic rules, reading items onto output grids, and point samples, on tiny GeoTIFFs in tmp_path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.transform import from_origin
from rasterio.warp import transform as warp_transform
from shapely.geometry import box

import imageservice.server.mosaic as mosaic
from imageservice.server.catalog import Item, Service
from imageservice.server.errors import BadParameter, UnableToComplete
from imageservice.server.mosaic import Grid, ground_cell_size, read_mosaic, read_point, select_items
from imageservice.server.spatial import WEB_MERCATOR, WGS84

UTM = CRS.from_epsg(32610)
CELL = 10.0
X0, Y0 = 600_000.0, 4_200_000.0          # north-west corner of the service
DAY = 86_400_000
FIELDS = (
    {"name": "OBJECTID", "type": "esriFieldTypeOID", "alias": "OBJECTID", "domain": None},
    {"name": "Name", "type": "esriFieldTypeString", "alias": "Name", "domain": None, "length": 200},
    {"name": "AcquisitionDate", "type": "esriFieldTypeDate", "alias": "AcquisitionDate", "domain": None},
    {"name": "CloudCover", "type": "esriFieldTypeDouble", "alias": "CloudCover", "domain": None},
)


def write_tiff(path: Path, data: np.ndarray, left: float, top: float, *, nodata: float | None = 0,
               overviews: list[int] | None = None) -> Path:
    profile = {"driver": "GTiff", "width": data.shape[2], "height": data.shape[1], "count": data.shape[0],
               "dtype": data.dtype.name, "crs": UTM, "transform": from_origin(left, top, CELL, CELL),
               "nodata": nodata}
    with rasterio.open(path, "w", **profile) as dataset:
        dataset.write(data)
        if overviews:
            dataset.build_overviews(overviews, Resampling.average)
    return path


def make_item(object_id: int, path: Path, *, start_ms: int | None = None, cloud: float | None = None) -> Item:
    with rasterio.open(path) as dataset:
        bounds = tuple(dataset.bounds)
    attributes = {"OBJECTID": object_id, "Name": path.stem, "AcquisitionDate": start_ms, "CloudCover": cloud}
    return Item(object_id=object_id, name=path.stem, path=path, footprint=box(*bounds),
                start_ms=start_ms, end_ms=start_ms, attributes=attributes, bounds=bounds)


def make_service(items: list[Item], **changes) -> Service:
    """A mosaic service over `items` (their files give the extent), in UTM 10N, 10 m cells."""
    bounds = [item.footprint.bounds for item in items]
    times = [item.start_ms for item in items if item.start_ms is not None]
    with rasterio.open(items[0].path) as dataset:
        count = dataset.count
    values = {
        "name": "Test", "folder": items[0].path.parent, "description": "", "copyright_text": "",
        "kind": "mosaic", "crs": UTM,
        "extent": (min(b[0] for b in bounds), min(b[1] for b in bounds),
                   max(b[2] for b in bounds), max(b[3] for b in bounds)),
        "pixel_size": (CELL, CELL), "band_names": tuple(f"Band_{i + 1}" for i in range(count)),
        "pixel_type": "U16", "source_no_data": 0.0, "statistics": ((0.0, 100.0, 50.0, 10.0),) * count,
        "data_type": "esriImageServiceDataTypeGeneric",
        "time_extent": (min(times), max(times)) if times else None,
        "start_time_field": "AcquisitionDate" if times else None, "end_time_field": None,
        "items": tuple(items), "fields": FIELDS, "default_mosaic_method": "None",
        "sort_field": None, "sort_value": None, "sort_ascending": True, "raster_function_templates": {},
    }
    values.update(changes)
    return Service(**values)


def constant(value: int, rows: int = 4, cols: int = 4, bands: int = 1) -> np.ndarray:
    return np.full((bands, rows, cols), value, np.uint16)


def native_grid(left: float, top: float, cols: int, rows: int) -> Grid:
    return Grid(UTM, from_origin(left, top, CELL, CELL), cols, rows)


# -- item selection ------------------------------------------------------------------------------

@pytest.fixture()
def spread(tmp_path: Path) -> Service:
    """Three 4x4 items in a row from west to east (centres 20, 60, 100 m east of X0), listed out of
    OBJECTID order, with dates and cloud cover."""
    items = []
    for object_id, offset, day, cloud in ((2, 40, 20, 30.0), (3, 80, 30, None), (1, 0, 10, 4.0)):
        path = write_tiff(tmp_path / f"item{object_id}.tif", constant(object_id), X0 + offset, Y0 - offset)
        items.append(make_item(object_id, path, start_ms=day * DAY, cloud=cloud))
    return make_service(items)


def ids(items: list[Item]) -> list[int]:
    return [item.object_id for item in items]


def test_none_orders_by_object_id(spread):
    assert ids(select_items(spread, {"mosaicMethod": "esriMosaicNone"}, None, None)) == [1, 2, 3]


def test_center_puts_the_item_nearest_the_view_centre_first(spread):
    rule = {"mosaicMethod": "esriMosaicCenter"}
    assert ids(select_items(spread, rule, None, (X0 + 100, Y0 - 100))) == [3, 2, 1]
    assert ids(select_items(spread, rule, None, (X0 + 70, Y0 - 70))) == [2, 3, 1]


def test_northwest_is_view_independent(spread):
    for centre in ((X0 + 100, Y0 - 100), (X0, Y0)):
        assert ids(select_items(spread, {"mosaicMethod": "esriMosaicNorthwest"}, None, centre)) == [1, 2, 3]


def test_viewpoint_orders_by_distance_to_the_viewpoint(spread):
    lon, lat = (v[0] for v in warp_transform(UTM, WGS84, [X0 + 100], [Y0 - 100]))
    rule = {"mosaicMethod": "esriMosaicViewpoint",
            "viewpoint": {"x": lon, "y": lat, "spatialReference": {"wkid": 4326}}}
    assert ids(select_items(spread, rule, None, (X0, Y0))) == [3, 2, 1]


def test_attribute_orders_by_distance_to_the_sort_value(spread):
    rule = {"mosaicMethod": "esriMosaicAttribute", "sortField": "CloudCover", "sortValue": "25"}
    assert ids(select_items(spread, rule, None, None)) == [2, 1, 3]          # |30-25|, |4-25|, null last
    assert ids(select_items(spread, {**rule, "ascending": False}, None, None)) == [1, 2, 3]


def test_attribute_compares_dates_as_times(spread):
    rule = {"mosaicMethod": "esriMosaicAttribute", "sortField": "acquisitiondate", "sortValue": "1970/01/28"}
    assert ids(select_items(spread, rule, None, None)) == [3, 2, 1]
    rule["sortValue"] = "1970-01-12T00:00:00Z"
    assert ids(select_items(spread, rule, None, None)) == [1, 2, 3]
    rule["sortValue"] = 21 * DAY
    assert ids(select_items(spread, rule, None, None)) == [2, 3, 1]


def test_attribute_without_sort_value_sorts_by_the_value(spread):
    rule = {"mosaicMethod": "esriMosaicAttribute", "sortField": "AcquisitionDate", "ascending": False}
    assert ids(select_items(spread, rule, None, None)) == [3, 2, 1]


def test_lock_raster_keeps_only_the_listed_ids_in_order(spread):
    rule = {"mosaicMethod": "esriMosaicLockRaster", "lockRasterIds": [3, 1, 99]}
    assert ids(select_items(spread, rule, None, None)) == [3, 1]
    with pytest.raises(BadParameter):
        select_items(spread, {"mosaicMethod": "esriMosaicLockRaster"}, None, None)


def test_fids_and_where_filter(spread):
    assert ids(select_items(spread, {"mosaicMethod": "esriMosaicNone", "fids": [3, 1]}, None, None)) == [1, 3]
    assert ids(select_items(spread, {"mosaicMethod": "esriMosaicNone", "where": "CloudCover < 10"}, None, None)) == [1]
    with pytest.raises(BadParameter):
        select_items(spread, {"fids": "1,2"}, None, None)


@pytest.mark.parametrize("name", ["esriMosaicNorthwest", "Northwest", "NorthWest", "ESRIMOSAICNORTHWEST"])
def test_both_spellings_of_method_names(spread, name):
    assert ids(select_items(spread, {"mosaicMethod": name}, None, (X0 + 100, Y0 - 100))) == [1, 2, 3]


@pytest.mark.parametrize("name", ["esriMosaicAttribute", "ByAttribute", "byattribute"])
def test_both_spellings_of_attribute(spread, name):
    rule = {"mosaicMethod": name, "sortField": "CloudCover", "sortValue": 0}
    assert ids(select_items(spread, rule, None, None)) == [1, 2, 3]


def test_default_rule_is_the_service_default(spread):
    newest_first = mosaic_service(spread, default_mosaic_method="ByAttribute", sort_field="AcquisitionDate",
                                  sort_value="2100/01/01")
    assert ids(select_items(newest_first, None, None, None)) == [3, 2, 1]
    assert ids(select_items(newest_first, {"where": "1=1"}, None, None)) == [3, 2, 1]
    center = mosaic_service(spread, default_mosaic_method="Center")
    assert ids(select_items(center, None, None, (X0 + 100, Y0 - 100))) == [3, 2, 1]


def mosaic_service(service: Service, **changes) -> Service:
    return make_service(list(service.items), **changes)


def test_unknown_and_unsupported_methods(spread):
    with pytest.raises(BadParameter) as error:
        select_items(spread, {"mosaicMethod": "esriMosaicBest"}, None, None)
    assert error.value.details == ["'mosaicRule' parameter is invalid: unknown mosaicMethod 'esriMosaicBest'."]
    with pytest.raises(UnableToComplete):
        select_items(spread, {"mosaicMethod": "esriMosaicSeamline"}, None, None)
    with pytest.raises(BadParameter):
        select_items(spread, {"mosaicMethod": "esriMosaicAttribute", "sortField": "Name"}, None, None)


def test_time_filter_keeps_items_overlapping_the_range(spread):
    rule = {"mosaicMethod": "esriMosaicNone"}
    assert ids(select_items(spread, rule, (20 * DAY, 20 * DAY), None)) == [2]
    assert ids(select_items(spread, rule, (15 * DAY, 30 * DAY), None)) == [2, 3]
    assert ids(select_items(spread, rule, (None, 20 * DAY), None)) == [1, 2]
    assert ids(select_items(spread, rule, (21 * DAY, None), None)) == [3]
    assert ids(select_items(spread, rule, (31 * DAY, 40 * DAY), None)) == []


def test_time_is_ignored_without_a_time_extent(spread):
    timeless = mosaic_service(spread, time_extent=None)
    assert ids(select_items(timeless, {"mosaicMethod": "esriMosaicNone"}, (31 * DAY, 40 * DAY), None)) == [1, 2, 3]


# -- reading and combining -----------------------------------------------------------------------

@pytest.fixture()
def stack(tmp_path: Path) -> Service:
    """Three 4x4 one-band items: A (10) covers columns 0-3 with a NoData hole at row 0 col 0,
    B (20) columns 2-5, C (5) columns 4-7; all rows 0-3."""
    a = constant(10)
    a[0, 0, 0] = 0
    items = [make_item(1, write_tiff(tmp_path / "a.tif", a, X0, Y0)),
             make_item(2, write_tiff(tmp_path / "b.tif", constant(20), X0 + 2 * CELL, Y0)),
             make_item(3, write_tiff(tmp_path / "c.tif", constant(5), X0 + 4 * CELL, Y0))]
    return make_service(items)


@pytest.mark.parametrize("operation, row", [
    ("MT_FIRST", [10, 10, 10, 10, 20, 20, 5, 5, 0]),
    ("First", [10, 10, 10, 10, 20, 20, 5, 5, 0]),
    ("MT_LAST", [10, 10, 20, 20, 5, 5, 5, 5, 0]),
    ("MT_MIN", [10, 10, 10, 10, 5, 5, 5, 5, 0]),
    ("MT_MAX", [10, 10, 20, 20, 20, 20, 5, 5, 0]),
    ("MT_MEAN", [10, 10, 15, 15, 12.5, 12.5, 5, 5, 0]),
    ("MT_SUM", [10, 10, 30, 30, 25, 25, 5, 5, 0]),
])
def test_operations_combine_items_in_order(stack, operation, row):
    grid = native_grid(X0, Y0, 9, 4)                    # one column east of C is outside everything
    data = read_mosaic(stack, list(stack.items), grid, bands=None, operation=operation)
    assert data.shape == (1, 4, 9)
    assert data[0, 1].filled(0).tolist() == row
    assert np.ma.getmaskarray(data)[0, 1].tolist() == [False] * 8 + [True]
    # row 0 col 0 is A's NoData hole and nothing lies under it
    assert data.mask[0, 0, 0] and not data.mask[0, 0, 1]


def test_first_keeps_the_source_type_and_mean_gives_floats(stack):
    grid = native_grid(X0, Y0, 8, 4)
    assert read_mosaic(stack, list(stack.items), grid, bands=None).dtype == np.uint16
    assert read_mosaic(stack, list(stack.items), grid, bands=None, operation="MT_MEAN").dtype == np.float32


def test_no_data_falls_through_to_the_next_item(tmp_path):
    top = constant(7)
    top[0, 1, 1] = 0
    items = [make_item(1, write_tiff(tmp_path / "top.tif", top, X0, Y0)),
             make_item(2, write_tiff(tmp_path / "under.tif", constant(3), X0, Y0))]
    data = read_mosaic(make_service(items), items, native_grid(X0, Y0, 4, 4), bands=None)
    assert data[0, 1, 1] == 3 and data[0, 0, 0] == 7
    assert not np.ma.getmaskarray(data).any()


def test_bands_are_read_by_id_in_the_given_order(tmp_path):
    data = np.stack([np.full((4, 4), 100 * (b + 1), np.uint16) for b in range(3)])
    item = make_item(1, write_tiff(tmp_path / "rgb.tif", data, X0, Y0))
    result = read_mosaic(make_service([item]), [item], native_grid(X0, Y0, 4, 4), bands=[2, 0])
    assert result[:, 0, 0].tolist() == [300, 100]
    with pytest.raises(BadParameter):
        read_mosaic(make_service([item]), [item], native_grid(X0, Y0, 4, 4), bands=[3])


def test_first_stops_reading_once_every_pixel_is_filled(stack, monkeypatch):
    reads = []
    original = mosaic.read_item
    monkeypatch.setattr(mosaic, "read_item", lambda item, *args: reads.append(item.object_id) or original(item, *args))
    grid = native_grid(X0 + 2 * CELL, Y0 - CELL, 2, 3)       # B alone covers it, A overlaps it too
    b_first = [stack.items[1], stack.items[0], stack.items[2]]
    data = read_mosaic(stack, b_first, grid, bands=None)
    assert reads == [2] and (data == 20).all()


def test_items_outside_the_view_are_not_read(stack, monkeypatch):
    reads = []
    original = mosaic.read_item
    monkeypatch.setattr(mosaic, "read_item", lambda item, *args: reads.append(item.object_id) or original(item, *args))
    data = read_mosaic(stack, list(stack.items), native_grid(X0 + 1000, Y0, 4, 4), bands=None)
    assert reads == [] and np.ma.getmaskarray(data).all()


def test_reprojection_puts_a_known_pixel_in_the_right_place(tmp_path):
    data = np.zeros((1, 20, 20), np.uint16) + 1
    data[0, 12, 7] = 999
    item = make_item(1, write_tiff(tmp_path / "dot.tif", data, X0, Y0))
    service = make_service([item])
    centre_x, centre_y = X0 + 7.5 * CELL, Y0 - 12.5 * CELL
    for crs in (WEB_MERCATOR, WGS84):
        xs, ys = warp_transform(UTM, crs, [centre_x, X0, X0 + 20 * CELL], [centre_y, Y0, Y0 - 20 * CELL])
        size = (xs[2] - xs[1]) / 80                         # about a quarter of a source pixel
        grid = Grid(crs, from_origin(xs[1], ys[1], size, size), 80, int((ys[1] - ys[2]) / size))
        result = read_mosaic(service, [item], grid, bands=None)
        col, row = (~grid.transform) @ (xs[0], ys[0])
        assert result[0, int(row), int(col)] == 999
        assert np.count_nonzero(result == 999) in range(9, 26)     # about 4 x 4 output pixels
        assert result[0, int(row) + 8, int(col)] == 1


def test_lattice_coordinates_match_exact_projection():
    grid = Grid(WEB_MERCATOR, from_origin(-13_570_000, 4_660_000, 37.0, 37.0), 333, 250)
    x, y = mosaic.source_coordinates(grid, UTM)
    rows, cols = np.array([0, 7, 131, 249]), np.array([0, 15, 200, 332])
    xs, ys = grid.transform @ (cols + 0.5, rows + 0.5)
    exact_x, exact_y = warp_transform(WEB_MERCATOR, UTM, list(xs), list(ys))
    assert np.abs(x[rows, cols] - exact_x).max() < 0.05 and np.abs(y[rows, cols] - exact_y).max() < 0.05


def test_reads_use_the_overview_that_matches_the_output_resolution(tmp_path):
    checker = (np.indices((16, 16)).sum(axis=0) % 2 * 100).astype(np.uint16)[np.newaxis] + 1
    item = make_item(1, write_tiff(tmp_path / "checker.tif", checker, X0, Y0, overviews=[2, 4]))
    service = make_service([item])
    coarse = Grid(UTM, from_origin(X0, Y0, 4 * CELL, 4 * CELL), 4, 4)
    assert (read_mosaic(service, [item], coarse, bands=None) == 51).all()     # the average overview
    fine = read_mosaic(service, [item], native_grid(X0, Y0, 16, 16), bands=None)
    assert np.array_equal(fine.filled(0), checker)


def test_bilinear_and_cubic_go_through_gdal(tmp_path):
    ramp = np.tile(np.arange(0, 80, 10, dtype=np.uint16) + 10, (8, 1))[np.newaxis]
    item = make_item(1, write_tiff(tmp_path / "ramp.tif", ramp, X0, Y0))
    service = make_service([item])
    same = read_mosaic(service, [item], native_grid(X0, Y0, 8, 8), bands=None, resampling="bilinear")
    assert np.array_equal(same.filled(0), ramp)
    shifted = read_mosaic(service, [item], native_grid(X0 + CELL / 2, Y0, 6, 8), bands=None, resampling="bilinear")
    assert shifted[0, 4].tolist() == [15, 25, 35, 45, 55, 65]
    with pytest.raises(BadParameter):
        read_mosaic(service, [item], native_grid(X0, Y0, 8, 8), bands=None, resampling="sharpest")
    with pytest.raises(BadParameter):
        read_mosaic(service, [item], native_grid(X0, Y0, 8, 8), bands=None, operation="MT_BEST")


def test_empty_selection_is_fully_masked(stack):
    data = read_mosaic(stack, [], native_grid(X0, Y0, 3, 2), bands=None)
    assert data.shape == (1, 2, 3) and np.ma.getmaskarray(data).all()


# -- points and cell sizes -----------------------------------------------------------------------

def test_read_point_of_an_item_and_of_the_top_item(stack):
    x, y = X0 + 2.5 * CELL, Y0 - 1.5 * CELL                 # A and B overlap here
    assert read_point(stack, stack.items[1], x, y, UTM).tolist() == [20]
    assert read_point(stack, None, x, y, UTM).tolist() == [10]          # default method None: A first
    lon, lat = (v[0] for v in warp_transform(UTM, WGS84, [x], [y]))
    assert read_point(stack, stack.items[2], lon, lat, WGS84) is None   # C does not reach it
    assert read_point(stack, None, X0 + 0.5 * CELL, Y0 - 0.5 * CELL, UTM) is None   # A's hole, nothing under
    assert read_point(stack, None, X0 - 50, Y0, UTM) is None


def test_ground_cell_size_is_in_metres():
    equator = Grid(WGS84, from_origin(10.0, 0.0005, 0.001, 0.001), 2, 1)
    width, height = ground_cell_size(equator)
    assert width == pytest.approx(111.19, abs=0.01) and height == pytest.approx(111.19, abs=0.01)
    x, y = (v[0] for v in warp_transform(WGS84, WEB_MERCATOR, [10.0], [60.0]))
    mercator = Grid(WEB_MERCATOR, from_origin(x - 100, y + 100, 200, 200), 1, 1)
    assert ground_cell_size(mercator)[0] == pytest.approx(100.0, rel=5e-3)     # a sphere, not the ellipsoid
