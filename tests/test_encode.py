"""noData masking, pixel types and every exportImage format, decoded back with Pillow and rasterio."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from rasterio.crs import CRS
from rasterio.io import MemoryFile
from rasterio.transform import from_origin

from imageservice.server.encode import apply_no_data, encode, to_pixel_type
from imageservice.server.errors import BadParameter
from imageservice.server.mosaic import Grid

GRID = Grid(CRS.from_epsg(32610), from_origin(600_000, 4_200_000, 30, 30), 4, 3)


def masked(values, mask=False, dtype=np.uint8) -> np.ma.MaskedArray:
    return np.ma.masked_array(np.array(values, dtype=dtype), mask=mask)


def rgb_pixels() -> np.ma.MaskedArray:
    """Three U8 bands on a 3 x 4 grid with distinct values; pixel (0, 0) masked in band 0 only."""
    values = np.arange(3 * 3 * 4, dtype=np.uint8).reshape(3, 3, 4) * 7
    mask = np.zeros(values.shape, bool)
    mask[0, 0, 0] = True
    return np.ma.masked_array(values, mask=mask)


def decode(body: bytes) -> Image.Image:
    return Image.open(io.BytesIO(body))


def read_tiff(body: bytes):
    with MemoryFile(body) as memory, memory.open() as dataset:
        return dataset.read(masked=True), dataset.profile, dataset.crs, dataset.transform


def draw(data: np.ma.MaskedArray, fmt: str = "png32", **options) -> tuple[bytes, str, str]:
    return encode(data, format=fmt, pixel_type=options.pop("pixel_type", None),
                  statistics=options.pop("statistics", None), grid=GRID, **options)


# -- noData and pixel types ----------------------------------------------------------------------

def test_one_no_data_value_matches_any_band_by_default():
    data = masked([[[1, 5]], [[5, 2]], [[3, 3]]])
    out = apply_no_data(data, [5], None)
    assert out.mask[:, 0].T.tolist() == [[True] * 3, [True] * 3]
    out = apply_no_data(data, [3], "esriNoDataMatchAll")
    assert not out.mask.any()


def test_a_no_data_list_matches_all_bands_by_default():
    data = masked([[[1, 1]], [[2, 9]], [[3, 3]]])
    out = apply_no_data(data, [1, 2, 3], None)
    assert out.mask[:, 0].T.tolist() == [[True] * 3, [False] * 3]
    out = apply_no_data(data, [1, 0, 0], "ESRINODATAMATCHANY")
    assert out.mask.all()


def test_no_data_keeps_existing_masks_and_checks_its_input():
    data = masked([[[1, 2]]], mask=[[[False, True]]])
    assert apply_no_data(data, [1], None).mask.all()
    with pytest.raises(BadParameter):
        apply_no_data(masked([[[1]], [[2]]]), [1, 2, 3], None)
    with pytest.raises(BadParameter):
        apply_no_data(data, [1], "esriNoDataMatchSome")


@pytest.mark.parametrize("pixel_type, expected, dtype", [
    ("U8", [0, 3, 255, 255, 0], np.uint8),
    ("u1", [0, 1, 1, 1, 0], np.uint8),
    ("U2", [0, 3, 3, 3, 0], np.uint8),
    ("U4", [0, 3, 15, 15, 0], np.uint8),
    ("S8", [-5, 3, 127, 127, -128], np.int8),
    ("U16", [0, 3, 300, 65535, 0], np.uint16),
    ("S16", [-5, 3, 300, 32767, -32768], np.int16),
    ("U32", [0, 3, 300, 65535, 0], np.uint32),
    ("S32", [-5, 3, 300, 65535, -100000], np.int32),
])
def test_pixel_types_truncate_and_clamp(pixel_type, expected, dtype):
    out = to_pixel_type(masked([[[-5.7, 3.9, 300.2, 65535.0, -100000.0]]], dtype=np.float32), pixel_type)
    assert out.dtype == dtype and out[0, 0].tolist() == expected


def test_float_pixel_types_keep_values_and_masks():
    data = masked([[[1.5, -2.25]]], mask=[[[False, True]]], dtype=np.float64)
    out = to_pixel_type(data, "F32")
    assert out.dtype == np.float32 and out[0, 0, 0] == 1.5 and out.mask[0, 0, 1]
    with pytest.raises(BadParameter):
        to_pixel_type(data, "C64")


# -- picture formats -----------------------------------------------------------------------------

def test_png32_is_rgba_with_masked_pixels_transparent():
    data = rgb_pixels()
    body, content_type, extension = draw(data, "png32")
    image = decode(body)
    assert (content_type, extension) == ("image/png", "png")
    assert (image.format, image.mode, image.size) == ("PNG", "RGBA", (4, 3))
    pixels = np.asarray(image)
    assert np.array_equal(pixels[..., :3].transpose(2, 0, 1)[:, 1:], data.data[:, 1:])
    assert pixels[0, 0].tolist() == [0, 0, 0, 0] and (pixels[..., 3].ravel()[1:] == 255).all()
    assert np.array_equal(np.asarray(decode(draw(data, "png")[0])), pixels)


def test_png24_bmp_and_jpg_are_rgb_with_masked_pixels_black():
    data = rgb_pixels()
    for fmt, pillow, content_type in (("png24", "PNG", "image/png"), ("bmp", "BMP", "image/bmp")):
        body, kind, _ = draw(data, fmt)
        image = decode(body)
        assert (kind, image.format, image.mode) == (content_type, pillow, "RGB")
        pixels = np.asarray(image)
        assert pixels[0, 0].tolist() == [0, 0, 0]
        assert np.array_equal(pixels.transpose(2, 0, 1)[:, 1:], data.data[:, 1:])
    flat = np.ma.masked_array(np.full((3, 8, 8), 200, np.uint8), mask=False)
    flat[:, :4] = np.ma.masked
    body, content_type, extension = draw(flat, "jpg")
    image = decode(body)
    assert (content_type, extension, image.format, image.mode) == ("image/jpeg", "jpg", "JPEG", "RGB")
    pixels = np.asarray(image).astype(int)
    assert np.abs(pixels[:3] - 0).max() <= 4 and np.abs(pixels[5:] - 200).max() <= 4


def test_jpgpng_is_png_only_when_something_is_transparent():
    data = rgb_pixels()
    body, content_type, extension = draw(data, "jpgpng")
    assert body.startswith(b"\x89PNG") and (content_type, extension) == ("image/png", "png")
    assert decode(body).mode == "RGBA"
    full = np.ma.masked_array(data.data, mask=False)
    body, content_type, extension = draw(full, "jpgpng")
    assert body.startswith(b"\xff\xd8") and (content_type, extension) == ("image/jpeg", "jpg")
    body, content_type, _ = draw(data, "jpgpng", transparent=False)
    assert body.startswith(b"\xff\xd8") and content_type == "image/jpeg"


def test_png8_and_gif_are_paletted_with_a_transparent_index():
    data = rgb_pixels()
    for fmt, pillow, content_type in (("png8", "PNG", "image/png"), ("gif", "GIF", "image/gif")):
        body, kind, _ = draw(data, fmt)
        image = decode(body)
        assert (kind, image.format, image.mode) == (content_type, pillow, "P")
        rgba = np.asarray(image.convert("RGBA"))
        assert rgba[0, 0, 3] == 0 and (rgba[..., 3].ravel()[1:] == 255).all()
        assert np.array_equal(rgba[..., :3].transpose(2, 0, 1)[:, 1:], data.data[:, 1:])


def test_not_transparent_makes_masked_pixels_opaque_black():
    pixels = np.asarray(decode(draw(rgb_pixels(), "png32", transparent=False)[0]))
    assert pixels[0, 0].tolist() == [0, 0, 0, 255] and (pixels[..., 3] == 255).all()


def test_band_count_decides_the_colours():
    grey = masked([[[10, 20, 30, 40]] * 3])
    pixels = np.asarray(decode(draw(grey, "png24")[0]))
    assert pixels[..., 0].tolist() == pixels[..., 2].tolist() == [[10, 20, 30, 40]] * 3
    two = np.ma.concatenate([grey, masked([[[99] * 4] * 3])])
    assert np.array_equal(np.asarray(decode(draw(two, "png24")[0])), pixels)
    four = np.ma.concatenate([rgb_pixels(), masked([[[99] * 4] * 3])])
    first_three = np.asarray(decode(draw(rgb_pixels(), "png32")[0]))
    assert np.array_equal(np.asarray(decode(draw(four, "png32")[0])), first_three)


def test_default_stretch_uses_mean_plus_minus_two_stdv_of_the_statistics():
    data = masked([[[1000, 1200, 1400, 1600]] * 3], dtype=np.uint16)
    pixels = np.asarray(decode(draw(data, "png24", statistics=[(0, 5000, 1300, 100)])[0]))
    assert pixels[0, :, 0].tolist() == [0, 64, 191, 255]            # 1100..1500 -> 0..255


def test_default_stretch_without_statistics():
    ndvi = masked([[[-1.0, 0.0, 0.5, 1.0]] * 3], dtype=np.float32)
    pixels = np.asarray(decode(draw(ndvi, "png24")[0]))
    assert pixels[0, :, 0].tolist() == [0, 128, 191, 255]           # -1..1 maps linearly
    wide = masked([[[0, 10, 20, 30]] * 3], dtype=np.float32)          # mean 15, stdv 11.18
    pixels = np.asarray(decode(draw(wide, "png24")[0]))
    assert pixels[0, :, 0].tolist() == [42, 99, 156, 213]
    eight_bit = masked([[[0, 10, 20, 30]] * 3])
    assert np.asarray(decode(draw(eight_bit, "png24")[0]))[0, :, 0].tolist() == [0, 10, 20, 30]


def test_explicit_pixel_type_applies_before_display():
    data = masked([[[-20.0, 3.7, 260.0, 100.0]] * 3], dtype=np.float32)
    pixels = np.asarray(decode(draw(data, "png24", pixel_type="U8")[0]))
    assert pixels[0, :, 0].tolist() == [0, 3, 255, 100]


def test_jpeg_quality_changes_the_size():
    noise = np.ma.masked_array(np.random.default_rng(1).integers(0, 256, (3, 64, 64), dtype=np.uint8), mask=False)
    low = draw(noise, "jpg", compression_quality=10)[0]
    high = draw(noise, "jpg", compression_quality=95)[0]
    assert len(low) < len(high) / 2


def test_unknown_format_is_an_error():
    with pytest.raises(BadParameter) as error:
        draw(rgb_pixels(), "webp")
    assert error.value.details == ["'format' parameter is invalid."]


# -- raw formats ---------------------------------------------------------------------------------

def test_tiff_is_a_georeferenced_raw_copy():
    data = np.ma.masked_array(np.array([[[100, 5, 65535, 7]] * 3, [[1, 2, 3, 4]] * 3], np.uint16), mask=False)
    data[0, 1, 1] = np.ma.masked
    body, content_type, extension = draw(data, "tiff")
    assert (content_type, extension) == ("image/tiff", "tif") and body[:2] in (b"II", b"MM")
    values, profile, crs, transform = read_tiff(body)
    assert crs == GRID.crs and transform == GRID.transform
    assert profile["dtype"] == "uint16" and profile["compress"] == "deflate" and profile["count"] == 2
    assert profile["nodata"] == 0
    assert np.array_equal(values.mask, data.mask) and np.array_equal(values.compressed(), data.compressed())


def test_tiff_in_a_requested_pixel_type_with_nan_no_data():
    data = masked([[[1.25, -3.5, 2.0, 9.0]] * 3], mask=[[[True, False, False, False]] * 3], dtype=np.float64)
    values, profile, _, _ = read_tiff(draw(data, "tiff", pixel_type="F32")[0])
    assert profile["dtype"] == "float32" and np.isnan(profile["nodata"])
    assert values.mask[0, :, 0].all() and values[0, 0, 1:].tolist() == [-3.5, 2.0, 9.0]
    values, profile, _, _ = read_tiff(draw(data, "tiff", pixel_type="S16")[0])
    assert profile["dtype"] == "int16" and values[0, 0, 1:].tolist() == [-3, 2, 9]


def test_tiff_no_data_avoids_valid_values_or_falls_back_to_a_mask():
    data = masked([[[0, 1, 0, 1]] * 3])
    data[0, 2, 3] = np.ma.masked
    values, profile, _, _ = read_tiff(draw(data, "tiff", pixel_type="U1")[0])
    assert profile["nodata"] == 255
    assert np.array_equal(values.mask, data.mask) and np.array_equal(values.compressed(), data.compressed())
    full_range = masked([[[0, 255, 7, 9]] * 3, [[1, 2, 3, 4]] * 3])
    full_range[0, 2, 3] = np.ma.masked
    values, profile, _, _ = read_tiff(draw(full_range, "tiff")[0])
    assert profile["nodata"] is None
    assert values.mask[:, 2, 3].all() and values.mask.sum() == 2          # a mask covers the whole pixel
    assert np.array_equal(values.filled(0)[0, :2], full_range.data[0, :2])


def test_bip_and_bsq_are_raw_values_and_a_bit_mask():
    data = np.ma.masked_array(np.arange(2 * 3 * 4, dtype=np.uint16).reshape(2, 3, 4) + 256, mask=False)
    data[1, 0, 1] = np.ma.masked
    valid_bits = np.packbits(np.array([1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], bool)).tobytes()
    expected = data.data.copy()
    expected[:, 0, 1] = 0
    body, content_type, extension = draw(data, "bsq")
    assert (content_type, extension) == ("application/octet-stream", "bsq")
    assert body == expected.astype("<u2").tobytes() + valid_bits
    body, _, extension = draw(data, "bip")
    assert extension == "bip" and body == expected.transpose(1, 2, 0).astype("<u2").tobytes() + valid_bits
    body, _, _ = draw(data, "bip", pixel_type="F32")
    assert np.frombuffer(body[:-2], "<f4").reshape(3, 4, 2)[0, 2].tolist() == [258.0, 270.0]
