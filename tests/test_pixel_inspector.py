"""The pixel inspector's callbacks as plain functions, against the embedded server and the GeoTIFFs."""

from __future__ import annotations

import math
from datetime import datetime, timezone

import pandas
import pytest
from dash import no_update

from callbacks.pixel import (
    DATE_FORMAT,
    EMPTY,
    NO_DATA,
    NO_SCENE_IN_TIME,
    NO_SERVICE,
    OUTSIDE,
    Pixel,
    catalog_columns,
    download,
    identify_pixel,
    inspect,
    is_outside,
    pixel_ndvi,
    refresh_service,
    service_facts,
    spectral_figure,
)
from callbacks.profiles import records
from pixel_fixtures import (
    BANDS,
    CROP_POINT,
    NO_DATA_POINT,
    OUTSIDE_POINT,
    SCENE_COUNT,
    params,  # noqa: F401  (pytest fixture)
    read_pixel,
    scene_path,
    service,  # noqa: F401  (pytest fixture)
)
from server_fixtures import sample_root, server_url  # noqa: F401  (pytest fixtures)

# Output positions of inspect() (register's order).
STATUS, STATUS_CLASS, COORDINATES, RESULTS_HIDDEN, ROWS, CATALOG_ROWS, CATALOG_DEFS, SPECTRAL, NDVI_TEXT, MARKER, \
    TEMPORAL_HIDDEN, POINT, TAB = range(13)


def click(point: tuple[float, float]) -> dict:
    return {"lat": point[0], "lng": point[1], "time": 1}


def top_scene(result: Pixel) -> str:
    """The name of the one scene identify says supplies the pixel."""
    shown = result.items[result.items["visibility"] == 1.0]
    assert len(shown) == 1
    return shown["Name"].iloc[0]


# --- the service -----------------------------------------------------------------------------------------


def test_service_facts_of_the_two_sample_services(params, service, server_url) -> None:
    assert {key: value for key, value in service.items() if key not in ("fields", "extent_latlng")} == {
        "url": params["url"],
        "band_names": BANDS,
        "extent": (586770.0, 4247850.0, 625170.0, 4286250.0),
        "wkid": 32610,
        "date_field": "AcquisitionDate",
        "object_id_field": "OBJECTID",
        "has_name": True,
        "has_catalog": True,
        "current_version": 11.1,
        "multidimensional": False,
    }
    elevation = service_facts({"url": server_url + "/arcgis/rest/services/SampleElevation/ImageServer/"})
    assert (elevation["band_names"], elevation["date_field"], elevation["has_catalog"]) == (["Elevation"], None, False)


def test_the_service_is_read_once_per_url(params, service) -> None:
    assert refresh_service(params, service) is no_update
    assert refresh_service(None, service) is None
    missing = {"url": params["url"].replace("SampleMultispectral", "Nothing")}
    assert "Nothing" in refresh_service(missing, service)["error"]


# --- identify ---------------------------------------------------------------------------------------------


def test_a_known_pixel_shows_the_top_scene_and_every_scene_under_it(params, service, sample_root) -> None:
    lat, lng = CROP_POINT
    result = identify_pixel(params, lat, lng, service)
    assert result.message is None and not result.error
    assert result.values["band"].tolist() == BANDS
    assert result.values["value"].tolist() == read_pixel(scene_path(sample_root, top_scene(result)), lat, lng)
    assert len(result.items) == SCENE_COUNT
    for _, item in result.items.iterrows():
        assert item[BANDS].tolist() == read_pixel(scene_path(sample_root, item["Name"]), lat, lng)
    assert result.location["wkid"] == 32610


def test_the_layers_mosaic_rule_picks_the_scene(params, service, sample_root) -> None:
    lat, lng = CROP_POINT
    locked = {**params, "mosaic_rule": {"mosaicMethod": "esriMosaicLockRaster", "lockRasterIds": [3]}}
    result = identify_pixel(locked, lat, lng, service)
    assert result.items["OBJECTID"].tolist() == [3]
    assert result.values["value"].tolist() == read_pixel(scene_path(sample_root, result.items["Name"][0]), lat, lng)


def test_the_layers_time_range_picks_the_scene(params, service) -> None:
    june = {**params, "time_from": epoch_ms(2025, 6, 1), "time_to": epoch_ms(2025, 6, 30)}
    result = identify_pixel(june, *CROP_POINT, service)
    assert result.items["Name"].tolist() == ["SynthSat1_20250613"]


def epoch_ms(year: int, month: int, day: int) -> int:
    return int(datetime(year, month, day, tzinfo=timezone.utc).timestamp() * 1000)


