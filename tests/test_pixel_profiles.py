"""The temporal profile: every scene at a point, from getSamples or identify, as a dated series."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator

import numpy as np
import pandas
import pytest
import rasterio
from rasterio.transform import from_origin
from rasterio.warp import transform

from callbacks.pixel import index_choice, run_profile, service_facts, temporal_chart
from callbacks.profiles import NDVI, NO_DATES, ProfileUnavailable, index_options, ndvi, temporal_profile
from pixel_fixtures import params, service  # noqa: F401  (pytest fixtures)
from pixel_fixtures import BANDS, CROP_POINT, OUTSIDE_POINT, SCENE_COUNT, read_pixel, scene_path
from imageservice.server.server import create_app
from server_fixtures import sample_root, server_url, serving  # noqa: F401  (pytest fixtures)


class Progress:
    """Records the (done, total) calls of a profile run."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def __call__(self, done: int, total: int) -> None:
        self.calls.append((done, total))


@pytest.fixture(scope="module")
def crop_series(params, service) -> tuple[pandas.DataFrame, Progress]:
    progress = Progress()
    return temporal_profile(params, *CROP_POINT, service, progress), progress


def test_every_scene_at_the_point_in_date_order_with_the_geotiffs_values(crop_series, sample_root) -> None:
    frame, _ = crop_series
    lat, lng = CROP_POINT
    assert len(frame) == SCENE_COUNT
    assert frame["date"].is_monotonic_increasing and frame["date"].dt.year.tolist() == [2025] * SCENE_COUNT
    for _, row in frame.iterrows():
        assert row[BANDS].tolist() == read_pixel(scene_path(sample_root, row["Name"]), lat, lng)
    assert frame[NDVI].tolist() == pytest.approx(((frame["NIR"] - frame["Red"]) / (frame["NIR"] + frame["Red"])).tolist())


def test_ndvi_at_a_crop_pixel_rises_and_falls_over_2025(crop_series) -> None:
    ndvi_values = crop_series[0][NDVI].to_numpy()
    peak = int(np.argmax(ndvi_values))
    assert 3 < peak < SCENE_COUNT - 3  # summer, not the ends of the year
    assert ndvi_values[peak] > 0.6 and ndvi_values[0] < 0.3 and ndvi_values[-1] < 0.3


def test_getsamples_runs_in_batches_and_reports_progress(crop_series) -> None:
    assert crop_series[1].calls == [(0, SCENE_COUNT), (10, SCENE_COUNT), (SCENE_COUNT, SCENE_COUNT)]


def test_a_server_without_getsamples_gets_one_identify_per_scene(params, service, crop_series) -> None:
    progress = Progress()
    frame = temporal_profile(params, *CROP_POINT, {**service, "current_version": 10.1}, progress)
    pandas.testing.assert_frame_equal(frame, crop_series[0])
    assert progress.calls == [(done, SCENE_COUNT) for done in range(SCENE_COUNT + 1)]


def test_a_service_without_a_catalog_gets_one_getsamples_for_all(params, service, crop_series) -> None:
    progress = Progress()
    frame = temporal_profile(params, *CROP_POINT, {**service, "has_catalog": False}, progress)
    expected = crop_series[0]
    assert frame["OBJECTID"].tolist() == expected["OBJECTID"].tolist()
    assert frame[["date", *BANDS, NDVI]].equals(expected[["date", *BANDS, NDVI]])
    assert progress.calls == [(SCENE_COUNT, SCENE_COUNT)]


def test_the_layers_time_range_is_ignored_but_its_catalog_filter_is_kept(params, service, crop_series) -> None:
    filtered = {**params, "time_from": 0, "time_to": 1,
                "mosaic_rule": {"mosaicMethod": "esriMosaicNorthwest", "where": "CloudCover < 5"}}
    frame = temporal_profile(filtered, *CROP_POINT, service, Progress())
    clear = crop_series[0]
    expected = [name for name, cloud in zip(clear["Name"], query_clouds(params, clear["Name"])) if cloud < 5]
    assert frame["Name"].tolist() == expected and 0 < len(expected) < SCENE_COUNT


def query_clouds(params: dict, names: pandas.Series) -> list[float]:
    from imageservice.layer import ImageMapLayer

    clouds = ImageMapLayer(params["url"]).query().fields(["Name", "CloudCover"]).return_geometry(False).run_frame()
    by_name = dict(zip(clouds["Name"], clouds["CloudCover"]))
    return [by_name[name] for name in names]


def test_a_service_without_dates_has_no_profile(server_url) -> None:
    elevation = {"url": server_url + "/arcgis/rest/services/SampleElevation/ImageServer/"}
    with pytest.raises(ProfileUnavailable, match="no date field"):
        temporal_profile(elevation, *CROP_POINT, service_facts(elevation), Progress())


# --- NoData steps are gaps ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gaps_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A three-scene Red/NIR service listed out of date order; the February scene has no Red at (1, 1)."""
    root = tmp_path_factory.mktemp("gaps")
    folder = root / "Gaps"
    folder.mkdir()
    scenes = {"march": ("2025-03-01", 2000), "january": ("2025-01-01", 1000), "february": ("2025-02-01", 1500)}
    for name, (_, nir) in scenes.items():
        data = np.full((2, 4, 4), [[[500]], [[nir]]], dtype=np.uint16)
        if name == "february":
            data[0, 1, 1] = 0
        profile = {"driver": "GTiff", "width": 4, "height": 4, "count": 2, "dtype": "uint16", "nodata": 0,
                   "crs": "EPSG:32610", "transform": from_origin(600_000, 4_270_000, 100, 100)}
        with rasterio.open(folder / f"{name}.tif", "w", **profile) as dataset:
            dataset.write(data)
    sidecar = {"bandNames": ["Red", "NIR"],
               "items": [{"file": f"{name}.tif", "Name": name, "AcquisitionDate": date}
                         for name, (date, _) in scenes.items()]}
    (folder / "catalog.json").write_text(json.dumps(sidecar))
    with serving(create_app(root)) as url:
        yield url + "/arcgis/rest/services/Gaps/ImageServer/"


