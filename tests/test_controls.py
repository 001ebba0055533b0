"""The control panel's pure helpers (service options, control values ↔ params, the time slider) and
its callbacks, called as plain functions."""

from __future__ import annotations

import pytest
from dash import no_update

from callbacks import band_choice, control_options, control_params, controls, time_slider, urlstate
from imageservice.errors import ParameterError
from imageservice.metadata import parse_service_info
from components import controls as control_panel
from imageservice.params import PIXEL_TYPES, LayerParams
from imageservice.presets import band_presets, band_roles

URL = "http://127.0.0.1:9/arcgis/rest/services/S/ImageServer/"
DATES = [1736361600000, 1738608420000, 1740854400000]
ROOT = {
    "name": "S",
    "bandCount": 4,
    "bandNames": ["Blue", "Green", "Red", "NIR"],
    "extent": {"xmin": 0, "ymin": 0, "xmax": 1, "ymax": 1, "spatialReference": {"wkid": 3857}},
    "rasterFunctionInfos": [{"name": "None"}, {"name": "Natural Color"}, {"name": "Stretch"}],
    "allowedMosaicMethods": "NorthWest,ByAttribute",
    "fields": [
        {"name": "OBJECTID", "type": "esriFieldTypeOID"},
        {"name": "Shape", "type": "esriFieldTypeGeometry"},
        {"name": "CloudCover", "type": "esriFieldTypeDouble"},
        {"name": "AcquisitionDate", "type": "esriFieldTypeDate"},
    ],
    "timeInfo": {"startTimeField": "AcquisitionDate", "timeExtent": [1736294400000, 1740900000000]},
}
INFO = parse_service_info(ROOT)
OPTIONS = control_options.service_options(INFO, DATES[::-1])
TIME = OPTIONS["time"]
CONTROLS = {
    "band_r": None, "band_g": None, "band_b": None, "pixel_type": None, "no_data": "",
    "no_data_interpretation": None, "rendering_rule": None, "custom_rule": "", "mosaic_method": None,
    "sort_field": None, "sort_value": "", "sort_ascending": True, "mosaic_operation": None,
    "time_range": [TIME["min"], TIME["max"]], "opacity": 1.0, "position": "front", "image_format": "jpgpng",
}
BASE = LayerParams(url=URL).to_dict()


# --- presets -----------------------------------------------------------------------------------

def test_presets_offer_only_composites_whose_bands_exist():
    assert band_presets(["Blue", "Green", "Red", "NIR"]) == {
        "Natural Color": [2, 1, 0],
        "Color Infrared": [3, 2, 1],
        "Single band: Blue": [0],
        "Single band: Green": [1],
        "Single band: Red": [2],
        "Single band: NIR": [3],
    }
    assert band_presets(["Elevation"]) == {"Single band: Elevation": [0]}


def test_presets_match_common_band_spellings():
    names = ["Coastal", "Blue", "Green", "Red", "Near Infrared", "SWIR 1", "SWIR_2"]
    assert band_roles(names) == {"blue": 1, "green": 2, "red": 3, "nir": 4, "swir1": 5, "swir2": 6}
    presets = band_presets(names)
    assert presets["SWIR"] == [6, 4, 3]
    assert presets["Agriculture"] == [5, 4, 1]


# --- service options ---------------------------------------------------------------------------

def test_service_options_from_service_info_and_dates():
    assert OPTIONS == {
        "band_names": ["Blue", "Green", "Red", "NIR"],
        "presets": band_presets(["Blue", "Green", "Red", "NIR"]),
        "raster_functions": ["None", "Natural Color", "Stretch"],
        "default_function": "None",
        "extent": list(INFO.extent_latlng),
        "mosaic_methods": [["NorthWest", "esriMosaicNorthwest"], ["ByAttribute", "esriMosaicAttribute"]],
        "sort_fields": ["CloudCover", "AcquisitionDate"],
        "time": {"min": 1736294400000, "max": 1740900000000, "dates": DATES},
    }
    assert control_options.date_field(INFO) == "AcquisitionDate"


def test_a_service_without_time_disables_the_slider():
    info = parse_service_info({**ROOT, "timeInfo": None})
    assert control_options.service_options(info, [])["time"] is None
    assert time_slider.slider_config(None) == {"min": 0, "max": 1, "marks": None, "step": 1, "disabled": True}
    assert time_slider.time_label(None, None) == "The service is not time-aware."