def test_the_rendering_rule_applies_only_when_asked(params, service, sample_root) -> None:
    lat, lng = CROP_POINT
    ndvi_layer = {**params, "rendering_rule": {"rasterFunction": "NDVI Raw"}}
    raw = identify_pixel(ndvi_layer, lat, lng, service)
    assert raw.values["band"].tolist() == BANDS
    rendered = identify_pixel(ndvi_layer, lat, lng, service, apply_rendering_rule=True)
    blue, green, red, nir, *_ = read_pixel(scene_path(sample_root, top_scene(rendered)), lat, lng)
    assert rendered.values["band"].tolist() == ["NDVI Raw value"] and rendered.by_rule
    assert rendered.values["value"][0] == pytest.approx((nir - red) / (nir + red), abs=1e-6)


def test_outside_the_extent_says_so(params, service) -> None:
    result = identify_pixel(params, *OUTSIDE_POINT, service)
    assert (result.message, result.error, result.has_values) == (OUTSIDE, False, False)
    assert result.message == "This point is outside the service's extent."


def test_nodata_inside_the_extent_says_so(params, service) -> None:
    result = identify_pixel(params, *NO_DATA_POINT, service)
    assert (result.message, result.has_values) == ("No data at this point.", False)
    assert result.values["value"].isna().all() and len(result.values) == len(BANDS)
    long_ago = {**params, "time_from": epoch_ms(2020, 1, 1), "time_to": epoch_ms(2020, 2, 1)}
    assert identify_pixel(long_ago, *CROP_POINT, service).message == NO_DATA + NO_SCENE_IN_TIME


def test_an_identify_error_is_told_in_plain_words(params, service) -> None:
    broken = {**params, "mosaic_rule": {"mosaicMethod": "esriMosaicNoSuchMethod"}}
    result = identify_pixel(broken, *CROP_POINT, service)
    assert result.error and result.message.startswith("Could not read the pixel: ")
    assert "NoSuchMethod" in result.message


def test_outside_is_judged_in_lat_lng_when_the_service_answers_in_other_coordinates(service) -> None:
    lat, lng = CROP_POINT
    web_mercator = {"x": 1.0, "y": 2.0, "wkid": 3857}
    assert not is_outside(web_mercator, lat, lng, service)
    assert is_outside(web_mercator, *OUTSIDE_POINT, service)
    assert not is_outside(None, 0, 0, {"extent": None, "extent_latlng": None})


# --- the panel ----------------------------------------------------------------------------------------------


def test_before_a_click_the_panel_says_what_to_do(params, service) -> None:
    out = inspect(None, [], params, service, None, clicked=False)
    assert out[STATUS] == EMPTY and out[RESULTS_HIDDEN] and out[TEMPORAL_HIDDEN]
    assert (out[MARKER], out[ROWS], out[POINT], out[TAB]) == ([], [], no_update, no_update)


def test_a_click_without_a_service_asks_for_one() -> None:
    out = inspect(click(CROP_POINT), [], None, None, None, clicked=True)
    assert (out[STATUS], out[STATUS_CLASS], out[POINT], out[TAB]) == (NO_SERVICE, "pixel-status error", None, "pixel")
    assert len(out[MARKER]) == 1


def test_a_click_fills_the_panel_and_opens_the_pixel_tab(params, service, sample_root) -> None:
    lat, lng = CROP_POINT
    out = inspect(click(CROP_POINT), [], params, service, None, clicked=True)
    assert (out[STATUS], out[RESULTS_HIDDEN], out[TEMPORAL_HIDDEN], out[TAB]) == ("", False, False, "pixel")
    assert out[POINT] == {"lat": lat, "lng": lng, "url": params["url"]}
    assert out[MARKER][0].center == [lat, lng]
    top = next(row for row in out[CATALOG_ROWS] if row["visibility"] == 1.0)
    assert out[ROWS] == [{"band": band, "value": value}
                         for band, value in zip(BANDS, read_pixel(scene_path(sample_root, top["Name"]), lat, lng))]
    assert len(out[CATALOG_ROWS]) == SCENE_COUNT
    assert out[NDVI_TEXT].startswith("NDVI ")


def test_a_layer_change_refreshes_the_values_but_keeps_the_tab_and_the_profile(params, service) -> None:
    lat, lng = CROP_POINT
    point = {"lat": lat, "lng": lng, "url": params["url"]}
    out = inspect(click(CROP_POINT), ["apply"], params, service, point, clicked=False)
    assert (out[POINT], out[TAB], out[TEMPORAL_HIDDEN]) == (no_update, no_update, False)


