"""exportImage `format=lerc`: processed pixels as an Esri LERC blob, through Esri's `lerc` package.

The ArcGIS Maps SDK for JavaScript asks for LERC whenever it draws on the client (pixelFilter,
client-side renderers, vector fields) and decodes it with Esri's own decoder. The blob holds
every band in the processed pixel type (one LERC2 blob per band, back to back, as the library
writes multi-band data), each value within `compressionTolerance` of the true value, and a
validity mask in which a pixel masked in any band is NoData, as in bip/bsq.

`lercVersion=2` (the default here, and what the JS SDK sends) is LERC2. `lercVersion=1`, the
old CntZImage format, is refused: Esri's library only decodes it, on purpose.
"""

from __future__ import annotations

import lerc
import numpy as np

from .errors import BadParameter

CONTENT_TYPE = "application/octet-stream"
EXTENSION = "lrc"
SUPPORTED_VERSIONS = (2,)
LERC_TYPES = {"i1", "u1", "i2", "u2", "i4", "u4", "f4", "f8"}


def lerc_version(value: int | None) -> int:
    """The requested lercVersion, 2 when absent; a 400 for anything this server cannot write."""
    version = 2 if value is None else value
    if version == 1:
        raise BadParameter("'lercVersion' 1 (LERC1) is not supported: use lercVersion=2.")
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


def encode_lerc(data: np.ma.MaskedArray, max_error: float) -> bytes:
    """(bands, rows, cols) pixels as LERC2 blobs with a shared validity mask."""
    values = np.ma.getdata(data)
    if values.dtype.kind + str(values.dtype.itemsize) not in LERC_TYPES:
        values = values.astype(np.float64)
    invalid = np.ma.getmaskarray(data).any(axis=0)
    values = np.where(invalid[np.newaxis], 0, values).astype(values.dtype)
    valid = None if not invalid.any() else ~invalid
    result, _, blob = lerc.encode_4D(np.ascontiguousarray(values), 1, valid, max_error, 1)
    if result != 0:
        raise RuntimeError(f"the LERC encoder failed with error code {result}")
    return bytes(blob)
