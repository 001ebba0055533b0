"""The catalog tab's functions: where clauses, paging, table and footprints, mosaic rule locking,
and the refresh callback against the embedded server."""

from __future__ import annotations

import pytest
from dash import no_update

from callbacks import catalog
from callbacks.catalog import (
    Catalog,
    build_where,
    catalog_query,
    catalog_service,
    catalog_table,
    check_where,
    cloud_field,
    cloud_label,
    fetch_catalog,
    footprints,
    header,
    lock_rule,
    locked_ids,
    refresh_catalog,
    reset_for_service,
    select_scenes,
    selection_ids,
    selection_text,
    show_selection,
    sql_number,
    status_text,
    unlock_rule,
)
from components.catalogpanel import CLOUD_ANY, ROW_ID
from imageservice.client import ImageServiceClient
from imageservice.errors import ParameterError
from imageservice.metadata import parse_service_info
from imageservice.params import LayerParams
from imageservice.server import operations, query
from server_fixtures import sample_root, server_url, services  # noqa: F401  (pytest fixtures)

MULTISPECTRAL = "/arcgis/rest/services/SampleMultispectral/ImageServer"
ELEVATION = "/arcgis/rest/services/SampleElevation/ImageServer"
LOCK = "esriMosaicLockRaster"
# A view around the whole sample area (lat/lng), as the view store's bounds.
WHOLE_AREA = [[38.2, -122.2], [38.9, -121.4]]


def layer_params(server_url: str, path: str = MULTISPECTRAL, **options) -> dict:
    return LayerParams.from_dict({"url": server_url + path, **options}).to_dict()


def service_of(params: dict) -> dict:
    info = parse_service_info(ImageServiceClient(params["url"]).metadata())
    return catalog_service(info, params["url"])


def items(services) -> list:
    return list(services["SampleMultispectral"].items)


# --- where clauses -----------------------------------------------------------------------------


@pytest.mark.parametrize(("cloud", "cloud_max", "text", "expected"), [
    ("CloudCover", CLOUD_ANY, "", "1=1"),
    ("CloudCover", None, None, "1=1"),
    ("CloudCover", 30, "", "CloudCover <= 30"),
    ("CloudCover", 12.5, "  ", "CloudCover <= 12.5"),
    ("CloudCover", 0, "Month > 3", "CloudCover <= 0 AND (Month > 3)"),
    ("CloudCover", CLOUD_ANY, "Month > 3 OR Month < 2", "Month > 3 OR Month < 2"),
    (None, 30, "Month > 3", "Month > 3"),
    ("CloudCover", 20, "Name = 'a) OR (1=1'", "CloudCover <= 20 AND (Name = 'a) OR (1=1')"),
    ("CloudCover", 20, "Name = 'O''Brien (x'", "CloudCover <= 20 AND (Name = 'O''Brien (x')"),
    ("CloudCover", 20, "Name LIKE '%--%'", "CloudCover <= 20 AND (Name LIKE '%--%')"),
])
def test_build_where(cloud, cloud_max, text, expected) -> None:
    assert build_where(cloud, cloud_max, text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("Month > 3) OR (1=1", "the ')' at position 10 closes nothing"),
    ("(Month > 3", "1 '(' is not closed"),
    ("((Month > 3", "2 '(' are not closed"),
    ("Name = 'x", "a quote (') is not closed; write '' for a quote inside a text"),
    ("Name = 'it''s", "a quote (') is not closed; write '' for a quote inside a text"),
    ("Month > 3 -- and more", "comments (-- or /*) are not allowed in the where clause"),
    ("Month > 3 /* x */", "comments (-- or /*) are not allowed in the where clause"),
])
def test_a_clause_that_would_break_out_of_its_parentheses_is_refused(text, message) -> None:
    with pytest.raises(ParameterError) as caught:
        check_where(text)
    assert str(caught.value) == message
    with pytest.raises(ParameterError):
        build_where("CloudCover", 30, text)


@pytest.mark.parametrize(("value", "text"), [(30, "30"), (30.0, "30"), (12.5, "12.5"), (0.1, "0.1"), (0, "0")])
def test_sql_number(value, text) -> None:
    assert sql_number(value) == text


def test_cloud_field_is_the_numeric_field_named_cloud() -> None:
    fields = [{"name": "OBJECTID", "type": "esriFieldTypeOID"}, {"name": "CloudNote", "type": "esriFieldTypeString"},
              {"name": "cloud_cover", "type": "esriFieldTypeDouble"}]
    assert cloud_field(fields) == "cloud_cover"
    assert cloud_field(fields[:2]) is None
    assert cloud_field([{"name": "Cloud Cover", "type": "esriFieldTypeDouble"}]) is None  # not a plain name