def test_a_click_outside_hides_the_tables_and_the_profile(params, service) -> None:
    before = {"lat": CROP_POINT[0], "lng": CROP_POINT[1], "url": params["url"]}
    out = inspect(click(OUTSIDE_POINT), [], params, service, before, clicked=True)
    assert (out[STATUS], out[RESULTS_HIDDEN], out[TEMPORAL_HIDDEN], out[POINT]) == (OUTSIDE, True, True, None)
    assert len(out[MARKER]) == 1 and out[COORDINATES]


def test_rows_have_dates_as_utc_text_and_nodata_as_null() -> None:
    frame = pandas.DataFrame({"AcquisitionDate": pandas.to_datetime([1747594020000], unit="ms", utc=True),
                              "Red": [math.nan], "Name": ["a"]})
    assert records(frame, DATE_FORMAT) == [{"AcquisitionDate": "2025-05-18 18:47 UTC", "Red": None, "Name": "a"}]
    assert records(frame)[0]["AcquisitionDate"] == "2025-05-18T18:47:00Z"


def test_catalog_columns_put_name_visibility_and_date_first_then_bands() -> None:
    frame = pandas.DataFrame(columns=["OBJECTID", "Name", "CloudCover", "AcquisitionDate", "Red", "NIR", "visibility"])
    columns = catalog_columns(frame, ["Red", "NIR"], "AcquisitionDate")
    assert [c["field"] for c in columns] == ["Name", "visibility", "AcquisitionDate", "Red", "NIR", "OBJECTID", "CloudCover"]
    assert columns[0]["pinned"] == "left" and columns[1]["headerName"] == "On map"


def test_downloads_are_csv_named_after_the_point() -> None:
    point = {"lat": 38.5, "lng": -121.75}
    rows = [{"band": "Red", "value": 1.5}, {"band": "NIR", "value": None}]
    sent = download("pixel", point, rows, None, None, None)
    assert sent["filename"] == "pixel_38.50000N_121.75000W.csv"
    assert sent["content"] == "band,value\nRed,1.5\nNIR,\n"
    defs = [{"field": "Name"}, {"field": "Red"}]
    catalog = download("catalog", point, None, [{"Red": 2, "Name": "a"}], defs, None)
    assert catalog["content"] == "Name,Red\na,2\n"
    temporal = download("temporal", point, None, None, None, [{"date": "2025-01-01T00:00:00Z", "NDVI": 0.5}])
    assert temporal["content"] == "date,NDVI\n2025-01-01T00:00:00Z,0.5\n"
    assert download("pixel", None, rows, None, None, None) is no_update


def test_the_spectral_profile_draws_the_pixel_over_each_scene() -> None:
    values = pandas.DataFrame({"band": ["Red", "NIR"], "value": [10.0, 20.0]})
    items = pandas.DataFrame({"Name": ["a", "b"], "Red": [1.0, 2.0], "NIR": [3.0, 4.0]})
    figure = spectral_figure(Pixel(0, 0, values=values, items=items))
    assert [trace.name for trace in figure.data] == ["a", "b", "Pixel"]
    assert list(figure.data[-1].x) == ["Red", "NIR"] and list(figure.data[-1].y) == [10.0, 20.0]
    assert list(figure.data[1].y) == [2.0, 4.0]
    rendered = pandas.DataFrame({"band": ["NDVI value"], "value": [0.5]})
    assert [trace.type for trace in spectral_figure(Pixel(0, 0, values=rendered, items=items, by_rule=True)).data] == [
        "bar"]


def test_the_pixels_ndvi_when_the_service_has_nir_and_red() -> None:
    values = pandas.DataFrame({"band": ["Red", "NIR"], "value": [1000.0, 3000.0]})
    assert pixel_ndvi(Pixel(0, 0, values=values), ["Red", "NIR"]) == "NDVI 0.500"
    assert pixel_ndvi(Pixel(0, 0, values=values), ["Red", "Green"]) == ""
    nodata = pandas.DataFrame({"band": ["Red", "NIR"], "value": [math.nan, 3000.0]})
    assert pixel_ndvi(Pixel(0, 0, values=nodata), ["Red", "NIR"]) == ""


def test_register_wires_every_output_once() -> None:
    from app import create_app

    app = create_app(data_dir=None)
    outputs = " ".join(app.callback_map)
    for name in ("pixel-grid.rowData", "pixel-marker.children", "temporal-series.data", "pixel-download.data",
                 "temporal-chart-box.children", "pixel-spectral-box.children", "temporal-index.options"):
        assert outputs.count(name) == 1, name
