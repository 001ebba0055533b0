"""Raster functions against numpy computations on the same pixels, and the expression parser."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from rasterio.crs import CRS

from imageservice.server.catalog import Service
from imageservice.server.errors import BadParameter, UnableToComplete
from imageservice.server.expressions import parse
from imageservice.server.rasterfunctions import apply_rendering_rule, function_infos, required_bands

BANDS = ("Blue", "Green", "Red", "NIR")
STATISTICS = ((0.0, 1000.0, 400.0, 100.0), (0.0, 1000.0, 500.0, 50.0),
              (0.0, 2000.0, 600.0, 200.0), (0.0, 5000.0, 2500.0, 1000.0))
TEMPLATES = {
    "NDVI Scaled": {"rasterFunction": "NDVI", "rasterFunctionArguments": {
        "VisibleBandID": 2, "InfraredBandID": 3, "ScientificOutput": False}, "variableName": "Raster"},
    "Red Stretch": {"rasterFunction": "Stretch", "rasterFunctionArguments": {
        "StretchType": 5, "Statistics": [[0, 200, 100, 10]], "Min": 0, "Max": 255,
        "Raster": {"rasterFunction": "ExtractBand", "rasterFunctionArguments": {"BandIDs": [2]}}},
        "outputPixelType": "U8", "variableName": "Raster"},
}
RNG = np.random.default_rng(7)


def service(bands: tuple[str, ...] = BANDS, **changes) -> Service:
    """A service description; raster functions never open its files."""
    values = {
        "name": "Test", "folder": Path("."), "description": "", "copyright_text": "", "kind": "raster",
        "crs": CRS.from_epsg(32610), "extent": (0.0, 0.0, 100.0, 100.0), "pixel_size": (10.0, 10.0),
        "band_names": bands, "pixel_type": "U16", "source_no_data": 0.0,
        "statistics": STATISTICS[:len(bands)], "data_type": "esriImageServiceDataTypeGeneric",
        "time_extent": None, "start_time_field": None, "end_time_field": None, "items": (), "fields": (),
        "default_mosaic_method": "Northwest", "sort_field": None, "sort_value": None, "sort_ascending": True,
        "raster_function_templates": TEMPLATES,
    }
    values.update(changes)
    return Service(**values)


MS = service()
ONE_BAND = service(("A",))
EL = service(("Elevation",), statistics=((0.0, 500.0, 200.0, 80.0),),
             data_type="esriImageServiceDataTypeElevation", raster_function_templates={})


def pixels(bands: int = 4, shape: tuple[int, int] = (6, 7)) -> np.ma.MaskedArray:
    """U16 reflectances with a masked corner pixel."""
    data = RNG.integers(1, 3000, size=(bands, *shape)).astype(np.uint16)
    mask = np.zeros(data.shape, bool)
    mask[:, 0, 0] = True
    return np.ma.masked_array(data, mask=mask)


def apply(rule: dict | None, data: np.ma.MaskedArray, svc: Service = MS,
          cell: tuple[float, float] = (1.0, 1.0)) -> np.ma.MaskedArray:
    return apply_rendering_rule(rule, data, svc, cell)


def detail(error: pytest.ExceptionInfo) -> str:
    return error.value.details[0]


# -- None, NDVI, BandArithmetic ------------------------------------------------------------------

def test_none_returns_the_pixels():
    data = pixels()
    assert apply(None, data) is data
    assert apply({"rasterFunction": "None"}, data) is data


def test_ndvi_scientific_matches_numpy_exactly():
    data = pixels()
    out = apply({"rasterFunction": "NDVI", "rasterFunctionArguments": {
        "VisibleBandID": 2, "InfraredBandID": 3, "ScientificOutput": True}}, data)
    red, nir = data[2].data.astype(np.float64), data[3].data.astype(np.float64)
    expected = ((nir - red) / (nir + red)).astype(np.float32)
    assert out.dtype == np.float32 and out.shape == (1, 6, 7)
    assert np.array_equal(out[0].compressed(), np.ma.masked_array(expected, data.mask[0]).compressed())
    assert out.mask[0, 0, 0] and out.mask.sum() == 1


def test_ndvi_eight_bit_is_ndvi_times_100_plus_100():
    data = pixels()
    out = apply({"rasterFunction": "NDVI", "rasterFunctionArguments": {"VisibleBandID": 2, "InfraredBandID": 3}}, data)
    red, nir = data[2].data.astype(np.float64), data[3].data.astype(np.float64)
    assert out.dtype == np.uint8
    assert np.array_equal(out[0].data[1:], np.rint((nir - red) / (nir + red) * 100 + 100).astype(np.uint8)[1:])


def test_ndvi_defaults_to_bands_named_red_and_nir_and_masks_zero_sums():
    data = np.ma.masked_array(np.array([[[0, 5]], [[0, 5]], [[0, 1]], [[0, 3]]], np.uint16), mask=False)
    out = apply({"rasterFunction": "NDVI", "rasterFunctionArguments": {"ScientificOutput": "true"}}, data)
    assert out.mask[0].tolist() == [[True, False]] and out[0, 0, 1] == np.float32(0.5)


def test_ndvi_band_out_of_range():
    with pytest.raises(BadParameter) as error:
        apply({"rasterFunction": "NDVI", "rasterFunctionArguments": {"VisibleBandID": 2, "InfraredBandID": 4}},
              pixels())
    assert detail(error) == "Raster function 'NDVI': 'InfraredBandID' 4 is out of range: the input has 4 band(s)."


def band_arithmetic(method: int, indexes: str) -> dict:
    return {"rasterFunction": "BandArithmetic", "rasterFunctionArguments": {"Method": method, "BandIndexes": indexes}}


def test_band_arithmetic_expression_matches_numpy():
    data = pixels()
    out = apply(band_arithmetic(0, "(B4 - B3) / (B4 + B3) * 2 + sqrt(b1) - -B2 ** 0.5"), data)
    b = data.data.astype(np.float64)
    expected = (b[3] - b[2]) / (b[3] + b[2]) * 2 + np.sqrt(b[0]) - -(b[1] ** 0.5)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out[0].data[1:], expected.astype(np.float32)[1:])
    assert out.mask[0, 0, 0]


@pytest.mark.parametrize("method, indexes, formula", [
    (1, "4 3", lambda n, r: (n - r) / (n + r)),
    (2, "4 3 0.5", lambda n, r: (n - r) / (n + r + 0.5) * 1.5),
    (3, "4 3 0.33 0.5 1.5",
     lambda n, r: 0.33 * (n - 0.33 * r - 0.5) / (0.5 * n + r - 0.5 * 0.33 + 1.5 * (1 + 0.33 ** 2))),
    (4, "4 3", lambda n, r: (2 * n + 1 - np.sqrt((2 * n + 1) ** 2 - 8 * (n - r))) / 2),
    (6, "4 3 0.3 0.5", lambda n, r: (n - 0.3 * r - 0.5) / math.sqrt(1 + 0.3 ** 2)),
])
def test_band_arithmetic_indices_match_their_formulas(method, indexes, formula):
    data = pixels()
    out = apply(band_arithmetic(method, indexes), data)
    nir, red = data[3].data.astype(np.float64), data[2].data.astype(np.float64)
    np.testing.assert_array_equal(out[0].data[1:], formula(nir, red).astype(np.float32)[1:])


def test_band_arithmetic_gemi_on_reflectance():
    data = np.ma.masked_array(np.array([[[0.1]], [[0.1]], [[0.05]], [[0.4]]]), mask=False)
    out = apply(band_arithmetic(5, "4 3"), data)
    nir, red = 0.4, 0.05
    eta = (2 * (nir ** 2 - red ** 2) + 1.5 * nir + 0.5 * red) / (nir + red + 0.5)
    assert out[0, 0, 0] == np.float32(eta * (1 - 0.25 * eta) - (red - 0.125) / (1 - red))


@pytest.mark.parametrize("method, indexes, message", [
    (1, "5 3", "band B5 is out of range: the input has 4 band(s) (B1..B4)."),
    (0, "B1 + B9", "band B9 is out of range: the input has 4 band(s) (B1..B4)."),
    (2, "4 3", "Method 2 (SAVI) needs 'BandIndexes' as NIR Red L."),
    (7, "1 2 3 4 5 6", "Method 7 is not supported (0 user defined, 1 NDVI, 2 SAVI, 3 TSAVI, 4 MSAVI, 5 GEMI, 6 PVI)."),
    (0, "2 + 3", "the expression must use at least one band (B1, B2, ...)."),
])
def test_band_arithmetic_errors(method, indexes, message):
    with pytest.raises(BadParameter) as error:
        apply(band_arithmetic(method, indexes), pixels())
    assert detail(error) == f"Raster function 'BandArithmetic': {message}"


# -- ExtractBand, Stretch ------------------------------------------------------------------------

def test_extract_band_by_ids_and_by_names():
    data = pixels()
    by_ids = apply({"rasterFunction": "ExtractBand", "rasterFunctionArguments": {"BandIDs": [3, 0]}}, data)
    assert np.array_equal(by_ids.data, data.data[[3, 0]]) and np.array_equal(by_ids.mask, data.mask[[3, 0]])
    by_names = apply({"rasterFunction": "ExtractBand", "rasterFunctionArguments": {"bandnames": ["nir", "Blue"]}}, data)
    assert np.array_equal(by_names.data, by_ids.data)
    lower_case = apply({"rasterfunction": "extractband", "rasterfunctionarguments": {"bandids": "3,0"}}, data)
    assert np.array_equal(lower_case.data, by_ids.data)


@pytest.mark.parametrize("arguments, message", [
    ({"BandIDs": [4]}, "'BandIDs' 4 is out of range: the input has 4 band(s)."),
    ({"BandNames": ["SWIR"]}, "unknown band name(s) ['SWIR']; the bands are ['Blue', 'Green', 'Red', 'NIR']."),
    ({}, "'BandIDs' or 'BandNames' is required."),
    ({"BandIDs": "one"}, "'BandIDs' must be a list of numbers."),
])
def test_extract_band_errors(arguments, message):
    with pytest.raises(BadParameter) as error:
        apply({"rasterFunction": "ExtractBand", "rasterFunctionArguments": arguments}, pixels())
    assert detail(error) == f"Raster function 'ExtractBand': {message}"


def stretched(values: np.ndarray, low: float, high: float, out_low: float = 0, out_high: float = 255) -> np.ndarray:
    return np.rint(out_low + np.clip((values - low) / (high - low), 0, 1) * (out_high - out_low))


def test_stretch_min_max_with_statistics_argument():
    data = pixels(2)
    rule = {"rasterFunction": "Stretch", "rasterFunctionArguments": {
        "StretchType": 5, "Statistics": [[100, 2100, 0, 0], [0, 1000, 0, 0]]}}
    out = apply(rule, data, service(("A", "B")))
    assert out.dtype == np.uint8
    assert np.array_equal(out.data[0, 1:], stretched(data.data[0].astype(float), 100, 2100)[1:])
    assert np.array_equal(out.data[1, 1:], stretched(data.data[1].astype(float), 0, 1000)[1:])
    assert out.mask[:, 0, 0].all()


def test_stretch_standard_deviation_uses_service_statistics():
    data = pixels()
    out = apply({"rasterFunction": "Stretch", "rasterFunctionArguments": {
        "StretchType": 3, "NumberOfStandardDeviations": 1.5}}, data)
    for band, (_, _, mean, stdv) in enumerate(STATISTICS):
        expected = stretched(data.data[band].astype(float), mean - 1.5 * stdv, mean + 1.5 * stdv)
        assert np.array_equal(out.data[band, 1:], expected[1:])


def test_stretch_dra_uses_the_current_pixels_and_output_range():
    data = pixels(1)
    out = apply({"rasterFunction": "Stretch", "rasterFunctionArguments": {
        "StretchType": 5, "DRA": True, "Min": 10, "Max": 20}}, data, ONE_BAND)
    valid = data[0].compressed().astype(float)
    expected = stretched(data.data[0].astype(float), valid.min(), valid.max(), 10, 20)
    assert np.array_equal(out.data[0, 1:], expected[1:])
    assert out.data[0].max() == 20 and out[0].min() == 10


def test_stretch_percent_clip_and_gamma():
    data = np.ma.masked_array(np.arange(101, dtype=np.float32).reshape(1, 1, 101), mask=False)
    out = apply({"rasterFunction": "Stretch", "rasterFunctionArguments": {
        "StretchType": 6, "MinPercent": 10, "MaxPercent": 20}}, data, ONE_BAND)
    assert out[0, 0, :12].tolist() == [0] * 11 + [4] and out[0, 0, 80:].tolist() == [255] * 21
    gamma = apply({"rasterFunction": "Stretch", "rasterFunctionArguments": {
        "StretchType": 5, "Statistics": [[0, 100, 50, 10]], "Gamma": [2]}}, data, ONE_BAND)
    assert gamma[0, 0, 25] == np.rint(255 * 0.25 ** 0.5)


def test_stretch_of_derived_values_uses_their_statistics():
    data = pixels()
    rule = {"rasterFunction": "Stretch", "rasterFunctionArguments": {"StretchType": 5, "Raster": {
        "rasterFunction": "NDVI", "rasterFunctionArguments": {"ScientificOutput": True}}}}
    out = apply(rule, data)
    assert out[0].min() == 0 and out[0].max() == 255


def test_stretch_errors():
    with pytest.raises(BadParameter) as error:
        apply({"rasterFunction": "Stretch", "rasterFunctionArguments": {"StretchType": 4}}, pixels())
    assert "StretchType 4 is not supported" in detail(error)
    with pytest.raises(BadParameter) as error:
        apply({"rasterFunction": "Stretch", "rasterFunctionArguments": {"StretchType": 5, "Statistics": [[1, 2]]}},
              pixels())
    assert detail(error) == "Raster function 'Stretch': 'Statistics' must be a list of [min, max, mean, stdv] per band."


# -- Colormap ------------------------------------------------------------------------------------

def test_explicit_colormap_colours_values_and_masks_the_rest():
    data = np.ma.masked_array(np.array([[[1, 2, 3, 2]]], np.uint8), mask=[[[False, False, False, True]]])
    rule = {"rasterFunction": "Colormap", "rasterFunctionArguments": {"Colormap": [[2, 0, 128, 0], [1, 10, 20, 30]]}}
    out = apply(rule, data, ONE_BAND)
    assert out.dtype == np.uint8 and out.shape == (3, 1, 4)
    assert out[:, 0, 0].tolist() == [10, 20, 30] and out[:, 0, 1].tolist() == [0, 128, 0]
    assert out.mask[:, 0, 2:].all() and not out.mask[:, 0, :2].any()


def named_colormap(name: str) -> dict:
    return {"rasterFunction": "Colormap", "rasterFunctionArguments": {"ColormapName": name}}


def test_named_colormaps():
    data = np.ma.masked_array(np.array([[[0, 100, 255, 300]]], np.float32), mask=False)
    gray = apply(named_colormap("Gray"), data, ONE_BAND)
    assert gray[:, 0, :3].T.tolist() == [[0, 0, 0], [100, 100, 100], [255, 255, 255]] and gray.mask[:, 0, 3].all()
    random = [apply(named_colormap("random"), data, ONE_BAND) for _ in range(2)]
    assert np.array_equal(random[0], random[1])
    ndvi = apply(named_colormap("NDVI"), data, ONE_BAND)
    assert ndvi[:, 0, 0].tolist() == [0, 0, 140] and ndvi[:, 0, 2].tolist() == [0, 60, 0]
    with pytest.raises(BadParameter) as error:
        apply(named_colormap("Rainbow"), data, ONE_BAND)
    assert "unknown ColormapName 'Rainbow'" in detail(error)


def test_colormap_of_a_nested_extract_band():
    data = pixels()
    data[1] = 7
    rule = {"rasterFunction": "Colormap", "rasterFunctionArguments": {
        "Colormap": [[7, 1, 2, 3]],
        "Raster": {"rasterFunction": "ExtractBand", "rasterFunctionArguments": {"BandIDs": [1]}}}}
    out = apply(rule, data)
    assert out[:, 3, 3].tolist() == [1, 2, 3]
    assert required_bands(rule, MS) == [1]


# -- Terrain -------------------------------------------------------------------------------------

def plane(dzdx: float, dzdy: float = 0.0, size: int = 5) -> np.ma.MaskedArray:
    """A plane rising `dzdx` per metre to the east and `dzdy` per metre to the south."""
    rows, cols = np.indices((size, size), dtype=np.float64)
    return np.ma.masked_array((cols * dzdx + rows * dzdy)[np.newaxis].astype(np.float32), mask=False)


def terrain(name: str, data: np.ma.MaskedArray, **arguments) -> np.ma.MaskedArray:
    """The function's values on the inner cells (the edge cells lack neighbours)."""
    rule = {"rasterFunction": name, "rasterFunctionArguments": arguments, "variableName": "DEM"}
    return apply(rule, data, EL)[:, 1:-1, 1:-1]


