"""parse_service_info on a real-shaped root, on sparse roots, and on things that are not roots."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pytest

from imageservice.errors import ArcGISError, InvalidResponse, ParameterError
from imageservice.metadata import (
    LegendEntry,
    LegendLayer,
    ServiceInfo,
    mosaic_method_request_name,
    normalize_wkid,
    parse_legend,
    parse_service_info,
)

FIXTURES = Path(__file__).parent / "fixtures"
R = 6378137.0


def load(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def mercator_lat(y: float) -> float:
    return math.degrees(2 * math.atan(math.exp(y / R)) - math.pi / 2)


def test_sentinel2_root() -> None:
    root = load("sentinel2_landcover_root")
    info = parse_service_info(root)
    assert dataclasses.replace(info, extent_latlng=None, fields=()) == ServiceInfo(
        name="Sentinel2_10m_LandCover",
        description="Sentinel-2 10m land cover time series of the world. Annual maps of 9 classes.",
        copyright_text="Impact Observatory, Microsoft, and Esri.",
        band_count=1,
        band_names=("Band_1",),
        band_names_generated=False,
        pixel_type="U8",
        extent=(-20037507.0672, -15547304.2983, 20037507.8428, 18841995.7017),
        spatial_reference=3857,
        wkid=102100,
        latest_wkid=3857,
        extent_latlng=None,
        time_extent=(1483228800000, 1735689599000),
        start_time_field="StartDate",
        end_time_field="EndDate",
        raster_functions=("Cartographic Renderer for Visualization and Analysis", "None"),
        mosaic_methods=("ByAttribute", "NorthWest", "Center", "LockRaster", "Nadir", "Viewpoint", "None"),
        mosaic_method_request_names=(
            "esriMosaicAttribute", "esriMosaicNorthwest", "esriMosaicCenter", "esriMosaicLockRaster",
            "esriMosaicNadir", "esriMosaicViewpoint", "esriMosaicNone",
        ),
        default_mosaic_method="ByAttribute",
        mosaic_operator="First",
        min_values=(0.0,),
        max_values=(11.0,),
        mean_values=(7.28,),
        stdv_values=(3.62,),
        no_data=None,
        max_image_width=10000,
        max_image_height=10000,
        max_record_count=1000,
        capabilities=("Image", "Metadata", "Catalog", "Mensuration"),
        fields=(),
        object_id_field="OBJECTID",
        current_version=11.0,
        is_time_aware=True,
        service_data_type="esriImageServiceDataTypeThematic",
        has_multidimensions=False,
    )
    assert info.fields == tuple(root["fields"])
    south, west, north, east = info.extent_latlng
    assert (south, north) == pytest.approx((mercator_lat(-15547304.2983), mercator_lat(18841995.7017)), abs=1e-9)
    assert (west, east) == pytest.approx((math.degrees(-20037507.0672 / R), math.degrees(20037507.8428 / R)), abs=1e-9)


def test_a_sparse_root_gets_defaults() -> None:
    info = parse_service_info({"bandCount": 3})
    assert (info.band_count, info.band_names) == (3, ("Band_1", "Band_2", "Band_3"))
    assert (info.name, info.description, info.copyright_text) == ("", "", "")
    assert (info.extent, info.spatial_reference, info.extent_latlng, info.time_extent) == (None, None, None, None)
    assert (info.raster_functions, info.mosaic_methods, info.capabilities, info.fields) == ((), (), (), ())
    assert (info.min_values, info.no_data, info.max_image_width, info.current_version) == ((), None, None, None)
    assert info.is_time_aware is False


def test_band_count_falls_back_to_the_band_names() -> None:
    info = parse_service_info({"extent": {"xmin": 0, "ymin": 0, "xmax": 1, "ymax": 1}, "bandNames": ["Red", "NIR"]})
    assert (info.band_count, info.band_names) == (2, ("Red", "NIR"))
    assert (info.extent, info.extent_latlng) == ((0.0, 0.0, 1.0, 1.0), None)


def test_wgs84_extent_is_its_own_latlng_box() -> None:
    extent = {"xmin": -10.5, "ymin": 35.25, "xmax": 5.0, "ymax": 44.0, "spatialReference": {"wkid": 4326, "latestWkid": 4326}}
    info = parse_service_info({"bandCount": 1, "extent": extent})
    assert info.spatial_reference == 4326  # taken from the extent when the root has none
    assert info.extent_latlng == (35.25, -10.5, 44.0, 5.0)


def test_a_wkt_spatial_reference() -> None:
    wkt = (
        'GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],'
        'PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]'
    )
    extent = {"xmin": 1.0, "ymin": 2.0, "xmax": 3.0, "ymax": 4.0}
    info = parse_service_info({"bandCount": 1, "extent": extent, "spatialReference": {"wkt": wkt}})
    assert (info.spatial_reference, info.extent_latlng) == (None, (2.0, 1.0, 4.0, 3.0))


def test_an_esri_wkid_with_an_epsg_latest_wkid() -> None:
    extent = {"xmin": -776083.4, "ymin": -1206734.5, "xmax": -773596.9, "ymax": -1204248.1}
    info = parse_service_info({"bandCount": 1, "extent": extent, "spatialReference": {"wkid": 102067, "latestWkid": 5514}})
    assert info.spatial_reference == 5514
    south, west, north, east = info.extent_latlng
    assert 48.5 < south < north < 48.7 and 14.2 < west < east < 14.4  # south Bohemia


def test_a_utm_extent_is_bounded_in_lat_lng_along_its_edges() -> None:
    """A UTM box's edges bow in lat/lng: its lat/lng box holds every edge point, not only the corners."""
    from pyproj import Transformer

    xmin, ymin, xmax, ymax = 400000.0, 4100000.0, 600000.0, 4300000.0
    extent = {"xmin": xmin, "ymin": ymin, "xmax": xmax, "ymax": ymax, "spatialReference": {"wkid": 32610}}
    info = parse_service_info({"bandCount": 1, "extent": extent})
    steps = [i / 200 for i in range(201)]
    xs = [xmin + (xmax - xmin) * t for t in steps] * 2 + [xmin] * 201 + [xmax] * 201
    ys = [ymin] * 201 + [ymax] * 201 + [ymin + (ymax - ymin) * t for t in steps] * 2
    lngs, lats = Transformer.from_crs("EPSG:32610", "EPSG:4326", always_xy=True).transform(xs, ys)
    assert info.spatial_reference == 32610
    assert info.extent_latlng == pytest.approx((min(lats), min(lngs), max(lats), max(lngs)), abs=1e-6)
    assert max(lats) > max(lats[201], lats[401])  # the north edge bows: its corners are not the top


