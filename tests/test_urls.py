"""Request builders: exact parameter order, omission rules, token/proxy on every path, GET/POST."""

from __future__ import annotations

import math
from urllib.parse import unquote

import pytest

from imageservice.errors import ParameterError
from imageservice.params import LayerParams
from imageservice.urls import (
    PreparedRequest,
    View,
    export_image_url,
    export_params,
    href_url,
    identify_params,
    metadata_params,
    prepare,
    query_params,
    view_bbox,
    view_from_center_zoom,
)

URL = "http://x/arcgis/rest/services/Landsat/ImageServer"
ROOT = URL + "/"
HILLSHADE = {"rasterFunction": "Hillshade", "rasterFunctionArguments": {"Azimuth": 215}}
LOCK_8 = {"mosaicMethod": "esriMosaicLockRaster", "lockRasterIds": [8]}
GEOMETRY = '{"x":-122.45,"y":37.75,"spatialReference":{"wkid":4326}}'


@pytest.fixture(scope="module")
def spec_view() -> View:
    """The esri-leaflet spec map: 500x500 px at [37.75, -122.45], zoom 12."""
    return view_from_center_zoom(37.75, -122.45, 12, 500, 500)


def bbox_numbers(text: str) -> list[float]:
    return [float(v) for v in text.split(",")]


# --- views and bbox -----------------------------------------------------------------------------


def test_spec_view_gives_esri_leaflets_bbox(spec_view: View) -> None:
    params = export_params(LayerParams(url=URL), spec_view)
    expected = [-13640608.101145273, 4553735.960089375, -13621498.844073977, 4534626.703018083]
    assert bbox_numbers(params["bbox"]) == pytest.approx(expected, rel=1e-14, abs=0)
    assert params["size"] == "500,500"


def test_spec_view_in_epsg4326_gives_degrees() -> None:
    view = view_from_center_zoom(37.75, -122.45, 12, 500, 500, crs="EPSG:4326")
    params = export_params(LayerParams(url=URL), view)
    expected = [-122.49292373657227, 37.79296875, -122.4070930480957, 37.70713806152344]
    assert bbox_numbers(params["bbox"]) == pytest.approx(expected, rel=1e-14, abs=0)
    assert (params["bboxSR"], params["imageSR"]) == ("4326", "4326")


def test_world_shorter_than_viewport_trims_height_but_not_x() -> None:
    # Reference run: 800x600 at zoom 1 asks for 800x512 and y = +-20037508.34278071.
    view = view_from_center_zoom(0, 0, 1, 800, 600)
    assert (view.height, view.north, view.south) == (512, 85.0511287798, -85.0511287798)
    params = export_params(LayerParams(url=URL), view)
    assert params["size"] == "800,512"
    xmin, ymax, xmax, ymin = bbox_numbers(params["bbox"])
    assert (ymax, ymin) == pytest.approx((20037508.34278071, -20037508.34278071), rel=1e-15)
    assert (xmin, xmax) == pytest.approx((-31308606.79, 31308606.79), abs=0.01)


def test_browser_view_past_the_world_edge_gets_the_same_trim() -> None:
    # A browser reports Leaflet's unclamped bounds (600 px of a 512 px world) and the full size.
    half_height_m = 20037508.342789244 * 600 / 512
    lat = math.degrees(2 * math.atan(math.exp(half_height_m / 6378137)) - math.pi / 2)
    view = View(south=-lat, west=-281.25, north=lat, east=281.25, width=800, height=600)
    assert export_params(LayerParams(url=URL), view)["size"] == "800,512"


def test_view_bbox_is_west_south_east_north_in_crs_units(spec_view: View) -> None:
    xmin, ymin, xmax, ymax = view_bbox(spec_view)
    assert (xmin, ymin, xmax, ymax) == pytest.approx(
        (-13640608.101145273, 4534626.703018083, -13621498.844073977, 4553735.960089375), rel=1e-14
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"crs": "EPSG:27700"}, "crs must be one of EPSG:3857, EPSG:4326; got 'EPSG:27700'"),
        ({"width": 0}, "width and height must be positive integers; got 0x10"),
        ({"height": 2.5}, "width and height must be positive integers; got 10x2.5"),
        ({"south": 5}, "view bounds must have south <= north and west <= east"),
    ],
)
def test_view_validation(kwargs: dict, message: str) -> None:
    values = {"south": 0, "west": 0, "north": 1, "east": 1, "width": 10, "height": 10, **kwargs}
    with pytest.raises(ParameterError) as caught:
        View(**values)
    assert message in str(caught.value)


