"""Processed pixels to exportImage bytes: noData masking, pixel types, picture and raw formats.

Picture formats (jpg, png*, bmp, gif) hold 8-bit RGB(A). Data that is not already 8-bit gets a
default stretch to 0..255, chosen per displayed band in this order:
  1. uint8 data (U8 sources, Stretch/Hillshade/Colormap/NDVI outputs) is shown as it is;
  2. with `statistics` for the band (the service statistics, no rendering rule): mean ± 2 stdv;
  3. float data that lies within -1..1 (NDVI and other indices) maps -1..1 linearly, so a colour
     means the same value in every map view;
  4. otherwise mean ± 2 stdv of the valid pixels being drawn.
One band is drawn grey, two bands draw the first band grey (a second band has no natural colour),
three or more draw the first three as RGB. A pixel masked in any drawn band is transparent.
tiff, bip, bsq and lerc carry the raw values of every band in the processed pixel type: no stretch.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image
from rasterio.io import MemoryFile

from .errors import BadParameter
from .lercformat import CONTENT_TYPE as LERC_CONTENT_TYPE
from .lercformat import EXTENSION as LERC_EXTENSION
from .lercformat import encode_lerc

if TYPE_CHECKING:
    from .mosaic import Grid

# ArcGIS pixel type -> (numpy type, lowest, highest value). U1/U2/U4 are stored in bytes.
PIXEL_TYPES: dict[str, tuple[type, float, float]] = {
    "U1": (np.uint8, 0, 1),
    "U2": (np.uint8, 0, 3),
    "U4": (np.uint8, 0, 15),
    "U8": (np.uint8, 0, 255),
    "S8": (np.int8, -128, 127),
    "U16": (np.uint16, 0, 65535),
    "S16": (np.int16, -32768, 32767),
    "U32": (np.uint32, 0, 4294967295),
    "S32": (np.int32, -2147483648, 2147483647),
    "F32": (np.float32, float(np.finfo(np.float32).min), float(np.finfo(np.float32).max)),
    "F64": (np.float64, float(np.finfo(np.float64).min), float(np.finfo(np.float64).max)),
}
MATCH_ANY = "esrinodatamatchany"
MATCH_ALL = "esrinodatamatchall"
DEFAULT_QUALITY = 75
PNG_COMPRESS_LEVEL = 1                   # fast zlib settings: images are made on every map move;
PNG_STRATEGY = zlib.Z_RLE                # run-length matching is faster and smaller on imagery
TRANSPARENT_INDEX = 255                  # palette slot of masked pixels in png8 / gif
PICTURE_FORMATS = ("jpgpng", "png", "png32", "png24", "png8", "jpg", "bmp", "gif")   # drawn to 8-bit RGB
PICTURES = {                             # format -> (Pillow format, content type, extension)
    "png": ("PNG", "image/png", "png"),
    "jpg": ("JPEG", "image/jpeg", "jpg"),
    "bmp": ("BMP", "image/bmp", "bmp"),
    "gif": ("GIF", "image/gif", "gif"),
}


def apply_no_data(data: np.ndarray, values: Sequence[float], interpretation: str | None) -> np.ma.MaskedArray:
    """Mask the pixels whose values match `values` (one for every band, or one per band).

    MatchAny (the default for one value) masks a pixel when any band matches; MatchAll (the default
    for a list) when every band matches. The whole pixel is masked, in every band.
    """
    data = np.ma.asarray(data)
    bands = data.shape[0]
    if len(values) not in (1, bands):
        raise BadParameter(f"'noData' parameter needs one value or one per band ({bands}).")
    key = (interpretation or (MATCH_ANY if len(values) == 1 else MATCH_ALL)).lower()
    if key not in (MATCH_ANY, MATCH_ALL):
        raise BadParameter("'noDataInterpretation' parameter is invalid.")
    targets = np.array(values if len(values) == bands else list(values) * bands, dtype=np.float64)
    matches = np.ma.getdata(data) == targets[:, np.newaxis, np.newaxis]
    hit = matches.any(axis=0) if key == MATCH_ANY else matches.all(axis=0)
    return np.ma.masked_array(np.ma.getdata(data), mask=np.ma.getmaskarray(data) | hit[np.newaxis])


def to_pixel_type(data: np.ma.MaskedArray, pixel_type: str) -> np.ma.MaskedArray:
    """Convert to an ArcGIS pixel type: fractions are truncated, values clamped to the type's range.
    UNKNOWN keeps the natural type."""
    key = pixel_type.upper()
    if key == "UNKNOWN":
        return data
    if key not in PIXEL_TYPES:
        raise BadParameter(f"Pixel type '{pixel_type}' is not supported.")
    dtype, low, high = PIXEL_TYPES[key]
    values = np.ma.getdata(data)
    mask = np.ma.getmaskarray(data)
    if np.dtype(dtype).kind == "f":
        with np.errstate(over="ignore"):
            converted = values.astype(dtype)
    else:
        converted = np.clip(np.trunc(np.nan_to_num(values.astype(np.float64))), low, high).astype(dtype)
        converted[mask] = 0
    return np.ma.masked_array(converted, mask=mask)


def encode(data: np.ma.MaskedArray, *, format: str, pixel_type: str | None,
           statistics: Sequence[Sequence[float]] | None, grid: Grid, compression_quality: int | None = None,
           transparent: bool = True, compression_tolerance: float = 0.0,
           lerc_version: int = 2) -> tuple[bytes, str, str]:
    """Encode processed pixels as `format`; returns (body, content type, file extension)."""
    data = np.ma.asarray(data)
    if pixel_type is not None:
        data = to_pixel_type(data, pixel_type)
    key = format.lower()
    if key == "tiff":
        return geotiff(data, grid), "image/tiff", "tif"
    if key in ("bip", "bsq"):
        return raw(data, interleave=key), "application/octet-stream", key
    if key == "lerc":
        return encode_lerc(data, compression_tolerance, lerc_version), LERC_CONTENT_TYPE, LERC_EXTENSION
    if key not in PICTURE_FORMATS:
        raise BadParameter("'format' parameter is invalid.")
    channels, masked = display_channels(data, statistics)
    if not transparent:
        masked = np.zeros_like(masked)
    if key == "jpgpng":
        key = "png32" if masked.any() else "jpg"
    if key in ("png", "png32"):
        return save(picture(channels, masked, alpha=True), "png")
    if key in ("png8", "gif"):
        return save(paletted(picture(channels, masked), masked), "gif" if key == "gif" else "png")
    quality = DEFAULT_QUALITY if compression_quality is None else compression_quality
    return save(picture(channels, masked), "png" if key == "png24" else key, quality)


def save(image: Image.Image, kind: str, quality: int = DEFAULT_QUALITY) -> tuple[bytes, str, str]:
    pillow_format, content_type, extension = PICTURES[kind]
    options: dict = {}
    if pillow_format == "JPEG":
        options["quality"] = quality
    elif pillow_format == "PNG":
        options.update(compress_level=PNG_COMPRESS_LEVEL, compress_type=PNG_STRATEGY)
    if "transparency" in image.info:
        options["transparency"] = image.info["transparency"]
    buffer = io.BytesIO()
    image.save(buffer, pillow_format, **options)
    return buffer.getvalue(), content_type, extension


def paletted(rgb: Image.Image, masked: np.ndarray) -> Image.Image:
    """A palette image with at most 255 colours; masked pixels use a transparent last slot."""
    image = rgb.quantize(colors=TRANSPARENT_INDEX, method=Image.Quantize.FASTOCTREE)
    if not masked.any():
        return image
    indexes = np.asarray(image).copy()
    indexes[masked] = TRANSPARENT_INDEX
    palette = image.getpalette()[:3 * TRANSPARENT_INDEX]
    palette += [0, 0, 0] * (256 - len(palette) // 3)
    result = Image.fromarray(indexes, "P")
    result.putpalette(palette)
    result.info["transparency"] = TRANSPARENT_INDEX
    return result


# ----------------------------------------------------------------------------------------------
# Picture formats: which bands, and the default stretch


def display_channels(data: np.ma.MaskedArray,
                     statistics: Sequence[Sequence[float]] | None) -> tuple[list[np.ndarray], np.ndarray]:
    """The red, green and blue channels as (height, width) uint8 arrays (grey: one array thrice),
    black where any drawn band is masked, and that (height, width) mask of transparent pixels."""
    drawn = [0, 0, 0] if data.shape[0] < 3 else [0, 1, 2]
    if statistics is not None and len(statistics) != data.shape[0]:
        statistics = None
    masked = np.zeros(data.shape[1:], bool)
    for band in set(drawn):
        masked |= np.ma.getmaskarray(data[band])
    channels = {}
    for band in set(drawn):
        channel = to_byte(data[band], statistics[band] if statistics else None)
        channel[masked] = 0
        channels[band] = channel
    return [channels[band] for band in drawn], masked


def picture(channels: list[np.ndarray], masked: np.ndarray, *, alpha: bool = False) -> Image.Image:
    """An RGB image of the channels, or RGBA with the masked pixels transparent. Pillow interleaves
    the bands (several times faster than stacking them in numpy first)."""
    bands = channels + [np.where(masked, np.uint8(0), np.uint8(255))] if alpha else channels
    return Image.merge("RGBA" if alpha else "RGB", [Image.fromarray(band) for band in bands])


def to_byte(band: np.ma.MaskedArray, statistics: Sequence[float] | None) -> np.ndarray:
    """One band as 0..255 bytes by the default stretch rules of the module docstring."""
    values = np.ma.getdata(band)
    if values.dtype == np.uint8:
        return values.copy()
    if statistics is not None:
        mean, stdv = float(statistics[2]), float(statistics[3])
        low, high = (mean - 2 * stdv, mean + 2 * stdv) if stdv > 0 else (float(statistics[0]), float(statistics[1]))
    else:
        valid = band.compressed()
        if valid.size == 0:
            return np.zeros(values.shape, np.uint8)
        if values.dtype.kind == "f" and valid.min() >= -1 and valid.max() <= 1:
            low, high = -1.0, 1.0
        else:
            mean, stdv = float(valid.mean(dtype=np.float64)), float(valid.std(dtype=np.float64))
            low, high = mean - 2 * stdv, mean + 2 * stdv
    scale = 255.0 / (high - low) if high > low else 0.0
    # In place: these pictures are drawn on every pan, and each temporary costs a full-size pass.
    scaled = values.astype(np.float32)
    scaled -= np.float32(low)
    scaled *= np.float32(scale)
    scaled += np.float32(0.5)
    np.nan_to_num(scaled, copy=False)
    return np.clip(scaled, 0, 255, out=scaled).astype(np.uint8)


# ----------------------------------------------------------------------------------------------
# Raw formats


def geotiff(data: np.ma.MaskedArray, grid: Grid) -> bytes:
    """A deflate GeoTIFF on the grid with every band's values; masked pixels hold the nodata value
    (a value unused by the valid pixels), or, when the type has none free, an internal mask."""
    mask = np.ma.getmaskarray(data)
    nodata = free_value(data) if mask.any() else None
    values = np.ma.getdata(data).copy()
    if nodata is not None:
        values[mask] = nodata
    profile = {
        "driver": "GTiff", "width": grid.width, "height": grid.height, "count": data.shape[0],
        "dtype": values.dtype.name, "crs": grid.crs, "transform": grid.transform, "nodata": nodata,
        "compress": "deflate",
    }
    with MemoryFile() as memory:
        with memory.open(**profile) as dataset:
            dataset.write(values)
            if mask.any() and nodata is None:
                dataset.write_mask(~mask.any(axis=0))
        return memory.read()


def free_value(data: np.ma.MaskedArray) -> float | None:
    """A nodata value the valid pixels do not use: NaN for floats; 0 or the maximum for unsigned
    types; the minimum or the maximum for signed types."""
    dtype = data.dtype
    if dtype.kind == "f":
        return float("nan")
    info = np.iinfo(dtype)
    candidates = (0, info.max) if dtype.kind == "u" else (info.min, info.max)
    valid = data.compressed()
    for candidate in candidates:
        if not np.any(valid == candidate):
            return candidate
    return None


def raw(data: np.ma.MaskedArray, *, interleave: str) -> bytes:
    """Little-endian values, band-interleaved by pixel (bip) or band sequential (bsq), followed by a
    validity mask of one bit per pixel (1 = data), row by row, most significant bit first."""
    values = np.ma.getdata(data).copy()
    pixel_mask = np.ma.getmaskarray(data).any(axis=0)
    values[:, pixel_mask] = 0
    values = values.astype(values.dtype.newbyteorder("<"))
    ordered = np.moveaxis(values, 0, -1) if interleave == "bip" else values
    return np.ascontiguousarray(ordered).tobytes() + np.packbits(~pixel_mask.ravel()).tobytes()
