"""LayerParams: URL normalisation, parsing of user input, validation messages, JSON round trip."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta, timezone

import pytest

from imageservice.errors import ParameterError
from imageservice.params import (
    LayerParams,
    normalize_url,
    parse_band_ids,
    parse_compression_quality,
    parse_no_data,
    parse_rule,
    to_epoch_ms,
)

URL = "https://example.com/arcgis/rest/services/Landsat/ImageServer"
ROOT = URL + "/"


def messages(**options: object) -> str:
    with pytest.raises(ParameterError) as caught:
        LayerParams(url=URL, **options)
    assert isinstance(caught.value, ValueError)
    return str(caught.value)


# --- normalize_url ------------------------------------------------------------------------------


def test_normalize_url_trims_splits_query_and_ends_with_one_slash() -> None:
    assert normalize_url(f"  {URL}?foo=bar&token=abc \n") == (ROOT, {"foo": "bar", "token": "abc"})
    assert normalize_url(URL + "///") == (ROOT, {})
    assert normalize_url(ROOT) == (ROOT, {})


def test_normalize_url_percent_decodes_request_params() -> None:
    root, params = normalize_url(URL + "?where=a%26b%3Dc&name=New%20York&empty=")
    assert root == ROOT
    assert params == {"where": "a&b=c", "name": "New York", "empty": ""}


def test_normalize_url_accepts_http_and_any_case_of_imageserver() -> None:
    assert normalize_url("http://127.0.0.1:8050/arcgis/rest/services/S/imageserver") == (
        "http://127.0.0.1:8050/arcgis/rest/services/S/imageserver/",
        {},
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "url is required"),
        ("ftp://example.com/arcgis/rest/services/A/ImageServer", "url must be an http(s) URL of an ArcGIS ImageServer; got 'ftp://"),
        ("example.com/arcgis/rest/services/A/ImageServer", "url must be an http(s) URL"),
        ("https://example.com/arcgis/rest/services/A/MapServer", "url does not look like an ArcGIS ImageServer (expected a path ending in /ImageServer)"),
        (
            URL + "/exportImage?bbox=1,2,3,4",
            f"url must be the service root ending in /ImageServer, not an operation or resource under it; use '{URL}'",
        ),
    ],
)
def test_normalize_url_rejects_what_is_not_a_service_root(url: str, message: str) -> None:
    with pytest.raises(ParameterError) as caught:
        normalize_url(url)
    assert message in str(caught.value)


# --- construction -------------------------------------------------------------------------------


def test_defaults_follow_esri_leaflet() -> None:
    params = LayerParams(url=URL)
    assert params.to_dict() == {
        "url": ROOT,
        "format": "jpgpng",
        "f": "image",
        "opacity": 1.0,
        "position": "front",
        "proxy": None,
        "band_ids": None,
        "no_data": None,
        "no_data_interpretation": None,
        "pixel_type": None,
        "use_cors": True,
        "with_credentials": False,
        "rendering_rule": None,
        "mosaic_rule": None,
        "time_from": None,
        "time_to": None,
        "token": None,
        "interpolation": None,
        "compression_quality": None,
        "transparent": True,
        "request_params": {},
    }


def test_url_query_becomes_request_params_and_its_token_the_layer_token() -> None:
    params = LayerParams(url=URL + "?foo=bar&token=abc", request_params={"foo": "override", "n": 5})
    assert (params.url, params.token, params.request_params) == (ROOT, "abc", {"foo": "override", "n": "5"})
    # An explicit token wins over one in the url; either way it never stays a request param.
    assert LayerParams(url=URL + "?token=abc", token="explicit").token == "explicit"
    assert LayerParams(url=URL + "?token=abc", token="explicit").request_params == {}


def test_false_and_empty_proxy_or_token_mean_none() -> None:
    params = LayerParams(url=URL, proxy=False, token="")
    assert (params.proxy, params.token) == (None, None)


def test_enums_are_matched_case_insensitively_and_stored_canonically() -> None:
    params = LayerParams(
        url=URL,
        format="PNG32",
        f="JSON",
        position="Back",
        pixel_type="f32",
        interpolation="rsp_nearestneighbor",
        no_data_interpretation="ESRINODATAMATCHALL",
    )
    assert (params.format, params.f, params.position, params.pixel_type) == ("png32", "json", "back", "F32")
    assert (params.interpolation, params.no_data_interpretation) == ("RSP_NearestNeighbor", "esriNoDataMatchAll")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"pixel_type": "float32"},
            "pixel_type must be one of C128, C64, F32, F64, S16, S32, S8, U1, U16, U2, U32, U4, U8, UNKNOWN; got 'float32'",
        ),
        (
            {"no_data_interpretation": "any"},
            "no_data_interpretation must be one of esriNoDataMatchAny, esriNoDataMatchAll; got 'any'",
        ),
        (
            {"format": "jpegpng"},
            "format must be one of jpgpng, png, png8, png24, png32, jpg, bmp, gif, tiff, bip, bsq, lerc; got 'jpegpng'",
        ),
        (
            {"interpolation": "bilinear"},
            "interpolation must be one of RSP_BilinearInterpolation, RSP_CubicConvolution, RSP_Majority, "
            "RSP_NearestNeighbor; got 'bilinear'",
        ),
        ({"f": "html"}, "f must be one of image, json; got 'html'"),
        ({"position": "top"}, "position must be one of front, back; got 'top'"),
        ({"opacity": 1.5}, "opacity must be a number from 0 to 1; got 1.5"),
        ({"opacity": -0.1}, "opacity must be a number from 0 to 1; got -0.1"),
        ({"opacity": "0.5"}, "opacity must be a number from 0 to 1; got '0.5'"),
        ({"compression_quality": 101}, "compression_quality must be an integer from 0 to 100; got 101"),
        ({"compression_quality": 7.5}, "compression_quality must be an integer from 0 to 100; got 7.5"),
        ({"compression_quality": "high"}, "compression_quality must be a number or comma-separated numbers; got 'high'"),
        (
            {"time_from": 2000, "time_to": 1000},
            "time_from must not be after time_to; got time_from=2000, time_to=1000",
        ),
        ({"time_from": 1.5}, "time_from must be epoch milliseconds (an integer) or a datetime; got 1.5"),
        (
            {"time_to": "next week"},
            "time_to must be epoch milliseconds, a datetime or ISO text like '2014-01-09T08:00:00Z'; got 'next week'",
        ),
        ({"band_ids": "3,-1"}, "band_ids must be non-negative integers (0-based band indexes); got '3,-1'"),
        ({"band_ids": [1.5]}, "band_ids must be non-negative integers (0-based band indexes); got [1.5]"),
        ({"band_ids": [True]}, "band_ids must be non-negative integers (0-based band indexes); got [True]"),
        ({"band_ids": {"r": 1}}, "band_ids must be a list of band indexes or text like '3,0,1'; got {'r': 1}"),
        ({"no_data": "zero"}, "no_data must be a number or comma-separated numbers; got 'zero'"),
        ({"no_data": [float("nan")]}, "no_data must be finite numbers; got [nan]"),
        ({"no_data": {"a": 1}}, "no_data must be a number or a list of numbers; got {'a': 1}"),
        (
            {"rendering_rule": "Natural Color"},
            'rendering_rule must be a JSON object, not a bare name; got \'Natural Color\', '
            'did you mean {"rasterFunction": "Natural Color"}?',
        ),
        (
            {"mosaic_rule": "[1, 2]"},
            'mosaic_rule must be a JSON object, not a bare name; got \'[1, 2]\', '
            'did you mean {"mosaicMethod": "esriMosaicLockRaster", "lockRasterIds": [1]}?',
        ),
        ({"mosaic_rule": ["esriMosaicNone"]}, "mosaic_rule must be a JSON object such as"),
        ({"rendering_rule": '{"rasterFunction": '}, "rendering_rule is not valid JSON: Expecting value"),
        ({"rendering_rule": {"a": float("nan")}}, "rendering_rule must hold only JSON values"),
        ({"transparent": "yes"}, "transparent must be true or false; got 'yes'"),
        ({"use_cors": 1}, "use_cors must be true or false; got 1"),
        ({"with_credentials": "yes"}, "with_credentials must be true or false; got 'yes'"),
        ({"token": 123}, "token must be text; got 123"),
    ],
)
def test_validation_names_the_field_and_the_allowed_values(options: dict, message: str) -> None:
    assert message in messages(**options)


def test_invalid_state_cannot_be_reached_by_replace_either() -> None:
    params = LayerParams(url=URL)
    with pytest.raises(ParameterError, match="opacity must be a number from 0 to 1"):
        params.replace(opacity=2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        params.opacity = 0.5  # type: ignore[misc]


def test_inputs_are_normalised() -> None:
    rule = {"rasterFunction": "Hillshade", "rasterFunctionArguments": {"Azimuth": 215}}
    params = LayerParams(
        url=URL,
        band_ids="3, 0,1",
        no_data="58,128,187",
        rendering_rule=json.dumps(rule),
        mosaic_rule='  {"mosaicMethod": "esriMosaicLockRaster", "lockRasterIds": [8]} ',
        time_from=datetime(2014, 1, 9),
        time_to="2014-01-12T00:00:00Z",
        compression_quality="0",
        opacity=1,
    )
    assert params.band_ids == [3, 0, 1]
    assert params.no_data == [58, 128, 187]
    assert params.rendering_rule == rule
    assert params.mosaic_rule == {"mosaicMethod": "esriMosaicLockRaster", "lockRasterIds": [8]}
    assert (params.time_from, params.time_to) == (1389225600000, 1389484800000)
    assert params.compression_quality == 0
    assert params.opacity == 1.0 and isinstance(params.opacity, float)


def test_caller_objects_are_copied_in() -> None:
    band_ids, rule = [3, 0, 1], {"rasterFunction": "Stretch", "rasterFunctionArguments": {"Min": 0}}
    params = LayerParams(url=URL, band_ids=band_ids, rendering_rule=rule)
    band_ids.append(2)
    rule["rasterFunctionArguments"]["Min"] = 5
    assert params.band_ids == [3, 0, 1]
    assert params.rendering_rule == {"rasterFunction": "Stretch", "rasterFunctionArguments": {"Min": 0}}


# --- the small parsers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), ("", None), ("  ", None), ("3,0,1", [3, 0, 1]), (" 2 ", [2]), (4, [4]), ([3.0, "1"], [3, 1]), ((0,), [0])],
)
def test_parse_band_ids(value: object, expected: list[int] | None) -> None:
    assert parse_band_ids(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("0", 0),
        (0, 0),
        (0.0, 0.0),
        ("-3.5", -3.5),
        ("58,128,187", [58, 128, 187]),
        ("1.5, 2", [1.5, 2]),
        ([0], [0]),
        ([0, "2"], [0, 2]),
        ((1, 2), [1, 2]),
    ],
)
def test_parse_no_data(value: object, expected: object) -> None:
    result = parse_no_data(value)
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        (1389254400000, 1389254400000),
        (1389254400000.0, 1389254400000),
        ("1389254400000", 1389254400000),
        ("-1000", -1000),
        (datetime(2014, 1, 9, 8), 1389254400000),
        (datetime(2014, 1, 9, tzinfo=timezone(timedelta(hours=-8))), 1389254400000),
        ("2014-01-09T08:00:00Z", 1389254400000),
        ("2014-01-09T00:00:00-08:00", 1389254400000),
        ("2014-01-09", 1389225600000),
    ],
)
def test_to_epoch_ms(value: object, expected: int | None) -> None:
    assert to_epoch_ms(value) == expected


def test_to_epoch_ms_rejects_bools_and_fractions() -> None:
    with pytest.raises(ParameterError, match="^start must be epoch milliseconds"):
        to_epoch_ms(True, "start")
    with pytest.raises(ParameterError, match="^time must be epoch milliseconds"):
        to_epoch_ms(0.5)


def test_parse_compression_quality_keeps_zero() -> None:
    assert [parse_compression_quality(v) for v in (None, "", 0, "0", 100, 75.0)] == [None, None, 0, 0, 100, 75]


def test_parse_rule_accepts_dicts_and_json_text_and_drops_empty() -> None:
    assert parse_rule(None, "mosaic_rule") is None
    assert parse_rule(" ", "mosaic_rule") is None
    assert parse_rule('{"rasterFunction":"None"}', "rendering_rule") == {"rasterFunction": "None"}
    assert parse_rule({"mosaicMethod": "esriMosaicNone"}, "mosaic_rule") == {"mosaicMethod": "esriMosaicNone"}


# --- to_dict / from_dict ------------------------------------------------------------------------


def test_to_dict_from_dict_round_trips_through_json() -> None:
    params = LayerParams(
        url=URL + "?foo=bar",
        format="png32",
        f="json",
        opacity=0.4,
        position="back",
        proxy="https://proxy.example.com/proxy.ashx",
        band_ids=[3, 0, 1],
        no_data=[1, 2.5],
        no_data_interpretation="esriNoDataMatchAny",
        pixel_type="F32",
        use_cors=False,
        with_credentials=True,
        rendering_rule={"rasterFunction": "Hillshade", "rasterFunctionArguments": {"Azimuth": 215}},
        mosaic_rule={"mosaicMethod": "esriMosaicLockRaster", "lockRasterIds": [8]},
        time_from=1389225600000,
        time_to=1389484800000,
        token="tok",
        interpolation="RSP_BilinearInterpolation",
        compression_quality=0,
        transparent=False,
    )
    data = json.loads(json.dumps(params.to_dict()))
    assert LayerParams.from_dict(data) == params
    assert LayerParams.from_dict(data).to_dict() == data


def test_from_dict_fills_missing_keys_with_defaults() -> None:
    assert LayerParams.from_dict({"url": URL, "band_ids": [1]}) == LayerParams(url=URL, band_ids=[1])


def test_from_dict_rejects_unknown_keys_and_a_missing_url() -> None:
    with pytest.raises(ParameterError) as caught:
        LayerParams.from_dict({"url": URL, "bandIds": [1], "zIndex": 3})
    assert str(caught.value).startswith("unknown layer option(s) 'bandIds', 'zIndex'; known options: band_ids, compression_quality,")
    with pytest.raises(ParameterError, match="^url is required"):
        LayerParams.from_dict({"format": "png"})