def test_an_unknown_spatial_reference_gives_no_latlng_box() -> None:
    extent = {"xmin": 0, "ymin": 0, "xmax": 1, "ymax": 1, "spatialReference": {"wkid": 999999}}
    assert parse_service_info({"bandCount": 1, "extent": extent}).extent_latlng is None


@pytest.mark.parametrize(("root", "expected"), [
    ({"bandCount": 3, "noDataValues": [0, 0, 255]}, (0.0, 0.0, 255.0)),
    ({"bandCount": 1, "noDataValue": -3.4e38}, (-3.4e38,)),
    ({"bandCount": 1, "noDataValue": None}, None),
])
def test_no_data_when_the_service_exposes_it(root: dict, expected: tuple | None) -> None:
    assert parse_service_info(root).no_data == expected


def test_open_ended_time_extent() -> None:
    info = parse_service_info({"bandCount": 1, "timeInfo": {"timeExtent": [1483228800000, None]}})
    assert (info.time_extent, info.is_time_aware) == ((1483228800000, None), True)


@pytest.mark.parametrize(("name", "expected"), [
    ("Northwest", "esriMosaicNorthwest"),
    ("NorthWest", "esriMosaicNorthwest"),
    ("esriMosaicNorthwest", "esriMosaicNorthwest"),
    ("ByAttribute", "esriMosaicAttribute"),
    ("esriMosaicAttribute", "esriMosaicAttribute"),
    (" center ", "esriMosaicCenter"),
    ("LockRaster", "esriMosaicLockRaster"),
    ("None", "esriMosaicNone"),
    ("Seamline", "esriMosaicSeamline"),
])
def test_mosaic_method_request_name_accepts_both_spellings(name: str, expected: str) -> None:
    assert mosaic_method_request_name(name) == expected


def test_an_unknown_mosaic_method_is_a_parameter_error() -> None:
    with pytest.raises(ParameterError, match="unknown mosaic method 'Random'; expected one of esriMosaicAttribute"):
        mosaic_method_request_name("Random")


def test_unknown_allowed_methods_are_passed_through() -> None:
    info = parse_service_info({"bandCount": 1, "allowedMosaicMethods": "Center, FutureMethod"})
    assert info.mosaic_methods == ("Center", "FutureMethod")
    assert info.mosaic_method_request_names == ("esriMosaicCenter", "FutureMethod")