# --- exportImage --------------------------------------------------------------------------------


def test_export_params_minimal_order(spec_view: View) -> None:
    params = export_params(LayerParams(url=URL), spec_view)
    assert list(params) == ["bbox", "size", "format", "transparent", "bboxSR", "imageSR", "f"]
    assert [params[k] for k in list(params)[1:]] == ["500,500", "jpgpng", "true", "3857", "3857", "image"]


def test_export_params_with_every_option_matches_the_reference_run(spec_view: View) -> None:
    params = LayerParams(
        url=URL,
        format="png32",
        transparent=False,
        time_from=1389225600000,
        time_to=1389484800000,
        pixel_type="F32",
        interpolation="RSP_BilinearInterpolation",
        compression_quality=75,
        band_ids=[3, 0, 1],
        no_data=[1, 2],
        no_data_interpretation="esriNoDataMatchAny",
        rendering_rule=HILLSHADE,
        mosaic_rule=LOCK_8,
        f="json",
    )
    query = export_params(params, spec_view)
    query.pop("bbox")
    assert "&".join(f"{k}={v}" for k, v in query.items()) == (
        "size=500,500&format=png32&transparent=false&bboxSR=3857&imageSR=3857"
        "&time=1389225600000,1389484800000&pixelType=F32&interpolation=RSP_BilinearInterpolation"
        "&compressionQuality=75&bandIds=3,0,1&noData=1,2&noDataInterpretation=esriNoDataMatchAny"
        '&renderingRule={"rasterFunction":"Hillshade","rasterFunctionArguments":{"Azimuth":215}}'
        '&mosaicRule={"mosaicMethod":"esriMosaicLockRaster","lockRasterIds":[8]}&f=json'
    )


def test_export_params_token_sits_between_no_data_interpretation_and_rules(spec_view: View) -> None:
    params = LayerParams(url=URL, no_data_interpretation="esriNoDataMatchAll", token="tok", mosaic_rule=LOCK_8)
    assert list(export_params(params, spec_view))[-4:] == ["noDataInterpretation", "token", "mosaicRule", "f"]


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"no_data": 0}, {"noData": "0"}),
        ({"no_data": "0"}, {"noData": "0"}),
        ({"compression_quality": 0}, {"compressionQuality": "0"}),  # kept, unlike esri-leaflet
        ({"time_from": 1389225600000}, {}),  # time needs both ends
        ({"time_to": 1389225600000}, {}),
        ({"time_from": 5, "time_to": 5}, {"time": "5,5"}),
        ({"band_ids": [0]}, {"bandIds": "0"}),
        ({"no_data": 1.5}, {"noData": "1.5"}),
        ({"pixel_type": "UNKNOWN"}, {"pixelType": "UNKNOWN"}),
    ],
)
def test_export_params_omission_rules(spec_view: View, options: dict, expected: dict) -> None:
    query = export_params(LayerParams(url=URL, **options), spec_view)
    fixed = {"bbox", "size", "format", "transparent", "bboxSR", "imageSR", "f"}
    assert {k: v for k, v in query.items() if k not in fixed} == expected


def test_request_params_extend_the_built_ones_and_f_stays_last(spec_view: View) -> None:
    params = LayerParams(url=URL + "?foo=bar", request_params={"bboxSR": "102100", "f": "html"}, f="json")
    query = export_params(params, spec_view)
    assert list(query) == ["bbox", "size", "format", "transparent", "bboxSR", "imageSR", "foo", "f"]
    assert (query["bboxSR"], query["foo"], query["f"]) == ("102100", "bar", "json")