def test_cloud_label() -> None:
    service = {"cloud_field": "CloudCover"}
    assert cloud_label(CLOUD_ANY, service) == "Cloud cover: any"
    assert cloud_label(20, service) == "Cloud cover: at most 20 %"
    assert cloud_label(20, {"cloud_field": None}) == "Cloud cover: not in this catalog"


def test_the_server_filters_by_the_built_clause(server_url, services) -> None:
    params = layer_params(server_url)
    service = service_of(params)
    where = build_where(service["cloud_field"], 10, "SensorName = 'SynthSat-1'")
    found = fetch_catalog(lambda: catalog_query(params, WHOLE_AREA, where, "OBJECTID"), page_size=100)
    expected = [item.object_id for item in items(services)
                if item.attributes["CloudCover"] <= 10 and item.attributes["SensorName"] == "SynthSat-1"]
    assert [f["attributes"]["OBJECTID"] for f in found.featureset["features"]] == expected
    assert 0 < len(expected) < len(items(services))


# --- paging ------------------------------------------------------------------------------------


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> int:
    """The embedded server pages its answers by 5 and says so in maxRecordCount."""
    monkeypatch.setattr(query, "MAX_RECORD_COUNT", 5)
    monkeypatch.setattr(operations, "MAX_RECORD_COUNT", 5)
    return 5


def test_paging_fetches_every_item(server_url, services, small_pages) -> None:
    params = layer_params(server_url)
    service = service_of(params)
    assert service["page_size"] == small_pages
    found = fetch_catalog(lambda: catalog_query(params, WHOLE_AREA, "1=1", "OBJECTID"), page_size=service["page_size"])
    assert [f["attributes"]["OBJECTID"] for f in found.featureset["features"]] == list(range(1, 15))
    assert (found.count, found.total, found.pages) == (14, 14, 3)
    assert found.featureset["exceededTransferLimit"] is False
    assert status_text(found, small_pages, timed=False, filtered=False) == (
        "14 scenes in this view. Fetched in 3 pages of up to 5 (the server's maxRecordCount).")


def test_paging_stops_at_the_cap_and_counts_the_rest(server_url, small_pages) -> None:
    params = layer_params(server_url)
    found = fetch_catalog(lambda: catalog_query(params, WHOLE_AREA, "1=1", "OBJECTID"), page_size=small_pages, cap=8)
    assert [f["attributes"]["OBJECTID"] for f in found.featureset["features"]] == list(range(1, 9))
    assert (found.count, found.total, found.pages) == (8, 14, 2)
    assert found.featureset["exceededTransferLimit"] is True
    assert status_text(found, small_pages, timed=True, filtered=True) == (
        "Showing the first 8 of 14 scenes in this view and time range match the filters. "
        "Fetched in 2 pages of up to 5 (the server's maxRecordCount).")


class OffsetBlindQuery:
    """A server without paging support: the same first page whatever the offset."""

    calls: list[tuple[int, int]] = []

    def offset(self, count: int) -> OffsetBlindQuery:
        self._offset = count
        return self

    def limit(self, count: int) -> OffsetBlindQuery:
        self.calls.append((self._offset, count))
        return self

    def run(self) -> dict:
        return {"objectIdFieldName": "OBJECTID", "exceededTransferLimit": True,
                "features": [{"attributes": {"OBJECTID": i}} for i in (1, 2)]}

    def count(self) -> int:
        return 40


def test_a_server_that_ignores_the_offset_does_not_loop() -> None:
    found = fetch_catalog(OffsetBlindQuery, page_size=2, cap=100)
    assert [f["attributes"]["OBJECTID"] for f in found.featureset["features"]] == [1, 2]
    assert OffsetBlindQuery.calls == [(0, 2), (2, 2)]
    assert (found.count, found.total, found.pages) == (2, 2, 2)


def test_status_text_for_nothing_and_for_one() -> None:
    empty = Catalog({"features": []}, 0, 1)
    assert status_text(empty, 1000, timed=False, filtered=False) == "No scenes in this view."
    assert status_text(empty, 1000, timed=False, filtered=True) == "No scenes in this view match the filters."
    one = Catalog({"features": [{}]}, 1, 1)
    assert status_text(one, 1000, timed=True, filtered=False) == "1 scene in this view and time range."