def test_hillshade_lit_face_dark_face_and_flat_ground():
    east_rising = plane(1.0)                                    # 45 degrees, facing west
    assert (terrain("Hillshade", east_rising, Azimuth=270, Altitude=45) == 255).all()
    assert (terrain("Hillshade", east_rising, Azimuth=90, Altitude=45) == 1).all()
    flat = terrain("Hillshade", plane(0.0))
    assert flat.dtype == np.uint8 and (flat == round(255 * math.cos(math.radians(45)))).all()


def test_hillshade_matches_the_formula_on_a_tilted_plane():
    data = plane(0.3, -0.2)
    out = terrain("Hillshade", data, Azimuth=315, Altitude=30, ZFactor=2)
    dzdx, dzdy = 0.6, -0.4
    slope = math.atan(math.hypot(dzdx, dzdy))
    aspect = math.atan2(dzdy, -dzdx) % (2 * math.pi)
    zenith, sun = math.radians(60), math.radians(360 - 315 + 90)
    expected = 255 * (math.cos(zenith) * math.cos(slope) + math.sin(zenith) * math.sin(slope) * math.cos(sun - aspect))
    assert (out == round(expected)).all()


def test_terrain_uses_the_cell_size_and_centre_values_for_missing_neighbours():
    data = plane(10.0, size=7)                                  # z = 10 * column, 10 m cells
    data[0, 3, 3] = np.ma.masked
    out = apply({"rasterFunction": "Slope"}, data, EL, (10.0, 10.0))
    assert out.mask[0, 3, 3] and out.mask.sum() == 1
    assert out[0, 1, 1] == np.float32(45.0)
    # beyond the west edge counts as the centre (0): dz/dx = (4 * 10 - 4 * 0) / 80
    assert out[0, 1, 0] == np.float32(math.degrees(math.atan(0.5)))
    # the masked east neighbour of (3, 2) counts as its centre (20): ((30 + 2 * 20 + 30) - 4 * 10) / 80
    assert out[0, 3, 2] == np.float32(math.degrees(math.atan(0.75)))


