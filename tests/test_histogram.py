"""computeHistograms: request parameters, the task, the frame, and the histogram tab's functions."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from dash import no_update

from callbacks import histogram as tab
from imageservice.errors import ArcGISError, InvalidResponse, ParameterError, ServiceUnreachable
from imageservice.layer import ImageMapLayer
from imageservice.params import LayerParams
from imageservice.tables import histograms_to_frame
from imageservice.urls import View, histogram_params, view_bbox
from server_fixtures import sample_root, server_url, services  # noqa: F401  (pytest fixtures)

URL = "https://example.com/arcgis/rest/services/X/ImageServer"
MS_BANDS = ["Blue", "Green", "Red", "NIR", "SWIR1", "SWIR2"]
LOCK = {"mosaicMethod": "esriMosaicLockRaster", "lockRasterIds": [3]}


def service(server_url: str, name: str = "SampleMultispectral") -> str:
    return f"{server_url}/arcgis/rest/services/{name}/ImageServer"


def view_store(south: float, west: float, north: float, east: float, width: int, height: int) -> dict:
    """What the layer's view store holds for a view (bbox in EPSG:3857)."""
    bbox = view_bbox(View(south=south, west=west, north=north, east=east, width=width, height=height))
    return {"bbox": ",".join(str(v) for v in bbox), "size": f"{width},{height}", "width": width, "height": height}


# --- request parameters ----------------------------------------------------------------------------


def test_histogram_params_forward_mosaic_and_time_but_not_the_rendering_rule():
    params = LayerParams.from_dict({"url": URL, "mosaic_rule": LOCK, "rendering_rule": {"rasterFunction": "NDVI"},
                                    "time_from": 1000, "time_to": 2000, "token": "tok", "band_ids": [3, 2, 1]})
    view = View(south=38.4, west=-121.9, north=38.7, east=-121.6, width=10, height=10)
    assert histogram_params(params, view) == {
        "geometry": '{"xmin":-121.9,"ymin":38.4,"xmax":-121.6,"ymax":38.7,"spatialReference":{"wkid":4326}}',
        "geometryType": "esriGeometryEnvelope",
        "mosaicRule": '{"mosaicMethod":"esriMosaicLockRaster","lockRasterIds":[3]}',
        "time": "1000,2000",
        "token": "tok",
    }


def test_histogram_params_with_a_polygon_the_rendering_rule_and_a_pixel_size():
    params = LayerParams.from_dict({"url": URL, "rendering_rule": {"rasterFunction": "NDVI"}})
    polygon = {"rings": [[[0, 0], [0, 1], [1, 1], [0, 0]]], "spatialReference": {"wkid": 3857}}
    assert histogram_params(params, polygon, apply_rendering_rule=True,
                            pixel_size={"x": 30, "y": 30, "spatialReference": {"wkid": 3857}}) == {
        "geometry": '{"rings":[[[0,0],[0,1],[1,1],[0,0]]],"spatialReference":{"wkid":3857}}',
        "geometryType": "esriGeometryPolygon",
        "renderingRule": '{"rasterFunction":"NDVI"}',
        "pixelSize": '{"x":30,"y":30,"spatialReference":{"wkid":3857}}',
    }


def test_histogram_params_refuse_a_point():
    with pytest.raises(ParameterError, match="envelope or a polygon"):
        histogram_params(LayerParams.from_dict({"url": URL}), {"x": 1, "y": 2})


def test_the_task_needs_an_area_and_takes_a_lat_lng_bbox():
    task = ImageMapLayer(URL, mosaic_rule=LOCK).compute_histograms()
    with pytest.raises(ParameterError, match="within"):
        task.to_params()
    assert task.within((-121.9, 38.4, -121.6, 38.7)).between(5, 6).set_pixel_size("30,30").to_params() == {
        "geometry": '{"xmin":-121.9,"ymin":38.4,"xmax":-121.6,"ymax":38.7,"spatialReference":{"wkid":4326}}',
        "geometryType": "esriGeometryEnvelope",
        "mosaicRule": '{"mosaicMethod":"esriMosaicLockRaster","lockRasterIds":[3]}',
        "pixelSize": "30,30",
        "time": "5,6",
    }


# --- the frame -------------------------------------------------------------------------------------