def test_slider_snaps_to_acquisition_dates_and_labels_the_ends():
    assert time_slider.slider_config(TIME) == {
        "min": 1736294400000,
        "max": 1740900000000,
        "marks": {"1736361600000": "Jan 2025", "1738608420000": "", "1740854400000": "Mar 2025"},
        "step": None,
        "disabled": False,
    }


# --- control values → params -------------------------------------------------------------------

def test_band_ids_from_the_three_dropdowns():
    assert control_params.band_ids_from(None, None, None) is None
    assert control_params.band_ids_from(3, None, None) == [3]
    assert control_params.band_ids_from(3, 2, 1) == [3, 2, 1]
    assert control_params.band_ids_from(0, 0, 0) == [0, 0, 0]
    assert control_params.band_ids_from(3, 2, None) is None  # incomplete: the service default


def test_an_incomplete_band_triple_names_what_is_missing():
    assert control_params.missing_bands(None, None, None) == control_params.missing_bands(3, None, None) == []
    assert control_params.missing_bands(3, None, 1) == ["Green"]
    assert control_params.missing_bands(None, 2, None) == ["Red", "Blue"]


def test_rendering_rule_custom_json_wins_over_the_template():
    assert control_params.rendering_rule_from(None, "") is None
    assert control_params.rendering_rule_from("Stretch", "  ") == {"rasterFunction": "Stretch"}
    assert control_params.rendering_rule_from("Stretch", '{"rasterFunction": "None"}') == {"rasterFunction": "None"}
    with pytest.raises(ParameterError, match="not valid JSON"):
        control_params.rendering_rule_from(None, '{"rasterFunction": ')


def test_mosaic_rule_from_its_controls():
    assert control_params.mosaic_rule_from(None, None, "", True, None) is None
    assert control_params.mosaic_rule_from("esriMosaicNorthwest", None, "", True, "MT_LAST") == {
        "mosaicMethod": "esriMosaicNorthwest", "mosaicOperation": "MT_LAST"}
    assert control_params.mosaic_rule_from("esriMosaicAttribute", "CloudCover", " 0 ", False, None) == {
        "mosaicMethod": "esriMosaicAttribute", "sortField": "CloudCover", "sortValue": "0", "ascending": False}
    with pytest.raises(ParameterError, match="needs a sort field"):
        control_params.mosaic_rule_from("esriMosaicAttribute", None, "", True, None)
    with pytest.raises(ParameterError, match="choose a mosaic method first"):
        control_params.mosaic_rule_from(None, None, "", True, "MT_MIN")


def test_the_full_time_range_is_no_filter():
    assert time_slider.time_from_range([TIME["min"], TIME["max"]], TIME) == (None, None)
    assert time_slider.time_from_range(None, TIME) == (None, None)
    assert time_slider.time_from_range([DATES[1], DATES[1]], TIME) == (DATES[1], DATES[1])
    assert time_slider.time_label([DATES[0], DATES[1]], TIME) == "2025-01-08 18:40 – 2025-02-03 18:47 UTC"
    assert time_slider.time_label([DATES[1], DATES[1]], TIME) == "2025-02-03 18:47 UTC"
    assert time_slider.time_label([TIME["min"], TIME["max"]], TIME) == "All dates"


def test_params_from_controls_uses_every_control():
    values = {**CONTROLS, "band_r": 3, "band_g": 2, "band_b": 1, "pixel_type": "U8", "no_data": "0",
              "custom_rule": '{"rasterFunction":"Stretch","rasterFunctionArguments":{"StretchType":5}}',
              "mosaic_method": "esriMosaicNorthwest", "mosaic_operation": "MT_FIRST",
              "time_range": [DATES[0], DATES[1]], "opacity": 0.5, "position": "back", "image_format": "png"}
    params, errors = control_params.params_from_controls(BASE, OPTIONS, **values)
    assert errors == dict.fromkeys(control_params.ERROR_GROUPS, "")
    assert params == LayerParams(
        url=URL, band_ids=[3, 2, 1], pixel_type="U8", no_data=0, no_data_interpretation="esriNoDataMatchAny",
        rendering_rule={"rasterFunction": "Stretch", "rasterFunctionArguments": {"StretchType": 5}},
        mosaic_rule={"mosaicMethod": "esriMosaicNorthwest", "mosaicOperation": "MT_FIRST"},
        time_from=DATES[0], time_to=DATES[1], opacity=0.5, position="back", format="png",
    ).to_dict()