# --- table and footprints ----------------------------------------------------------------------


@pytest.mark.parametrize(("name", "text"), [
    ("CloudCover", "Cloud cover"), ("DayOfYear", "Day of year"), ("Shape_Area", "Shape area"),
    ("OBJECTID", "OBJECTID"), ("Name", "Name"), ("SunElevation", "Sun elevation"), ("MinPS", "Min PS"),
])
def test_header(name, text) -> None:
    assert header(name) == text


def test_catalog_table_puts_date_cloud_and_name_first_and_shows_dates_as_dates(server_url, services) -> None:
    params = layer_params(server_url)
    service = service_of(params)
    found = fetch_catalog(lambda: catalog_query(params, WHOLE_AREA, "1=1", "OBJECTID"), page_size=100)
    rows, columns = catalog_table(found.featureset, service)
    assert [c["field"] for c in columns] == [
        "OBJECTID", "AcquisitionDate", "CloudCover", "Name", "SensorName", "DayOfYear", "Month", "SunElevation",
        "SunAzimuth", "MinPS", "MaxPS", "CenterX", "CenterY", "ZOrder", "Shape_Length", "Shape_Area"]
    assert columns[0] == {"field": "OBJECTID", "headerName": "ID", "width": catalog.ID_WIDTH}
    assert columns[1] == {"field": "AcquisitionDate", "headerName": "Acquisition date", "width": catalog.DATE_WIDTH,
                          "sort": "asc", "cellDataType": "text"}
    assert columns[2] == {"field": "CloudCover", "headerName": "Cloud cover", "width": catalog.CLOUD_WIDTH,
                          "type": "numericColumn", "valueFormatter": catalog.CLOUD_FORMAT}
    assert columns[3] == {"field": "Name", "headerName": "Name", "width": catalog.TEXT_WIDTH}
    first = items(services)[0].attributes
    assert rows[0] == {
        "OBJECTID": 1, "AcquisitionDate": "2025-01-08 18:40", "CloudCover": round(first["CloudCover"], 2),
        "Name": "SynthSat1_20250108", "SensorName": "SynthSat-1", "DayOfYear": 8, "Month": 1,
        "SunElevation": round(first["SunElevation"], 2), "SunAzimuth": round(first["SunAzimuth"], 2),
        "MinPS": first["MinPS"], "MaxPS": first["MaxPS"], "CenterX": first["CenterX"], "CenterY": first["CenterY"],
        "ZOrder": 0, "Shape_Length": round(first["Shape_Length"], 2), "Shape_Area": round(first["Shape_Area"], 2),
        ROW_ID: "1",
    }
    assert [row[ROW_ID] for row in rows] == [str(i) for i in range(1, 15)]


def test_an_empty_answer_gives_no_rows_but_the_columns(server_url) -> None:
    params = layer_params(server_url)
    service = service_of(params)
    found = fetch_catalog(lambda: catalog_query(params, WHOLE_AREA, "CloudCover < 0", "OBJECTID"), page_size=100)
    rows, columns = catalog_table(found.featureset, service)
    assert rows == [] and columns[0]["field"] == "OBJECTID" and len(columns) == 16


def test_footprints_carry_ids_and_tooltips(server_url, services) -> None:
    params = layer_params(server_url)
    service = service_of(params)
    found = fetch_catalog(lambda: catalog_query(params, WHOLE_AREA, "1=1", "OBJECTID"), page_size=100)
    collection = footprints(found.featureset, service)
    assert [f["id"] for f in collection["features"]] == list(range(1, 15))
    cloud = items(services)[0].attributes["CloudCover"]
    tooltip = collection["features"][0]["properties"]["tooltip"]
    assert tooltip == f"SynthSat1_20250108 · 2025-01-08 · {cloud:.1f} % cloud"
    assert collection["features"][0]["geometry"]["type"] == "Polygon"
    lngs = [x for x, _ in collection["features"][0]["geometry"]["coordinates"][0]]
    assert -122.1 < min(lngs) < max(lngs) < -121.5  # lat/lng, not the service's UTM metres


# --- the mosaic rule ---------------------------------------------------------------------------


def test_locked_ids_only_for_a_lock_raster_rule() -> None:
    assert locked_ids({"mosaicMethod": LOCK, "lockRasterIds": [5, 3]}) == [5, 3]
    assert locked_ids({"mosaicMethod": "esriMosaicNorthwest", "lockRasterIds": [5]}) == []
    assert locked_ids(None) == [] and locked_ids({"mosaicMethod": LOCK}) == []


