"""Loading services from folders of GeoTIFFs: the sample data and users' own files."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin
from shapely.geometry import box

from imageservice.server.catalog import STATS_CACHE, load_services, open_dataset
from imageservice.server.errors import UnableToComplete
from imageservice.server.sampledata import ensure_sample_data

SIZE = 64
JAN_8_2025_1840 = 1736361600000          # first sample scene, 2025-01-08T18:40:00Z
SAMPLE_EXTENT = (586770.0, 4247850.0, 625170.0, 4286250.0)


@pytest.fixture(scope="session")
def sample_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_sample_data(tmp_path_factory.mktemp("sampledata"), size=SIZE)


@pytest.fixture(scope="session")
def services(sample_root: Path) -> dict:
    return load_services(sample_root)


def write_tif(path: Path, data: np.ndarray, *, origin: tuple[float, float] = (500000.0, 4200000.0),
              pixel: float = 100.0, nodata: float | None = None, epsg: int = 32610,
              descriptions: tuple[str, ...] | None = None) -> Path:
    """A small GeoTIFF of `data` (bands, rows, cols) with its north-west corner at `origin`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(path, "w", driver="GTiff", width=data.shape[2], height=data.shape[1], count=data.shape[0],
                       dtype=data.dtype.name, crs=f"EPSG:{epsg}", transform=from_origin(*origin, pixel, pixel),
                       nodata=nodata) as dataset:
        dataset.write(data)
        if descriptions:
            dataset.descriptions = descriptions
    return path


def ones(bands: int = 1, size: int = 10, dtype: str = "uint8") -> np.ndarray:
    return np.ones((bands, size, size), dtype)


# ----------------------------------------------------------------------------------------------
# The sample services


def test_sample_services_are_found(services: dict) -> None:
    assert sorted(services) == [
        "SampleElevation", "SampleLandCover", "SampleMultispectral", "SampleOceanCube", "SampleWind"]


def test_multispectral_service_description(services: dict) -> None:
    service = services["SampleMultispectral"]
    assert service.kind == "mosaic"
    assert service.crs.to_epsg() == 32610
    assert service.extent == SAMPLE_EXTENT
    assert service.pixel_size == (600.0, 600.0)
    assert service.band_names == ("Blue", "Green", "Red", "NIR", "SWIR1", "SWIR2")
    assert service.pixel_type == "U16"
    assert service.source_no_data == 0
    assert service.data_type == "esriImageServiceDataTypeGeneric"
    assert service.copyright_text.startswith("Synthetic sample data")
    assert service.start_time_field == "AcquisitionDate" and service.end_time_field is None
    assert service.time_extent[0] == JAN_8_2025_1840
    assert service.time_extent[1] == service.items[-1].start_ms
    assert (service.default_mosaic_method, service.sort_field, service.sort_value, service.sort_ascending) == \
        ("ByAttribute", "CloudCover", "0", True)
    assert len(service.statistics) == 6
    for low, high, mean, stdv in service.statistics:
        assert 0 < low < mean < high <= 10000 and stdv > 0


def test_multispectral_fields(services: dict) -> None:
    fields = services["SampleMultispectral"].fields
    assert [(f["name"], f["type"].removeprefix("esriFieldType")) for f in fields] == [
        ("OBJECTID", "OID"), ("Shape", "Geometry"), ("Name", "String"), ("MinPS", "Double"),
        ("MaxPS", "Double"), ("CenterX", "Double"), ("CenterY", "Double"), ("ZOrder", "Integer"),
        ("AcquisitionDate", "Date"), ("CloudCover", "Double"), ("SensorName", "String"),
        ("DayOfYear", "Integer"), ("Month", "Integer"), ("SunElevation", "Double"), ("SunAzimuth", "Double"),
        ("Shape_Length", "Double"), ("Shape_Area", "Double"),
    ]
    assert fields[2] == {"name": "Name", "type": "esriFieldTypeString", "alias": "Name", "domain": None, "length": 200}
    assert fields[8] == {"name": "AcquisitionDate", "type": "esriFieldTypeDate", "alias": "AcquisitionDate",
                         "domain": None, "length": 8}