def test_frame_bins_from_min_max_and_size():
    response = {"histograms": [{"size": 3, "min": -0.5, "max": 2.5, "counts": [4, 0, 7]},
                               {"size": 0, "min": 0, "max": 0, "counts": []},
                               {"size": 2, "min": 0, "max": 1, "counts": [1, 2]}]}
    frame = histograms_to_frame(response, ["A", "B", "C"])
    assert frame.to_dict("records") == [
        {"band": "A", "value": 0.0, "lower": -0.5, "upper": 0.5, "count": 4},
        {"band": "A", "value": 1.0, "lower": 0.5, "upper": 1.5, "count": 0},
        {"band": "A", "value": 2.0, "lower": 1.5, "upper": 2.5, "count": 7},
        {"band": "C", "value": 0.25, "lower": 0.0, "upper": 0.5, "count": 1},
        {"band": "C", "value": 0.75, "lower": 0.5, "upper": 1.0, "count": 2},
    ]
    assert list(histograms_to_frame(response, ["only one name"])["band"].unique()) == ["Band 1", "Band 3"]


@pytest.mark.parametrize("response", [{}, {"error": "x"}, {"histograms": [{"size": 2, "min": 0, "max": 1, "counts": [1]}]}])
def test_frame_refuses_unusable_answers(response):
    with pytest.raises(InvalidResponse):
        histograms_to_frame(response)


# --- against the embedded server ------------------------------------------------------------------


def test_counts_are_the_valid_pixels_of_a_locked_scene(server_url, services):
    """A scene locked and asked over its own grid: every bin count is what numpy counts in the file."""
    item = services["SampleMultispectral"].items[3]
    with rasterio.open(item.path) as dataset:
        data = dataset.read(masked=True)
        left, bottom, right, top = dataset.bounds
        epsg = dataset.crs.to_epsg()
    envelope = {"xmin": left, "ymin": bottom, "xmax": right, "ymax": top, "spatialReference": {"wkid": epsg}}
    layer = ImageMapLayer(service(server_url), mosaic_rule={"mosaicMethod": "esriMosaicLockRaster",
                                                             "lockRasterIds": [item.object_id]})
    frame = layer.compute_histograms().within(envelope).run_frame(MS_BANDS)
    assert list(frame["band"].unique()) == MS_BANDS
    for index, band in enumerate(MS_BANDS):
        values = data[index].compressed().astype(np.float64)
        edges = np.linspace(values.min(), values.max(), 257)
        rows = frame[frame["band"] == band]
        assert rows["count"].tolist() == np.histogram(values, bins=edges)[0].tolist()
        assert rows["count"].sum() == values.size == np.count_nonzero(~np.ma.getmaskarray(data[index]))
        assert rows["value"].tolist() == pytest.approx(((edges[:-1] + edges[1:]) / 2).tolist())
    assert 0 < values.size < data[0].size  # the scene's swath edge is NoData, and not counted


def test_rendered_histograms_have_integer_bins_and_their_own_band_count(server_url):
    layer = ImageMapLayer(service(server_url))
    task = layer.compute_histograms().within((-121.9, 38.45, -121.65, 38.65))
    frame = task.set_rendering_rule({"rasterFunction": "Natural Color"}).run_frame(MS_BANDS)
    assert list(frame["band"].unique()) == ["Band 1", "Band 2", "Band 3"]
    assert (frame["value"] == frame["value"].round()).all()
    assert (frame["upper"] - frame["lower"] == 1).all()


# --- the tab's functions ---------------------------------------------------------------------------


def test_view_area_is_the_view_at_screen_resolution_capped():
    view = {"bbox": "0,1000,2000,2000", "width": 200, "height": 100}
    assert tab.view_area(view) == (
        {"xmin": 0.0, "ymin": 1000.0, "xmax": 2000.0, "ymax": 2000.0, "spatialReference": {"wkid": 3857}},
        {"x": 10.0, "y": 10.0, "spatialReference": {"wkid": 3857}},
    )
    wide = {"bbox": "0,0,4096,10", "width": 4096, "height": 10}
    assert tab.view_area(wide)[1]["x"] == 4096 / tab.MAX_GRID


@pytest.mark.parametrize("count, rule, expected", [
    (6, None, MS_BANDS),
    (6, {"rasterFunction": "Stretch"}, MS_BANDS),
    (3, {"rasterFunction": "Natural Color"}, ["Red", "Green", "Blue"]),
    (1, {"rasterFunction": "NDVI Raw"}, ["NDVI Raw"]),
    (2, {"rasterFunction": "X"}, ["Band 1", "Band 2"]),
    (3, None, ["Band 1", "Band 2", "Band 3"]),
])
def test_band_labels(count, rule, expected):
    assert tab.band_labels(count, MS_BANDS, rule) == expected


def test_band_colours_follow_the_names():
    assert tab.band_colours(["Blue", "Green", "Red", "NIR", "SWIR1", "Red channel"]) == [
        "#1f77b4", "#2ca02c", "#d62728", tab.OTHER_COLOURS[0], tab.OTHER_COLOURS[1], "#d62728"]


