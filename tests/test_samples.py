"""getSamples: the request parameters, the GetSamples task and the frame of its answer."""

from __future__ import annotations

import math

import pandas
import pytest

from imageservice.errors import ArcGISError, InvalidResponse, ParameterError
from imageservice.layer import ImageMapLayer
from imageservice.params import LayerParams
from imageservice.tables import samples_to_frame
from imageservice.urls import samples_params
from pixel_fixtures import BANDS, CROP_POINT, OUTSIDE_POINT, SCENE_COUNT, SERVICE_PATH, read_pixel, scene_path
from server_fixtures import sample_root, server_url  # noqa: F401  (pytest fixtures)

URL = "http://x/arcgis/rest/services/Landsat/ImageServer"
POINT = {"x": -121.75, "y": 38.55}
LOCK_8 = {"mosaicMethod": "esriMosaicLockRaster", "lockRasterIds": [8]}


# --- parameters ------------------------------------------------------------------------------------


def test_samples_params_for_a_point_forward_mosaic_rule_and_time_but_no_rendering_rule() -> None:
    params = LayerParams(url=URL, mosaic_rule=LOCK_8, rendering_rule={"rasterFunction": "NDVI"},
                         time_from=1, time_to=2, token="tok")
    assert list(samples_params(params, POINT, return_first_value_only=False, out_fields=["AcquisitionDate", "Name"]).items()) == [
        ("geometry", '{"x":-121.75,"y":38.55,"spatialReference":{"wkid":4326}}'),
        ("geometryType", "esriGeometryPoint"),
        ("mosaicRule", '{"mosaicMethod":"esriMosaicLockRaster","lockRasterIds":[8]}'),
        ("returnFirstValueOnly", "false"),
        ("outFields", "AcquisitionDate,Name"),
        ("time", "1,2"),
        ("token", "tok"),
    ]


def test_samples_params_for_a_line_keep_its_spatial_reference_and_sampling() -> None:
    line = {"paths": [[[0, 0], [100, 0]]], "spatialReference": {"wkid": 32610}}
    params = LayerParams(url=URL, time_from=1, time_to=2)
    assert list(samples_params(params, line, sample_count=5, sample_distance=20, pixel_size=30,
                               interpolation="RSP_NearestNeighbor", with_time=False).items()) == [
        ("geometry", '{"paths":[[[0,0],[100,0]]],"spatialReference":{"wkid":32610}}'),
        ("geometryType", "esriGeometryPolyline"),
        ("sampleCount", "5"),
        ("sampleDistance", "20"),
        ("pixelSize", "30"),
        ("interpolation", "RSP_NearestNeighbor"),
    ]


def test_samples_params_refuse_what_is_not_a_geometry() -> None:
    with pytest.raises(ParameterError, match="geometry must be"):
        samples_params(LayerParams(url=URL), {"lat": 1})


def test_the_task_needs_a_location_and_builds_from_the_layer() -> None:
    layer = ImageMapLayer(URL, mosaic_rule=LOCK_8, time_from=1, time_to=2)
    with pytest.raises(ParameterError, match="needs a location"):
        layer.get_samples().to_params()
    task = layer.get_samples().at(38.55, -121.75).set_mosaic_rule(None).between(None, None).fields("*")
    assert task.return_first_value_only(False).to_params() == {
        "geometry": '{"x":-121.75,"y":38.55,"spatialReference":{"wkid":4326}}',
        "geometryType": "esriGeometryPoint",
        "returnFirstValueOnly": "false",
        "outFields": "*",
    }


# --- parsing -----------------------------------------------------------------------------------------


def sample(value: str, raster_id: int = 1, **attributes) -> dict:
    return {"location": {"x": 10.0, "y": 20.0, "spatialReference": {"wkid": 32610}}, "locationId": 0,
            "value": value, "rasterId": raster_id, "resolution": 30, **({"attributes": attributes} if attributes else {})}