def test_slope_degrees_percent_and_z_factor():
    assert np.allclose(terrain("Slope", plane(1.0)).compressed(), 45.0)
    assert np.allclose(terrain("Slope", plane(1.0), ZFactor=2).compressed(), math.degrees(math.atan(2)))
    assert np.allclose(terrain("Slope", plane(0.5), SlopeType=2).compressed(), 50.0)


def test_aspect_faces_downhill():
    assert np.allclose(terrain("Aspect", plane(1.0)).compressed(), 270.0)       # rises east, faces west
    assert np.allclose(terrain("Aspect", plane(0.0, 1.0)).compressed(), 0.0)    # rises south, faces north
    assert (terrain("Aspect", plane(0.0)) == -1).all()


def test_terrain_errors():
    with pytest.raises(BadParameter):
        terrain("Hillshade", plane(1.0), HillshadeType=1)
    with pytest.raises(BadParameter):
        terrain("Hillshade", plane(1.0), SlopeType=3)
    with pytest.raises(BadParameter):
        terrain("Hillshade", plane(1.0), Azimuth="west")


# -- Chains, templates, pixel types, errors ------------------------------------------------------

def test_templates_by_name_with_call_arguments_overriding():
    data = pixels()
    scaled = apply({"rasterFunction": "ndvi scaled"}, data)
    assert scaled.dtype == np.uint8
    scientific = apply({"rasterFunction": "NDVI Scaled", "rasterFunctionArguments": {"scientificoutput": True}}, data)
    red, nir = data[2].data.astype(np.float64), data[3].data.astype(np.float64)
    assert np.array_equal(scientific[0].data[1:], ((nir - red) / (nir + red)).astype(np.float32)[1:])
    nested = apply({"rasterFunction": "Red Stretch", "rasterFunctionArguments": {"BandIDs": [1]}}, data)
    assert np.array_equal(nested[0].data[1:], stretched(data.data[1].astype(float), 0, 200)[1:])
    assert required_bands({"rasterFunction": "Red Stretch", "rasterFunctionArguments": {"BandIDs": [1]}}, MS) == [1]