def test_lock_keeps_the_other_keys_and_unlock_restores_the_method() -> None:
    rule = {"mosaicMethod": "esriMosaicAttribute", "sortField": "CloudCover", "sortValue": "0",
            "mosaicOperation": "MT_MEAN", "where": "Month > 3"}
    locked = lock_rule(rule, [9, 2])
    assert locked == {**rule, "mosaicMethod": LOCK, "lockRasterIds": [2, 9]}
    assert unlock_rule(locked, "esriMosaicAttribute") == rule
    assert lock_rule(None, [4]) == {"mosaicMethod": LOCK, "lockRasterIds": [4]}
    assert unlock_rule({"mosaicMethod": LOCK, "lockRasterIds": [4]}, None) is None
    with_where = {"mosaicMethod": LOCK, "lockRasterIds": [4], "where": "Month > 3"}
    assert unlock_rule(with_where, None) == {"where": "Month > 3"}


def test_selection_keeps_locked_scenes_the_table_does_not_list() -> None:
    rows = [{ROW_ID: "1"}, {ROW_ID: "2"}, {ROW_ID: "3"}]
    assert selection_ids([{ROW_ID: "3"}, {ROW_ID: "1"}], rows, []) == [1, 3]
    # 7 is locked but out of the view: unticking rows in the table cannot drop it
    assert selection_ids([{ROW_ID: "2"}], rows, [1, 7]) == [2, 7]
    assert selection_ids([], rows, [1, 2]) == []
    assert selection_ids(None, None, [7]) == [7]


def test_select_scenes_locks_remembers_the_method_and_unlocks() -> None:
    params = LayerParams.from_dict({"url": "http://127.0.0.1:1/arcgis/rest/services/X/ImageServer",
                                    "mosaic_rule": {"mosaicMethod": "esriMosaicNorthwest",
                                                    "mosaicOperation": "MT_MEAN"}}).to_dict()
    locked = select_scenes(params, [3, 5], None)
    assert locked["params"]["mosaic_rule"] == {"mosaicMethod": LOCK, "mosaicOperation": "MT_MEAN",
                                               "lockRasterIds": [3, 5]}
    assert (locked["method"], locked["prior"]) == (LOCK, "esriMosaicNorthwest")
    assert select_scenes(locked["params"], [3, 5], locked["prior"]) is None
    more = select_scenes(locked["params"], [3, 5, 8], locked["prior"])
    assert more["params"]["mosaic_rule"]["lockRasterIds"] == [3, 5, 8] and more["prior"] == "esriMosaicNorthwest"
    unlocked = select_scenes(more["params"], [], more["prior"])
    assert unlocked["params"]["mosaic_rule"] == {"mosaicMethod": "esriMosaicNorthwest", "mosaicOperation": "MT_MEAN"}
    assert (unlocked["method"], unlocked["prior"]) == ("esriMosaicNorthwest", None)
    default = LayerParams.from_dict({"url": params["url"]}).to_dict()
    assert select_scenes(default, [], None) is None
    round_trip = select_scenes(select_scenes(default, [2], None)["params"], [], None)
    assert round_trip["params"]["mosaic_rule"] is None and round_trip["method"] is None


def test_show_selection_marks_the_locked_scenes_and_drops_stale_ticks() -> None:
    locked = {"mosaic_rule": {"mosaicMethod": LOCK, "lockRasterIds": [2, 4]}}
    assert show_selection(locked, [{ROW_ID: "2"}]) == {
        "hideout": {"selected": [2, 4]}, "text": "Map locked to 2 scenes (ID 2, 4).", "clear_disabled": False,
        "selected": no_update}
    other = {"mosaic_rule": {"mosaicMethod": "esriMosaicNorthwest", "lockRasterIds": [2, 4]}}
    assert show_selection(other, [{ROW_ID: "2"}]) == {
        "hideout": {"selected": []}, "text": "Tick scenes to show only them on the map.", "clear_disabled": True,
        "selected": []}
    assert show_selection(other, [])["selected"] is no_update


def test_selection_text_shortens_long_lists() -> None:
    assert selection_text([5]) == "Map locked to 1 scene (ID 5)."
    assert selection_text(list(range(1, 11))) == "Map locked to 10 scenes (ID 1, 2, 3, 4, 5, 6, 7, 8, …)."


# --- the refresh callback ----------------------------------------------------------------------


