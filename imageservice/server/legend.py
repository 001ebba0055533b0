"""The `legend` resource: what the colours of an exportImage picture mean, as ArcGIS lists them.

One layer, named after the service, of one of three legend types, decided by how the picture is
drawn (the request's renderingRule and bandIds, else the service default, as exportImage draws
a picture):
- "Unique Values": a colormap with at most MAX_CLASSES entries (a thematic service's classes, or a
  Colormap function's): a swatch per value, labelled with its class name or its value;
- "Stretched": one band drawn grey, or a longer colormap drawn as a ramp: three swatches cut from
  one vertical ramp, labelled "High : <max>", "" and "Low : <min>";
- "RGB Composite": three or more bands: red, green and blue swatches labelled with band names.
Each swatch is a 20 x 20 PNG in `imageData` (base64), as on ArcGIS.
"""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

from .args import Args
from .catalog import Service
from .multidimensional import requested_variable
from .operations import band_list, checked_bands, json_object, with_default_rendering
from .rasterfunctions import Node, colormap_table, innermost, resolve
from .thematic import class_names

SWATCH = 20                              # pixels, as ArcGIS legend symbols
MAX_CLASSES = 64                         # longer colormaps are shown as a ramp
GREY_RAMP = np.array([[0, 0, 0], [255, 255, 255]], np.uint8)
ONE_BAND_FUNCTIONS = {"NDVI", "Hillshade", "Slope", "Aspect", "BandArithmetic"}


def legend(service: Service, args: Args) -> dict:
    node = resolve(json_object(with_default_rendering(service, args), "renderingRule"), service)
    colours = rule_colormap(node) if node is not None else ()
    if colours:
        legend_type, entries = colormap_legend(service, colours)
    else:
        names = output_band_names(service, args, node)
        if len(names) >= 3:
            legend_type, entries = "RGB Composite", rgb_legend(names)
        else:
            legend_type, entries = "Stretched", ramp_legend(GREY_RAMP, *grey_labels(service, args, node))
    return {"layers": [{
        "layerId": 0,
        "layerName": service.name,
        "layerType": "Raster Layer",
        "minScale": 0,
        "maxScale": 0,
        "legendType": legend_type,
        "legend": entries,
    }]}


def rule_colormap(node: Node) -> tuple[tuple[int, int, int, int], ...]:
    """The (value, r, g, b) entries of a rule whose last function is a Colormap; () otherwise."""
    if node.function != "Colormap":
        return ()
    values, colours = colormap_table(node.arguments)
    return tuple((int(v), *(int(c) for c in rgb)) for v, rgb in zip(values, colours))


def colormap_legend(service: Service, colours: tuple[tuple[int, int, int, int], ...]) -> tuple[str, list[dict]]:
    if len(colours) > MAX_CLASSES:
        ramp = np.array([entry[1:] for entry in colours], np.uint8)
        return "Stretched", ramp_legend(ramp, str(colours[-1][0]), str(colours[0][0]))
    names = class_names(service)
    return "Unique Values", [swatch(names.get(value, str(value)), np.array(rgb, np.uint8), values=[value])
                             for value, *rgb in colours]


def output_band_names(service: Service, args: Args, node: Node | None) -> list[str]:
    """The bands a picture shows: one for the single-band functions, an ExtractBand's bands,
    else the bandIds (or all bands) of the service."""
    chain, current = [], node
    while current is not None:
        chain.append(current.function)
        current = current.input
    single = next((name for name in chain if name in ONE_BAND_FUNCTIONS), None)
    if single is not None:
        return [single]
    first = innermost(node) if node is not None else None
    if first is not None and first.function == "ExtractBand":
        ids = first.arguments.get("BandIDs")
        if isinstance(ids, list) and all(isinstance(i, int) for i in ids):
            return [service.band_names[i] for i in ids if 0 <= i < len(service.band_names)]
    ids = checked_bands(band_list(args, service), len(service.band_names))
    return [service.band_names[i] for i in (ids if ids is not None else range(len(service.band_names)))]


def grey_labels(service: Service, args: Args, node: Node | None) -> tuple[str, str]:
    """High and Low labels: the band's service statistics when no function changes its values."""
    if node is not None:
        return "High", "Low"
    ids = band_list(args, service) or [0]
    variable = requested_variable(service, args.get("variable"))
    if variable is None and service.multidimensional is not None:
        variable = service.multidimensional.variables[0]     # what exportImage shows by default
    low, high = (variable.statistics if variable is not None else service.statistics[ids[0]])[:2]
    return f"High : {high:g}", f"Low : {low:g}"


def rgb_legend(names: list[str]) -> list[dict]:
    colours = ((255, 0, 0), (0, 255, 0), (0, 0, 255))
    return [swatch(f"{channel}: {name}", np.array(colour, np.uint8))
            for channel, name, colour in zip(("Red", "Green", "Blue"), names, colours)]


def ramp_legend(ramp: np.ndarray, high: str, low: str) -> list[dict]:
    """Three swatches cut from one vertical ramp of `ramp`'s colours, high on top."""
    rows = 3 * SWATCH
    positions = np.linspace(len(ramp) - 1, 0, rows)
    column = np.stack([np.interp(positions, np.arange(len(ramp)), ramp[:, c]) for c in range(3)], axis=1)
    picture = np.repeat(column.round().astype(np.uint8)[:, np.newaxis, :], SWATCH, axis=1)
    return [entry(label, picture[i * SWATCH:(i + 1) * SWATCH]) for i, label in enumerate((high, "", low))]


def swatch(label: str, colour: np.ndarray, values: list[int] | None = None) -> dict:
    result = entry(label, np.broadcast_to(colour, (SWATCH, SWATCH, 3)))
    if values is not None:
        result["values"] = values
    return result


def entry(label: str, pixels: np.ndarray) -> dict:
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels), "RGB").save(buffer, "PNG")
    return {"label": label, "url": "", "imageData": base64.b64encode(buffer.getvalue()).decode("ascii"),
            "contentType": "image/png", "height": SWATCH, "width": SWATCH}
