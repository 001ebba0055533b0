"""The catalog query operation and its GeoJSON form, on a small hand-made catalog with known footprints."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin
from rasterio.warp import transform as transform_xy
from shapely.geometry import LinearRing, Polygon, box

from imageservice.server import query
from imageservice.server.args import Args
from imageservice.server.catalog import Service, load_services
from imageservice.server.errors import BadParameter, UnableToComplete
from imageservice.server.query import featureset_to_geojson, run_query
from imageservice.server.sampledata import ensure_sample_data

JAN_1, FEB_1, MAR_1 = 1735689600000, 1738368000000, 1740787200000     # 2025, UTC midnight
# Four 1 km footprints in UTM 10N: a and b overlap, c is 2 km east of a, d is 2 km north of a.
FOOTPRINTS = {
    "A": box(500000, 4199000, 501000, 4200000),
    "B": box(500500, 4199000, 501500, 4200000),
    "C": box(503000, 4199000, 504000, 4200000),
    "D": box(500000, 4202000, 501000, 4203000),
}
ITEMS = [
    {"file": "a.tif", "Name": "A", "AcquisitionDate": "2025-01-01", "CloudCover": 10.0, "SensorName": "S1"},
    {"file": "b.tif", "Name": "B", "AcquisitionDate": "2025-02-01", "CloudCover": 0.0, "SensorName": "S2"},
    {"file": "c.tif", "Name": "C", "AcquisitionDate": "2025-03-01", "CloudCover": 10.0, "SensorName": "S1"},
    {"file": "d.tif", "Name": "D", "AcquisitionDate": None, "CloudCover": None, "SensorName": "S2"},
]


@pytest.fixture(scope="session")
def data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("catalogs")
    folder = root / "Tiles"
    folder.mkdir()
    for entry in ITEMS:
        xmin, _, _, ymax = FOOTPRINTS[entry["Name"]].bounds
        with rasterio.open(folder / entry["file"], "w", driver="GTiff", width=10, height=10, count=1, dtype="uint8",
                           crs="EPSG:32610", transform=from_origin(xmin, ymax, 100, 100)) as dataset:
            dataset.write(np.ones((1, 10, 10), np.uint8))
    (folder / "catalog.json").write_text(json.dumps({"items": ITEMS}))
    single = root / "Single"
    single.mkdir()
    (single / "only.tif").write_bytes((folder / "a.tif").read_bytes())
    plain = root / "Plain"                                    # no sidecar: no time
    plain.mkdir()
    for name in ("a.tif", "b.tif"):
        (plain / name).write_bytes((folder / name).read_bytes())
    return root


@pytest.fixture(scope="session")
def tiles(data_root: Path) -> Service:
    return load_services(data_root)["Tiles"]


def ids(service: Service, **params: str) -> list[int]:
    result = run_query(service, Args({**params, "returnIdsOnly": "true"}))
    assert result["objectIdFieldName"] == "OBJECTID"
    return result["objectIds"]


def detail_of(error: type, service: Service, **params: str) -> str:
    with pytest.raises(error) as raised:
        run_query(service, Args(params))
    return raised.value.details[0]


def to_wgs84(x: float, y: float) -> tuple[float, float]:
    lon, lat = transform_xy("EPSG:32610", "EPSG:4326", [x], [y])
    return lon[0], lat[0]


# ----------------------------------------------------------------------------------------------
# FeatureSet shape


def test_default_query_returns_every_item_with_all_fields_and_footprints(tiles: Service) -> None:
    result = run_query(tiles, Args({}))
    assert set(result) == {"objectIdFieldName", "fields", "geometryType", "spatialReference", "features",
                           "exceededTransferLimit"}
    assert result["objectIdFieldName"] == "OBJECTID"
    assert result["geometryType"] == "esriGeometryPolygon"
    assert result["spatialReference"] == {"wkid": 32610, "latestWkid": 32610}
    assert result["exceededTransferLimit"] is False
    assert [f["name"] for f in result["fields"]] == [
        "OBJECTID", "Name", "MinPS", "MaxPS", "CenterX", "CenterY", "ZOrder", "AcquisitionDate", "CloudCover",
        "SensorName", "Shape_Length", "Shape_Area"]
    first = result["features"][0]
    assert first["attributes"] == {
        "OBJECTID": 1, "Name": "A", "MinPS": 0.0, "MaxPS": 1000.0, "CenterX": 500500.0, "CenterY": 4199500.0,
        "ZOrder": 0, "AcquisitionDate": JAN_1, "CloudCover": 10.0, "SensorName": "S1",
        "Shape_Length": 4000.0, "Shape_Area": 1000000.0}
    for feature, name in zip(result["features"], "ABCD"):
        (ring,) = feature["geometry"]["rings"]
        assert Polygon(ring).equals(FOOTPRINTS[name])
        assert ring[0] == ring[-1] and not LinearRing(ring).is_ccw        # outer rings clockwise
    json.dumps(result, allow_nan=False)


def test_out_fields_pick_attributes_in_order(tiles: Service) -> None:
    result = run_query(tiles, Args({"outFields": "cloudcover, NAME,Shape", "objectIds": "2"}))
    assert [f["name"] for f in result["fields"]] == ["OBJECTID", "CloudCover", "Name"]
    assert result["fields"][1] == {"name": "CloudCover", "type": "esriFieldTypeDouble", "alias": "CloudCover",
                                   "domain": None}
    assert result["features"][0]["attributes"] == {"OBJECTID": 2, "CloudCover": 0.0, "Name": "B"}
    assert detail_of(BadParameter, tiles, outFields="Name,Foo") == (
        "'outFields' parameter is invalid: unknown field 'Foo'.")


def test_return_geometry_false_and_out_sr(tiles: Service) -> None:
    plain = run_query(tiles, Args({"returnGeometry": "false", "outFields": "Name"}))
    assert plain["features"][0] == {"attributes": {"OBJECTID": 1, "Name": "A"}}
    geographic = run_query(tiles, Args({"outSR": "4326", "objectIds": "1"}))
    assert geographic["spatialReference"] == {"wkid": 4326, "latestWkid": 4326}
    (ring,) = geographic["features"][0]["geometry"]["rings"]
    assert not LinearRing(ring).is_ccw
    corners = [to_wgs84(x, y) for x, y in FOOTPRINTS["A"].exterior.coords]
    np.testing.assert_allclose(sorted(map(tuple, ring[:-1])), sorted(corners[:-1]))
    mercator = run_query(tiles, Args({"outSR": '{"wkid": 102100}', "objectIds": "1"}))
    assert mercator["spatialReference"] == {"wkid": 102100, "latestWkid": 3857}
    rounded = run_query(tiles, Args({"outSR": "4326", "objectIds": "1", "geometryPrecision": "2"}))
    assert rounded["features"][0]["geometry"]["rings"][0][0] == [round(v, 2) for v in ring[0]]


# ----------------------------------------------------------------------------------------------
# Filters


def test_where_filters_on_catalog_fields(tiles: Service) -> None:
    assert ids(tiles, where="CloudCover = 10") == [1, 3]
    assert ids(tiles, where="SensorName = 'S2' AND CloudCover IS NULL") == [4]
    assert ids(tiles, where="AcquisitionDate >= date '2025-02-01'") == [2, 3]
    assert detail_of(UnableToComplete, tiles, where="Cloud = 1") == (
        "Invalid 'where' clause: unknown field 'Cloud' at position 0.")


def test_object_ids_replace_the_other_filters(tiles: Service) -> None:
    assert ids(tiles, objectIds="3, 1,99", where="1=0") == [1, 3]
    assert detail_of(BadParameter, tiles, objectIds="1,x") == "'objectIds' parameter is invalid."


@pytest.mark.parametrize(("time", "expected"), [
    (str(FEB_1), [2]),                                        # an instant
    (f"{FEB_1},{MAR_1}", [2, 3]),                             # ends included
    (f"{JAN_1 + 1},{FEB_1 - 1}", []),
    (f"null,{FEB_1}", [1, 2]),                                # open start
    (f"{FEB_1}, null", [2, 3]),                               # open end
    ("null,null", [1, 2, 3]),                                 # items without time never match a time filter
])
def test_time_filter(tiles: Service, time: str, expected: list[int]) -> None:
    assert ids(tiles, time=time) == expected


def test_time_is_ignored_by_a_service_without_time(data_root: Path) -> None:
    plain = load_services(data_root)["Plain"]
    assert plain.time_extent is None
    assert ids(plain, time=str(FEB_1)) == [1, 2]


@pytest.mark.parametrize(("params", "expected"), [
    ({"geometry": "500200,4199200,500400,4199400"}, [1]),
    ({"geometry": "500200,4199200,500400,4199400", "spatialRel": "esriSpatialRelWithin"}, [1]),
    ({"geometry": "500200,4199200,500400,4199400", "spatialRel": "esriSpatialRelContains"}, []),
    ({"geometry": "499000,4198000,502000,4201000", "spatialRel": "esriSpatialRelContains"}, [1, 2]),
    ({"geometry": "499000,4198000,502000,4201000", "spatialRel": "ESRISPATIALRELWITHIN"}, []),
    ({"geometry": "500700,4199500"}, [1, 2]),
    ({"geometry": '{"x": 503500, "y": 4199500}', "geometryType": "esriGeometryPoint"}, [3]),
    ({"geometry": '{"xmin": 500900, "ymin": 4199900, "xmax": 500950, "ymax": 4202500}',
      "geometryType": "esriGeometryEnvelope"}, [1, 2, 4]),
    ({"geometry": '{"rings": [[[501400, 4201000], [503100, 4201000], [503100, 4199900], [501400, 4201000]]]}',
      "geometryType": "esriGeometryPolygon"}, [3]),
    ({"geometry": '{"rings": [[[501400, 4201000], [503100, 4201000], [503100, 4199900], [501400, 4201000]]]}',
      "spatialRel": "esriSpatialRelEnvelopeIntersects"}, [2, 3]),
    ({"geometry": '{"paths": [[[500000, 4199500], [504500, 4199500]]]}', "spatialRel": "esriSpatialRelCrosses"},
     [1, 2, 3]),
    ({"geometry": "500000,4199000,501000,4200000", "spatialRel": "esriSpatialRelTouches"}, []),
    ({"geometry": "501000,4199000,502000,4200000", "spatialRel": "esriSpatialRelTouches"}, [1]),
    ({"geometry": "501000,4199000,502000,4200000", "spatialRel": "esriSpatialRelOverlaps"}, [2]),
])
def test_spatial_filter(tiles: Service, params: dict[str, str], expected: list[int]) -> None:
    assert ids(tiles, **params) == expected


def test_geometry_in_another_spatial_reference(tiles: Service) -> None:
    lon, lat = to_wgs84(500700, 4199500)
    assert ids(tiles, geometry=f"{lon},{lat}", inSR="4326") == [1, 2]
    point = json.dumps({"x": lon, "y": lat, "spatialReference": {"wkid": 4326}})
    assert ids(tiles, geometry=point) == [1, 2]
    assert ids(tiles, geometry=point, inSR="3857") == [1, 2]         # the geometry's own SR wins
    west, south = to_wgs84(503200, 4199200)
    east, north = to_wgs84(503400, 4199400)
    assert ids(tiles, geometry=f"{west},{south},{east},{north}", inSR="4326", spatialRel="esriSpatialRelWithin") == [3]


@pytest.mark.parametrize(("params", "detail"), [
    ({"geometry": "1,2,3"}, "'geometry' parameter is invalid."),
    ({"geometry": "5,5,1,1"}, "'geometry' parameter is invalid."),
    ({"geometry": '{"rings": [[[0, 0], [1, 1]]]}'}, "'geometry' parameter is invalid."),
    ({"geometry": '{"what": 1}'}, "'geometry' parameter is invalid."),
    ({"geometry": "{oops"}, "'geometry' parameter is not valid JSON."),
    ({"geometry": "1,2", "geometryType": "esriGeometryCircle"}, "'geometryType' parameter is invalid."),
    ({"geometry": "1,2", "inSR": "999999"}, "'inSR' parameter is invalid."),
    ({"geometry": "1,2", "spatialRel": "esriSpatialRelRelation"}, "'spatialRel' parameter is invalid."),
    ({"outSR": "nope"}, "'outSR' parameter is invalid."),
])
def test_bad_spatial_parameters(tiles: Service, params: dict[str, str], detail: str) -> None:
    assert detail_of(BadParameter, tiles, **params) == detail


# ----------------------------------------------------------------------------------------------
# Order, paging, counts


def test_order_by_fields(tiles: Service) -> None:
    assert ids(tiles, orderByFields="CloudCover DESC, Name") == [1, 3, 2, 4]     # NULL last when descending
    assert ids(tiles, orderByFields="cloudcover") == [4, 2, 1, 3]                # and first when ascending
    assert ids(tiles, orderByFields="SensorName DESC, Name DESC") == [4, 2, 3, 1]
    result = run_query(tiles, Args({"orderByFields": "Name DESC", "outFields": "Name"}))
    assert [f["attributes"]["Name"] for f in result["features"]] == ["D", "C", "B", "A"]
    assert detail_of(BadParameter, tiles, orderByFields="Name UP") == "'orderByFields' parameter is invalid: 'Name UP'."
    assert detail_of(BadParameter, tiles, orderByFields="Shape") == "'orderByFields' parameter is invalid: 'Shape'."


@pytest.mark.parametrize(("offset", "count", "expected", "exceeded"), [
    (None, "2", [1, 2], True),
    ("2", "2", [3, 4], False),
    ("3", None, [4], False),
    ("9", "5", [], False),
])
def test_paging(tiles: Service, offset: str | None, count: str | None, expected: list[int], exceeded: bool) -> None:
    params = {"resultOffset": offset, "resultRecordCount": count, "outFields": "Name"}
    result = run_query(tiles, Args({k: v for k, v in params.items() if v is not None}))
    assert [f["attributes"]["OBJECTID"] for f in result["features"]] == expected
    assert result["exceededTransferLimit"] is exceeded


def test_max_record_count_caps_every_page(tiles: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(query, "MAX_RECORD_COUNT", 3)
    for params in ({}, {"resultRecordCount": "10"}):
        result = run_query(tiles, Args(params))
        assert len(result["features"]) == 3 and result["exceededTransferLimit"] is True
    assert len(ids(tiles)) == 4                                  # ids and counts are not paged
    assert run_query(tiles, Args({"returnCountOnly": "true"})) == {"count": 4}


def test_bad_paging(tiles: Service) -> None:
    assert detail_of(BadParameter, tiles, resultOffset="-1") == "'resultOffset' parameter is invalid."
    assert detail_of(BadParameter, tiles, resultRecordCount="0") == "'resultRecordCount' parameter is invalid."


def test_count_and_ids_only(tiles: Service) -> None:
    assert run_query(tiles, Args({"returnCountOnly": "true", "where": "CloudCover = 10",
                                  "resultRecordCount": "1"})) == {"count": 2}
    assert run_query(tiles, Args({"returnIdsOnly": "true", "orderByFields": "Name DESC"})) == {
        "objectIdFieldName": "OBJECTID", "objectIds": [4, 3, 2, 1]}


def test_a_raster_service_has_no_catalog(data_root: Path) -> None:
    single = load_services(data_root)["Single"]
    assert detail_of(UnableToComplete, single) == (
        "This service is a single raster without a catalog; query needs a mosaic service.")


def test_sample_catalog_query(tmp_path_factory: pytest.TempPathFactory) -> None:
    service = load_services(ensure_sample_data(tmp_path_factory.mktemp("sample"), size=32))["SampleMultispectral"]
    result = run_query(service, Args({"where": "CloudCover = 0", "outFields": "Name,SensorName",
                                      "orderByFields": "AcquisitionDate DESC"}))
    assert [f["attributes"]["Name"] for f in result["features"]] == [
        "SynthSat1_20250804", "SynthSat1_20250613", "SynthSat2_20250518"]
    june = "1748736000000,1751327999999"                          # 2025-06-01 .. 2025-06-30
    assert ids(service, time=june) == [7]


# ----------------------------------------------------------------------------------------------
# GeoJSON


def signed_area(ring: list[list[float]]) -> float:
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:])) / 2


def test_geojson_is_lon_lat_with_counter_clockwise_outer_rings(tiles: Service) -> None:
    featureset = run_query(tiles, Args({"outFields": "Name", "resultRecordCount": "3"}))
    collection = featureset_to_geojson(featureset)
    assert collection["type"] == "FeatureCollection"
    assert collection["properties"] == {"exceededTransferLimit": True}
    first = collection["features"][0]
    assert (first["type"], first["id"], first["properties"]) == ("Feature", 1, {"OBJECTID": 1, "Name": "A"})
    assert first["geometry"]["type"] == "Polygon"
    (ring,) = first["geometry"]["coordinates"]
    assert signed_area(ring) > 0
    corners = [to_wgs84(x, y) for x, y in FOOTPRINTS["A"].exterior.coords[:-1]]
    np.testing.assert_allclose(sorted(tuple(point) for point in ring[:-1]), sorted(corners))
    from_mercator = featureset_to_geojson(run_query(tiles, Args({"outSR": "3857", "outFields": "Name"})))
    assert from_mercator["features"][0]["geometry"]["coordinates"][0][0] == pytest.approx(ring[0])
    assert "properties" not in featureset_to_geojson(run_query(tiles, Args({})))


def test_geojson_holes_multiple_parts_and_passthrough() -> None:
    outer = [[0, 0], [0, 10], [10, 10], [10, 0], [0, 0]]            # clockwise
    hole = [[2, 2], [4, 2], [4, 4], [2, 4], [2, 2]]                  # counter-clockwise
    second = [[20, 0], [20, 5], [25, 5], [25, 0], [20, 0]]
    featureset = {"spatialReference": {"wkid": 4326}, "features": [
        {"attributes": {"OBJECTID": 7}, "geometry": {"rings": [outer, hole]}},
        {"attributes": {"OBJECTID": 8}, "geometry": {"rings": [outer, second]}},
        {"attributes": {"OBJECTID": 9}},
    ]}
    holed, multi, bare = featureset_to_geojson(featureset)["features"]
    exterior, interior = holed["geometry"]["coordinates"]
    assert signed_area(exterior) == 100 and signed_area(interior) == -4
    assert multi["geometry"]["type"] == "MultiPolygon" and len(multi["geometry"]["coordinates"]) == 2
    assert bare == {"type": "Feature", "id": 9, "geometry": None, "properties": {"OBJECTID": 9}}
    assert featureset_to_geojson({"count": 3}) == {"count": 3}