def refresh(params: dict, service: dict, *, where: str = "", cloud: float = CLOUD_ANY, tab: str = "catalog",
            last_key: dict | None = None) -> dict:
    return refresh_catalog({"bounds": WHOLE_AREA}, params, where, cloud, tab, last_key, service)


def test_refresh_lists_the_view_and_ticks_the_locked_scenes(server_url) -> None:
    params = layer_params(server_url, mosaic_rule={"mosaicMethod": LOCK, "lockRasterIds": [4, 99]})
    service = service_of(params)
    result = refresh(params, service)
    assert [row["OBJECTID"] for row in result["rows"]] == list(range(1, 15))
    assert len(result["footprints"]["features"]) == 14
    assert result["selected"] == {"ids": ["4"]}  # 99 is not in the table
    assert (result["status"], result["where_error"]) == ("14 scenes in this view.", "")
    assert result["key"] == {"url": params["url"], "bounds": WHOLE_AREA, "time": [None, None], "where": "1=1"}
    # the same question again (e.g. after a band change) asks the server nothing
    assert refresh(params, service, last_key=result["key"]) is no_update


def test_refresh_waits_for_the_tab_to_open(server_url) -> None:
    params = layer_params(server_url)
    service = service_of(params)
    assert refresh(params, service, tab="pixel") is no_update
    key = {"url": params["url"], "bounds": [[0, 0], [1, 1]], "time": [None, None], "where": "1=1"}
    assert refresh(params, service, tab="pixel", last_key=key) is no_update
    assert len(refresh(params, service, last_key=key)["rows"]) == 14
    # params of another service than the one described: wait for its description
    assert refresh(layer_params(server_url, ELEVATION), service) is no_update


def test_refresh_follows_the_layer_time_range(server_url, services) -> None:
    scenes = items(services)
    params = layer_params(server_url, time_from=scenes[0].start_ms, time_to=scenes[2].start_ms)
    result = refresh(params, service_of(params))
    assert [row["OBJECTID"] for row in result["rows"]] == [1, 2, 3]
    assert result["status"] == "3 scenes in this view and time range."


def test_refresh_filters_and_says_so(server_url, services) -> None:
    params = layer_params(server_url)
    result = refresh(params, service_of(params), cloud=5)
    expected = [item.object_id for item in items(services) if item.attributes["CloudCover"] <= 5]
    assert [row["OBJECTID"] for row in result["rows"]] == expected
    noun = "scene" if len(expected) == 1 else "scenes"
    assert result["status"] == f"{len(expected)} {noun} in this view match the filters."


def test_refresh_explains_a_refused_where_clause(server_url) -> None:
    params = layer_params(server_url)
    service = service_of(params)
    local = refresh(params, service, where="(Month > 3")
    assert local["where_error"] == "Check the where clause: 1 '(' is not closed."
    assert local["rows"] is no_update and local["key"] is no_update
    remote = refresh(params, service, where="Foo = 1")
    assert remote["where_error"] == (
        "The server refused the where clause: Invalid 'where' clause: unknown field 'Foo' at position 0.")
    assert remote["status"] == "The table still shows the last scenes found."
    assert remote["rows"] is no_update and remote["key"] is no_update


def test_refresh_on_a_service_without_catalog(server_url) -> None:
    params = layer_params(server_url, ELEVATION)
    result = refresh(params, service_of(params))
    assert result["status"] == "This service has no catalog of scenes (it is a single raster): nothing to list."
    assert result["rows"] == [] and result["footprints"]["features"] == []


def test_refresh_says_when_the_server_is_gone() -> None:
    params = LayerParams.from_dict({"url": "http://127.0.0.1:9/arcgis/rest/services/X/ImageServer"}).to_dict()
    service = {"url": params["url"], "has_catalog": True, "object_id_field": "OBJECTID", "cloud_field": None,
               "date_field": None, "page_size": 1000}
    result = refresh(params, service)
    assert result["status"].startswith("Could not query the catalog: Could not connect to 127.0.0.1:9")
    assert result["rows"] is no_update


def test_a_new_service_starts_without_filters() -> None:
    service = {"cloud_field": "CloudCover"}
    assert reset_for_service(service) == {"where": "", "where_error": "", "cloud": CLOUD_ANY, "cloud_disabled": False,
                                          "prior": None, "status": no_update}
    assert reset_for_service({"cloud_field": None})["cloud_disabled"] is True
    assert reset_for_service(None)["status"] == (
        "The service's description could not be read, so its catalog cannot be listed (see the Service tab).")