def test_export_image_url_is_exact_and_keeps_apostrophes(spec_view: View) -> None:
    params = LayerParams(url=URL, mosaic_rule={"where": "Name = 'a b'"}, token="t k", f="json")
    assert export_image_url(params, spec_view) == (
        ROOT + "exportImage?bbox=-13640608.101145273%2C4553735.960089375%2C-13621498.844073977%2C4534626.703018083"
        "&size=500%2C500&format=jpgpng&transparent=true&bboxSR=3857&imageSR=3857&token=t%20k"
        "&mosaicRule=%7B%22where%22%3A%22Name%20%3D%20'a%20b'%22%7D&f=image"
    )


def test_export_image_url_gets_the_proxy_prefix(spec_view: View) -> None:
    url = export_image_url(LayerParams(url=URL, proxy="./proxy.ashx", token="tok"), spec_view)
    assert url.startswith("./proxy.ashx?" + ROOT + "exportImage?bbox=")
    assert url.endswith("&token=tok&f=image")


@pytest.mark.parametrize(
    ("options", "href", "expected"),
    [
        ({}, "http://x/arcgisoutput/a.png", "http://x/arcgisoutput/a.png"),
        ({"token": "tok"}, "http://x/arcgisoutput/a.png", "http://x/arcgisoutput/a.png?token=tok"),
        ({"token": "tok"}, "http://x/a.png?v=1", "http://x/a.png?v=1&token=tok"),
        ({"proxy": "./proxy.ashx"}, "http://x/a.png", "./proxy.ashx?http://x/a.png"),
        ({"token": "tok", "proxy": "./proxy.ashx"}, "http://x/arcgisoutput/a.png", "./proxy.ashx?http://x/arcgisoutput/a.png?token=tok"),
    ],
)
def test_href_url_appends_any_known_token_then_the_proxy(options: dict, href: str, expected: str) -> None:
    assert href_url(LayerParams(url=URL, **options), href) == expected


def test_href_url_uses_a_token_set_after_construction() -> None:
    # esri-leaflet only appended a constructor token; authenticate() replaces the params' token.
    params = LayerParams(url=URL).replace(token="later")
    assert href_url(params, "http://x/a.png") == "http://x/a.png?token=later"


# --- identify -----------------------------------------------------------------------------------


def test_identify_params_like_the_popup_identify() -> None:
    params = LayerParams(url=URL, mosaic_rule=LOCK_8, rendering_rule=HILLSHADE, band_ids=[1], no_data=0)
    assert identify_params(params, 37.75, -122.45) == {
        "returnGeometry": "false",
        "geometry": GEOMETRY,
        "geometryType": "esriGeometryPoint",
        "mosaicRule": '{"mosaicMethod":"esriMosaicLockRaster","lockRasterIds":[8]}',
    }


def test_identify_params_with_every_option() -> None:
    params = LayerParams(url=URL, rendering_rule=HILLSHADE, time_from=1, time_to=2, token="tok")
    query = identify_params(
        params, 37.75, -122.45, apply_rendering_rule=True, return_catalog_items=True, return_geometry=True, pixel_size=[30, 30]
    )
    assert list(query.items()) == [
        ("returnGeometry", "true"),
        ("geometry", GEOMETRY),
        ("geometryType", "esriGeometryPoint"),
        ("renderingRule", '{"rasterFunction":"Hillshade","rasterFunctionArguments":{"Azimuth":215}}'),
        ("pixelSize", "30,30"),
        ("returnCatalogItems", "true"),
        ("time", "1,2"),
        ("token", "tok"),
    ]


def test_identify_time_needs_both_ends_and_can_be_left_out() -> None:
    assert "time" not in identify_params(LayerParams(url=URL, time_from=1), 0, 0)
    assert "time" not in identify_params(LayerParams(url=URL, time_from=1, time_to=2), 0, 0, with_time=False)
    assert identify_params(LayerParams(url=URL), 0.5, 1e-7, return_catalog_items=False)["geometry"] == (
        '{"x":1e-7,"y":0.5,"spatialReference":{"wkid":4326}}'
    )
    assert identify_params(LayerParams(url=URL), 0, 0, return_catalog_items=False)["returnCatalogItems"] == "false"


# --- query --------------------------------------------------------------------------------------


def test_query_params_defaults_follow_the_query_task() -> None:
    assert list(query_params(LayerParams(url=URL)).items()) == [
        ("returnGeometry", "true"),
        ("where", "1=1"),
        ("outSR", "4326"),
        ("outFields", "*"),
    ]