def test_output_pixel_type_converts_the_result():
    data = pixels()
    rule = {"rasterFunction": "NDVI", "rasterFunctionArguments": {"ScientificOutput": True}, "outputPixelType": "S16"}
    out = apply(rule, data)
    assert out.dtype == np.int16 and set(np.unique(out.compressed())) <= {-1, 0, 1}
    rule = {"rasterFunction": "ExtractBand", "rasterFunctionArguments": {"BandIDs": [3]}, "outputPixelType": "U8"}
    assert apply(rule, data).compressed().max() == 255


def test_required_bands_read_only_what_the_rule_needs():
    data = pixels()
    rules = [
        ({"rasterFunction": "NDVI", "rasterFunctionArguments": {"VisibleBandID": 2, "InfraredBandID": 3}}, [2, 3]),
        ({"rasterFunction": "ExtractBand", "rasterFunctionArguments": {"BandIDs": [3, 0, 3]}}, [0, 3]),
        (band_arithmetic(0, "B4 - B1"), [0, 3]),
        ({"rasterFunction": "Stretch", "rasterFunctionArguments": {"Raster": {
            "rasterFunction": "NDVI", "rasterFunctionArguments": {}}}}, [2, 3]),
        ({"rasterFunction": "Stretch"}, None),
        ({"rasterFunction": "None"}, None),
        (None, None),
    ]
    for rule, bands in rules:
        assert required_bands(rule, MS) == bands
        if bands is not None:
            assert np.array_equal(apply(rule, data[bands]), apply(rule, data))
    assert required_bands({"rasterFunction": "Hillshade"}, EL) == [0]


