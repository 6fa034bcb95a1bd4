"""a2demo.images: every kind of bad upload becomes an ImageError with the right status."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from a2demo.images import (
    CorruptImage,
    EmptyUpload,
    ImageError,
    ImageLimits,
    ImageTooLarge,
    NotAnImage,
    UnsupportedMode,
    UploadTooLarge,
    decode_image,
    to_mode,
)


def encode(image: Image.Image, fmt: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def png_with_size(width: int, height: int) -> bytes:
    """A valid 1x1 PNG whose IHDR claims ``width`` x ``height`` (CRC fixed): a bomb header."""
    data = bytearray(encode(Image.new("L", (1, 1))))
    ihdr = 8 + 8  # signature, then length + type of the first chunk
    data[ihdr : ihdr + 8] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[12 : ihdr + 13]))
    data[ihdr + 13 : ihdr + 17] = struct.pack(">I", crc)
    return bytes(data)


def test_valid_png_is_decoded_in_the_requested_mode():
    image = decode_image(encode(Image.new("RGB", (30, 20), (10, 20, 30))), "L")
    assert image.mode == "L" and image.size == (30, 20)


@pytest.mark.parametrize(
    "data, error, status, words",
    [
        (b"", EmptyUpload, 400, "empty"),
        (b"%PDF-1.4 not an image", NotAnImage, 415, "not an image"),
        (b"GIF89a" + b"\x00" * 3, NotAnImage, 415, "PNG, JPEG"),
    ],
)
def test_bad_bytes_get_a_clear_error(data, error, status, words):
    with pytest.raises(error, match=words) as caught:
        decode_image(data, "RGB")
    assert caught.value.status == status


def test_too_many_bytes_is_413():
    data = encode(
        Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8))
    )
    with pytest.raises(UploadTooLarge, match="limit is 100 bytes") as caught:
        decode_image(data, "RGB", ImageLimits(max_bytes=100))
    assert caught.value.status == 413


@pytest.mark.parametrize(
    "side, words",
    [
        (6_000, "6000x6000 pixels; the limits are 25,000,000 pixels"),  # ours (below PIL's)
        (50_000, "too large to decode safely"),  # PIL's own bomb check, at open time
    ],
)
def test_decompression_bomb_header_is_refused_before_decoding(side, words):
    with pytest.raises(ImageTooLarge, match=words) as caught:
        decode_image(png_with_size(side, side), "RGB")
    assert caught.value.status == 413


def test_pixel_limit_is_configurable():
    data = encode(Image.new("RGB", (100, 100)))
    with pytest.raises(ImageTooLarge):
        decode_image(data, "RGB", ImageLimits(max_pixels=9_999))
    assert decode_image(data, "RGB", ImageLimits(max_pixels=10_000)).size == (100, 100)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_images_are_422(fmt):
    rng = np.random.default_rng(0)
    data = encode(Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)), fmt)
    with pytest.raises(CorruptImage) as caught:
        decode_image(data[: len(data) // 2], "RGB")
    assert caught.value.status == 422


def test_png_with_a_corrupted_chunk_is_422():
    data = bytearray(encode(Image.fromarray(np.arange(64 * 64, dtype=np.uint8).reshape(64, 64))))
    idat = data.index(b"IDAT")
    data[idat + 10] ^= 0xFF
    with pytest.raises(CorruptImage):
        decode_image(bytes(data), "L")


def test_random_mutations_only_ever_raise_image_errors():
    rng = np.random.default_rng(1)
    valid = encode(Image.fromarray(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)))
    for _ in range(150):
        data = bytearray(valid)
        for index in rng.integers(0, len(data), size=int(rng.integers(1, 6))):
            data[index] = int(rng.integers(0, 256))
        data = bytes(data[: int(rng.integers(1, len(data) + 1))])
        try:
            image = decode_image(data, "RGB")
        except ImageError:
            continue
        assert image.mode == "RGB"


def test_cmyk_jpeg_becomes_rgb():
    data = encode(Image.new("CMYK", (8, 8), (0, 255, 255, 0)), "JPEG", quality=95)
    red, green, blue = decode_image(data, "RGB").getpixel((4, 4))
    assert red > 200 and green < 60 and blue < 60


def test_rgba_is_composited_over_white():
    data = encode(Image.new("RGBA", (4, 4), (0, 0, 0, 0)))
    assert decode_image(data, "RGB").getpixel((0, 0)) == (255, 255, 255)
    data = encode(Image.new("RGBA", (4, 4), (0, 0, 255, 255)))
    assert decode_image(data, "RGB").getpixel((0, 0)) == (0, 0, 255)


def test_sixteen_bit_greyscale_is_rescaled_not_clipped():
    wide = Image.fromarray(np.array([[0, 32896, 65535]], dtype=np.uint16))
    assert wide.mode.startswith("I;16")
    assert np.asarray(decode_image(encode(wide), "L")).tolist() == [[0, 128, 255]]


def test_float_tiff_uses_its_own_range():
    image = Image.fromarray(np.array([[-1.0, 0.0, 1.0]], dtype=np.float32))
    assert np.asarray(decode_image(encode(image, "TIFF"), "L")).tolist() == [[0, 128, 255]]


def test_palette_with_transparency_and_bilevel_images():
    palette = Image.new("P", (4, 4), 1)
    palette.putpalette([0, 0, 0, 255, 0, 0])
    palette.info["transparency"] = 0
    assert decode_image(encode(palette), "RGB").getpixel((0, 0)) == (255, 0, 0)
    bilevel = Image.new("1", (4, 4), 1)
    assert decode_image(encode(bilevel), "L").getpixel((0, 0)) == 255


def test_animated_gif_uses_the_first_frame():
    frames = [Image.new("L", (8, 8), value) for value in (200, 10)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:])
    assert decode_image(buffer.getvalue(), "L").getpixel((0, 0)) == 200


def test_unsupported_mode_is_415():
    with pytest.raises(UnsupportedMode, match="'LAB'") as caught:
        to_mode(Image.new("LAB", (2, 2)), "RGB")
    assert caught.value.status == 415


def test_mode_argument_is_checked():
    with pytest.raises(ValueError, match="Expected mode 'L' or 'RGB'"):
        decode_image(b"x", "CMYK")
