"""ImageMapLayer and its tasks: every setter reaches the right wire parameter with the right value.

A peer wrapper shipped setNoData(bandIds) and swapped from/to, so each setter is checked on the
parsed export URL. Calls that need a server go to a fake client with the contract's methods.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from imageservice import geojson, tables
from imageservice.client import ImageServiceClient
from imageservice.errors import InvalidResponse, ParameterError
from imageservice.layer import ImageMapLayer
from imageservice.metadata import parse_service_info
from imageservice.params import LayerParams
from imageservice.tasks import IdentifyImage, Query
from imageservice.urls import View, export_params, view_from_center_zoom

URL = "http://127.0.0.1:9/arcgis/rest/services/Sample/ImageServer"
ROOT = URL + "/"
VIEW = view_from_center_zoom(37.75, -122.45, 12, 500, 500)
FIXED = {"bbox", "size", "format", "transparent", "bboxSR", "imageSR", "f"}
LOCK_8 = {"mosaicMethod": "esriMosaicLockRaster", "lockRasterIds": [8]}
HILLSHADE = {"rasterFunction": "Hillshade", "rasterFunctionArguments": {"Azimuth": 215}}
ROOT_JSON = {
    "currentVersion": 10.91,
    "name": "Sample",
    "extent": {"xmin": 0, "ymin": 0, "xmax": 10, "ymax": 10, "spatialReference": {"wkid": 102100, "latestWkid": 3857}},
    "spatialReference": {"wkid": 102100, "latestWkid": 3857},
    "pixelSizeX": 1,
    "pixelSizeY": 1,
    "bandCount": 1,
    "pixelType": "U8",
    "minValues": [0],
    "maxValues": [255],
    "meanValues": [100],
    "stdvValues": [20],
    "bandNames": ["Band_1"],
    "capabilities": "Image,Metadata,Catalog",
    "fields": [{"name": "OBJECTID", "type": "esriFieldTypeOID", "alias": "OBJECTID"}],
    "objectIdField": "OBJECTID",
}
FEATURESET = {
    "objectIdFieldName": "OBJECTID",
    "fields": [
        {"name": "OBJECTID", "type": "esriFieldTypeOID", "alias": "OBJECTID"},
        {"name": "Name", "type": "esriFieldTypeString", "alias": "Name"},
    ],
    "geometryType": "esriGeometryPolygon",
    "spatialReference": {"wkid": 4326},
    "features": [
        {"attributes": {"OBJECTID": 1, "Name": "a"}, "geometry": {"rings": [[[0, 0], [0, 1], [1, 1], [0, 0]]]}},
    ],
}


class FakeClient:
    """Records calls; answers with canned JSON (the transport is the client helper's to test)."""

    def __init__(self, response: Any = None) -> None:
        self.response = response
        self.calls: list[tuple[str, Any]] = []

    def _answer(self, name: str, params: Any) -> Any:
        self.calls.append((name, params))
        return self.response

    def metadata(self, max_age: float = 0.0) -> dict:
        return self._answer("metadata", None)

    def identify(self, params: Mapping[str, Any]) -> dict:
        return self._answer("identify", dict(params))

    def query(self, params: Mapping[str, Any]) -> dict:
        return self._answer("query", dict(params))

    def export_image(self, params: Mapping[str, Any]) -> dict | bytes:
        return self._answer("export_image", dict(params))

    def authenticate(self, token: str) -> list:
        self.calls.append(("authenticate", token))
        return []


def optional_params(layer: ImageMapLayer) -> dict[str, str]:
    """The export URL's parsed query without the always-present keys."""
    query = dict(parse_qsl(urlsplit(layer.export_url(VIEW)).query, keep_blank_values=True))
    return {k: v for k, v in query.items() if k not in FIXED}


# --- construction -------------------------------------------------------------------------------


def test_constructor_takes_python_option_names() -> None:
    layer = ImageMapLayer(URL + "?foo=bar", band_ids="3,0,1", opacity=0.5, format="png32", client=FakeClient())
    assert layer.params == LayerParams(url=URL, band_ids=[3, 0, 1], opacity=0.5, format="png32", request_params={"foo": "bar"})


def test_constructor_rejects_unknown_and_invalid_options() -> None:
    with pytest.raises(ParameterError, match="^unknown layer option\\(s\\) 'bandIds'"):
        ImageMapLayer(URL, bandIds=[1])
    with pytest.raises(ParameterError, match="^pixel_type must be one of"):
        ImageMapLayer(URL, pixel_type="float")


def test_client_is_built_lazily_and_shares_url_token_proxy_and_request_params() -> None:
    layer = ImageMapLayer(URL + "?foo=bar", token="tok", proxy="https://proxy.example.com/p")
    client = layer.client
    assert isinstance(client, ImageServiceClient)
    assert (client.base_url, client.token, client.proxy) == (ROOT, "tok", "https://proxy.example.com/p")
    assert layer.client is client


# --- setters: each sends the right argument to the right wire parameter ---------------------------


def test_no_options_means_no_optional_parameters() -> None:
    assert optional_params(ImageMapLayer(URL)) == {}


@pytest.mark.parametrize(
    ("band_ids", "stored"), [([3, 0, 1], [3, 0, 1]), ("3,0,1", [3, 0, 1]), ("2", [2]), (None, None)]
)
def test_set_band_ids(band_ids: Any, stored: list[int] | None) -> None:
    layer = ImageMapLayer(URL, band_ids=[9]).set_band_ids(band_ids)
    assert layer.get_band_ids() == stored
    expected = {} if stored is None else {"bandIds": ",".join(map(str, stored))}
    assert optional_params(layer) == expected


@pytest.mark.parametrize(
    ("args", "no_data", "interpretation", "wire"),
    [
        ((0,), 0, "esriNoDataMatchAny", {"noData": "0", "noDataInterpretation": "esriNoDataMatchAny"}),
        (("0",), 0, "esriNoDataMatchAny", {"noData": "0", "noDataInterpretation": "esriNoDataMatchAny"}),
        (([58, 128, 187],), [58, 128, 187], "esriNoDataMatchAll", {"noData": "58,128,187", "noDataInterpretation": "esriNoDataMatchAll"}),
        (("58,128,187",), [58, 128, 187], "esriNoDataMatchAll", {"noData": "58,128,187", "noDataInterpretation": "esriNoDataMatchAll"}),
        ((5, "esriNoDataMatchAll"), 5, "esriNoDataMatchAll", {"noData": "5", "noDataInterpretation": "esriNoDataMatchAll"}),
        (([1, 2], "esriNoDataMatchAny"), [1, 2], "esriNoDataMatchAny", {"noData": "1,2", "noDataInterpretation": "esriNoDataMatchAny"}),
        ((None,), None, None, {}),
    ],
)
def test_set_no_data(args: tuple, no_data: Any, interpretation: str | None, wire: dict) -> None:
    layer = ImageMapLayer(URL, band_ids=[4, 5, 6]).set_no_data(*args)
    assert (layer.get_no_data(), layer.get_no_data_interpretation()) == (no_data, interpretation)
    assert optional_params(layer) == {"bandIds": "4,5,6", **wire}  # band ids untouched


def test_set_no_data_rejects_a_bad_interpretation() -> None:
    with pytest.raises(ParameterError, match="^no_data_interpretation must be one of esriNoDataMatchAny, esriNoDataMatchAll"):
        ImageMapLayer(URL).set_no_data(0, "any")


def test_set_pixel_type() -> None:
    layer = ImageMapLayer(URL).set_pixel_type("f32")
    assert layer.get_pixel_type() == "F32"
    assert optional_params(layer) == {"pixelType": "F32"}


def test_set_time_range_keeps_from_and_to_in_order() -> None:
    layer = ImageMapLayer(URL).set_time_range(datetime(2014, 1, 9, 8), 1389484800000)
    assert layer.get_time_range() == (1389254400000, 1389484800000)
    assert optional_params(layer) == {"time": "1389254400000,1389484800000"}
    with pytest.raises(ParameterError, match="^time_from must not be after time_to"):
        layer.set_time_range(1389484800000, 1389254400000)
    assert layer.get_time_range() == (1389254400000, 1389484800000)  # a failed setter changes nothing


def test_set_rendering_and_mosaic_rule_chain_and_send_compact_json() -> None:
    layer = ImageMapLayer(URL).set_rendering_rule(HILLSHADE).set_mosaic_rule('{"mosaicMethod": "esriMosaicNorthwest"}')
    assert (layer.get_rendering_rule(), layer.get_mosaic_rule()) == (HILLSHADE, {"mosaicMethod": "esriMosaicNorthwest"})
    assert optional_params(layer) == {
        "renderingRule": '{"rasterFunction":"Hillshade","rasterFunctionArguments":{"Azimuth":215}}',
        "mosaicRule": '{"mosaicMethod":"esriMosaicNorthwest"}',
    }
    layer.get_rendering_rule()["rasterFunction"] = "Slope"  # a copy: the layer is unchanged
    assert layer.get_rendering_rule() == HILLSHADE


def test_set_rendering_rule_rejects_a_bare_name() -> None:
    with pytest.raises(ParameterError, match="did you mean"):
        ImageMapLayer(URL).set_rendering_rule("Natural Color with DRA")


def test_opacity_and_position_do_not_change_the_request() -> None:
    layer = ImageMapLayer(URL)
    before = layer.export_url(VIEW)
    assert layer.set_opacity(0.25).bring_to_back() is layer
    assert (layer.get_opacity(), layer.params.position, layer.export_url(VIEW)) == (0.25, "back", before)
    assert layer.bring_to_front().params.position == "front"


def test_setters_replace_params_and_never_mutate_a_snapshot() -> None:
    layer = ImageMapLayer(URL)
    snapshot = layer.params
    layer.set_band_ids([1]).set_no_data(0).set_pixel_type("U8").set_time_range(1, 2).set_opacity(0.5)
    assert snapshot == LayerParams(url=URL)
    assert layer.params is not snapshot


def test_authenticate_sets_the_token_on_params_and_client() -> None:
    client = FakeClient()
    layer = ImageMapLayer(URL, client=client)
    assert layer.authenticate("new") is layer
    assert optional_params(layer) == {"token": "new"}
    assert client.calls == [("authenticate", "new")]


def test_authenticate_before_the_client_exists_builds_it_with_the_token() -> None:
    layer = ImageMapLayer(URL).authenticate("new")
    assert layer.client.token == "new"


# --- export_url for f=image and f=json ----------------------------------------------------------


def test_export_url_for_f_image_needs_no_client() -> None:
    layer = ImageMapLayer(URL, token="tok", proxy="./proxy.ashx", client=FakeClient())
    assert layer.export_url(VIEW).startswith(f"./proxy.ashx?{ROOT}exportImage?bbox=-13640608.101145273%2C")
    assert layer.client.calls == []


def test_export_url_for_f_json_uses_the_href_with_token_and_proxy() -> None:
    client = FakeClient({"href": "http://127.0.0.1:9/arcgisoutput/a.png", "width": 500, "height": 500})
    layer = ImageMapLayer(URL, f="json", band_ids=[2], client=client).authenticate("tok")
    layer = layer.set_pixel_type("U8")
    assert layer.export_url(VIEW) == "http://127.0.0.1:9/arcgisoutput/a.png?token=tok"
    (name, params), = [call for call in client.calls if call[0] == "export_image"]
    assert (name, params) == ("export_image", export_params(layer.params, VIEW))
    assert list(params)[-1] == "f" and params["f"] == "json" and params["token"] == "tok"


def test_export_url_for_f_json_without_href_is_an_invalid_response() -> None:
    layer = ImageMapLayer(URL, f="json", client=FakeClient({"width": 1}))
    with pytest.raises(InvalidResponse, match="has no href"):
        layer.export_url(VIEW)


# --- metadata ------------------------------------------------------------------------------------


def test_metadata_and_service_info_go_through_the_client() -> None:
    client = FakeClient(ROOT_JSON)
    layer = ImageMapLayer(URL, client=client)
    assert layer.metadata() == ROOT_JSON
    assert layer.service_info() == parse_service_info(ROOT_JSON)
    assert [name for name, _ in client.calls] == ["metadata", "metadata"]


# --- Query task ---------------------------------------------------------------------------------


def test_query_task_builds_params_with_urls_query_params() -> None:
    client = FakeClient(FEATURESET)
    layer = ImageMapLayer(URL, token="tok", mosaic_rule=LOCK_8, client=client)
    task = layer.query()
    assert isinstance(task, Query)
    view = View(south=37, west=-123, north=38, east=-122, width=100, height=100)
    result = (
        task.where("CloudCover < 10")
        .within(view)
        .between(datetime(2014, 1, 9, 8), 1389484800000)
        .fields(["Name"])
        .order_by("AcquisitionDate", "desc")
        .order_by("Name")
        .offset(5)
        .limit(10)
        .return_geometry(False)
        .run()
    )
    assert result == FEATURESET
    assert client.calls == [
        (
            "query",
            {
                "returnGeometry": "false",
                "where": "CloudCover < 10",
                "outSR": "4326",
                "outFields": "Name",
                "inSR": "4326",
                "geometry": '{"xmin":-123,"ymin":37,"xmax":-122,"ymax":38,"spatialReference":{"wkid":4326}}',
                "geometryType": "esriGeometryEnvelope",
                "spatialRel": "esriSpatialRelContains",
                "time": "1389254400000,1389484800000",
                "orderByFields": "AcquisitionDate DESC,Name ASC",
                "resultOffset": "5",
                "resultRecordCount": "10",
                "token": "tok",
            },
        )
    ]


def test_query_intersects_count_and_ids() -> None:
    client = FakeClient({"count": 7, "objectIds": [3, 4]})
    task = ImageMapLayer(URL, client=client).query().intersects((-1, -2, 3, 4))
    assert task.count() == 7
    assert task.ids() == [3, 4]
    (_, counted), (_, listed) = client.calls
    assert (counted["spatialRel"], counted["returnCountOnly"], "returnIdsOnly" in counted) == ("esriSpatialRelIntersects", "true", False)
    assert (listed["returnIdsOnly"], "returnCountOnly" in listed) == ("true", False)


def test_query_count_without_count_is_an_invalid_response() -> None:
    with pytest.raises(InvalidResponse, match="query response has no 'count'"):
        ImageMapLayer(URL, client=FakeClient({"features": []})).query().count()


def test_query_order_must_be_asc_or_desc() -> None:
    with pytest.raises(ParameterError, match="^order must be ASC or DESC; got 'up'"):
        ImageMapLayer(URL, client=FakeClient()).query().order_by("Name", "up")


def test_query_run_geojson_and_run_frame_use_tables() -> None:
    task = ImageMapLayer(URL, client=FakeClient(FEATURESET)).query()
    assert task.run_geojson() == geojson.featureset_to_geojson(FEATURESET)
    assert task.run_frame().equals(tables.featureset_to_frame(FEATURESET))


# --- IdentifyImage task -------------------------------------------------------------------------


def test_identify_forwards_mosaic_rule_and_time_but_not_rendering_rule() -> None:
    client = FakeClient({"value": "17"})
    layer = ImageMapLayer(URL, mosaic_rule=LOCK_8, rendering_rule=HILLSHADE, time_from=1, time_to=2, client=client)
    task = layer.identify()
    assert isinstance(task, IdentifyImage)
    assert task.at(37.75, -122.45).run() == {"value": "17"}
    assert client.calls == [
        (
            "identify",
            {
                "returnGeometry": "false",
                "geometry": '{"x":-122.45,"y":37.75,"spatialReference":{"wkid":4326}}',
                "geometryType": "esriGeometryPoint",
                "mosaicRule": '{"mosaicMethod":"esriMosaicLockRaster","lockRasterIds":[8]}',
                "time": "1,2",
            },
        )
    ]


def test_identify_setters_chain_and_reach_their_parameters() -> None:
    client = FakeClient({})
    layer = ImageMapLayer(URL, token="tok", client=client)
    (
        layer.identify()
        .at(1.5, 2.5)
        .set_mosaic_rule({"mosaicMethod": "esriMosaicNone"})
        .set_rendering_rule('{"rasterFunction": "None"}')
        .set_pixel_size([30, 30])
        .return_catalog_items(True)
        .return_geometry(True)
        .between(datetime(2014, 1, 9, 8), datetime(2014, 1, 12))
        .run()
    )
    assert client.calls == [
        (
            "identify",
            {
                "returnGeometry": "true",
                "geometry": '{"x":2.5,"y":1.5,"spatialReference":{"wkid":4326}}',
                "geometryType": "esriGeometryPoint",
                "mosaicRule": '{"mosaicMethod":"esriMosaicNone"}',
                "renderingRule": '{"rasterFunction":"None"}',
                "pixelSize": "30,30",
                "returnCatalogItems": "true",
                "time": "1389254400000,1389484800000",
                "token": "tok",
            },
        )
    ]
    assert layer.params == LayerParams(url=URL, token="tok")  # the task worked on its own copy


def test_identify_without_a_location_is_a_parameter_error() -> None:
    client = FakeClient()
    with pytest.raises(ParameterError, match="call at\\(lat, lng\\) before run"):
        ImageMapLayer(URL, client=client).identify().run()
    assert client.calls == []