def test_unknown_functions_and_definitions_are_errors():
    with pytest.raises(UnableToComplete) as error:
        apply({"rasterFunction": "Nope"}, pixels())
    assert detail(error) == "Raster function 'Nope' is not supported."
    with pytest.raises(UnableToComplete):
        apply({"rasterFunctionDefinition": {"name": "x"}}, pixels())
    with pytest.raises(UnableToComplete):
        apply({"rasterFunction": "Stretch", "rasterFunctionArguments": {"Raster": {"url": "http://x/ImageServer"}}},
              pixels())
    with pytest.raises(BadParameter):
        apply({"rasterFunctionArguments": {}}, pixels())
    with pytest.raises(BadParameter):
        apply({"rasterFunction": "NDVI", "rasterFunctionArguments": {"VisibleBandID": "red"}}, pixels())


def test_function_infos_list_none_first_then_templates_then_what_applies():
    names = [info["name"] for info in function_infos(MS)]
    assert names == ["None", "NDVI Scaled", "Red Stretch", "Stretch", "NDVI"]
    assert function_infos(MS)[2]["description"] == "Applies ExtractBand, then Stretch."
    assert [info["name"] for info in function_infos(EL)] == ["None", "Stretch", "Hillshade", "Slope", "Aspect"]
    with_hillshade_template = service(("Elevation",), raster_function_templates={
        "hillshade": {"rasterFunction": "Hillshade", "rasterFunctionArguments": {"Azimuth": 300}}})
    assert [info["name"] for info in function_infos(with_hillshade_template)] == [
        "None", "hillshade", "Stretch", "Slope", "Aspect"]
    assert all(set(info) == {"name", "description", "help"} for info in function_infos(MS))


