"""The `SampleLandCover` sample service: a thematic (class) raster of the synthetic landscape.

One U8 GeoTIFF of land-cover classes derived from the landscape's own masks (water, town, forest,
grassland, bare soil, pasture, crop fields and orchards), with NLCD-like class codes, a palette in
the file and a raster attribute table (class name, pixel count, colour) in the sidecar: what a
client needs to test colormaps, attribute tables and unique-value legends. Nothing here is real
land cover.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import rasterio
from rasterio.enums import Resampling

from .sampledata import COPYRIGHT, CRS_UTM10N, GENERATOR_VERSION, SIDECAR

if TYPE_CHECKING:
    from .sampledata import Landscape

NO_DATA = 0
# code, name, colour; drawn in this order, so later classes win where masks overlap.
CLASSES = (
    (82, "Cultivated Crops", (171, 108, 40)),
    (84, "Orchards", (120, 160, 60)),
    (81, "Pasture", (220, 217, 57)),
    (71, "Grassland", (223, 223, 194)),
    (41, "Forest", (56, 129, 78)),
    (31, "Barren Land", (179, 172, 159)),
    (22, "Developed", (217, 146, 130)),
    (11, "Open Water", (70, 107, 159)),
)


def land_cover(landscape: Landscape) -> np.ndarray:
    """The (size, size) class codes of the landscape."""
    orchard = landscape.field_crop == landscape.crop_names.index("orchard")
    masks = {
        82: landscape.cropland & ~orchard,
        84: landscape.cropland & orchard,
        81: landscape.transition,
        71: landscape.grassland,
        41: landscape.forest,
        31: landscape.bare,
        22: landscape.town,
        11: landscape.water,
    }
    codes = np.full((landscape.size, landscape.size), NO_DATA, np.uint8)
    for code, _, _ in CLASSES:
        codes[masks[code]] = code
    return codes


def write_landcover(folder: Path, landscape: Landscape) -> None:
    codes = land_cover(landscape)
    profile = {
        "driver": "GTiff", "width": landscape.size, "height": landscape.size, "count": 1, "dtype": "uint8",
        "crs": CRS_UTM10N, "transform": landscape.transform, "nodata": NO_DATA, "tiled": True,
        "blockxsize": 256, "blockysize": 256, "compress": "deflate", "photometric": "palette",
    }
    with rasterio.open(folder / "LandCover.tif", "w", **profile) as dataset:
        dataset.write(codes[np.newaxis])
        dataset.write_colormap(1, {code: (*colour, 255) for code, _, colour in CLASSES})
        dataset.descriptions = ("LandCover",)
        dataset.build_overviews([2, 4, 8], Resampling.mode)
    counts = dict(zip(*np.unique(codes, return_counts=True)))
    table = [{"Value": code, "ClassName": name, "Count": int(counts.get(code, 0)),
              "Red": colour[0], "Green": colour[1], "Blue": colour[2]}
             for code, name, colour in sorted(CLASSES)]
    sidecar = {
        "description": ("Synthetic sample data: land-cover classes of the made-up landscape over the Davis, "
                        "California area (water, developed, barren, forest, grassland, pasture, crops, "
                        "orchards). Not real land cover."),
        "copyrightText": COPYRIGHT,
        "serviceDataType": "esriImageServiceDataTypeThematic",
        "bandNames": ["LandCover"],
        "rasterAttributeTable": table,
        "generator": {"version": GENERATOR_VERSION, "size": landscape.size},
        "items": [{"file": "LandCover.tif", "Name": "LandCover"}],
    }
    (folder / SIDECAR).write_text(json.dumps(sidecar, indent=2) + "\n")