def test_query_params_with_every_option_in_order(spec_view: View) -> None:
    query = query_params(
        LayerParams(url=URL, token="tok", mosaic_rule=LOCK_8),
        where="CloudCover < 10",
        geometry=(-123, 37, -122, 38),
        spatial_rel="esriSpatialRelContains",
        time=(1, 2),
        out_fields=["Name", "CloudCover"],
        return_geometry=False,
        out_sr=3857,
        order_by=[("AcquisitionDate", "DESC"), "Name ASC"],
        offset=10,
        limit=5,
        object_ids=[1, 2],
        count_only=True,
        ids_only=True,
    )
    assert list(query.items()) == [
        ("returnGeometry", "false"),
        ("where", "CloudCover < 10"),
        ("outSR", "3857"),
        ("outFields", "Name,CloudCover"),
        ("inSR", "4326"),
        ("geometry", '{"xmin":-123,"ymin":37,"xmax":-122,"ymax":38,"spatialReference":{"wkid":4326}}'),
        ("geometryType", "esriGeometryEnvelope"),
        ("spatialRel", "esriSpatialRelContains"),
        ("time", "1,2"),
        ("orderByFields", "AcquisitionDate DESC,Name ASC"),
        ("resultOffset", "10"),
        ("resultRecordCount", "5"),
        ("objectIds", "1,2"),
        ("returnCountOnly", "true"),
        ("returnIdsOnly", "true"),
        ("token", "tok"),
    ]


def test_query_geometry_from_a_view_and_from_arcgis_geometries(spec_view: View) -> None:
    envelope = query_params(LayerParams(url=URL), geometry=spec_view)["geometry"]
    assert envelope.startswith('{"xmin":-122.53566741943')
    assert envelope.endswith(',"spatialReference":{"wkid":4326}}')
    polygon = {"rings": [[[0, 0], [1, 0], [1, 1], [0, 0]]], "spatialReference": {"wkid": 3857}}
    query = query_params(LayerParams(url=URL), geometry=polygon)
    assert (query["inSR"], query["geometryType"]) == ("3857", "esriGeometryPolygon")
    point = query_params(LayerParams(url=URL), geometry={"x": 1, "y": 2})
    assert (point["inSR"], point["geometry"], point["geometryType"]) == ("4326", '{"x":1,"y":2}', "esriGeometryPoint")


@pytest.mark.parametrize(
    ("geometry", "message"),
    [({"type": "Polygon"}, "geometry must be an ArcGIS envelope, point, polygon"), ((1, 2, 3), "a bbox must be (west, south, east, north)")],
)
def test_query_geometry_errors(geometry: object, message: str) -> None:
    with pytest.raises(ParameterError) as caught:
        query_params(LayerParams(url=URL), geometry=geometry)
    assert message in str(caught.value)


# --- metadata and prepare -----------------------------------------------------------------------


def test_metadata_params_carry_token_and_request_params() -> None:
    params = LayerParams(url=URL + "?foo=bar", token="tok")
    assert list(metadata_params(params).items()) == [("token", "tok"), ("foo", "bar")]
    assert metadata_params(LayerParams(url=URL)) == {}


def test_prepare_metadata_get_matches_esri_leaflet() -> None:
    params = LayerParams(url=URL + "?foo=bar", token="tok")
    request = prepare(params.url, "", metadata_params(params), token=params.token, request_params=params.request_params)
    assert request == PreparedRequest(method="GET", url=ROOT + "?token=tok&foo=bar&f=json", data=None)


def test_prepare_query_spec_case() -> None:
    request = prepare(ROOT, "query", query_params(LayerParams(url=URL)))
    assert request.url == ROOT + "query?returnGeometry=true&where=1%3D1&outSR=4326&outFields=*&f=json"


def test_prepare_adds_token_before_request_params_and_f_last() -> None:
    request = prepare(ROOT, "identify", {"returnGeometry": False, "f": "pjson"}, token="foo", request_params={"a": "1"})
    assert request.url == ROOT + "identify?returnGeometry=false&token=foo&a=1&f=pjson"