def test_invalid_controls_give_messages_and_the_others_still_apply():
    current = LayerParams(url=URL, band_ids=[3, 2, 1], no_data=5,
                          rendering_rule={"rasterFunction": "Stretch"}).to_dict()
    values = {**CONTROLS, "band_r": 1, "band_g": 2, "pixel_type": "U8", "no_data": "zero",
              "custom_rule": "Natural Color", "opacity": 0.5}
    params, errors = control_params.params_from_controls(current, OPTIONS, **values)
    # the incomplete bands fall back to the service default; the invalid groups keep their last
    # good values; the valid controls (pixel type, opacity) apply
    assert params == {**current, "band_ids": None, "pixel_type": "U8", "opacity": 0.5}
    assert errors["bands"] == "Blue band missing: the service default bands are shown"
    assert errors["no_data"] == ("no_data must be a number or comma-separated numbers; got 'zero'"
                                 " (the map keeps the last valid setting)")
    assert errors["rule"].startswith("rendering_rule must be a JSON object, not a bare name")
    assert errors["rule"].endswith(control_params.KEPT)
    assert (errors["mosaic"], errors["time"], errors["display"]) == ("", "", "")


def test_controls_from_params_is_the_inverse_of_params_from_controls():
    params = LayerParams(
        url=URL, band_ids=[3], no_data=[0, 0, 0], no_data_interpretation="esriNoDataMatchAll",
        rendering_rule={"rasterFunction": "Natural Color"},
        mosaic_rule={"mosaicMethod": "esriMosaicAttribute", "sortField": "CloudCover", "sortValue": "0",
                     "ascending": False},
        time_from=DATES[0], time_to=DATES[2], opacity=0.25, format="png",
    ).to_dict()
    values = control_params.controls_from_params(params, OPTIONS)
    assert values == {
        **CONTROLS, "band_r": 3, "no_data": "0,0,0", "no_data_interpretation": "esriNoDataMatchAll",
        "rendering_rule": "Natural Color", "mosaic_method": "esriMosaicAttribute", "sort_field": "CloudCover",
        "sort_value": "0", "sort_ascending": False, "time_range": [DATES[0], DATES[2]], "opacity": 0.25,
        "image_format": "png",
    }
    assert control_params.params_from_controls(BASE, OPTIONS, **values)[0] == params


def test_a_rule_that_is_not_a_plain_template_shows_as_custom_json():
    params = LayerParams(url=URL, rendering_rule={"rasterFunction": "NDVI", "rasterFunctionArguments": {}}).to_dict()
    values = control_params.controls_from_params(params, OPTIONS)
    assert (values["rendering_rule"], values["custom_rule"]) == (
        None, '{"rasterFunction": "NDVI", "rasterFunctionArguments": {}}')


# --- callbacks ---------------------------------------------------------------------------------

def test_apply_controls_writes_params_only_when_valid_and_changed():
    unchanged = controls.apply_controls(BASE, OPTIONS, **CONTROLS)
    assert unchanged["params"] is no_update and unchanged["time_label"] == "All dates"
    changed = controls.apply_controls(BASE, OPTIONS, **{**CONTROLS, "band_r": 1})
    assert changed["params"]["band_ids"] == [1]
    invalid = controls.apply_controls(BASE, OPTIONS, **{**CONTROLS, "custom_rule": "{"})
    assert invalid["params"] is no_update  # nothing else changed
    assert invalid["errors"]["rule"].startswith("rendering_rule is not valid JSON")
    assert controls.apply_controls(None, OPTIONS, **CONTROLS) is no_update


def test_fill_controls_gives_options_and_values():
    filled = controls.fill_controls(OPTIONS, BASE)
    bands = [{"label": "1: Blue (id 0)", "value": 0}, {"label": "2: Green (id 1)", "value": 1},
             {"label": "3: Red (id 2)", "value": 2}, {"label": "4: NIR (id 3)", "value": 3}]
    assert filled["band_options"] == [bands, bands, bands]
    assert filled["preset_options"] == band_choice.preset_options(OPTIONS["presets"])
    assert filled["method_options"] == [{"label": "NorthWest", "value": "esriMosaicNorthwest"},
                                        {"label": "ByAttribute", "value": "esriMosaicAttribute"}]
    assert filled["slider"] == time_slider.slider_config(TIME)
    assert {name: filled[name] for name in CONTROLS} == CONTROLS
    assert controls.fill_controls(None, BASE) is no_update


def test_every_message_group_has_an_element_under_its_controls():
    # register() wires one output per group, so a group without an element would fail at start-up.
    assert set(controls.ERROR_IDS) == set(control_params.ERROR_GROUPS)


