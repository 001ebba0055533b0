"""Task options esri-leaflet has and the port lacked: Query.pixelSize, IdentifyImage.format and
its getters, checked on the parameters each task hands to its client."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from imageservice.errors import ParameterError
from imageservice.layer import ImageMapLayer

URL = "http://127.0.0.1:9/arcgis/rest/services/Sample/ImageServer"
LOCK_8 = {"mosaicMethod": "esriMosaicLockRaster", "lockRasterIds": [8]}
HILLSHADE = {"rasterFunction": "Hillshade"}


class FakeClient:
    """Records the parameters of each call and answers with the next canned response."""

    def __init__(self, *responses: dict) -> None:
        self.responses = list(responses)
        self.calls: list[tuple[str, dict]] = []

    def _answer(self, name: str, params: Mapping[str, Any]) -> dict:
        self.calls.append((name, dict(params)))
        return self.responses.pop(0) if self.responses else {}

    def query(self, params: Mapping[str, Any]) -> dict:
        return self._answer("query", params)

    def identify(self, params: Mapping[str, Any]) -> dict:
        return self._answer("identify", params)


def layer(client: FakeClient, **options: Any) -> ImageMapLayer:
    return ImageMapLayer(URL, client=client, **options)


# --- Query.pixel_size --------------------------------------------------------------------------


def test_query_pixel_size_is_sent_as_esri_leaflet_does() -> None:
    client = FakeClient()
    layer(client).query().pixel_size([1, 1]).run()
    assert list(client.calls[0][1].items()) == [
        ("returnGeometry", "true"), ("where", "1=1"), ("outSR", "4326"), ("outFields", "*"), ("pixelSize", "1,1"),
    ]


def test_query_pixel_size_takes_a_point_mapping() -> None:
    client = FakeClient()
    layer(client).query().pixel_size({"x": 30, "y": 30.5}).run()
    assert client.calls[0][1]["pixelSize"] == "30,30.5"


@pytest.mark.parametrize("size", [[30], "30,30", [30, None], {"x": 30}])
def test_query_pixel_size_needs_two_numbers(size: Any) -> None:
    with pytest.raises(ParameterError, match="^pixel size must be \\(x, y\\) numbers"):
        layer(FakeClient()).query().pixel_size(size)


# --- IdentifyImage.format and getters ----------------------------------------------------------


@pytest.mark.parametrize(("flag", "sent"), [(False, "true"), (True, "false")])
def test_identify_format_sends_return_unformatted_values_negated(flag: bool, sent: str) -> None:
    client = FakeClient()
    layer(client).identify().at(1, 2).format(flag).run()
    assert client.calls[0][1]["returnUnformattedValues"] == sent


def test_identify_getters_return_what_it_sends() -> None:
    task = layer(FakeClient(), mosaic_rule=LOCK_8, rendering_rule=HILLSHADE).identify()
    assert (task.get_mosaic_rule(), task.get_rendering_rule(), task.get_pixel_size()) == (LOCK_8, None, None)
    task.set_rendering_rule({"rasterFunction": "None"}).set_pixel_size([30, 30]).set_mosaic_rule(None)
    assert (task.get_mosaic_rule(), task.get_rendering_rule(), task.get_pixel_size()) == (
        None, {"rasterFunction": "None"}, [30, 30]
    )
