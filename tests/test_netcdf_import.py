"""A netCDF file (written here through GDAL, as CF data with time and depth axes) split into a
folder of slices that the server then serves as a multidimensional service over HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import rasterio
import rasterio.shutil
import requests
from flask import Flask
from rasterio.io import MemoryFile
from rasterio.transform import from_origin

from imageservice.server.netcdf_import import import_netcdf
from imageservice.server.server import create_blueprint
from server_fixtures import serving

DAYS = [0, 31, 59]                       # days since 2025-01-15
DEPTHS = [0, 10, 50]                     # metres, positive down
TRANSFORM = from_origin(-125.0, 38.0, 0.5, 0.5)


def cube(offset: float) -> np.ndarray:
    """(time x depth, 3, 4) values that say which slice they come from."""
    bands = [np.full((3, 4), offset + 100 * t + d, np.float32) for t in range(len(DAYS)) for d in DEPTHS]
    return np.stack(bands)


def write_variable(path: Path, name: str, units: str, data: np.ndarray) -> None:
    """A file of one CF variable with time and depth axes, through GDAL's netCDF driver."""
    profile = {"driver": "GTiff", "width": 4, "height": 3, "count": len(data), "dtype": "float32",
               "crs": "EPSG:4326", "transform": TRANSFORM}
    with MemoryFile() as memory:
        with memory.open(**profile) as dataset:
            dataset.write(data)
            dataset.update_tags(**{
                "NETCDF_DIM_EXTRA": "{time,depth}",
                "NETCDF_DIM_time_DEF": f"{{{len(DAYS)},6}}", "NETCDF_DIM_time_VALUES": "{" + ",".join(map(str, DAYS)) + "}",
                "NETCDF_DIM_depth_DEF": f"{{{len(DEPTHS)},6}}", "NETCDF_DIM_depth_VALUES": "{" + ",".join(map(str, DEPTHS)) + "}",
                "time#units": "days since 2025-01-15", "time#standard_name": "time",
                "depth#units": "m", "depth#positive": "down", "depth#standard_name": "depth"})
            for band in range(1, len(data) + 1):
                t, d = divmod(band - 1, len(DEPTHS))
                dataset.update_tags(band, NETCDF_DIM_time=str(DAYS[t]), NETCDF_DIM_depth=str(DEPTHS[d]),
                                    NETCDF_VARNAME=name, units=units, long_name=f"sea water {name}")
        with memory.open() as dataset:
            rasterio.shutil.copy(dataset, path, driver="netCDF")


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    scratch = tmp_path_factory.mktemp("netcdf")
    write_variable(scratch / "temp.nc", "temp", "degC", cube(0))
    write_variable(scratch / "salt.nc", "salt", "psu", cube(1000))
    return import_netcdf([scratch / "temp.nc", scratch / "salt.nc"], scratch / "data" / "Ocean")


@pytest.fixture(scope="module")
def base(imported: Path) -> Iterator[str]:
    app = Flask("netcdf")
    app.register_blueprint(create_blueprint(imported.parent), url_prefix="/arcgis")
    with serving(app) as address:
        yield address + "/arcgis/rest/services/Ocean/ImageServer"


def test_every_slice_becomes_a_catalog_item(imported: Path) -> None:
    items = json.loads((imported / "catalog.json").read_text())["items"]
    assert len(items) == 2 * len(DAYS) * len(DEPTHS)
    assert {(i["Variable"], i["StdTime"], i["StdZ"]) for i in items} == {
        (v, t, -float(d)) for v in ("temp", "salt")
        for t in ("2025-01-15T00:00:00Z", "2025-02-15T00:00:00Z", "2025-03-15T00:00:00Z") for d in DEPTHS}
    for item in items:
        with rasterio.open(imported / item["file"]) as dataset:
            value = dataset.read(1)[0, 0]
        t = ["2025-01-15", "2025-02-15", "2025-03-15"].index(item["StdTime"][:10])
        assert value == (1000 if item["Variable"] == "salt" else 0) + 100 * t - item["StdZ"]


def test_the_folder_serves_the_variables_and_axes(base: str) -> None:
    info = requests.get(base + "/multidimensionalInfo", params={"f": "json"}, timeout=20).json()
    variables = {v["name"]: v for v in info["multidimensionalInfo"]["variables"]}
    assert set(variables) == {"temp", "salt"}
    assert (variables["salt"]["unit"], variables["salt"]["description"]) == ("psu", "sea water salt")
    time, depth = variables["temp"]["dimensions"]
    assert time["name"] == "StdTime" and (time["interval"], time["intervalUnit"]) == (1, "Months")
    assert depth["name"] == "StdZ" and depth["unit"] == "m" and depth["values"] == [-50.0, -10.0, 0.0]
    rule = json.dumps({"multidimensionalDefinition": [
        {"variableName": "salt", "dimensionName": "StdZ", "values": [-10]},
        {"variableName": "salt", "dimensionName": "StdTime", "values": [time["values"][2]]}]})
    answer = requests.get(base + "/identify", timeout=20, params={
        "f": "json", "geometry": "-124.25,37.25", "geometryType": "esriGeometryPoint", "mosaicRule": rule}).json()
    assert float(answer["value"]) == 1000 + 200 + 10