def pixel_1_1() -> tuple[float, float]:
    (lng,), (lat,) = transform("EPSG:32610", "EPSG:4326", [600_150], [4_269_850])
    return lat, lng


def test_a_scene_without_data_is_a_gap_not_a_zero(gaps_url) -> None:
    params = {"url": gaps_url}
    frame = temporal_profile(params, *pixel_1_1(), service_facts(params), Progress())
    assert frame["Name"].tolist() == ["january", "february", "march"]
    assert frame["Red"].tolist()[0] == 500 and math.isnan(frame["Red"][1])
    assert frame[NDVI].tolist()[0] == pytest.approx(500 / 1500) and math.isnan(frame[NDVI][1])
    series, message = run_profile(lambda text: None, {"lat": pixel_1_1()[0], "lng": pixel_1_1()[1]}, params,
                                  service_facts(params))
    assert message == "3 scenes at this point."
    figure = temporal_chart(series, NDVI)
    assert math.isnan(figure.data[0].y[1]) and figure.data[0].connectgaps is False
    assert list(figure.data[0].text) == ["january", "february", "march"]


# --- the job and the chart ---------------------------------------------------------------------------------


def test_the_job_reports_k_of_n_and_returns_rows(params, service) -> None:
    said: list[str] = []
    lat, lng = CROP_POINT
    series, message = run_profile(said.append, {"lat": lat, "lng": lng}, params, service)
    assert said == ["0 of 14 scenes", "10 of 14 scenes", "14 of 14 scenes"]
    assert len(series) == SCENE_COUNT and series[0]["date"].startswith("2025-01-08T")
    assert message == "14 scenes at this point."


def test_the_job_says_why_there_is_nothing(params, service, server_url) -> None:
    outside = {"lat": OUTSIDE_POINT[0], "lng": OUTSIDE_POINT[1]}
    assert run_profile(print, outside, params, service) == ([], "No scene of the catalog has data at this point.")
    elevation = {"url": server_url + "/arcgis/rest/services/SampleElevation/ImageServer/"}
    assert run_profile(print, outside, elevation, service_facts(elevation)) == (None, NO_DATES)
    broken = {**params, "mosaic_rule": {"where": "NoSuchField = 1"}}
    series, message = run_profile(print, outside, broken, service)
    assert series is None and message.startswith("Could not read the time series: ")
    assert run_profile(print, None, params, service) == (None, "")


def test_the_chart_shows_the_chosen_band_or_index(params, service) -> None:
    rows = [{"OBJECTID": 1, "Name": "a", "date": "2025-01-01T00:00:00Z", "Red": 1.0, "NDVI": 0.5},
            {"OBJECTID": 2, "Name": "b", "date": "2025-02-01T00:00:00Z", "Red": 2.0, "NDVI": None}]
    assert [None if math.isnan(v) else v for v in temporal_chart(rows, NDVI).data[0].y] == [0.5, None]
    assert list(temporal_chart(rows, "Red").data[0].y) == [1.0, 2.0]
    assert temporal_chart(rows, "SWIR1").layout.annotations[0].text == "No SWIR1 values here."
    assert temporal_chart([], NDVI).layout.annotations[0].text == "No scene has data at this point."
    assert temporal_chart(None, NDVI).data == ()


def test_the_selector_offers_ndvi_when_there_are_nir_and_red_bands(service) -> None:
    assert [o["value"] for o in index_options(BANDS)] == [NDVI, *BANDS]
    assert [o["value"] for o in index_options(["nir", "RED"])] == [NDVI, "nir", "RED"]
    assert [o["value"] for o in index_options(["Elevation"])] == ["Elevation"]
    assert index_choice(service, None)[1] == NDVI
    assert index_choice(service, "SWIR1")[1] == "SWIR1"
    assert index_choice({"band_names": ["Elevation"]}, NDVI)[1] == "Elevation"
    assert index_choice(None, NDVI) == ([], None)


def test_ndvi_of_zero_reflectance_is_nan() -> None:
    assert math.isnan(ndvi(0.0, 0.0)) and ndvi(3.0, 1.0) == 0.5
    assert ndvi(pandas.Series([0.0, 3.0]), pandas.Series([0.0, 1.0])).tolist()[1] == 0.5


def test_the_job_counts_scenes_without_data_as_gaps(monkeypatch, service) -> None:
    from callbacks import pixel

    frame = pandas.DataFrame({"OBJECTID": [1, 2], "date": pandas.to_datetime(["2025-01-01", "2025-02-01"], utc=True),
                              **{band: [1.0, math.nan] for band in BANDS}})
    monkeypatch.setattr(pixel, "temporal_profile", lambda *args: frame)
    series, message = run_profile(print, {"lat": 0, "lng": 0}, {"url": service["url"]}, service)
    assert message == "2 scenes at this point; 1 without data here (gaps in the line)."
    assert series[1] == {"OBJECTID": 2, "date": "2025-02-01T00:00:00Z", **{band: None for band in BANDS}}