def test_samples_frame_has_location_item_attributes_and_bands() -> None:
    response = {"samples": [sample("1 2 3", 4, AcquisitionDate=1735689600000, Name="a"),
                            sample("NoData", 5, AcquisitionDate=None, Name="b")]}
    frame = samples_to_frame(response, ["Red", "Green", "Blue"])
    assert list(frame.columns) == ["locationId", "x", "y", "rasterId", "resolution", "AcquisitionDate", "Name",
                                   "Red", "Green", "Blue"]
    assert frame["rasterId"].tolist() == [4, 5]
    assert frame.loc[0, "AcquisitionDate"] == pandas.Timestamp("2025-01-01", tz="UTC")
    assert pandas.isna(frame.loc[1, "AcquisitionDate"])
    assert frame.loc[0, ["Red", "Green", "Blue"]].tolist() == [1.0, 2.0, 3.0]
    assert frame.loc[1, ["Red", "Green", "Blue"]].isna().all()  # a lone NoData is every band


def test_samples_frame_partial_nodata_and_names_that_do_not_fit() -> None:
    frame = samples_to_frame({"samples": [sample("7 NoData")]}, ["only one name"])
    assert list(frame.columns[-2:]) == ["Band 1", "Band 2"]
    assert frame.loc[0, "Band 1"] == 7.0 and frame.loc[0, "Band 2"] is pandas.NA  # NoData, not NaN


def test_samples_frame_dates_follow_the_field_types_when_given() -> None:
    fields = [{"name": "Acquired", "type": "esriFieldTypeDate"}]
    frame = samples_to_frame({"samples": [sample("1", Acquired=1735689600000)]}, ["B"], fields)
    assert frame.loc[0, "Acquired"] == pandas.Timestamp("2025-01-01", tz="UTC")


def test_an_empty_answer_is_an_empty_frame_with_band_columns() -> None:
    frame = samples_to_frame({"samples": []}, BANDS)
    assert frame.empty and list(frame.columns) == ["locationId", "x", "y", "rasterId", "resolution", *BANDS]


def test_an_answer_without_samples_is_invalid() -> None:
    with pytest.raises(InvalidResponse, match="no 'samples'"):
        samples_to_frame({"value": "1"})


# --- against the embedded server -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def layer(server_url: str) -> ImageMapLayer:
    return ImageMapLayer(server_url + SERVICE_PATH)


def test_every_scene_at_a_point_with_its_values_and_date(layer, sample_root) -> None:
    lat, lng = CROP_POINT
    frame = (layer.get_samples().at(lat, lng).return_first_value_only(False).fields(["Name", "AcquisitionDate"])
             .run_frame(BANDS))
    assert len(frame) == SCENE_COUNT
    assert frame["AcquisitionDate"].dt.year.tolist() == [2025] * SCENE_COUNT
    for _, row in frame.iterrows():
        assert row[BANDS].tolist() == read_pixel(scene_path(sample_root, row["Name"]), lat, lng)


def test_the_first_value_only_is_the_top_of_the_mosaic(layer, sample_root) -> None:
    lat, lng = CROP_POINT
    lock = {"mosaicMethod": "esriMosaicLockRaster", "lockRasterIds": [3]}
    frame = layer.get_samples().at(lat, lng).set_mosaic_rule(lock).fields("Name").run_frame(BANDS)
    assert frame["rasterId"].tolist() == [3]
    assert frame.loc[0, BANDS].tolist() == read_pixel(scene_path(sample_root, frame.loc[0, "Name"]), lat, lng)


def test_outside_the_extent_there_are_no_samples(layer) -> None:
    assert layer.get_samples().at(*OUTSIDE_POINT).return_first_value_only(False).run_frame(BANDS).empty


def test_a_server_refusal_is_an_arcgis_error(layer) -> None:
    square = {"rings": [[[0, 0], [0, 1], [1, 1], [0, 0]]]}
    with pytest.raises(ArcGISError, match="geometry"):
        layer.get_samples().geometry(square).run()
