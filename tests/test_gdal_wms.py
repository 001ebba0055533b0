"""A real, unchanged client against the embedded ImageServer: GDAL's WMS driver in ArcGIS Server
(AGS) mode, through rasterio's bundled GDAL.

GDAL cuts a dataset into blocks and fetches each with its own exportImage request; a window read
across blocks must hold exactly the pixels our own exportImage gives for that window's bbox and size.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

import numpy as np
import pytest
import rasterio
import requests
from rasterio.windows import Window, bounds

from imageservice.server.catalog import Service
from server_fixtures import sample_root, server_url, services  # noqa: F401  (pytest fixtures)

SIZE = 256  # pixels of the GDAL dataset over the service extent, in 128 x 128 blocks
WINDOW = Window(col_off=64, row_off=32, width=128, height=160)  # across all four blocks


def gdal_wms_xml(export_url: str, service: Service, *, image_format: str, bands: int, data_type: str,
                 time_range: str = "") -> str:
    """A GDAL_WMS service description for the AGS mini-driver over the service's full extent."""
    west, south, east, north = service.extent
    time = f"<TimeRange>{time_range}</TimeRange>" if time_range else ""
    return f"""<GDAL_WMS>
  <Service name="AGS">
    <ServerUrl>{escape(export_url)}</ServerUrl>
    <SRS>EPSG:{service.crs.to_epsg()}</SRS>
    <ImageFormat>{image_format}</ImageFormat>
    {time}
  </Service>
  <DataWindow>
    <UpperLeftX>{west}</UpperLeftX><UpperLeftY>{north}</UpperLeftY>
    <LowerRightX>{east}</LowerRightX><LowerRightY>{south}</LowerRightY>
    <SizeX>{SIZE}</SizeX><SizeY>{SIZE}</SizeY>
  </DataWindow>
  <BlockSizeX>128</BlockSizeX><BlockSizeY>128</BlockSizeY>
  <BandsCount>{bands}</BandsCount>
  <DataType>{data_type}</DataType>
</GDAL_WMS>"""


def our_export(export_url: str, params: dict[str, str], bbox: tuple[float, ...], epsg: int) -> np.ndarray:
    """Our own exportImage for a bbox at the window's size, decoded."""
    response = requests.get(export_url, timeout=60, params={
        **params, "f": "image", "bbox": ",".join(f"{v:.8f}" for v in bbox),
        "bboxSR": str(epsg), "imageSR": str(epsg), "size": f"{WINDOW.width},{WINDOW.height}"})
    response.raise_for_status()
    with rasterio.MemoryFile(response.content) as memory, memory.open() as dataset:
        return dataset.read()


@pytest.mark.parametrize("image_format, bands, data_type, band_ids, one_date", [
    ("png", 4, "Byte", None, False),  # the service's default rendering, noData transparent
    ("tiff", 6, "UInt16", None, False),  # the raw values of every band
    ("tiff", 3, "UInt16", "3,2,1", False),  # chosen bands, in the ServerUrl's own query
    ("tiff", 6, "UInt16", None, True),  # one scene's date, from GDAL's TimeRange
])
def test_a_window_read_through_gdal_equals_our_export(server_url, services, image_format, bands,
                                                      data_type, band_ids, one_date):
    service = services["SampleMultispectral"]
    export_url = f"{server_url}/arcgis/rest/services/{service.name}/ImageServer/exportImage"
    params = {"format": image_format}
    server_url_query = ""
    if band_ids:
        params["bandIds"] = band_ids
        server_url_query = f"bandIds={band_ids}"
    time_range = ""
    if one_date:
        scene = service.items[len(service.items) // 2]
        time_range = params["time"] = f"{scene.start_ms - 86_400_000},{scene.start_ms + 86_400_000}"
    xml = gdal_wms_xml(f"{export_url}?{server_url_query}", service, image_format=image_format,
                       bands=bands, data_type=data_type, time_range=time_range)

    with rasterio.open(xml) as dataset:
        assert dataset.driver == "WMS"
        read = dataset.read(window=WINDOW)
        bbox = bounds(WINDOW, dataset.transform)

    expected = our_export(export_url, params, bbox, service.crs.to_epsg())
    assert read.shape == expected.shape == (bands, WINDOW.height, WINDOW.width)
    assert read.dtype == expected.dtype
    np.testing.assert_array_equal(read, expected)
    assert len(np.unique(read[0])) > 10  # real pixels, not a blank answer
    if one_date:  # GDAL's time reached the server: another scene than the default mosaic's
        undated = our_export(export_url, {"format": image_format}, bbox, service.crs.to_epsg())
        assert not np.array_equal(read, undated)