def test_multispectral_items(services: dict, sample_root: Path) -> None:
    service = services["SampleMultispectral"]
    assert [item.object_id for item in service.items] == list(range(1, 15))
    first = service.items[0]
    assert first.name == "SynthSat1_20250108"
    assert first.path == sample_root / "SampleMultispectral" / "SynthSat1_20250108.tif"
    assert first.start_ms == first.end_ms == JAN_8_2025_1840
    attributes = first.attributes
    assert (attributes["OBJECTID"], attributes["Name"], attributes["AcquisitionDate"], attributes["SensorName"],
            attributes["DayOfYear"], attributes["Month"]) == (1, "SynthSat1_20250108", JAN_8_2025_1840,
                                                               "SynthSat-1", 8, 1)
    assert attributes["Shape_Area"] == pytest.approx(first.footprint.area)
    assert attributes["Shape_Length"] == pytest.approx(first.footprint.length)
    assert (attributes["CenterX"], attributes["CenterY"]) == pytest.approx(tuple(first.footprint.centroid.coords[0]))
    extent = box(*SAMPLE_EXTENT)
    for item in service.items:
        assert item.footprint.is_valid and not item.footprint.exterior.is_ccw    # clockwise, as ArcGIS
        assert extent.buffer(1).contains(item.footprint)
        assert 0.6 < item.footprint.area / extent.area < 0.98                   # swath edges are cut off
    assert len({item.footprint.wkt for item in service.items}) == 14


def test_item_lookup(services: dict) -> None:
    service = services["SampleMultispectral"]
    assert service.item(3) is service.items[2]
    with pytest.raises(UnableToComplete) as raised:
        service.item(15)
    assert raised.value.details == ["No catalog item with OBJECTID 15."]


def test_elevation_is_a_raster_service(services: dict) -> None:
    service = services["SampleElevation"]
    assert service.kind == "raster"
    assert service.data_type == "esriImageServiceDataTypeElevation"
    assert (service.pixel_type, service.band_names, service.source_no_data) == ("F32", ("Elevation",), -9999.0)
    assert service.fields == () and service.time_extent is None
    assert len(service.items) == 1 and service.items[0].name == "Elevation"
    assert service.default_mosaic_method == "Northwest" and service.sort_field is None


def test_statistics_are_exact_for_small_files_and_skip_nodata(services: dict, sample_root: Path) -> None:
    with rasterio.open(sample_root / "SampleElevation" / "Elevation.tif") as dataset:
        dem = dataset.read(1, masked=True).compressed().astype(np.float64)
    assert services["SampleElevation"].statistics == (
        pytest.approx((dem.min(), dem.max(), dem.mean(), dem.std())),)


def test_templates_fit_the_bands(services: dict) -> None:
    templates = services["SampleMultispectral"].raster_function_templates
    assert list(templates) == ["Natural Color", "Color Infrared", "SWIR", "NDVI Colorized", "NDVI Raw"]
    natural = templates["Natural Color"]
    assert natural["rasterFunction"] == "Stretch" and natural["outputPixelType"] == "U8"
    arguments = natural["rasterFunctionArguments"]
    assert (arguments["StretchType"], arguments["Min"], arguments["Max"]) == (5, 0, 255)
    assert arguments["Raster"]["rasterFunctionArguments"]["BandIDs"] == [2, 1, 0]
    statistics = services["SampleMultispectral"].statistics
    display_ranges = [[300, 2200], [450, 1900], [300, 1700]]          # from the sidecar's displayRanges
    assert arguments["Statistics"] == [[*display_ranges[i], *(round(v, 4) for v in statistics[b][2:])]
                                       for i, b in enumerate((2, 1, 0))]
    def composite_bands(name: str) -> list[int]:
        return templates[name]["rasterFunctionArguments"]["Raster"]["rasterFunctionArguments"]["BandIDs"]
    assert composite_bands("Color Infrared") == [3, 2, 1]
    assert composite_bands("SWIR") == [5, 3, 2]
    assert templates["NDVI Raw"] == {"rasterFunction": "NDVI", "rasterFunctionArguments": {
        "VisibleBandID": 2, "InfraredBandID": 3, "ScientificOutput": True}, "variableName": "Raster"}
    colorized = templates["NDVI Colorized"]
    assert colorized["rasterFunction"] == "Colormap"
    colormap = colorized["rasterFunctionArguments"]["Colormap"]
    assert [entry[0] for entry in colormap] == list(range(201))
    assert colormap[0] == [0, 0, 0, 110] and colormap[200] == [200, 0, 80, 20]
    elevation = services["SampleElevation"].raster_function_templates
    assert list(elevation) == ["Hillshade", "Slope Map", "Elevation Tinted"]
    assert elevation["Hillshade"]["rasterFunctionArguments"] == {"Azimuth": 315, "Altitude": 45, "ZFactor": 1}
    assert elevation["Slope Map"]["rasterFunctionArguments"]["Raster"]["rasterFunctionArguments"]["Raster"][
        "rasterFunction"] == "Slope"


