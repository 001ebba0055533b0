"""The multidimensional sample: complete, deterministic, reused, and physically plausible."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import rasterio

from imageservice.server.catalog import STATS_CACHE, StatsCache
from imageservice.server.oceancube import SERVICE, ensure_ocean_cube


@pytest.fixture(scope="module")
def cube(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_ocean_cube(tmp_path_factory.mktemp("ocean"))


@pytest.fixture(scope="module")
def fields(cube: Path) -> dict[str, np.ndarray]:
    """Each variable as an array (month, depth from the surface down, row, col)."""
    items = json.loads((cube / "catalog.json").read_text())["items"]
    result = {}
    for variable in ("temperature", "salinity"):
        mine = [i for i in items if i["Variable"] == variable]
        times = sorted({i["StdTime"] for i in mine})
        depths = sorted({i["StdZ"] for i in mine}, reverse=True)
        cube_array = np.empty((len(times), len(depths), 100, 100))
        for item in mine:
            with rasterio.open(cube / item["file"]) as dataset:
                cube_array[times.index(item["StdTime"]), depths.index(item["StdZ"])] = dataset.read(1)
        result[variable] = cube_array
    return result


def digests(folder: Path) -> dict[str, str]:
    """Every generated file's hash; the statistics cache, keyed by modification times, left out."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.name != STATS_CACHE}


def test_every_slice_is_listed_once(cube: Path) -> None:
    items = json.loads((cube / "catalog.json").read_text())["items"]
    assert len(items) == 2 * 12 * 6
    assert sorted(i["file"] for i in items) == sorted(p.name for p in cube.glob("*.tif"))
    assert len({(i["Variable"], i["StdTime"], i["StdZ"]) for i in items}) == len(items)


def test_the_first_load_finds_every_slice_scanned(cube: Path) -> None:
    cache = StatsCache(cube)
    for path in sorted(cube.glob("*.tif")):
        cache.scan(path)
    assert len(cache.entries) == 2 * 12 * 6
    assert not cache.changed


def test_same_bytes_every_time_and_a_current_copy_is_kept(cube: Path, tmp_path: Path) -> None:
    assert digests(ensure_ocean_cube(tmp_path)) == digests(cube)
    before = (tmp_path / SERVICE / "catalog.json").stat().st_mtime_ns
    ensure_ocean_cube(tmp_path)
    assert (tmp_path / SERVICE / "catalog.json").stat().st_mtime_ns == before
    assert [p.name for p in tmp_path.iterdir()] == [SERVICE]         # no temporary folder left


def test_a_stale_copy_is_replaced_and_other_data_kept(tmp_path: Path) -> None:
    ensure_ocean_cube(tmp_path)
    sidecar = tmp_path / SERVICE / "catalog.json"
    sidecar.write_text(json.dumps({**json.loads(sidecar.read_text()), "generator": {"version": 0}}))
    ensure_ocean_cube(tmp_path)
    assert json.loads(sidecar.read_text())["generator"]["version"] > 0
    other = tmp_path / "other"
    (other / SERVICE).mkdir(parents=True)
    with pytest.raises(FileExistsError, match="does not hold generated sample data"):
        ensure_ocean_cube(other)


def test_temperature_falls_with_depth_and_salinity_rises(fields: dict[str, np.ndarray]) -> None:
    temperature = fields["temperature"].mean(axis=(2, 3))      # (month, depth)
    salinity = fields["salinity"].mean(axis=(2, 3))
    assert (np.diff(temperature, axis=1) <= 0).all() and (np.diff(salinity, axis=1) >= 0).all()
    assert 8.0 < temperature[:, -1].min() and temperature[:, 0].max() < 18.0
    assert 32.8 < salinity.min() and salinity.max() < 34.4


def test_the_seasonal_cycle_fades_and_lags_with_depth(fields: dict[str, np.ndarray]) -> None:
    temperature = fields["temperature"].mean(axis=(2, 3))
    amplitude = temperature.max(axis=0) - temperature.min(axis=0)
    assert amplitude[0] > 3 * amplitude[-1]
    warmest = temperature.argmax(axis=0)                       # month index of the peak per depth
    assert (np.diff(warmest) >= 0).all() and warmest[-1] > warmest[0]


def test_upwelling_cools_the_coast_in_early_summer(fields: dict[str, np.ndarray]) -> None:
    june_surface = fields["temperature"][5, 0]
    coast, offshore = june_surface[:, -10:].mean(), june_surface[:, :10].mean()
    assert coast < offshore - 2
    assert fields["salinity"][5, 0][:, -10:].mean() > fields["salinity"][5, 0][:, :10].mean()