@pytest.mark.parametrize("error, expected", [
    (ArcGISError(404, "Operation not supported.", ["The ImageServer has no operation 'computehistograms'."]),
     tab.NOT_SUPPORTED),
    (ArcGISError(400, "Unable to complete operation.", ["computeHistograms operation not supported"]), tab.NOT_SUPPORTED),
    (ArcGISError(400, "Invalid or missing input parameters.", ["The requested image exceeds the size limit."]),
     tab.TOO_LARGE),
    (ServiceUnreachable("Could not connect to h: refused"),
     "The histogram could not be computed: Could not connect to h: refused"),
])
def test_errors_in_plain_words(error, expected):
    assert tab.error_message(error) == expected


def test_refresh_asks_only_on_the_tab_and_only_for_a_new_request(server_url):
    params = LayerParams.from_dict({"url": service(server_url), "rendering_rule": {"rasterFunction": "Natural Color"},
                                    "opacity": 0.5}).to_dict()
    request = {"view": view_store(38.45, -121.9, 38.65, -121.65, 400, 300), "params": params}
    info = {"band_names": MS_BANDS}
    assert tab.refresh_histogram(request, "catalog", [], info, None) is no_update
    data = tab.refresh_histogram(request, "histogram", [], info, None)
    assert data["error"] is None and data["bands"] == MS_BANDS
    assert "renderingRule" not in data["key"]["params"]
    assert data["key"]["params"]["geometry"].endswith('"spatialReference":{"wkid":3857}}')
    assert [sum(h["counts"]) for h in data["histograms"]] == [tab.pixel_count(data)] * 6
    assert tab.refresh_histogram({**request, "params": {**params, "opacity": 1.0}}, "histogram", [], info, data) is no_update
    rendered = tab.refresh_histogram(request, "histogram", ["rule"], info, data)
    assert rendered["bands"] == ["Red", "Green", "Blue"]
    assert rendered["key"]["params"]["renderingRule"] == '{"rasterFunction":"Natural Color"}'


def test_refresh_says_why_there_is_no_histogram(server_url):
    assert tab.refresh_histogram({"view": None, "params": None}, "histogram", [], None, None) == {
        "key": None, "bands": [], "histograms": [], "error": tab.NO_SERVICE}
    missing = LayerParams.from_dict({"url": service(server_url, "NoSuchService")}).to_dict()
    data = tab.refresh_histogram({"view": view_store(38.45, -121.9, 38.65, -121.65, 40, 30), "params": missing},
                                 "histogram", [], {}, None)
    assert data["error"].startswith("The histogram could not be computed: ") and "NoSuchService" in data["error"]
    assert tab.refresh_histogram({"view": view_store(38.45, -121.9, 38.65, -121.65, 40, 30), "params": missing},
                                 "histogram", [], {}, data)["error"] == data["error"]  # a failure is asked again


def test_render_draws_the_shown_bands_and_resets_toggles_for_new_bands():
    data = {"key": {"url": URL, "params": {}}, "bands": ["Red", "NIR"], "error": None,
            "histograms": [{"size": 2, "min": 0, "max": 2, "counts": [3, 5]},
                           {"size": 1, "min": 10, "max": 12, "counts": [8]}]}
    drawn = tab.render_histogram(data, ["log"], [], [])
    assert drawn["shown"] == ["Red", "NIR"] and [o["value"] for o in drawn["options"]] == ["Red", "NIR"]
    figure = drawn["figure"]
    assert [(t.name, list(t.x), list(t.y), t.line.color) for t in figure.data] == [
        ("Red", [0.5, 1.5], [3, 5], "#d62728"), ("NIR", [11.0], [8], tab.OTHER_COLOURS[0])]
    assert figure.layout.yaxis.type == "log" and drawn["style"] == {"height": "280px"}
    assert drawn["status"] == "8 pixels with data in the view (raw values)."
    one = tab.render_histogram(data, [], ["NIR"], drawn["options"])
    assert [t.name for t in one["figure"].data] == ["NIR"] and one["shown"] == ["NIR"]
    assert one["figure"].layout.yaxis.type == "linear"


def test_render_hides_the_chart_when_there_is_nothing_to_draw():
    empty = {"key": {"url": URL, "params": {}}, "bands": ["Red"], "error": None,
             "histograms": [{"size": 0, "min": 0, "max": 0, "counts": []}]}
    assert tab.render_histogram(empty, [], ["Red"], [])["status"] == tab.NO_PIXELS
    failed = {"key": None, "bands": [], "histograms": [], "error": tab.NOT_SUPPORTED}
    rendered = tab.render_histogram(failed, [], [], [])
    assert rendered["figure"] is no_update and rendered["style"] == {"display": "none"}
    assert rendered["status"] == tab.NOT_SUPPORTED and rendered["options"] == []
