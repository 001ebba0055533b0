"""The core stays light: importing the Dash component or the library loads no geometry or
DataFrame library (rasterio, GDAL and shapely are the [server] extra's; pandas loads where a
DataFrame is built, pyproj where coordinates are reprojected).

Each check runs in a fresh interpreter and looks only at what our import adds after dash and
dash_leaflet, so whatever those load themselves does not count.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
HEAVY = {"rasterio", "osgeo", "shapely", "pandas", "pyproj", "numpy"}


def modules_added(code: str, cwd: Path) -> set[str]:
    """Top-level packages that `code` adds to sys.modules after `import dash, dash_leaflet`."""
    script = (
        "import json, sys\n"
        "import dash, dash_leaflet\n"
        "before = set(sys.modules)\n"
        f"{code}\n"
        "print(json.dumps(sorted({name.partition('.')[0] for name in set(sys.modules) - before})))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-c", script], cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout.splitlines()[-1]))


@pytest.mark.parametrize("code", [
    "import imageservice.dash",
    "import imageservice; imageservice.ImageMapLayer",
    "import imageservice.geojson, imageservice.metadata, imageservice.tasks",
])
def test_the_dash_component_and_the_library_load_no_heavy_package(code: str, tmp_path: Path) -> None:
    added = modules_added(code, tmp_path)
    assert "imageservice" in added
    assert not added & HEAVY, f"{code!r} loads {sorted(added & HEAVY)}"


def test_the_heavy_packages_load_only_where_they_are_used(tmp_path: Path) -> None:
    """The check sees them when they do load: pandas with the tables, pyproj with a reprojection."""
    assert "pandas" in modules_added("import imageservice.tables", tmp_path)
    reprojected = modules_added(
        "from imageservice.geojson import featureset_to_geojson\n"
        "featureset_to_geojson({'spatialReference': {'wkid': 3857},"
        " 'features': [{'geometry': {'x': 1e6, 'y': 2e6}}]})",
        tmp_path,
    )
    assert "pyproj" in reprojected
    assert not reprojected & {"rasterio", "osgeo", "shapely", "pandas"}