def test_statistics_and_footprints_are_cached(sample_root: Path, services: dict) -> None:
    cache = json.loads((sample_root / "SampleMultispectral" / STATS_CACHE).read_text())
    assert len(cache) == 14
    entry = cache["SynthSat1_20250108.tif"]
    assert set(entry) == {"key", "statistics", "footprint"}
    assert len(entry["statistics"]) == 6 and len(entry["statistics"][0]) == 7
    again = load_services(sample_root)["SampleMultispectral"]
    assert again.statistics == services["SampleMultispectral"].statistics
    assert [i.footprint for i in again.items] == [i.footprint for i in services["SampleMultispectral"].items]


def test_a_changed_file_is_measured_again(tmp_path: Path) -> None:
    path = write_tif(tmp_path / "Single" / "a.tif", ones())
    assert load_services(tmp_path)["Single"].statistics == ((1.0, 1.0, 1.0, 0.0),)
    write_tif(path, ones() * 7)
    assert load_services(tmp_path)["Single"].statistics == ((7.0, 7.0, 7.0, 0.0),)


# ----------------------------------------------------------------------------------------------
# Users' folders


def test_folder_without_sidecar_is_a_mosaic_without_time(tmp_path: Path) -> None:
    write_tif(tmp_path / "Mine" / "b.tif", ones(3) * 4, origin=(501000.0, 4200000.0))
    write_tif(tmp_path / "Mine" / "a.tif", ones(3) * 2)
    service = load_services(tmp_path)["Mine"]
    assert service.kind == "mosaic"
    assert [item.name for item in service.items] == ["a", "b"]
    assert service.band_names == ("Band_1", "Band_2", "Band_3")
    assert service.extent == (500000.0, 4199000.0, 502000.0, 4200000.0)
    assert service.pixel_size == (100.0, 100.0)
    assert service.time_extent is None and service.start_time_field is None
    assert service.default_mosaic_method == "Northwest"
    assert service.description == "Images from Mine." and service.copyright_text == ""
    assert [f["name"] for f in service.fields] == ["OBJECTID", "Shape", "Name", "MinPS", "MaxPS", "CenterX",
                                                  "CenterY", "ZOrder", "Shape_Length", "Shape_Area"]
    assert service.items[0].footprint.equals(box(500000, 4199000, 501000, 4200000))   # no nodata: the bbox
    assert service.items[0].start_ms is None
    assert service.statistics == ((2.0, 4.0, 3.0, 1.0),) * 3                 # pooled over both files
    assert service.raster_function_templates == {}


def test_single_file_folder_and_root_file_are_raster_services(tmp_path: Path) -> None:
    write_tif(tmp_path / "OneFile" / "only.tif", ones(dtype="int16"))
    write_tif(tmp_path / "dem_2024.tif", ones(dtype="float32"), descriptions=("Height",))
    services = load_services(tmp_path)
    assert sorted(services) == ["OneFile", "dem_2024"]
    assert services["OneFile"].kind == services["dem_2024"].kind == "raster"
    assert services["OneFile"].pixel_type == "S16"
    assert services["dem_2024"].band_names == ("Height",)
    assert services["dem_2024"].folder == tmp_path
    assert services["dem_2024"].fields == ()


def test_footprint_is_the_valid_data_outline(tmp_path: Path) -> None:
    data = ones(size=20) * 5
    data[:, :, :8] = 0                            # the western 8 columns are NoData
    write_tif(tmp_path / "Half" / "half.tif", data, nodata=0)
    service = load_services(tmp_path)["Half"]
    footprint = service.items[0].footprint
    assert footprint.equals(box(500800, 4198000, 502000, 4200000))
    assert service.extent == (500000.0, 4198000.0, 502000.0, 4200000.0)
    assert service.statistics == ((5.0, 5.0, 5.0, 0.0),)