def test_choosing_a_preset_sets_the_bands_and_clears_the_rule():
    chosen = band_choice.sync({"preset"}, "Color Infrared", [None] * 3, "Natural Color", "", OPTIONS)
    assert (chosen["bands"], chosen["rule"], chosen["preset"]) == ([3, 2, 1], None, "Color Infrared")
    single = band_choice.sync({"preset"}, "Single band: Red", [None] * 3, None, "", OPTIONS)
    assert single["bands"] == [2, None, None] and single["preset"] == "Single band: Red"


def test_choosing_bands_under_a_rule_clears_it_and_says_so():
    chosen = band_choice.sync({"bands"}, None, [3, None, None], "Natural Color", "", OPTIONS)
    assert (chosen["rule"], chosen["custom"], chosen["note"]) == (None, "", band_choice.RULE_CLEARED)
    assert chosen["preset"] == "Single band: NIR" and chosen["band_placeholders"] == ["–"] * 3
    # a preset's bands changed by hand are "Custom"
    assert band_choice.sync({"bands"}, "Color Infrared", [3, 2, 0], None, "", OPTIONS)["preset"] == "Custom"


def test_a_template_named_like_a_preset_shows_its_bands_in_the_empty_boxes():
    chosen = band_choice.sync({"rule"}, "Color Infrared", [3, 2, 1], "Natural Color", "", OPTIONS)
    assert chosen["bands"] == [None] * 3 and chosen["preset"] is None
    assert chosen["band_placeholders"] == ["shown: 3: Red (id 2)", "shown: 2: Green (id 1)", "shown: 1: Blue (id 0)"]
    assert band_choice.sync({"rule"}, None, [None] * 3, "Stretch", "", OPTIONS)["band_placeholders"] == [
        "set by the rule"] * 3


def test_with_no_rule_the_boxes_show_the_bands_of_the_services_default_function():
    options = {**OPTIONS, "default_function": "Natural Color"}
    chosen = band_choice.sync({"rule"}, None, [None] * 3, None, "", options)
    assert chosen["band_placeholders"] == ["shown: 3: Red (id 2)", "shown: 2: Green (id 1)",
                                           "shown: 1: Blue (id 0)"]
    assert chosen["rule_placeholder"] == "Service default (Natural Color)"


def test_a_custom_rule_shows_custom_in_the_rule_box():
    chosen = band_choice.sync({"custom"}, None, [3, 2, 1], "Natural Color", '{"rasterFunction": "NDVI"}', OPTIONS)
    assert chosen["rule"] is None and chosen["bands"] == [None] * 3
    assert chosen["rule_placeholder"] == band_choice.CUSTOM_RULE


def test_play_steps_through_the_dates_of_the_range_it_started_on_and_wraps():
    whole = [TIME["min"], TIME["max"]]
    assert time_slider.next_window(whole, None, TIME) == [DATES[0], DATES[0]]
    assert time_slider.next_window([DATES[0], DATES[0]], None, TIME) == [DATES[1], DATES[1]]
    assert time_slider.next_window([DATES[2], DATES[2]], None, TIME) == [DATES[0], DATES[0]]
    # a wide range: every date in it in turn, not the range shifted back and forth by one date
    wide = [DATES[1], DATES[2]]
    assert time_slider.next_window(wide, wide, TIME) == [DATES[1], DATES[1]]
    assert time_slider.next_window([DATES[1], DATES[1]], wide, TIME) == [DATES[2], DATES[2]]
    assert time_slider.next_window([DATES[2], DATES[2]], wide, TIME) == [DATES[1], DATES[1]]
    assert controls.toggle_play(1, True, wide) == (False, "❚❚ Pause", wide)
    assert controls.toggle_play(2, False, wide) == (True, "▶ Play", no_update)


def test_play_without_dates_steps_equal_windows():
    time = {"min": 0, "max": 1200, "dates": []}
    assert time_slider.next_window([0, 1200], None, time) == [0, 100]
    assert time_slider.next_window([100, 200], None, time) == [200, 300]
    assert time_slider.next_window([0, 600], [0, 600], time) == [0, 50]


# --- the page URL ------------------------------------------------------------------------------

