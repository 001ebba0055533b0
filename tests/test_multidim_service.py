"""Multidimensional services end to end over HTTP: the library and the dashboard's callbacks against
the embedded server's SampleOceanCube, values checked against its GeoTIFFs (one per slice)."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path

import pandas
import pytest
from dash import html, no_update

from callbacks.control_params import with_other_keys
from callbacks.pixel import inspect, run_profile, service_facts
from callbacks.multidim import (
    apply_selection,
    dimension_controls,
    index_of,
    load_info,
    pixel_profiles,
    profile_csv,
    profile_figures,
    step_time,
    value_label,
    variable_choice,
    variable_legend,
)
from imageservice import ImageMapLayer
from imageservice.multidim import parse_multidimensional_info, selection_of
from imageservice.params import to_epoch_ms
from pixel_fixtures import read_pixel
from server_fixtures import sample_root, server_url  # noqa: F401  (pytest fixtures)

CUBE = "SampleOceanCube"
POINT = (37.5, -124.0)  # offshore, inside the cube


@pytest.fixture(scope="module")
def cube_url(server_url: str) -> str:
    return f"{server_url}/arcgis/rest/services/{CUBE}/ImageServer"


@pytest.fixture(scope="module")
def catalog(sample_root: Path) -> pandas.DataFrame:
    """The cube's slices as its sidecar lists them: Variable, StdTime (epoch ms), StdZ, file."""
    items = pandas.DataFrame(json.loads((sample_root / CUBE / "catalog.json").read_text())["items"])
    items["StdTime"] = [to_epoch_ms(t) for t in items["StdTime"]]
    return items


def control(box):
    """The slider or dropdown in a dimension's box (a slider sits in a padded div)."""
    part = box.children[1]
    return part.children if isinstance(part, html.Div) else part


def truth(sample_root: Path, catalog: pandas.DataFrame, variable: str, time: int, depth: float) -> float:
    row = catalog[(catalog["Variable"] == variable) & (catalog["StdTime"] == time) & (catalog["StdZ"] == depth)]
    return read_pixel(sample_root / CUBE / row["file"].item(), *POINT)[0]


def test_info_lists_the_variables_and_every_slice_value_of_the_catalog(cube_url, catalog) -> None:
    layer = ImageMapLayer(cube_url)
    assert layer.service_info().has_multidimensions is True
    info = layer.multidimensional_info()
    assert set(info.variable_names) == set(catalog["Variable"])
    for variable in info.variables:
        time, depth = variable.time, variable.dimension("StdZ")
        assert list(time.values) == sorted(set(catalog["StdTime"]))
        assert list(depth.values) == sorted(set(catalog["StdZ"])) and depth.unit == "m"
    assert info.variable("temperature").unit == "degC"


def test_depth_and_time_profiles_hold_the_geotiffs_values(cube_url, catalog, sample_root) -> None:
    layer = ImageMapLayer(cube_url)
    info = layer.multidimensional_info()
    september = to_epoch_ms("2025-09-15T00:00:00Z")
    depth = layer.profile(*POINT, "temperature", "StdZ", info=info, StdTime=datetime(2025, 9, 15, tzinfo=timezone.utc))
    assert depth["StdZ"].tolist() == sorted(set(catalog["StdZ"]))
    expected = [truth(sample_root, catalog, "temperature", september, z) for z in depth["StdZ"]]
    assert depth["value"].astype(float).tolist() == pytest.approx(expected, rel=1e-5)
    assert depth["value"].iloc[-1] > depth["value"].iloc[0] + 3  # the surface is warmer than 200 m down
    series = layer.profile(*POINT, "salinity", "StdTime", info=info, StdZ=-50)
    assert len(series) == len(set(catalog["StdTime"])) and series["StdTime"].is_monotonic_increasing
    expected = [truth(sample_root, catalog, "salinity", to_epoch_ms(t), -50.0) for t in series["StdTime"]]
    assert series["value"].astype(float).tolist() == pytest.approx(expected, rel=1e-5)
    # one identify per value (servers before processAsMultidimensional) gives the same profile
    by_value = layer._profile_by_value(*POINT, layer.params, info.variable("salinity"), "StdTime", {"StdZ": -50})
    pandas.testing.assert_frame_equal(by_value, series)


