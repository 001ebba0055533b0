"""The one serializer: numbers, lists, rules, dates and quoting exactly as esri-leaflet writes them."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from imageservice.wire import encode_query, epoch_ms, js_number, serialize_params, serialize_value, to_json


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "0"),
        (0.0, "0"),
        (-0.0, "0"),
        (3, "3"),
        (1.0, "1"),
        (-2.5, "-2.5"),
        (0.1, "0.1"),
        (123.456, "123.456"),
        (-13640608.101145273, "-13640608.101145273"),
        (1e16, "10000000000000000"),
        (123456789012345680000.0, "123456789012345680000"),
        (1e21, "1e+21"),
        (1.5e22, "1.5e+22"),
        (1e-4, "0.0001"),
        (1e-6, "0.000001"),
        (1.5e-6, "0.0000015"),
        (1e-7, "1e-7"),
        (-2.5e-8, "-2.5e-8"),
        (5e-324, "5e-324"),
        (float("nan"), "NaN"),
        (float("inf"), "Infinity"),
        (float("-inf"), "-Infinity"),
    ],
)
def test_js_number_matches_javascript_number_to_string(value: float, expected: str) -> None:
    assert js_number(value) == expected


def test_js_number_rejects_bool() -> None:
    with pytest.raises(TypeError):
        js_number(True)


def test_epoch_ms_treats_naive_as_utc_and_dates_as_midnight_utc() -> None:
    # The esri-leaflet spec's new Date('January 9 2014 GMT-0800').
    assert epoch_ms(datetime(2014, 1, 9, 8, 0)) == 1389254400000
    assert epoch_ms(datetime(2014, 1, 9, 0, 0, tzinfo=timezone(timedelta(hours=-8)))) == 1389254400000
    assert epoch_ms(date(2014, 1, 9)) == 1389225600000


def test_to_json_is_compact_ordered_and_writes_numbers_the_js_way() -> None:
    rule = {"rasterFunction": "Hillshade", "rasterFunctionArguments": {"Azimuth": 215.0, "ZFactor": 0.5}}
    assert to_json(rule) == '{"rasterFunction":"Hillshade","rasterFunctionArguments":{"Azimuth":215,"ZFactor":0.5}}'
    assert to_json({"b": [1, True, None], "a": "é \"q\""}) == '{"b":[1,true,null],"a":"é \\"q\\""}'
    assert to_json([float("nan")]) == "[null]"


def test_to_json_rejects_unknown_types() -> None:
    with pytest.raises(TypeError):
        to_json({"a": object()})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3,0,1", "3,0,1"),
        ([3, 0, 1], "3,0,1"),
        ((58, 128, 187), "58,128,187"),
        ([1.0, 2.5], "1,2.5"),
        (0, "0"),
        (0.0, "0"),
        (True, "true"),
        (False, "false"),
        ({"mosaicMethod": "esriMosaicLockRaster", "lockRasterIds": [8]}, '{"mosaicMethod":"esriMosaicLockRaster","lockRasterIds":[8]}'),
        ([{"x": 1}, {"x": 2}], '[{"x":1},{"x":2}]'),
        (datetime(2014, 1, 9, 8), "1389254400000"),
        ([datetime(2014, 1, 9, 8), 1389484800000], "1389254400000,1389484800000"),
    ],
)
def test_serialize_value(value: object, expected: str) -> None:
    assert serialize_value(value) == expected


def test_serialize_value_has_no_wire_form_for_none() -> None:
    with pytest.raises(TypeError, match="leave the parameter out"):
        serialize_value(None)


def test_serialize_params_drops_none_but_keeps_zero_false_and_order() -> None:
    params = {"b": 0, "a": None, "c": False, "d": [1, 2]}
    assert list(serialize_params(params).items()) == [("b", "0"), ("c", "false"), ("d", "1,2")]


def test_encode_query_uses_encode_uri_component_rules() -> None:
    params = {"where": "Name = 'a b'", "outFields": "*", "path": "a/b&c", "keep": "-_.!~()", "drop": None}
    assert encode_query(params, xhr=True) == "where=Name%20%3D%20%27a%20b%27&outFields=*&path=a%2Fb%26c&keep=-_.!~()"
    # The f=image path (L.Util.getParamString) leaves the apostrophe literal.
    assert encode_query(params, xhr=False) == "where=Name%20%3D%20'a%20b'&outFields=*&path=a%2Fb%26c&keep=-_.!~()"


def test_encode_query_encodes_keys_json_and_unicode() -> None:
    query = encode_query({"rendering rule": {"rasterFunction": "Ésri"}}, xhr=True)
    assert query == "rendering%20rule=%7B%22rasterFunction%22%3A%22%C3%89sri%22%7D"
