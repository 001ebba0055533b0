"""Multidimensional services in the library: multidimensionalInfo, the mosaic rule's
multidimensionalDefinition on the wire, slices and per-slice identify answers (fixtures in the
shapes the ArcGIS REST documentation gives)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pandas
import pytest

from imageservice import ImageMapLayer, LayerParams, ParameterError, View, urls
from imageservice.errors import InvalidResponse
from imageservice.multidim import (
    check_selection,
    default_value,
    parse_multidimensional_info,
    profile_definition,
    selection_of,
    slice_definition,
    with_definition,
)
from imageservice.tables import multidimensional_identify_to_frame, slices_to_frame

FIXTURES = Path(__file__).parent / "fixtures"
URL = "https://example.com/arcgis/rest/services/Ocean/ImageServer"
APRIL_8 = 1396915200000  # 2014-04-08T00:00:00Z


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture(scope="module")
def info():
    return parse_multidimensional_info(fixture("handwritten_multidimensional_info.json"))


def test_info_parses_variables_dimensions_units_intervals_and_statistics(info) -> None:
    assert info.variable_names == ("water_temp", "salinity")
    temp = info.variable("water_temp")
    assert (temp.unit, temp.description) == ("degC", "Water Temperature")
    time, depth = temp.dimensions
    assert time.is_time and not depth.is_time and temp.time is time
    assert time.values == (1396828800000, APRIL_8, 1397001600000)
    assert (time.has_regular_intervals, time.interval, time.interval_unit) == (True, 1, "Days")
    assert (depth.unit, depth.field, depth.values, depth.extent) == ("m", "StdZ", (-5000, -1000, -100, 0), (-5000, 0))
    assert (depth.has_regular_intervals, depth.interval, depth.interval_unit) == (False, None, None)
    assert temp.statistics[0].min == -1.894 and temp.statistics[0].max == 33.12
    assert info.variable("salinity").statistics == ()


def test_unknown_names_and_error_bodies_are_plain_errors(info) -> None:
    with pytest.raises(ParameterError, match="unknown variable 'oxygen'; the service has: water_temp, salinity"):
        info.variable("oxygen")
    with pytest.raises(ParameterError, match="no dimension 'Height'"):
        info.variable("salinity").dimension("Height")
    not_md = {"error": {"code": 400, "message": "Unable to complete operation.", "details": []}}
    with pytest.raises(InvalidResponse, match="no multidimensional information: Unable to complete operation."):
        parse_multidimensional_info(not_md)


def test_a_slice_definition_is_serialised_in_the_mosaic_rule_as_arcgis_expects() -> None:
    layer = ImageMapLayer(URL, mosaic_rule={"mosaicMethod": "esriMosaicAttribute", "sortField": "StdTime"})
    layer.set_slice("water_temp", StdTime=datetime(2014, 4, 8, tzinfo=timezone.utc), StdZ=-100)
    url = urls.export_image_url(layer.params, View(36, -125, 38, -123, 400, 400))
    rule = json.loads(parse_qs(urlsplit(url).query)["mosaicRule"][0])
    assert rule == {
        "mosaicMethod": "esriMosaicAttribute", "sortField": "StdTime",
        "multidimensionalDefinition": [
            {"variableName": "water_temp", "dimensionName": "StdTime", "values": [APRIL_8], "isSlice": True},
            {"variableName": "water_temp", "dimensionName": "StdZ", "values": [-100], "isSlice": True}],
    }
    # compact JSON on the wire, as esri-leaflet writes objects
    assert '"multidimensionalDefinition":[{"variableName":"water_temp","dimensionName":"StdTime"' in \
        parse_qs(urlsplit(url).query)["mosaicRule"][0]
    identify = urls.identify_params(layer.params, 37.0, -124.0, process_as_multidimensional=True)
    assert json.loads(identify["mosaicRule"]) == rule and identify["processAsMultidimensional"] == "true"
    assert layer.set_multidimensional_definition(None).get_mosaic_rule() == {
        "mosaicMethod": "esriMosaicAttribute", "sortField": "StdTime"}


def test_definitions_survive_the_store_and_bad_ones_are_refused() -> None:
    params = LayerParams(URL, mosaic_rule={"multidimensionalDefinition": slice_definition("salinity", StdZ=-5000)})
    assert LayerParams.from_dict(params.to_dict()) == params
    ranged = [{"variableName": "salinity", "dimensionName": "StdZ", "values": [[-1000, 0]], "isSlice": False}]
    assert LayerParams(URL, mosaic_rule={"multidimensionalDefinition": ranged}).mosaic_rule[
        "multidimensionalDefinition"] == ranged
    with pytest.raises(ParameterError, match="must be a list"):
        LayerParams(URL, mosaic_rule={"multidimensionalDefinition": {"variableName": "x"}})
    with pytest.raises(ParameterError, match="must be numbers .* or \\[min, max\\] pairs; got 'deep'"):
        LayerParams(URL, mosaic_rule={"multidimensionalDefinition": [
            {"variableName": "salinity", "dimensionName": "StdZ", "values": ["deep"]}]})
    with pytest.raises(ParameterError, match="variableName"):
        LayerParams(URL, mosaic_rule={"multidimensionalDefinition": [{"dimensionName": "StdZ", "values": [0]}]})


def test_selection_round_trips_and_is_checked_against_the_info(info) -> None:
    rule = with_definition({"where": "1=1"}, slice_definition("water_temp", StdTime="2014-04-08T00:00:00Z", StdZ=0))
    assert selection_of(rule) == ("water_temp", {"StdTime": APRIL_8, "StdZ": 0})
    assert selection_of({"where": "1=1"}) == (None, {})
    assert with_definition(rule, None) == {"where": "1=1"} and with_definition(None, None) is None
    check_selection(info, "water_temp", {"StdTime": APRIL_8, "StdZ": -1000})
    with pytest.raises(ParameterError, match="StdZ of 'water_temp' has no value -7"):
        check_selection(info, "water_temp", {"StdZ": -7})
    assert profile_definition("water_temp", "StdZ", {"StdTime": APRIL_8, "StdZ": 0}) == [
        {"variableName": "water_temp", "dimensionName": "StdTime", "values": [APRIL_8], "isSlice": True}]
    assert profile_definition("water_temp", "StdZ", {}) == [{"variableName": "water_temp"}]
    time, depth = info.variable("water_temp").dimensions
    assert default_value(time) == 1396828800000 and default_value(depth) == 0


def test_a_per_slice_identify_becomes_a_sorted_profile_with_nodata_and_scientific_notation(info) -> None:
    frame = multidimensional_identify_to_frame(fixture("handwritten_multidimensional_identify.json"),
                                               info.variable("water_temp"))
    assert list(frame.columns) == ["StdTime", "StdZ", "value"]
    assert frame["StdZ"].tolist() == [-5000, -1000, -100, 0]  # salinity's item left out
    assert frame["StdTime"].tolist() == [pandas.Timestamp(APRIL_8, unit="ms", tz="UTC")] * 4
    assert frame["value"].isna().tolist() == [True, False, False, False]
    assert frame["value"].tolist()[1:] == [4.38, 12.75, 18.4521]
    salinity = multidimensional_identify_to_frame(fixture("handwritten_multidimensional_identify.json"),
                                                  info.variable("salinity"))
    assert salinity["value"].tolist() == [34.512]
    with pytest.raises(InvalidResponse, match="paired 0 values with 5 slices"):
        multidimensional_identify_to_frame({**fixture("handwritten_multidimensional_identify.json"),
                                            "properties": {}}, info.variable("water_temp"))


def test_slices_resource_as_a_table() -> None:
    frame = slices_to_frame(fixture("handwritten_slices.json"))
    assert frame["sliceId"].tolist() == [0, 4]
    assert frame["variable"].tolist() == ["salinity", "salinity"]
    assert frame["StdZ"].tolist() == [-5000, -5000]
    assert frame["StdTime"].dt.strftime("%Y-%m-%d").tolist() == ["2014-04-07", "2014-04-08"]


def test_an_answer_that_is_not_per_slice_falls_back_to_one_identify_per_value(info) -> None:
    from imageservice.layer import _slices_along

    var = info.variable("water_temp")
    profile = _slices_along(fixture("handwritten_multidimensional_identify.json"), var, "StdZ")
    assert profile["StdZ"].tolist() == [-5000, -1000, -100, 0]
    single_raster = {"value": "18.4521", "properties": {"Values": ["18.4521", "12.75"]}, "catalogItems": None}
    nothing_paired = {"value": "18.4521", "properties": {}, "catalogItems": {"features": []}}
    assert _slices_along(single_raster, var, "StdZ") is None and _slices_along(nothing_paired, var, "StdZ") is None
