"""Swipe comparison: the compare layer's params, the side labels and the tab's messages."""

from __future__ import annotations

from dash import no_update

from callbacks import swipe
from components.swipe import DATES_CHOICE, NO_SWIPE
from imageservice.params import LayerParams

URL = "https://example.com/arcgis/rest/services/X/ImageServer"
BANDS = ["Blue", "Green", "Red", "NIR", "SWIR1", "SWIR2"]
DAY = 86_400_000
JAN_2, JAN_5, JAN_9 = 1735776000000, 1735776000000 + 3 * DAY, 1735776000000 + 7 * DAY
INFO = {"band_names": BANDS, "raster_functions": ["None", "Natural Color", "NDVI"],
        "time": {"min": JAN_2, "max": JAN_9, "dates": [JAN_2, JAN_5, JAN_9]}}


def main_params(**options) -> dict:
    return LayerParams.from_dict({"url": URL, "rendering_rule": {"rasterFunction": "Natural Color"},
                                  "opacity": 0.6, **options}).to_dict()


def test_no_compare_layer_when_swipe_is_off_or_no_service_is_open():
    assert swipe.compare_params(main_params(), False, "NDVI", None) is None
    assert swipe.compare_params(None, True, "NDVI", None) is None


def test_the_compare_side_follows_the_main_layer_at_full_opacity():
    main = main_params(mosaic_rule={"mosaicMethod": "esriMosaicNorthwest"}, time_from=JAN_2, time_to=JAN_5)
    assert swipe.compare_params(main, True, None, None) == {**main, "opacity": 1.0}


def test_another_rendering_rule_replaces_the_band_choice_unless_it_is_raw():
    main = main_params(rendering_rule=None, band_ids=[3, 2, 1])
    assert swipe.compare_params(main, True, "NDVI", None) == {
        **main, "opacity": 1.0, "rendering_rule": {"rasterFunction": "NDVI"}, "band_ids": None}
    assert swipe.compare_params(main, True, "None", None) == {
        **main, "opacity": 1.0, "rendering_rule": {"rasterFunction": "None"}}


def test_other_dates_set_the_time_and_unlock_picked_scenes():
    locked = main_params(mosaic_rule={"mosaicMethod": "esriMosaicLockRaster", "lockRasterIds": [4]})
    assert swipe.compare_params(locked, True, None, (JAN_5, JAN_5)) == {
        **locked, "opacity": 1.0, "time_from": JAN_5, "time_to": JAN_5, "mosaic_rule": None}
    sorted_rule = {"mosaicMethod": "esriMosaicAttribute", "sortField": "CloudCover", "sortValue": "0"}
    dated = main_params(mosaic_rule=sorted_rule, time_from=JAN_2, time_to=JAN_2)
    assert swipe.compare_params(dated, True, None, (None, None)) == {
        **dated, "opacity": 1.0, "time_from": None, "time_to": None}


def test_side_labels_name_the_rendering_or_the_bands_and_the_dates():
    assert swipe.side_label(main_params(), BANDS, False) == "Natural Color"
    assert swipe.side_label(main_params(rendering_rule={"rasterFunction": "None"}), BANDS, False) == "No rendering rule"
    assert swipe.side_label(main_params(rendering_rule={"rasterFunctionArguments": {}}), BANDS, False) == "Custom rendering"
    assert swipe.side_label(main_params(rendering_rule=None, band_ids=[3, 2, 7]), BANDS, False) == "NIR, Red, Band 8"
    assert swipe.side_label(main_params(rendering_rule=None), BANDS, False) == "Service default"
    assert swipe.side_label(main_params(time_from=JAN_5, time_to=JAN_5 + 3600_000), BANDS, True) == \
        "Natural Color · 2025-01-05"
    assert swipe.side_label(main_params(time_from=JAN_2, time_to=JAN_9), BANDS, True) == \
        "Natural Color · 2025-01-02 – 2025-01-09"
    assert swipe.side_label(main_params(), BANDS, True) == "Natural Color · all dates"


def test_options_for_a_service_start_the_left_side_with_the_next_template_at_its_first_date():
    assert swipe.swipe_options(INFO) == {
        "rules": [{"label": "None (raw pixels)", "value": "None"}, {"label": "Natural Color", "value": "Natural Color"},
                  {"label": "NDVI", "value": "NDVI"}],
        "rule": "NDVI",
        "slider": {"min": JAN_2, "max": JAN_9, "marks": {str(JAN_2): "Jan 2025", str(JAN_5): "", str(JAN_9): "Jan 2025"},
                   "step": None},
        "dates": [JAN_2, JAN_2],
        "dates_on_options": [{"label": DATES_CHOICE, "value": "on", "disabled": False}],
        "dates_on": [],
    }
    timeless = swipe.swipe_options({"band_names": ["Elevation"], "raster_functions": ["None"], "time": None})
    assert timeless["dates_on_options"][0]["disabled"] is True and timeless["dates"] == [0, 1]
    assert timeless["rule"] is None


def test_update_while_off_draws_nothing_and_says_how_to_start():
    update = swipe.update_compare(main_params(), [], "NDVI", [], [JAN_2, JAN_2], INFO)
    assert update == {"params": None, "state": NO_SWIPE, "dates_label": "", "dates_disabled": True,
                      "status": "Turn swipe on to compare two renderings or two dates of the service side by side."}
    assert swipe.update_compare(None, ["on"], None, [], None, INFO)["status"] == "Open a service first."


def test_update_with_a_rule_labels_both_sides():
    update = swipe.update_compare(main_params(), ["on"], "NDVI", [], [JAN_2, JAN_2], INFO)
    assert update["params"]["rendering_rule"] == {"rasterFunction": "NDVI"}
    assert update["state"] == {"enabled": True, "left": "NDVI", "right": "Natural Color"}
    assert update["status"] == "Left: NDVI. Right: Natural Color. Drag the divider on the map."
    same = swipe.update_compare(main_params(), ["on"], None, [], [JAN_2, JAN_2], INFO)
    assert same["state"] == {"enabled": True, "left": "Natural Color", "right": "Natural Color"}
    assert same["status"].startswith("Both sides show the same picture")


def test_update_with_other_dates_puts_the_dates_in_the_labels():
    update = swipe.update_compare(main_params(), ["on"], None, ["on"], [JAN_2, JAN_5], INFO)
    assert (update["params"]["time_from"], update["params"]["time_to"]) == (JAN_2, JAN_5)
    assert update["state"]["left"] == "Natural Color · 2025-01-02 – 2025-01-05"
    assert update["state"]["right"] == "Natural Color · all dates"
    assert update["dates_label"] == "2025-01-02 00:00 – 2025-01-05 00:00 UTC" and update["dates_disabled"] is False
    every = swipe.update_compare(main_params(time_from=JAN_5, time_to=JAN_5), ["on"], None, ["on"], [JAN_2, JAN_9], INFO)
    assert every["params"]["time_from"] is None and every["dates_label"] == "All dates"


def test_compare_errors_reach_the_tab():
    assert swipe.compare_error({"error": None}) is no_update
    assert swipe.compare_error({"error": "Bad rule (code 400)"}) == "The left side could not be drawn: Bad rule (code 400)"