def test_prepare_keeps_a_token_already_in_params() -> None:
    request = prepare(ROOT, "identify", {"token": "mine", "x": None}, token="client")
    assert request.url == ROOT + "identify?token=mine&f=json"


def test_prepare_xhr_quoting_escapes_apostrophes() -> None:
    request = prepare(ROOT, "query", {"where": "Name = 'x'"})
    assert request.url == ROOT + "query?where=Name%20%3D%20%27x%27&f=json"


def test_prepare_switches_to_post_above_max_url_length_with_the_proxy_counted() -> None:
    proxy = "https://proxy.example.com/p"
    head = f"{proxy}?{ROOT}query?where="
    fits = "a" * (2000 - len(head) - len("&f=json"))
    get = prepare(ROOT, "query", {"where": fits}, proxy=proxy)
    assert get == PreparedRequest(method="GET", url=f"{head}{fits}&f=json", data=None)
    assert len(get.url) == 2000
    post = prepare(ROOT, "query", {"where": fits + "a"}, proxy=proxy, token="tok", request_params={"foo": "bar"})
    assert post == PreparedRequest(
        method="POST", url=f"{proxy}?{ROOT}query", data={"where": fits + "a", "token": "tok", "foo": "bar", "f": "json"}
    )


def test_prepare_max_url_length_counts_encoded_characters() -> None:
    rule = {"rasterFunction": "Stretch", "rasterFunctionArguments": {"Statistics": [[0, 255, 100, 20]] * 40}}
    request = prepare(ROOT, "exportImage", {"renderingRule": rule}, max_url_length=1000)
    assert request.method == "POST"
    assert request.data is not None and request.data["renderingRule"].startswith('{"rasterFunction":"Stretch"')
    small = prepare(ROOT, "exportImage", {"renderingRule": {"rasterFunction": "None"}}, max_url_length=1000)
    assert (small.method, unquote(small.url)) == ("GET", ROOT + 'exportImage?renderingRule={"rasterFunction":"None"}&f=json')


def test_url_template_filled_in_like_the_browser_equals_the_export_url():
    from urllib.parse import quote

    from imageservice.urls import export_image_url, export_url_template, export_params

    params = LayerParams(url="https://h/arcgis/rest/services/X/ImageServer", band_ids=[3, 0, 1], token="t",
                         proxy="https://p/proxy", rendering_rule={"rasterFunction": "NDVI"})
    view = view_from_center_zoom(37.75, -122.45, 12, 500, 500)
    query = export_params(params, view)
    filled = (export_url_template(params)
              .replace("{bbox}", quote(query["bbox"], safe=""))
              .replace("{size}", quote(query["size"], safe="")))
    assert filled == export_image_url(params, view).replace("f=image", "f=" + params.f)
    assert "{bbox}" in export_url_template(params, "EPSG:4326") and "bboxSR=4326" in export_url_template(params, "EPSG:4326")


def test_a_fractional_zoom_snaps_like_leaflets_limit_zoom() -> None:
    # Leaflet's default zoomSnap 1: setView(c, 12.5) shows zoom 13 (Math.round: halves go up),
    # 12.4 shows 12; zoomSnap 0.25 makes 12.4 show 12.5; zoomSnap 0 keeps 12.4.
    def view(zoom: float, **snap: float) -> View:
        return view_from_center_zoom(37.75, -122.45, zoom, 500, 500, **snap)

    assert view(12.5) == view(13)
    assert view(12.4) == view(12)
    assert view(12.4, zoom_snap=0.25) == view(12.5, zoom_snap=0)
    assert view(12.4, zoom_snap=0) != view(12)
    assert view(12.4, zoom_snap=0).east - view(12.4, zoom_snap=0).west == pytest.approx(
        360 * 500 / (256 * 2**12.4))


def test_with_credentials_stays_in_the_browser(spec_view: View) -> None:
    # esri-leaflet's withCredentials changes how a request is made, never what it asks for.
    plain, credentialed = LayerParams(url=URL), LayerParams(url=URL, with_credentials=True)
    assert export_params(credentialed, spec_view) == export_params(plain, spec_view)
    assert identify_params(credentialed, -122.45, 37.75) == identify_params(plain, -122.45, 37.75)
    assert metadata_params(credentialed) == metadata_params(plain)