@pytest.mark.parametrize(("wkid", "expected"), [
    ({"wkid": 102100, "latestWkid": 3857}, 3857),
    ({"wkid": 102100}, 3857),
    ({"wkid": 102113}, 3857),
    ({"wkid": 3857}, 3857),
    ({"wkid": 4326}, 4326),
    ({"wkt": "GEOGCS[...]"}, None),
    (None, None),
])
def test_normalize_wkid(wkid: dict | None, expected: int | None) -> None:
    assert normalize_wkid(wkid) == expected


@pytest.mark.parametrize(("root", "message"), [
    ({}, "this is not an ArcGIS ImageServer description: it has neither bandCount nor extent"),
    ({"layers": [], "fullExtent": {"xmin": 0}}, "neither bandCount nor extent"),
    (["Band_1"], "the service description must be a JSON object; got list"),
    ({"error": {"code": 400, "message": "Unable to complete operation.", "details": []}},
     "the server answered with an error instead of a description: Unable to complete operation."),
])
def test_things_that_are_not_a_root(root: object, message: str) -> None:
    with pytest.raises(InvalidResponse, match=message):
        parse_service_info(root)


def test_errors_are_one_family() -> None:
    error = ArcGISError(400, "Unable to complete operation.", ["bad where", "no such field"], "http://h/ImageServer/query")
    assert str(error) == "Unable to complete operation. (code 400): bad where; no such field"
    assert not isinstance(error, InvalidResponse) and isinstance(ParameterError("x"), ValueError)


def test_sentinel2_root_keeps_data_type_dimensions_time_fields_and_raw_wkids() -> None:
    info = parse_service_info(load("sentinel2_landcover_root"))
    assert (info.service_data_type, info.has_multidimensions) == ("esriImageServiceDataTypeThematic", False)
    assert (info.start_time_field, info.end_time_field) == ("StartDate", "EndDate")
    assert (info.wkid, info.latest_wkid, info.spatial_reference) == (102100, 3857, 3857)
    assert info.band_names_generated is False


def test_generated_band_names_are_marked() -> None:
    info = parse_service_info({"bandCount": 2})
    assert (info.band_names, info.band_names_generated) == (("Band_1", "Band_2"), True)


def test_missing_root_keys_are_none_not_empty() -> None:
    info = parse_service_info({"bandCount": 1, "defaultMosaicMethod": ""})
    assert (info.default_mosaic_method, info.service_data_type, info.wkid, info.latest_wkid) == (None, None, None, None)
    assert (info.start_time_field, info.end_time_field, info.has_multidimensions) == (None, None, False)


def test_a_unique_values_legend_is_typed_with_data_uris() -> None:
    response = load("handwritten_legend_unique_values")  # hand-written, in ArcGIS's documented shape
    water, trees = (entry["imageData"] for entry in response["layers"][0]["legend"])
    assert parse_legend(response) == (
        LegendLayer(layer_id=0, name="Sentinel2_10m_LandCover", legend_type="Unique Values", entries=(
            LegendEntry(label="Water", image_data_uri=f"data:image/png;base64,{water}",
                        url="3a1f0d6c0e2b4f5a9c8d7e6f5a4b3c2d", width=20, height=20, values=(1,)),
            LegendEntry(label="Trees", image_data_uri=f"data:image/png;base64,{trees}",
                        url="7b2e1c9d8a6f4e3b2a1c0d9e8f7a6b5c", width=20, height=20, values=(2,)),
        )),
    )


def test_a_sparse_legend_entry_gets_defaults() -> None:
    (layer,) = parse_legend({"layers": [{"legend": [{"label": "High : 255", "imageData": "AAAA"}]}]})
    assert (layer.layer_id, layer.name, layer.legend_type) == (None, "", None)
    assert layer.entries == (LegendEntry(label="High : 255", image_data_uri="data:image/png;base64,AAAA",
                                         url=None, width=None, height=None, values=()),)
    assert parse_legend({"layers": [{"legend": [{"label": "x"}]}]})[0].entries[0].image_data_uri is None


@pytest.mark.parametrize(("response", "message"), [
    ({"error": {"code": 400, "message": "Unable to complete operation."}}, "Unable to complete operation"),
    ({"bandCount": 1}, "no layers"),
    ([], "must be a JSON object"),
])
def test_things_that_are_not_a_legend(response: object, message: str) -> None:
    with pytest.raises(InvalidResponse, match=message):
        parse_legend(response)
