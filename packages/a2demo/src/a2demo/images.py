"""Every check an uploaded image goes through, in one place.

:func:`decode_image` turns untrusted bytes into a small, fully decoded PIL image of a known
mode (``"L"`` or ``"RGB"``), or raises an :class:`ImageError` whose ``status`` is the HTTP code
the server answers (4xx) and whose message says what was wrong and what is accepted:

========================================  ======  ==========================================
input                                     status  error
========================================  ======  ==========================================
no bytes                                  400     :class:`EmptyUpload`
more than ``limits.max_bytes``            413     :class:`UploadTooLarge`
not an image / a format we do not read    415     :class:`NotAnImage`
more pixels than ``limits.max_pixels``    413     :class:`ImageTooLarge` (decompression bombs
                                                  are caught here, before any decoding)
truncated or corrupt data                 422     :class:`CorruptImage`
a mode we cannot convert (e.g. LAB)       415     :class:`UnsupportedMode`
========================================  ======  ==========================================

Modes are converted explicitly (:func:`to_mode`): 16- and 32-bit greyscale are rescaled to
8 bits, CMYK goes through PIL's CMYK→RGB conversion, palettes are expanded, and transparency
is composited over a white background (so a transparent PNG shows what a browser shows).

Example:

>>> import io
>>> from PIL import Image
>>> buffer = io.BytesIO()
>>> Image.new("RGBA", (40, 30), (255, 0, 0, 128)).save(buffer, format="PNG")
>>> image = decode_image(buffer.getvalue(), "RGB")
>>> image.mode, image.size, image.getpixel((0, 0))
('RGB', (40, 30), (255, 127, 127))
>>> decode_image(b"hello", "RGB")
Traceback (most recent call last):
...
a2demo.images.NotAnImage: The upload is not an image this demo can read (PIL: cannot identify \
image file). Send a PNG, JPEG, WebP, GIF, BMP or TIFF file.
"""

from __future__ import annotations

import io
import struct
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, UnidentifiedImageError

ALLOWED_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF")
"""Formats PIL may use to decode an upload (no EPS, PDF, ... : smaller attack surface)."""
_FORMAT_LIST = "PNG, JPEG, WebP, GIF, BMP or TIFF"
_HIGH_BIT_DEPTH = {"I;16": 65535, "I;16L": 65535, "I;16B": 65535, "I;16N": 65535}
_TRANSPARENT_MODES = ("RGBA", "LA", "PA", "RGBa", "La")
_DIRECT_MODES = ("1", "L", "P", "RGB", "CMYK", "YCbCr", "HSV")


@dataclass(frozen=True)
class ImageLimits:
    """Upper bounds on what the server decodes.

    Attributes:
        max_bytes: largest accepted upload (default 5 MiB).
        max_pixels: largest accepted width x height (default 25 megapixels; PIL's own
            decompression-bomb limit is about 89 megapixels).
        max_side: largest accepted width or height in pixels.

    Example:

    >>> ImageLimits(max_bytes=1024).max_bytes
    1024
    """

    max_bytes: int = 5 * 1024 * 1024
    max_pixels: int = 25_000_000
    max_side: int = 12_000

    def __post_init__(self) -> None:
        for name in ("max_bytes", "max_pixels", "max_side"):
            if getattr(self, name) < 1:
                raise ValueError(f"Expected {name} >= 1. Received: {name}={getattr(self, name)}")


class ImageError(ValueError):
    """An upload the server refuses; ``status`` is the HTTP status code to answer."""

    status = 400


class EmptyUpload(ImageError):
    """No bytes were sent."""

    status = 400


class UploadTooLarge(ImageError):
    """More bytes than :attr:`ImageLimits.max_bytes`."""

    status = 413


class NotAnImage(ImageError):
    """PIL cannot identify the bytes as an image in :data:`ALLOWED_FORMATS`."""

    status = 415


class ImageTooLarge(ImageError):
    """More pixels than allowed (a decompression bomb, or simply a huge photo)."""

    status = 413


class CorruptImage(ImageError):
    """The header is fine but the data is truncated or corrupt."""

    status = 422


class UnsupportedMode(ImageError):
    """A pixel mode this module does not convert."""

    status = 415