def test_sidecar_gives_names_time_and_typed_attributes(tmp_path: Path) -> None:
    folder = tmp_path / "Flights"
    write_tif(folder / "one.tif", ones())
    write_tif(folder / "two.tif", ones())
    (folder / "catalog.json").write_text(json.dumps({
        "description": "Drone flights", "copyrightText": "Me",
        "bandNames": ["Thermal"], "endTimeField": "EndDate",
        "items": [
            {"file": "one.tif", "Name": "Morning", "StartDate": "2024-05-01", "EndDate": "2024-05-01T12:00:00Z",
             "Pilot": "Ann", "Altitude": 120, "Score": 1, "Notes": None},
            {"file": "two.tif", "StartDate": "2024-05-02T08:00:00+02:00", "EndDate": "2024-05-02T09:00:00",
             "Pilot": "Bo", "Altitude": 95, "Score": 2.5, "Notes": {"wind": 3}},
        ],
    }))
    service = load_services(tmp_path)["Flights"]
    assert (service.description, service.copyright_text, service.band_names) == ("Drone flights", "Me", ("Thermal",))
    types = {f["name"]: f["type"].removeprefix("esriFieldType") for f in service.fields}
    assert {name: types[name] for name in ("StartDate", "EndDate", "Pilot", "Altitude", "Score", "Notes")} == {
        "StartDate": "Date", "EndDate": "Date", "Pilot": "String", "Altitude": "Integer", "Score": "Double",
        "Notes": "String"}
    one, two = service.items
    assert (one.name, two.name) == ("Morning", "two")
    assert (one.start_ms, one.end_ms) == (1714521600000, 1714564800000)
    assert (two.start_ms, two.end_ms) == (1714629600000, 1714640400000)   # no zone: UTC
    assert service.time_extent == (1714521600000, 1714640400000)
    assert (service.start_time_field, service.end_time_field) == ("StartDate", "EndDate")
    assert (service.default_mosaic_method, service.sort_field, service.sort_value, service.sort_ascending) == (
        "ByAttribute", "StartDate", "2100/01/01", True)                 # newest on top by default
    assert service.kind == "mosaic"
    assert two.attributes["Score"] == 2.5 and one.attributes["Score"] == 1.0
    assert one.attributes["Notes"] is None and two.attributes["Notes"] == '{"wind": 3}'


def test_single_file_with_time_is_a_mosaic(tmp_path: Path) -> None:
    write_tif(tmp_path / "Once" / "x.tif", ones())
    (tmp_path / "Once" / "catalog.json").write_text(json.dumps(
        {"items": [{"file": "x.tif", "AcquisitionDate": "2020-01-01"}]}))
    service = load_services(tmp_path)["Once"]
    assert service.kind == "mosaic" and service.time_extent == (1577836800000, 1577836800000)


def test_bad_names_hidden_and_empty_folders_are_skipped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    for name in ("bad name", "dots.too", ".hidden", "Good-One_2"):
        write_tif(tmp_path / name / "a.tif", ones())
    (tmp_path / "Empty").mkdir()
    write_tif(tmp_path / "not ok.tif", ones())
    (tmp_path / "readme.txt").write_text("hello")
    with caplog.at_level(logging.WARNING, logger="imageservice.server.catalog"):
        services = load_services(tmp_path)
    assert sorted(services) == ["Good-One_2"]
    assert sum("may only hold letters" in message for message in caplog.messages) == 3


