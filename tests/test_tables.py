"""identify / query responses to DataFrames and GeoJSON, on realistic ArcGIS fixtures."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from pathlib import Path

import pandas
import pytest

from imageservice.errors import InvalidResponse
from imageservice.geojson import esri_to_geojson_geometry, featureset_to_geojson, identify_to_geojson
from imageservice.tables import catalog_items_to_frame, featureset_to_frame, identify_to_frame, parse_pixel_values

FIXTURES = Path(__file__).parent / "fixtures"
LANDSAT_BANDS = ["Blue", "Green", "Red", "NIR"]
WGS84_A = 6378137.0
WGS84_E = math.sqrt(0.00669437999014)


def load(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def signed_area(ring: list[list[float]]) -> float:
    return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:])) / 2


def flat(coordinates: Iterable[list[float]]) -> list[float]:
    return [value for point in coordinates for value in point]


def world_mercator_y(lat: float) -> float:
    """Forward ellipsoidal Mercator (ESRI:54004), to check the inverse done by the library."""
    phi = math.radians(lat)
    sin = WGS84_E * math.sin(phi)
    return WGS84_A * math.log(math.tan(math.pi / 4 + phi / 2) * ((1 - sin) / (1 + sin)) ** (WGS84_E / 2))


# --- pixel values ------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("17, 22, 39, 45", [17.0, 22.0, 39.0, 45.0]),
    ("10 18 34 43", [10.0, 18.0, 34.0, 43.0]),
    ("-17.5575", [-17.5575]),
    ("2.7242e+14", [2.7242e14]),
    ("NoData, 5", [None, 5.0]),
    ("", []),
])
def test_parse_pixel_values(text: str, expected: list[float | None]) -> None:
    assert parse_pixel_values(text) == expected


def test_unparsable_pixel_values_are_an_invalid_response() -> None:
    with pytest.raises(InvalidResponse, match="pixel value '1, two' is not a list of numbers"):
        parse_pixel_values("1, two")


def test_identify_frame_names_the_bands() -> None:
    frame = identify_to_frame(load("landsat_identify_catalog"), LANDSAT_BANDS)
    assert frame.to_dict("list") == {"band": LANDSAT_BANDS, "value": [17.0, 22.0, 39.0, 45.0]}
    assert frame["value"].dtype == "Float64"


def test_identify_frame_without_names_uses_band_numbers() -> None:
    frame = identify_to_frame(load("landsat_identify_catalog"))
    assert list(frame["band"]) == ["Band 1", "Band 2", "Band 3", "Band 4"]


def test_identify_frame_ignores_names_that_do_not_fit() -> None:
    frame = identify_to_frame({"value": "2.7242e+14"}, LANDSAT_BANDS)  # e.g. a rendering rule made one band
    assert frame.to_dict("list") == {"band": ["Band 1"], "value": [2.7242e14]}


def test_identify_frame_single_band_raster_dataset() -> None:
    frame = identify_to_frame(load("raster_dataset_identify"), ["Band_1"])
    assert frame.to_dict("list") == {"band": ["Band_1"], "value": [-17.5575]}


def test_identify_frame_nodata_is_na_for_every_band() -> None:
    frame = identify_to_frame(load("nodata_identify"), LANDSAT_BANDS)
    assert list(frame["band"]) == LANDSAT_BANDS
    assert frame["value"].dtype == "Float64"
    assert frame["value"].tolist() == [pandas.NA] * 4


def test_identify_frame_partial_nodata_is_na() -> None:
    frame = identify_to_frame({"value": "NoData, 5"})
    assert frame["value"].tolist() == [pandas.NA, 5.0]


def test_identify_frame_needs_a_value() -> None:
    with pytest.raises(InvalidResponse, match="identify response has no 'value'"):
        identify_to_frame(load("error_unable"))


# --- catalog items -----------------------------------------------------------------------------


def test_catalog_items_frame_has_attributes_band_values_and_visibility() -> None:
    frame = catalog_items_to_frame(load("landsat_identify_catalog"), LANDSAT_BANDS)
    assert list(frame.columns) == [
        "OBJECTID", "Name", "MinPS", "MaxPS", "LowPS", "HighPS", "Category", "Tag", "GroupName",
        "ProductName", "CenterX", "CenterY", "ZOrder", "SensorName", "AcquisitionDate", "SunElevation",
        "CloudCover", "Shape_Length", "Shape_Area", *LANDSAT_BANDS, "visibility",
    ]
    assert list(frame["OBJECTID"]) == [6, 2]  # the server's order
    assert list(frame["AcquisitionDate"]) == [
        pandas.Timestamp("1999-09-07", tz="UTC"),
        pandas.Timestamp("2000-09-25", tz="UTC"),
    ]
    assert frame[LANDSAT_BANDS].values.tolist() == [[10, 18, 34, 43], [17, 22, 39, 45]]
    assert list(frame["visibility"]) == [0.671180049953907, 0.328819950035319]  # paired correctly


def test_catalog_items_dates_follow_the_field_types_when_given() -> None:
    fields = [{"name": "CenterX", "type": "esriFieldTypeDate"}, {"name": "AcquisitionDate", "type": "esriFieldTypeDouble"}]
    frame = catalog_items_to_frame(load("landsat_identify_catalog"), fields=fields)
    assert frame["AcquisitionDate"].tolist() == [936662400000, 969840000000]
    assert frame["CenterX"].iloc[0] == pandas.Timestamp(-13535000.5, unit="ms", tz="UTC")


def test_catalog_items_frame_is_empty_with_columns_for_a_raster_dataset() -> None:
    frame = catalog_items_to_frame(load("raster_dataset_identify"), ["Band_1"])
    assert (list(frame.columns), len(frame)) == (["Band_1", "visibility"], 0)


def test_catalog_items_frame_without_items_takes_columns_from_fields() -> None:
    fields = load("sentinel2_landcover_root")["fields"]
    frame = catalog_items_to_frame(load("nodata_identify"), fields=fields)
    assert list(frame.columns) == [
        "OBJECTID", "Name", "MinPS", "MaxPS", "Category", "Year", "StartDate", "EndDate",
        "Shape_Length", "Shape_Area", "visibility",
    ]
    assert len(frame) == 0


def test_catalog_items_nodata_values_are_na() -> None:
    response = load("landsat_identify_catalog")
    response["properties"]["Values"][0] = "NoData NoData NoData NoData"
    frame = catalog_items_to_frame(response, LANDSAT_BANDS)
    assert (frame[LANDSAT_BANDS].dtypes == "Float64").all()
    assert frame.loc[0, LANDSAT_BANDS].tolist() == [pandas.NA] * 4
    assert frame.loc[1, LANDSAT_BANDS].tolist() == [17, 22, 39, 45]


def test_catalog_items_without_pixel_values_get_nan_bands() -> None:
    response = load("landsat_identify_catalog")
    response["properties"] = {}  # returnPixelValues=false
    frame = catalog_items_to_frame(response, LANDSAT_BANDS)
    assert frame[LANDSAT_BANDS].isna().all().all() and len(frame) == 2


# --- identify as GeoJSON -----------------------------------------------------------------------


def test_identify_geojson_pixel_is_esri_leaflets() -> None:
    results = identify_to_geojson(load("landsat_identify_catalog"))
    assert results["pixel"] == {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [-13527177.6374152, 5837991.41167063]},
        "crs": {"type": "EPSG", "properties": {"code": 54004}},
        "properties": {"OBJECTID": 0, "name": "Pixel", "value": "17, 22, 39, 45", "values": ["10 18 34 43", "17 22 39 45"]},
        "id": 0,
    }


def test_identify_geojson_catalog_items_are_reversed_with_esri_leaflets_visibility_pairing() -> None:
    items = identify_to_geojson(load("landsat_identify_catalog"))["catalogItems"]
    assert items["type"] == "FeatureCollection"
    assert [(f["id"], f["properties"]["catalogItemVisibility"]) for f in items["features"]] == [
        (2, 0.671180049953907),
        (6, 0.328819950035319),
    ]
    assert items["features"][0]["properties"]["AcquisitionDate"] == 969840000000


def test_identify_geojson_catalog_footprints_are_lat_lng_counter_clockwise() -> None:
    feature = identify_to_geojson(load("landsat_identify_catalog"))["catalogItems"]["features"][1]
    (ring,) = feature["geometry"]["coordinates"]
    assert signed_area(ring) > 0
    west, south = ring[0]
    assert west == pytest.approx(math.degrees(-13650000.0 / WGS84_A), abs=1e-9)
    assert world_mercator_y(south) == pytest.approx(5740000.0, abs=1e-3)
    assert sorted({round(x, 9) for x, _ in ring}) == [round(math.degrees(x / WGS84_A), 9) for x in (-13650000.0, -13420000.0)]


def test_identify_geojson_keeps_the_catalog_items_as_the_service_sent_them() -> None:
    response = load("landsat_identify_catalog")
    results = identify_to_geojson(response)
    assert list(results) == ["pixel", "catalogItems", "catalogItemsEsri"]
    assert results["catalogItemsEsri"] == load("landsat_identify_catalog")["catalogItems"]
    assert results["catalogItemsEsri"] is not response["catalogItems"]  # a copy: the response stays untouched


def test_identify_geojson_raster_dataset_has_no_catalog_items() -> None:
    results = identify_to_geojson(load("raster_dataset_identify"))
    assert list(results) == ["pixel"]
    assert results["pixel"]["properties"] == {"OBJECTID": 0, "name": "Pixel", "value": "-17.5575"}
    assert results["pixel"]["crs"] == {"type": "EPSG", "properties": {"code": 4326}}


def test_identify_geojson_empty_mosaic_has_an_empty_collection() -> None:
    results = identify_to_geojson(load("nodata_identify"))
    assert results["catalogItems"] == {"type": "FeatureCollection", "features": []}
    assert results["pixel"]["properties"]["value"] == "NoData"


# --- FeatureSets -------------------------------------------------------------------------------


def test_featureset_geojson_reprojects_web_mercator_and_rewinds() -> None:
    collection = featureset_to_geojson(load("query_featureset_webmercator"))
    first, second = collection["features"]
    assert (first["id"], second["id"]) == (99, 7)
    assert first["properties"] == {
        "OBJECTID": 99, "Name": "LC08_L1GT_046028_20200218_20200823_02_T2",
        "AcquisitionDate": 1582035143000, "CloudCover": 1.0, "Shape_Area": 1.8e10,
    }
    assert second["properties"]["AcquisitionDate"] is None
    outer, hole = first["geometry"]["coordinates"]
    assert first["geometry"]["type"] == "Polygon"
    assert flat(outer) == pytest.approx(flat([[-123, 45], [-122, 45], [-122, 46], [-123, 46], [-123, 45]]), abs=1e-9)
    hole_ring = [[-122.8, 45.2], [-122.8, 45.8], [-122.2, 45.8], [-122.2, 45.2], [-122.8, 45.2]]
    assert flat(hole) == pytest.approx(flat(hole_ring), abs=1e-9)
    assert signed_area(outer) > 0 > signed_area(hole)
    assert second["geometry"]["type"] == "MultiPolygon"
    assert flat(p[0][0] for p in second["geometry"]["coordinates"]) == pytest.approx([10, -20, 12, -20], abs=1e-9)


def test_featureset_3857_is_web_mercator_too() -> None:
    featureset = load("query_featureset_webmercator")
    featureset["spatialReference"] = {"wkid": 3857}
    assert featureset_to_geojson(featureset) == featureset_to_geojson(load("query_featureset_webmercator"))


def test_featureset_with_spatial_references_only_on_its_geometries_is_reprojected() -> None:
    # Sentinel-2 catalog queries answer this way (hand-written, in ArcGIS's shape)
    per_geometry = featureset_to_geojson(load("handwritten_query_featureset_geometry_sr"))
    assert per_geometry == featureset_to_geojson(load("query_featureset_webmercator"))


def test_a_geometry_s_own_spatial_reference_wins_over_the_featuresets() -> None:
    featureset = load("handwritten_query_featureset_geometry_sr")
    featureset["spatialReference"] = {"wkid": 4326}
    assert featureset_to_geojson(featureset) == featureset_to_geojson(load("query_featureset_webmercator"))


@pytest.mark.parametrize(("spatial_reference", "message"), [
    (None, "no spatialReference"),
    ({"wkid": 999999}, "unknown spatialReference"),
])
def test_geometries_in_an_unknown_spatial_reference_are_an_invalid_response(
    spatial_reference: dict | None, message: str
) -> None:
    featureset = load("handwritten_query_featureset_geometry_sr")
    featureset["features"][1]["geometry"]["spatialReference"] = spatial_reference
    with pytest.raises(InvalidResponse, match=message):
        featureset_to_geojson(featureset)


def test_featureset_ids_fall_back_to_the_oid_field_then_conventional_names() -> None:
    typed = {"fields": [{"name": "IMAGEID", "type": "esriFieldTypeOID"}], "features": [{"attributes": {"IMAGEID": 4}}]}
    named = {"features": [{"attributes": {"FID": 5, "Name": "x"}}]}
    anonymous = {"features": [{"attributes": {"Name": "x"}}]}
    assert featureset_to_geojson(typed)["features"][0]["id"] == 4
    assert featureset_to_geojson(named)["features"][0]["id"] == 5
    assert featureset_to_geojson(anonymous)["features"] == [{"type": "Feature", "geometry": None, "properties": {"Name": "x"}}]


def test_raster_attribute_table_ids_fall_back_to_its_oid_field() -> None:
    # objectIdFieldName says OBJECTID, but the table's rows carry OID (hand-written, in ArcGIS's shape)
    features = featureset_to_geojson(load("handwritten_raster_attribute_table"))["features"]
    assert [(f["id"], f["properties"]["ClassName"]) for f in features] == [(0, "Water"), (1, "Trees"), (2, "Flooded Vegetation")]
    assert all(f["geometry"] is None for f in features)


@pytest.mark.parametrize(("esri", "geojson"), [
    ({"x": 1, "y": 2}, {"type": "Point", "coordinates": [1, 2]}),
    ({"x": None, "y": None}, None),
    ({"points": [[1, 2], [3, 4]]}, {"type": "MultiPoint", "coordinates": [[1, 2], [3, 4]]}),
    ({"paths": [[[0, 0], [1, 1]]]}, {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}),
    ({"paths": [[[0, 0], [1, 1]], [[2, 2], [3, 3]]]},
     {"type": "MultiLineString", "coordinates": [[[0, 0], [1, 1]], [[2, 2], [3, 3]]]}),
    ({"xmin": 0, "ymin": 1, "xmax": 2, "ymax": 3},
     {"type": "Polygon", "coordinates": [[[0, 1], [2, 1], [2, 3], [0, 3], [0, 1]]]}),
    # a counter-clockwise ring alone is still an outer ring
    ({"rings": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}, {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}),
    # clockwise outer ring rewound
    ({"rings": [[[0, 0], [1, 1], [1, 0], [0, 0]]]}, {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}),
    ({"rings": []}, None),
    (None, None),
])
def test_esri_geometries_to_geojson(esri: dict | None, geojson: dict | None) -> None:
    assert esri_to_geojson_geometry(esri) == geojson


OUTER = [[0, 0], [0, 10], [10, 10], [10, 0], [0, 0]]  # Esri outer rings are clockwise, holes counter-clockwise
HOLE = [[2, 2], [4, 2], [4, 4], [2, 4], [2, 2]]
ISLAND = [[2.5, 2.5], [2.5, 3.5], [3.5, 3.5], [3.5, 2.5], [2.5, 2.5]]  # inside HOLE
ISLAND_HOLE = [[2.8, 2.8], [3.2, 2.8], [3.2, 3.2], [2.8, 3.2], [2.8, 2.8]]


def ccw(ring: list[list[float]]) -> list[list[float]]:
    return ring if signed_area(ring) > 0 else ring[::-1]


@pytest.mark.parametrize("order", [(0, 1, 2, 3), (1, 3, 0, 2), (3, 2, 1, 0)])
def test_holes_go_to_the_ring_around_them_in_any_order(order: tuple[int, ...]) -> None:
    rings = [OUTER, HOLE, ISLAND, ISLAND_HOLE]
    geometry = esri_to_geojson_geometry({"rings": [rings[i] for i in order]})
    assert geometry["type"] == "MultiPolygon"
    assert sorted(geometry["coordinates"], key=lambda p: -signed_area(p[0])) == [
        [ccw(OUTER), ccw(HOLE)[::-1]], [ccw(ISLAND), ccw(ISLAND_HOLE)[::-1]]]


@pytest.mark.parametrize("hole", [
    [[0, 0], [5, 1], [5, 5], [0, 0]],  # touches the outer ring at a corner
    [[1, 1], [9, 1], [9, 9], [7, 9], [7, 3], [3, 3], [3, 9], [1, 9], [1, 1]],  # a U: its middle is outside it
])
def test_a_hole_that_touches_or_wraps_is_still_a_hole(hole: list[list[float]]) -> None:
    geometry = esri_to_geojson_geometry({"rings": [OUTER, hole]})
    assert geometry == {"type": "Polygon", "coordinates": [ccw(OUTER), ccw(hole)[::-1]]}


def test_featureset_frame_converts_dates_in_field_order() -> None:
    frame = featureset_to_frame(load("query_featureset_webmercator"))
    assert list(frame.columns) == ["OBJECTID", "Name", "AcquisitionDate", "CloudCover", "Shape_Area"]
    assert frame["AcquisitionDate"].iloc[0] == pandas.Timestamp("2020-02-18T14:12:23Z")
    assert pandas.isna(frame["AcquisitionDate"].iloc[1])
    assert list(frame["CloudCover"]) == [1.0, 12.5]


def test_featureset_frame_without_fields_converts_date_named_columns() -> None:
    frame = featureset_to_frame({"features": [{"attributes": {"Name": "a", "StartDate": 0, "DateText": "2020"}}]})
    assert frame.to_dict("records") == [{"Name": "a", "StartDate": pandas.Timestamp(0, tz="UTC"), "DateText": "2020"}]


def test_empty_featureset_frame_keeps_the_field_columns() -> None:
    featureset = load("query_featureset_webmercator")
    featureset["features"] = []
    frame = featureset_to_frame(featureset)
    assert (list(frame.columns), len(frame)) == (["OBJECTID", "Name", "AcquisitionDate", "CloudCover", "Shape_Area"], 0)