def decode_image(data: bytes, mode: str, limits: ImageLimits | None = None) -> Image.Image:
    """Validate and fully decode ``data``; return a copy in ``mode`` (``"L"`` or ``"RGB"``).

    Raises:
        ImageError: one of its subclasses (see the module docstring), never anything else
            for bad bytes.
    """
    if mode not in ("L", "RGB"):
        raise ValueError(f"Expected mode 'L' or 'RGB'. Received: mode={mode!r}")
    limits = limits or ImageLimits()
    if not data:
        raise EmptyUpload("The upload is empty (0 bytes). Send an image file.")
    if len(data) > limits.max_bytes:
        raise UploadTooLarge(
            f"The upload has {len(data):,} bytes; the limit is {limits.max_bytes:,} bytes."
        )
    with warnings.catch_warnings():
        # Our own pixel limit below is stricter than PIL's warning threshold; a warning that
        # still fires means PIL's limit was lowered: treat it as the error it announces.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = _open_checked(data, limits)
            image.load()
        except ImageError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise ImageTooLarge(f"The image is too large to decode safely ({error}).") from error
        except (
            OSError,
            SyntaxError,
            ValueError,
            EOFError,
            IndexError,
            TypeError,
            struct.error,
        ) as error:  # what PIL's decoders raise on malformed data
            raise CorruptImage(
                f"The image data is truncated or corrupt ({error}). Re-save the file and try again."
            ) from error
    return to_mode(image, mode)


def _open_checked(data: bytes, limits: ImageLimits) -> Image.Image:
    """Open (header only), check format and size, verify, then reopen for decoding."""
    try:
        image = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
    except UnidentifiedImageError as error:
        reason = str(error).split(" <_io.")[0]
        raise NotAnImage(
            f"The upload is not an image this demo can read (PIL: {reason}). "
            f"Send a {_FORMAT_LIST} file."
        ) from error
    width, height = image.size
    if width < 1 or height < 1:
        raise CorruptImage(f"The image has no pixels (size {width}x{height}).")
    if width > limits.max_side or height > limits.max_side or width * height > limits.max_pixels:
        raise ImageTooLarge(
            f"The image is {width}x{height} pixels; the limits are "
            f"{limits.max_pixels:,} pixels and {limits.max_side} pixels a side. "
            f"Resize it first."
        )
    image.verify()  # structural checks (PNG chunk CRCs, ...); the object is unusable afterwards
    image = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
    if getattr(image, "n_frames", 1) > 1:
        image.seek(0)  # animated GIF/WebP/TIFF: the first frame
    return image


def to_mode(image: Image.Image, mode: str) -> Image.Image:
    """Convert a decoded image of any supported mode to ``"L"`` or ``"RGB"``, explicitly.

    Example:

    >>> wide = Image.fromarray(np.array([[0, 65535]], dtype=np.uint16))
    >>> wide.mode, np.asarray(to_mode(wide, "L")).tolist()
    ('I;16', [[0, 255]])
    """
    if image.mode in _HIGH_BIT_DEPTH or image.mode in ("I", "F"):
        image = _rescale_to_8_bits(image)
    elif image.mode in ("P", "PA"):
        has_alpha = image.mode == "PA" or "transparency" in image.info
        image = image.convert("RGBA" if has_alpha else "RGB")
    if image.mode in _TRANSPARENT_MODES:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba).convert("RGB")
    if image.mode not in _DIRECT_MODES:
        raise UnsupportedMode(
            f"Images in PIL mode {image.mode!r} are not supported. Send an "
            f"RGB, greyscale, palette, CMYK or 16-bit greyscale image."
        )
    return image.convert(mode)


def _rescale_to_8_bits(image: Image.Image) -> Image.Image:
    """16-bit: divide by 257 (65535 -> 255). 32-bit int/float: the values' own range."""
    pixels = np.asarray(image, dtype=np.float64)
    if image.mode in _HIGH_BIT_DEPTH:
        scaled = pixels / 257.0
    else:
        finite = pixels[np.isfinite(pixels)]
        low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
        if low >= 0 and high <= 255:
            scaled = pixels
        else:
            scaled = (pixels - low) / max(high - low, 1e-12) * 255.0
    scaled = np.nan_to_num(scaled, nan=0.0, posinf=255.0, neginf=0.0)
    return Image.fromarray(np.clip(np.rint(scaled), 0, 255).astype(np.uint8))