def test_a_slice_changes_the_exported_picture(cube_url) -> None:
    layer = ImageMapLayer(cube_url, format="png")
    query = {"bbox": "-125,36.5,-123,38.5", "bboxSR": 4326, "imageSR": 4326, "size": "100,100", "f": "image",
             "format": "png"}

    def picture(variable: str, depth: float) -> bytes:
        rule = layer.set_slice(variable, StdTime="2025-07-15T00:00:00Z", StdZ=depth).get_mosaic_rule()
        return layer.client.export_image({**query, "mosaicRule": json.dumps(rule)})

    surface, deep = picture("temperature", 0), picture("temperature", -200)
    assert surface != deep and picture("salinity", 0) != surface


# --- the dashboard's callbacks -----------------------------------------------------------------


@pytest.fixture(scope="module")
def md(cube_url) -> dict:
    return load_info({"url": cube_url + "/"}, None)


def test_only_a_multidimensional_service_gets_the_panel(md, server_url, cube_url) -> None:
    plain = load_info({"url": f"{server_url}/arcgis/rest/services/SampleMultispectral/ImageServer/"}, None)
    assert plain["info"] is None and variable_choice(plain, None)[0] is True
    hidden, options, value, message = variable_choice(md, {"url": cube_url + "/"})
    assert (hidden, value, message) == (False, "temperature", "")
    assert options == [{"label": "temperature (degC)", "value": "temperature"},
                       {"label": "salinity (psu)", "value": "salinity"}]
    assert load_info({"url": cube_url + "/"}, md) is no_update  # fetched once per service


def test_controls_start_at_the_links_selection_and_write_the_definition(md, cube_url) -> None:
    params = ImageMapLayer(cube_url).set_slice("salinity", StdTime="2025-03-15T00:00:00Z", StdZ=-25).params.to_dict()
    controls, play_hidden = dimension_controls("salinity", md, params)
    slider, dropdown = (control(c) for c in controls)
    assert (slider.value, slider.max, dropdown.value, play_hidden) == (2, 11, 3, False)
    assert dropdown.options[3] == {"label": "-25 m", "value": 3}
    ids = [slider.id, dropdown.id]
    new, units, labels = apply_selection("temperature", [5, 0], ids, md, params)
    assert selection_of(new["mosaic_rule"]) == ("temperature", {"StdTime": to_epoch_ms("2025-06-15"), "StdZ": -200.0})
    assert units.startswith("Sea water potential temperature, in degC · ") and labels == [
        "2025-06-15 00:00 UTC", "-200 m"]
    assert apply_selection("salinity", [2, 3], ids, md, params)[0] is no_update  # nothing changed
    assert step_time(1, [11, 3], ids, md, "salinity") == [0, no_update]  # play wraps to January
    # a control change elsewhere without a mosaic method keeps the selection
    assert with_other_keys(None, new["mosaic_rule"]) == new["mosaic_rule"]


def test_a_click_gives_both_profiles_charts_and_one_csv(md, cube_url) -> None:
    params = ImageMapLayer(cube_url).set_slice("temperature", StdTime="2025-09-15T00:00:00Z", StdZ=-10).params.to_dict()
    click = {"lat": POINT[0], "lng": POINT[1]}
    data, status, hidden = pixel_profiles(click, params, md, None)
    assert not hidden and status == (
        "temperature at this pixel: 12 along StdTime at -10 m; 6 along StdZ at 2025-09-15 00:00 UTC.")
    assert {row["StdZ"] for row in data["profiles"]["StdTime"]} == {-10.0}
    assert {row["StdTime"] for row in data["profiles"]["StdZ"]} == {"2025-09-15T00:00:00Z"}
    assert pixel_profiles(click, params, md, data)[0] is no_update  # same point, same selection
    time_chart, level_chart = profile_figures(data)
    assert len(time_chart.data[0].y) == 12 and list(level_chart.data[0].y) == [-200, -100, -50, -25, -10, 0]
    assert level_chart.layout.yaxis.title.text == "StdZ (m)" and level_chart.layout.xaxis.title.text == "temperature (degC)"
    csv = profile_csv(1, data)
    assert csv["filename"] == "profiles_temperature_37.50000N_124.00000W.csv"
    lines = csv["content"].splitlines()
    assert lines[0] == "StdTime,StdZ,value,along" and len(lines) == 1 + 12 + 6
    plain = {"url": "x", "info": None}
    assert pixel_profiles(click, params, plain, None) == (None, "", True)


