"""The synthetic sample data: deterministic, complete, and showing real differences between scenes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import rasterio

from imageservice.server.catalog import STATS_CACHE
from imageservice.server.oceancube import SERVICE as OCEAN_SERVICE
from imageservice.server.sampledata import GENERATOR_VERSION, SAMPLE_SERVICES, Landscape, ensure_sample_data

SIZE = 64


@pytest.fixture(scope="session")
def sample_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_sample_data(tmp_path_factory.mktemp("sampledata"), size=SIZE)


@pytest.fixture(scope="session")
def sidecar(sample_root: Path) -> dict:
    return json.loads((sample_root / "SampleMultispectral" / "catalog.json").read_text())


@pytest.fixture(scope="session")
def scenes(sample_root: Path, sidecar: dict) -> dict[str, np.ndarray]:
    """Every scene's bands as float64, by item Name."""
    result = {}
    for entry in sidecar["items"]:
        with rasterio.open(sample_root / "SampleMultispectral" / entry["file"]) as dataset:
            result[entry["Name"]] = dataset.read().astype(np.float64)
    return result


def ndvi(bands: np.ndarray) -> np.ndarray:
    return (bands[3] - bands[2]) / (bands[3] + bands[2])


ALL_SERVICES = (*SAMPLE_SERVICES, OCEAN_SERVICE)