def test_params_to_query_string_and_back():
    params = LayerParams(
        url=URL, band_ids=[3, 2, 1], rendering_rule={"rasterFunction": "Natural Color"}, no_data=0,
        no_data_interpretation="esriNoDataMatchAny", time_from=DATES[0], time_to=DATES[1], opacity=0.5,
    ).to_dict()
    query = urlstate.to_query(params) + "&center=38.51235%2C-121.7&zoom=11"  # the browser adds the view
    assert query == (
        "?service=http%3A%2F%2F127.0.0.1%3A9%2Farcgis%2Frest%2Fservices%2FS%2FImageServer%2F"
        "&bandIds=3%2C2%2C1&noData=0&noDataInterpretation=esriNoDataMatchAny"
        "&renderingRule=%7B%22rasterFunction%22%3A%22Natural%20Color%22%7D&opacity=0.5"
        "&time=1736361600000%2C1738608420000&center=38.51235%2C-121.7&zoom=11"
    )
    assert urlstate.from_query(query) == {
        "url": URL, "params": params, "view": {"center": [38.51235, -121.7], "zoom": 11.0}}


def test_a_default_layer_needs_only_the_service():
    assert urlstate.to_query(BASE) == "?service=http%3A%2F%2F127.0.0.1%3A9%2Farcgis%2Frest%2Fservices%2FS%2FImageServer%2F"
    assert urlstate.to_query(None) == ""
    assert urlstate.from_query("?service=" + URL) == {"url": URL, "params": BASE, "view": None}


def test_a_bad_link_keeps_the_service_and_drops_the_rest():
    assert urlstate.from_query("") is None
    assert urlstate.from_query("?bandIds=1") is None
    assert urlstate.from_query(f"?service={URL}&bandIds=red&center=x&zoom=3") == {
        "url": URL, "params": None, "view": None}


def test_restore_opens_the_links_service_or_the_current_one():
    assert urlstate.restore(f"?service={URL}&bandIds=1", "/other") == (
        URL, {"url": URL, "params": LayerParams(url=URL, band_ids=[1]).to_dict(), "view": None})
    assert urlstate.restore("", "/arcgis/rest/services/S/ImageServer") == ("/arcgis/rest/services/S/ImageServer", None)
    relative = "/arcgis/rest/services/S/ImageServer"
    assert urlstate.restore(f"?service={relative}&opacity=0.5", "/other", "http://127.0.0.1:9/") == (
        relative, {"url": relative, "params": LayerParams(url=URL, opacity=0.5).to_dict(), "view": None})


def test_image_errors_reach_the_status_line():
    from dash import no_update

    from callbacks.service import image_status

    assert image_status({"loading": False, "error": None}) == (no_update, no_update)
    assert image_status({"error": "Invalid or missing input parameters. (code 400): bad bandIds"}) == (
        "The image could not be drawn: Invalid or missing input parameters. (code 400): bad bandIds",
        "service-status error",
    )


def test_mosaic_keys_the_controls_do_not_edit_are_kept():
    from callbacks.control_params import with_other_keys

    current = {"mosaicMethod": "esriMosaicLockRaster", "lockRasterIds": [3], "where": "CloudCover < 10",
               "mosaicOperation": "MT_LAST"}
    assert with_other_keys({"mosaicMethod": "esriMosaicLockRaster", "mosaicOperation": "MT_FIRST"}, current) == {
        "lockRasterIds": [3], "where": "CloudCover < 10", "mosaicMethod": "esriMosaicLockRaster",
        "mosaicOperation": "MT_FIRST"}
    assert with_other_keys(None, current) is None
    assert with_other_keys({"mosaicMethod": "esriMosaicCenter"}, None) == {"mosaicMethod": "esriMosaicCenter"}


def test_lock_raster_is_offered_only_through_the_catalog():
    options = control_options.service_options(
        parse_service_info({**ROOT, "allowedMosaicMethods": "NorthWest,LockRaster"}), [])
    assert controls.fill_controls(options, BASE)["method_options"] == [
        {"label": "NorthWest", "value": "esriMosaicNorthwest"},
        {"label": "LockRaster — select scenes in the Catalog tab", "value": "esriMosaicLockRaster",
         "disabled": True}]


def test_format_and_pixel_type_offer_what_a_browser_can_show():
    assert [o["value"] for o in control_panel.FORMAT_OPTIONS] == [
        "jpgpng", "png", "png8", "png24", "png32", "jpg", "gif"]
    pixel_types = [o["value"] for o in control_panel.PIXEL_TYPE_OPTIONS]
    assert pixel_types[:7] == ["U8", "U16", "S16", "U32", "S32", "F32", "F64"]
    assert set(pixel_types) <= set(PIXEL_TYPES) and not {"C64", "C128", "UNKNOWN"} & set(pixel_types)