def test_the_api_docs_example_runs_against_the_sample(cube_url, catalog) -> None:
    doc = (Path(__file__).resolve().parent.parent / "docs" / "API.md").read_text()
    code = re.search(r"## Multidimensional services\n.*?```python\n(.*?)```", doc, re.S)[1]
    namespace: dict = {"__name__": "api_example"}
    exec(compile(code.replace("http://127.0.0.1:8080/arcgis/rest/services/SampleOceanCube/ImageServer", cube_url),
                 "API.md", "exec"), namespace)
    assert namespace["layer"].get_mosaic_rule() == {"multidimensionalDefinition": [
        {"variableName": "temperature", "dimensionName": "StdTime", "values": [1757894400000], "isSlice": True},
        {"variableName": "temperature", "dimensionName": "StdZ", "values": [-50], "isSlice": True}]}
    assert namespace["depth"]["StdZ"].tolist() == sorted(set(catalog["StdZ"]))


def test_another_variable_keeps_the_chosen_time_and_depth(md, cube_url) -> None:
    params = ImageMapLayer(cube_url).set_slice("temperature", StdTime="2025-08-15T00:00:00Z", StdZ=-100).params.to_dict()
    slider, dropdown = (control(c) for c in dimension_controls("salinity", md, params)[0])
    assert (slider.value, dropdown.value) == (7, 1)
    fresh = dimension_controls("salinity", md, {"url": cube_url + "/"})[0]
    assert [control(c).value for c in fresh] == [0, 5]  # January at the surface


def test_the_pixel_tab_gives_the_catalogs_temporal_profile_way_for_a_multidimensional_service(cube_url) -> None:
    params = ImageMapLayer(cube_url).set_slice("temperature", StdTime="2025-01-15", StdZ=0).params.to_dict()
    service = service_facts(params)
    assert service["multidimensional"] is True
    outputs = inspect({"lat": POINT[0], "lng": POINT[1]}, [], params, service, None, True)
    assert outputs[3] is False and outputs[10] is True  # the values shown, the temporal section hidden
    assert run_profile(lambda _: None, {"lat": POINT[0], "lng": POINT[1], "url": params["url"]}, params, service) == (None, "")


def test_range_slices_are_labelled_and_found_and_stale_positions_ignored(md, cube_url) -> None:
    ranged = {"multidimensionalInfo": {"variables": [{"name": "precip", "unit": "mm", "dimensions": [
        {"name": "StdTime", "unit": "ISO8601", "hasRanges": True,
         "values": [[1735689600000, 1738368000000], [1738368000000, 1740787200000]]}]}]}}
    time = parse_multidimensional_info(ranged).variable("precip").time
    assert value_label(time, time.values[1]) == "2025-02-01 00:00 UTC – 2025-03-01 00:00 UTC"
    assert index_of(time, [1738368000000, 1740787200000]) == 1
    params = {"url": cube_url + "/"}
    controls = [{"type": "md-dimension", "name": "StdTime"}, {"type": "md-dimension", "name": "StdZ"}]
    new, _, labels = apply_selection("temperature", [3, 40], controls, md, params)
    assert selection_of(new["mosaic_rule"]) == ("temperature", {"StdTime": to_epoch_ms("2025-04-15")})
    assert labels == ["2025-04-15 00:00 UTC", no_update]


def test_the_variables_legend_follows_the_variable_and_is_fetched_once(md, cube_url) -> None:
    params = {"url": cube_url + "/"}
    legend, key = variable_legend("salinity", params, md, None)
    labels = [entry.children[1].children for entry in legend]
    assert labels[0].startswith("High : 34.") and labels[-1].startswith("Low : 32.")
    assert all(entry.children[0].src.startswith("data:image/png;base64,") for entry in legend)
    temperature = [e.children[1].children for e in variable_legend("temperature", params, md, None)[0]]
    assert temperature != labels and temperature[-1].startswith("Low : ")
    assert variable_legend("salinity", params, md, key) == (no_update, no_update)
    assert variable_legend("salinity", params, {"url": "x", "info": None}, key) == ([], None)