def digests(root: Path) -> dict[str, str]:
    """Every generated file's hash; the statistics caches, keyed by modification times, left out."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and p.name != STATS_CACHE}


def test_both_services_are_written_and_nothing_else(sample_root: Path) -> None:
    assert sorted(p.name for p in sample_root.iterdir()) == sorted(ALL_SERVICES)
    assert len(list((sample_root / "SampleMultispectral").glob("*.tif"))) == 14
    assert sorted(p.name for p in (sample_root / "SampleElevation").iterdir()) == ["Elevation.tif", "catalog.json"]


def test_same_size_gives_the_same_bytes(sample_root: Path, tmp_path: Path) -> None:
    assert digests(ensure_sample_data(tmp_path, size=SIZE)) == digests(sample_root)


def test_an_existing_dataset_is_reused(tmp_path: Path) -> None:
    ensure_sample_data(tmp_path, size=32)
    sidecar = tmp_path / "SampleMultispectral" / "catalog.json"
    before = sidecar.stat().st_mtime_ns
    ensure_sample_data(tmp_path, size=32)
    assert sidecar.stat().st_mtime_ns == before


def test_a_stale_dataset_is_rebuilt(tmp_path: Path) -> None:
    ensure_sample_data(tmp_path, size=32)
    ensure_sample_data(tmp_path, size=40)
    for service in SAMPLE_SERVICES:
        content = json.loads((tmp_path / service / "catalog.json").read_text())
        assert content["generator"]["size"] == 40
    with rasterio.open(tmp_path / "SampleElevation" / "Elevation.tif") as dataset:
        assert dataset.shape == (40, 40)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(ALL_SERVICES)   # no temp folders left


def test_a_folder_of_other_data_is_never_overwritten(tmp_path: Path) -> None:
    (tmp_path / "SampleElevation").mkdir()
    (tmp_path / "SampleElevation" / "mine.tif").write_bytes(b"not generated")
    with pytest.raises(FileExistsError, match="does not hold generated sample data"):
        ensure_sample_data(tmp_path, size=32)
    assert (tmp_path / "SampleElevation" / "mine.tif").read_bytes() == b"not generated"
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]     # no temp folders left


def test_tiny_sizes_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 32"):
        ensure_sample_data(tmp_path, size=16)


def test_multispectral_files_are_tiled_compressed_u16_with_overviews(sample_root: Path, sidecar: dict) -> None:
    for entry in sidecar["items"]:
        with rasterio.open(sample_root / "SampleMultispectral" / entry["file"]) as dataset:
            assert dataset.count == 6
            assert dataset.descriptions == ("Blue", "Green", "Red", "NIR", "SWIR1", "SWIR2")
            assert dataset.dtypes == ("uint16",) * 6
            assert dataset.nodata == 0
            assert dataset.crs.to_epsg() == 32610
            assert dataset.shape == (SIZE, SIZE)
            assert dataset.bounds == (586770.0, 4247850.0, 625170.0, 4286250.0)
            assert dataset.profile["tiled"] is True
            assert dataset.block_shapes == [(256, 256)] * 6
            assert dataset.compression.value == "ZSTD"
            assert dataset.overviews(1) == [2]
            assert int(dataset.read().max()) <= 10000


def test_catalog_sidecar_describes_every_scene(sidecar: dict) -> None:
    assert sidecar["copyrightText"].startswith("Synthetic sample data")
    assert sidecar["bandNames"] == ["Blue", "Green", "Red", "NIR", "SWIR1", "SWIR2"]
    items = sidecar["items"]
    dates = [item["AcquisitionDate"] for item in items]
    assert len(set(dates)) == len(items) == 14
    assert dates[0] == "2025-01-08T18:40:00Z" and dates[-1].startswith("2025-12-")
    assert {item["SensorName"] for item in items} == {"SynthSat-1", "SynthSat-2"}
    assert all(0 <= item["CloudCover"] <= 100 for item in items)
    assert max(item["CloudCover"] for item in items) > 10 and min(item["CloudCover"] for item in items) == 0
    assert set(items[0]) == {"file", "Name", "AcquisitionDate", "CloudCover", "SensorName", "DayOfYear", "Month",
                             "SunElevation", "SunAzimuth"}


def test_scenes_have_nodata_edges_and_different_footprints(scenes: dict[str, np.ndarray]) -> None:
    masks = []
    for bands in scenes.values():
        valid = bands[0] > 0
        assert ((bands > 0) == valid).all()                   # NoData is 0 in every band together
        assert valid[SIZE // 2, SIZE // 2]
        assert not valid[:, 0].all() or not valid[:, -1].all()   # at least one swath edge shows
        assert 0.6 < valid.mean() < 0.98
        masks.append(valid)
    assert len({mask.tobytes() for mask in masks}) == len(masks)


def test_cloudy_scenes_have_bright_clouds_in_proportion(scenes: dict[str, np.ndarray], sidecar: dict) -> None:
    for item in sidecar["items"]:
        bands = scenes[item["Name"]]
        valid = bands[0] > 0
        bright = (bands[0] > 5000) & valid                       # clouds are bright even in blue
        assert bright.sum() / valid.sum() * 100 == pytest.approx(item["CloudCover"], abs=6)


def test_water_has_negative_ndvi(scenes: dict[str, np.ndarray], sidecar: dict) -> None:
    lake = Landscape(SIZE).lake
    clear = [item["Name"] for item in sidecar["items"] if item["CloudCover"] < 5]
    assert len(clear) >= 6
    for name in clear:
        bands = scenes[name]
        water = clear_ndvi(bands)[lake]
        assert np.isfinite(water).sum() >= 10
        assert np.nanmedian(water) < -0.2


def clear_ndvi(bands: np.ndarray) -> np.ndarray:
    """NDVI with NaN outside the swath and under clouds (bright in blue)."""
    usable = (bands[0] > 0) & (bands[0] < 3000)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(usable, ndvi(bands), np.nan)


def test_crop_ndvi_follows_seasons_that_differ_between_fields(scenes: dict[str, np.ndarray]) -> None:
    cropland = Landscape(SIZE).cropland
    series = np.stack([clear_ndvi(bands)[cropland] for bands in scenes.values()])   # (dates, crop pixels)
    assert series.shape == (14, int(cropland.sum())) and series.shape[1] > 1500
    seen = np.isfinite(series).sum(axis=0) >= 8
    assert seen.mean() > 0.8
    series = series[:, seen]
    assert np.median(np.nanmax(series, axis=0) - np.nanmin(series, axis=0)) > 0.4   # a real seasonal cycle
    assert len(set(np.nanargmax(series, axis=0).tolist())) >= 5                     # fields peak at different dates
    assert np.nanstd(series, axis=1).min() > 0.1                                    # fields differ on every date


def test_crops_are_greener_in_july_than_in_november(scenes: dict[str, np.ndarray]) -> None:
    cropland = Landscape(SIZE).cropland
    july = np.nanmedian(clear_ndvi(scenes["SynthSat2_20250709"])[cropland])
    november = np.nanmedian(clear_ndvi(scenes["SynthSat1_20251116"])[cropland])
    assert july > november + 0.2


def test_elevation_is_a_float_dem_with_a_nodata_corner(sample_root: Path) -> None:
    sidecar = json.loads((sample_root / "SampleElevation" / "catalog.json").read_text())
    assert sidecar["serviceDataType"] == "esriImageServiceDataTypeElevation"
    with rasterio.open(sample_root / "SampleElevation" / "Elevation.tif") as dataset:
        assert (dataset.count, dataset.dtypes[0], dataset.nodata) == (1, "float32", -9999.0)
        assert dataset.profile["tiled"] is True and dataset.overviews(1) == [2]
        assert dataset.descriptions == ("Elevation",)
        dem = dataset.read(1, masked=True)
    assert dem.mask[0, -1] and not dem.mask[-1, 0] and not dem.mask[SIZE // 2, SIZE // 2]
    assert 0 < dem.mask.mean() < 0.02
    assert 0 < dem.min() < 30 and 500 < dem.max() < 1000          # valley floor and hills in metres
    assert dem[:, : SIZE // 5].mean() > 5 * dem[:, SIZE // 2:].mean()   # the hills are in the west


def test_sample_data_an_older_generator_made_is_rebuilt_when_served(tmp_path: Path) -> None:
    from imageservice.server.server import open_services

    ensure_sample_data(tmp_path, size=32)
    sidecar = tmp_path / "SampleMultispectral" / "catalog.json"
    content = json.loads(sidecar.read_text())
    content["generator"]["version"] -= 1
    sidecar.write_text(json.dumps(content))
    assert sorted(open_services(tmp_path)) == sorted(ALL_SERVICES)
    assert json.loads(sidecar.read_text())["generator"] == {"version": GENERATOR_VERSION, "size": 32}
