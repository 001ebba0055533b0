"""Split a netCDF file into a multidimensional service folder: one GeoTIFF per slice and a
`catalog.json` naming each slice's `Variable`, `StdTime` and `StdZ` (see docs/server.md).

GDAL, which rasterio bundles, reads netCDF: every variable is a subdataset whose bands are its
slices, and each band's `NETCDF_DIM_<dim>` tag gives its dimension values. CF time axis
(`units = "days since 2025-01-15"`) become ISO 8601 `StdTime`; a vertical axis (`depth`,
`height`, or any axis with a `positive` attribute) becomes `StdZ` in metres, negative below the
surface as ArcGIS has it; other axes keep their names. Run it once, then serve the folder:

    python -m imageservice.server.netcdf_import ocean.nc data/Ocean
    python -m imageservice.server.netcdf_import temperature.nc salinity.nc data/Ocean
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from rasterio.io import DatasetReader

from .catalog import SIDECAR

TIME_STEPS = {"second": 1, "sec": 1, "s": 1, "minute": 60, "min": 60, "hour": 3600, "hr": 3600, "h": 3600,
              "day": 86400, "d": 86400}
VERTICAL_NAMES = {"depth", "height", "altitude", "z", "lev", "level", "elevation"}
METRES = {"m", "meter", "meters", "metre", "metres"}


def import_netcdf(sources: list[Path], folder: Path) -> Path:
    """Write every slice of every variable of the `sources` (one file, or one file per variable,
    as many providers ship them) into `folder` with its sidecar."""
    folder.mkdir(parents=True, exist_ok=True)
    names = [name for source in sources for name in variable_datasets(source)]
    items: list[dict] = []
    variables: dict[str, dict] = {}
    dimensions: dict[str, dict] = {}
    for name in names:
        with rasterio.open(name) as dataset:
            if dataset.crs is None:
                raise ValueError(f"{name} has no coordinate reference system")
            variable, described = describe_variable(dataset)
            variables[variable] = described
            axes = [axis(dataset.tags(), dim) for dim in extra_dimensions(dataset.tags())]
            dimensions.update({a.name: a.described for a in axes})
            items.extend(write_slices(dataset, folder, variable, axes))
    sidecar = {
        "description": f"Slices of {', '.join(source.name for source in sources)}.",
        "serviceDataType": "esriImageServiceDataTypeScientific",
        "variables": variables,
        "dimensions": dimensions,
        **({"startTimeField": "StdTime"} if "StdTime" in dimensions else {}),
        "items": items,
    }
    (folder / SIDECAR).write_text(json.dumps(sidecar, indent=2) + "\n")
    return folder


def variable_datasets(source: Path) -> list[str]:
    """What rasterio opens for each variable of a file: its subdatasets, or the file itself
    when it holds one variable."""
    with rasterio.open(source) as dataset:
        return list(dataset.subdatasets) or [str(source)]


def describe_variable(dataset: DatasetReader) -> tuple[str, dict]:
    """The variable's name and its description and unit from its netCDF attributes."""
    tags = dataset.tags(1)
    name = tags.get("NETCDF_VARNAME") or Path(dataset.name).stem
    description = tags.get("long_name") or tags.get("standard_name") or name
    return name, {"description": description, "unit": tags.get("units", "")}


def extra_dimensions(tags: Mapping[str, str]) -> list[str]:
    """The non-spatial dimensions GDAL lists as `{time,depth}`."""
    return [d.strip() for d in tags.get("NETCDF_DIM_EXTRA", "").strip("{}").split(",") if d.strip()]


@dataclass(frozen=True)
class Axis:
    """One netCDF dimension: its catalog field, description and unit, and how values convert."""
    dim: str
    name: str
    described: dict
    convert: Callable[[float], Any]


def axis(tags: Mapping[str, str], dim: str) -> Axis:
    attributes = {key.split("#", 1)[1]: value for key, value in tags.items() if key.startswith(f"{dim}#")}
    units = attributes.get("units", "")
    label = attributes.get("long_name") or attributes.get("standard_name") or dim
    if " since " in units:
        return Axis(dim, "StdTime", {"description": label, "unit": "ISO8601"}, time_converter(units))
    standard = attributes.get("standard_name", "").lower()
    if "positive" in attributes or standard in VERTICAL_NAMES or dim.lower() in VERTICAL_NAMES:
        down = attributes.get("positive", "down" if "depth" in (standard or dim.lower()) else "up").lower() == "down"
        unit = "m" if units.lower() in METRES or not units else units
        return Axis(dim, "StdZ", {"description": label, "unit": unit}, lambda value: 0.0 - value if down else value)
    return Axis(dim, re.sub(r"\W", "_", dim), {"description": label, "unit": units}, lambda value: value)


def time_converter(units: str) -> Callable[[float], str]:
    """CF `<unit> since <origin>` as a function from a value to an ISO 8601 UTC string."""
    step, _, origin_text = units.partition(" since ")
    seconds = TIME_STEPS.get(step.strip().lower().rstrip("s")) or TIME_STEPS.get(step.strip().lower())
    if seconds is None:
        raise ValueError(f"time units {units!r} are not seconds, minutes, hours or days since a date")
    origin = parse_origin(origin_text)
    return lambda value: (origin + dt.timedelta(seconds=value * seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_origin(text: str) -> dt.datetime:
    """The origin of CF time units: a date, optionally a time (single-digit fields allowed), UTC."""
    match = re.match(r"\s*(\d{1,4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.\d+)?)?)?", text)
    if match is None:
        raise ValueError(f"cannot read the date in time units 'since {text}'")
    parts = [int(p) if p else 0 for p in match.groups()]
    return dt.datetime(*parts, tzinfo=dt.timezone.utc)


def write_slices(dataset: DatasetReader, folder: Path, variable: str, axes: list[Axis]) -> list[dict]:
    """One single-band GeoTIFF per band of the variable, with its catalog entry."""
    entries = []
    profile = {"driver": "GTiff", "width": dataset.width, "height": dataset.height, "count": 1,
               "dtype": dataset.dtypes[0], "crs": dataset.crs, "transform": dataset.transform,
               "nodata": dataset.nodata, "compress": "deflate"}
    for band in range(1, dataset.count + 1):
        tags = dataset.tags(band)
        values = {a.name: a.convert(float(tags[f"NETCDF_DIM_{a.dim}"])) for a in axes}
        file_name = f"{variable}_{band:05d}.tif"
        with rasterio.open(folder / file_name, "w", **profile) as target:
            target.write(dataset.read(band)[np.newaxis])
        label = " ".join(str(v) for v in values.values())
        entries.append({"file": file_name, "Name": f"{variable} {label}".strip(), "Variable": variable, **values})
    return entries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sources", type=Path, nargs="+", help="netCDF files (their variables go together)")
    parser.add_argument("folder", type=Path, help="the service folder to write (under your data folder)")
    options = parser.parse_args()
    folder = import_netcdf(options.sources, options.folder)
    print(f"Wrote {len(json.loads((folder / SIDECAR).read_text())['items'])} slices to {folder}")


if __name__ == "__main__":
    main()
