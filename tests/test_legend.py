"""The legend derived from the rendering when a service has no legend operation."""

from __future__ import annotations

from callbacks.legend import colormap_gradient, derived_legend

NAMES = ["Blue", "Green", "Red", "NIR", "SWIR1", "SWIR2"]
OPTIONS = {"band_names": NAMES, "default_function": "Natural Color"}
URL = "http://127.0.0.1:9/arcgis/rest/services/S/ImageServer"


def test_the_service_default_names_the_function_and_its_bands():
    legend = derived_legend({"url": URL}, OPTIONS)
    assert legend["title"] == "Service default (Natural Color)"
    assert legend["rows"] == [("Red", "Red"), ("Green", "Green"), ("Blue", "Blue")]


def test_chosen_bands_and_one_band_in_grey():
    assert derived_legend({"url": URL, "band_ids": [3, 2, 1]}, OPTIONS)["rows"] == [
        ("Red", "NIR"), ("Green", "Red"), ("Blue", "Green")]
    assert derived_legend({"url": URL, "band_ids": [3]}, OPTIONS)["rows"] == [("Grey", "NIR")]


def test_templates_by_name_and_a_custom_colormap():
    infrared = derived_legend({"url": URL, "rendering_rule": {"rasterFunction": "Color Infrared"}}, OPTIONS)
    assert infrared["title"] == "Color Infrared" and [label for _, label in infrared["rows"]] == ["NIR", "Red", "Green"]
    ndvi = derived_legend({"url": URL, "rendering_rule": {"rasterFunction": "NDVI Colorized"}}, OPTIONS)
    assert ndvi["ramp"][0] == "NDVI" and ndvi["rows"] == []
    rule = {"rasterFunction": "Colormap", "rasterFunctionArguments": {"Colormap": [[0, 0, 0, 255], [1, 255, 0, 0]]}}
    assert colormap_gradient({"rasterFunction": "Stretch", "rasterFunctionArguments": {"Raster": rule}}) == (
        "linear-gradient(to right, rgb(0,0,255), rgb(255,0,0))")
    custom = derived_legend({"url": URL, "rendering_rule": rule}, OPTIONS)
    assert custom["ramp"][1].startswith("linear-gradient") and custom["title"] == "Colormap"