def test_broken_sidecar_skips_only_that_service(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    write_tif(tmp_path / "Broken" / "a.tif", ones())
    (tmp_path / "Broken" / "catalog.json").write_text("{not json")
    write_tif(tmp_path / "BadAttribute" / "a.tif", ones())
    (tmp_path / "BadAttribute" / "catalog.json").write_text(json.dumps({"items": [{"file": "a.tif", "bad key": 1}]}))
    write_tif(tmp_path / "Fine" / "a.tif", ones())
    with caplog.at_level(logging.WARNING, logger="imageservice.server.catalog"):
        assert sorted(load_services(tmp_path)) == ["Fine"]
    assert any("attribute name 'bad key'" in message for message in caplog.messages)


def test_missing_and_mismatched_items_are_skipped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = tmp_path / "Mixed"
    write_tif(folder / "a.tif", ones(2))
    write_tif(folder / "b.tif", ones(3))                   # another band count
    write_tif(folder / "c.tif", ones(2), epsg=32611)       # another CRS
    write_tif(folder / "d.tif", ones(2))
    (folder / "catalog.json").write_text(json.dumps({"items": [
        {"file": "a.tif"}, {"file": "b.tif"}, {"file": "c.tif"}, {"file": "gone.tif"}, {"file": "../d.tif"},
        {"file": "d.tif"}]}))
    with caplog.at_level(logging.WARNING, logger="imageservice.server.catalog"):
        service = load_services(tmp_path)["Mixed"]
    assert [item.name for item in service.items] == ["a", "d"]
    assert [item.object_id for item in service.items] == [1, 2]
    assert len(caplog.messages) == 4


def test_open_dataset_is_cached_per_thread(services: dict) -> None:
    path = services["SampleElevation"].items[0].path
    mine = open_dataset(path)
    assert open_dataset(path) is mine and not mine.closed
    other: list = []
    thread = threading.Thread(target=lambda: other.append(open_dataset(path)))
    thread.start()
    thread.join()
    assert other[0] is not mine and other[0].name == mine.name
    mine.close()
    assert open_dataset(path) is not mine


def test_sidecar_service_keys_override_the_defaults(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    extract = {"rasterFunction": "ExtractBand", "rasterFunctionArguments": {"BandIDs": [1, 0, 2]}}
    ramp = np.arange(300, dtype="uint8").reshape(3, 10, 10)           # 0..99, 100..199, 200..299 mod 256
    write_tif(tmp_path / "Custom" / "a.tif", ramp, descriptions=("red", "Green", "BLUE"))
    write_tif(tmp_path / "Custom" / "b.tif", ramp)
    (tmp_path / "Custom" / "catalog.json").write_text(json.dumps({
        "serviceDataType": "Thematic", "defaultMosaicMethod": "Center", "sortField": "Name",
        "sortValue": "b", "sortAscending": False, "rasterFunctionTemplates": {"Swapped": extract}}))
    write_tif(tmp_path / "BadTemplates" / "a.tif", ones())
    (tmp_path / "BadTemplates" / "catalog.json").write_text(json.dumps({"rasterFunctionTemplates": ["x"]}))
    with caplog.at_level(logging.WARNING, logger="imageservice.server.catalog"):
        services = load_services(tmp_path)
    assert list(services) == ["Custom"]
    service = services["Custom"]
    assert service.data_type == "esriImageServiceDataTypeThematic"
    assert (service.default_mosaic_method, service.sort_field, service.sort_value, service.sort_ascending) == (
        "Center", "Name", "b", False)
    assert service.band_names == ("red", "Green", "BLUE")           # from the first file's descriptions
    assert list(service.raster_function_templates) == ["Natural Color", "Swapped"]
    assert service.raster_function_templates["Swapped"] == extract
    natural = service.raster_function_templates["Natural Color"]["rasterFunctionArguments"]
    assert natural["Raster"]["rasterFunctionArguments"]["BandIDs"] == [0, 1, 2]
    # Without displayRanges the composites stretch over the items' typical 2nd-98th percentiles.
    assert natural["Statistics"][0] == [1.98, 97.02, 49.5, round(float(np.arange(100).std()), 4)]
    assert natural["Statistics"][1][:2] == [101.98, 197.02]
    assert any("rasterFunctionTemplates must map names" in message for message in caplog.messages)


def test_sidecar_display_ranges_are_checked(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    for name, ranges in (("Short", [[0, 1]]), ("Upside", [[5, 1], [0, 1]]), ("Words", "wide"), ("Good", [[0, 9]] * 2)):
        write_tif(tmp_path / name / "a.tif", ones(2))
        (tmp_path / name / "catalog.json").write_text(json.dumps({"displayRanges": ranges}))
    with caplog.at_level(logging.WARNING, logger="imageservice.server.catalog"):
        assert list(load_services(tmp_path)) == ["Good"]
    assert sum("displayRanges must give a [low, high] pair for each of the 2 bands" in m for m in caplog.messages) == 3
