"""exportImage `format=lerc`: processed pixels as an Esri LERC blob.

The ArcGIS Maps SDK for JavaScript asks for LERC whenever it draws on the client (pixelFilter,
client-side renderers, vector fields) and decodes it with Esri's own decoder. The blob holds
every band (one blob per band, back to back, as Esri's decoder reads them), each value within
`compressionTolerance` of the true value, and a validity mask in which a pixel masked in any band
is NoData, as in bip/bsq.

`lercVersion=2` (the default here, and what the JS SDK sends) is LERC2, in the processed pixel
type, written by Esri's `lerc` package. `lercVersion=1` is the old CntZImage format, which holds
only float32 values: Esri's `lerc` package only decodes it, so each band is written by GDAL's MRF
driver (Esri's own LERC1 encoder, inside the GDAL that rasterio ships) as a single-tile MRF.
"""

from __future__ import annotations

import os
import struct
import tempfile

import lerc
import numpy as np
import rasterio

from .errors import BadParameter

CONTENT_TYPE = "application/octet-stream"
EXTENSION = "lrc"
SUPPORTED_VERSIONS = (1, 2)
LERC_TYPES = {"i1", "u1", "i2", "u2", "i4", "u4", "f4", "f8"}
# GDAL's LERC1 writer masks the values within 1e-10 of the MRF's NoData value: masked pixels carry
# the lowest float32, never a real value. MRF stores no tile at all when every value is exactly
# NoData, so an all-NoData answer uses NoData 0 and a fill that is not exactly 0.
LERC1_NO_DATA = float(np.finfo(np.float32).min)
LERC1_VOID = (0.0, 1e-30)    # (NoData, fill) when no pixel is valid
# GDAL's MRF gives a LERC1 tile twice the raw size of its pixels, so a tiny image's fixed ~70-byte
# header would overflow it: LERC1 answers need at least this many pixels.
LERC1_MIN_PIXELS = 256
# A CntZImage blob: its header ("CntZImage ", version, type, height, width, maxZError) is 34 bytes,
# then the mask part and the values part, each a 16-byte header whose third int32 is the size of
# what follows it.
LERC1_HEADER = 34
LERC1_PART_HEADER = 16
BLOB_SIZE = 8     # where `lerc.getLercBlobInfo` answers the blob's size


def lerc_version(value: int | None) -> int:
    """The requested lercVersion, 2 when absent; a 400 for anything this server cannot write."""
    version = 2 if value is None else value
    if version not in SUPPORTED_VERSIONS:
        raise BadParameter("'lercVersion' parameter is invalid.")
    return version


def tolerance(value: list[float] | None) -> float:
    """`compressionTolerance`, the largest error allowed per value; 0 (lossless) when absent."""
    if value is None:
        return 0.0
    if len(value) != 1 or value[0] < 0:
        raise BadParameter("'compressionTolerance' parameter is invalid.")
    return value[0]


def encode_lerc(data: np.ma.MaskedArray, max_error: float, version: int = 2) -> bytes:
    """(bands, rows, cols) pixels as LERC `version` blobs with a shared validity mask."""
    values = np.ma.getdata(data)
    invalid = np.ma.getmaskarray(data).any(axis=0)
    if version == 1:
        return encode_lerc1(values, invalid, max_error)
    return encode_lerc2(values, invalid, max_error)


def encode_lerc2(values: np.ndarray, invalid: np.ndarray, max_error: float) -> bytes:
    """LERC2 through Esri's `lerc` package, in the pixel type (float64 for types it lacks)."""
    if values.dtype.kind + str(values.dtype.itemsize) not in LERC_TYPES:
        values = values.astype(np.float64)
    values = np.where(invalid[np.newaxis], 0, values).astype(values.dtype)
    valid = None if not invalid.any() else ~invalid
    result, _, blob = lerc.encode_4D(np.ascontiguousarray(values), 1, valid, max_error, 1)
    if result != 0:
        raise RuntimeError(f"the LERC encoder failed with error code {result}")
    return bytes(blob)


def encode_lerc1(values: np.ndarray, invalid: np.ndarray, max_error: float) -> bytes:
    """LERC1 bands as Esri's decoder reads them: the first band's blob whole, the others without
    their mask part, since every band shares the first one's mask. The last blob keeps the padding GDAL
    writes after it: Esri's decoder reads one more band only when more bytes follow than a band
    header, which a constant band's values part is not."""
    if invalid.size < LERC1_MIN_PIXELS:
        raise BadParameter(f"'lercVersion' 1 needs an image of at least {LERC1_MIN_PIXELS} pixels.")
    no_data, fill = LERC1_VOID if invalid.all() else (LERC1_NO_DATA, LERC1_NO_DATA)
    tiles = [lerc1_tile(np.where(invalid, fill, band).astype(np.float32), no_data, max_error) for band in values]
    blobs = [tile[:lerc.getLercBlobInfo(tile)[BLOB_SIZE]] for tile in tiles[:-1]] + tiles[-1:]
    return blobs[0] + b"".join(without_mask(blob) for blob in blobs[1:])


def lerc1_tile(band: np.ndarray, no_data: float, max_error: float) -> bytes:
    """One band as the only tile of a LERC1-compressed MRF: a CntZImage blob and a few bytes of
    padding (`lerc.getLercBlobInfo` measures the blob)."""
    rows, cols = band.shape
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "band.mrf")
        with rasterio.open(path, "w", driver="MRF", width=cols, height=rows, count=1, dtype="float32",
                           nodata=no_data, compress="LERC", blockxsize=cols, blockysize=rows,
                           options=f"V1=ON LERC_PREC={max_error!r}") as dataset:
            dataset.write(band, 1)
        with open(os.path.join(folder, "band.lrc"), "rb") as data_file:
            return data_file.read()


def without_mask(blob: bytes) -> bytes:
    """A CntZImage blob with its mask part cut out, as every band after the first is read."""
    (mask_size,) = struct.unpack_from("<i", blob, LERC1_HEADER + 8)
    return blob[:LERC1_HEADER] + blob[LERC1_HEADER + LERC1_PART_HEADER + mask_size:]