# -- expressions ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text, value", [
    ("2 + 3 * 4", 14), ("(2 + 3) * 4", 20), ("2 ** 3 ** 2", 512), ("-2 ** 2", -4), ("2 ^ 3", 8),
    ("10 / 4 / 5", 0.5), ("8 - 3 - 2", 3), ("--3", 3), ("2 * -3", -6), ("2 ** -1", 0.5),
    ("max(1, 2) + min(3, abs(-4))", 5), ("1e2 + .5", 100.5), ("sqrt(16) + log10(100) + exp(0) + log(1)", 7),
])
def test_expression_precedence(text, value):
    expression = parse(text + " + 0 * B1")
    assert expression.evaluate({1: np.array([1.0])})[0] == value


def test_expression_bands_are_one_based_and_case_insensitive():
    expression = parse("b2 * B10 - B2")
    assert expression.bands == [2, 10]
    assert expression.evaluate({2: np.array([3]), 10: np.array([5], np.uint16)}).tolist() == [12.0]


def test_expression_division_by_zero_gives_inf_not_an_exception():
    assert np.isinf(parse("B1 / 0").evaluate({1: np.array([1.0])})).all()


@pytest.mark.parametrize("text, message", [
    ("__import__('os').system('true')", "unexpected character ''' at position 12"),
    ("__import__(B1)", "unknown name '__import__' (bands are B1, B2, ...) at position 1"),
    ("B1.real", "unexpected character '.' at position 3"),
    ("eval(B1)", "unknown name 'eval' (bands are B1, B2, ...) at position 1"),
    ("B0 + 1", "unknown name 'B0' (bands are B1, B2, ...) at position 1"),
    ("B1 +", "unexpected end of expression at position 5"),
    ("(B1 + 2", "expected ')' at position 8"),
    ("B1 B2", "unexpected 'B2' at position 4"),
    ("sqrt(B1, B2)", "sqrt() takes 1 argument(s) at position 1"),
    ("", "empty expression at position 1"),
    ("[B1]", "unexpected character '[' at position 1"),
    ("(" * 100 + "B1" + ")" * 100, "too deeply nested at position 65"),
])
def test_expression_errors_name_the_position(text, message):
    with pytest.raises(BadParameter) as error:
        parse(text)
    assert detail(error) == f"Invalid band arithmetic expression: {message}."
