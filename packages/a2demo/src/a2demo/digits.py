"""A drawn digit → a 28x28 MNIST-like image, the way MNIST itself was made.

MNIST's digits were size-normalised to fit a 20x20 box (keeping their aspect ratio), then
placed in a 28x28 image so that their centre of mass sits at the centre. The page's canvas is
**white ink on black** (MNIST's polarity), but uploads may be either way round: the colour
of the border decides which one is the background (a bright border is inverted).

Example:

>>> from PIL import Image, ImageDraw
>>> canvas = Image.new("L", (200, 200), 0)
>>> ImageDraw.Draw(canvas).line([(100, 30), (100, 170)], fill=255, width=16)
>>> digit = mnist_digit(canvas)
>>> digit.shape, digit.dtype, round(float(digit.max()), 2)
((28, 28), dtype('float32'), 1.0)
>>> [int(v) for v in np.argwhere(digit > 0.5).mean(axis=0).round()]  # centred
[14, 14]
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from a2demo.images import ImageError

MNIST_SIDE = 28
BOX_SIDE = 20
INK_FRACTION = 0.2
"""A pixel is ink when it is brighter than this fraction of the brightest pixel."""
MIN_CONTRAST = 32
"""The brightest and darkest pixels must differ by this much (0..255) for a drawing."""


class EmptyCanvas(ImageError):
    """The drawing has no strokes (one colour, or nearly)."""

    status = 422


def mnist_digit(image: Image.Image) -> np.ndarray:
    """``(28, 28)`` float32 in ``[0, 1]``, white digit on black, centred like MNIST.

    Args:
        image: a greyscale (``"L"``) image of one digit, any size, either polarity.

    Raises:
        EmptyCanvas: nothing is drawn.
    """
    if image.mode != "L":
        raise ValueError(f"Expected a greyscale ('L') image. Received: mode={image.mode!r}")
    pixels = np.asarray(image, dtype=np.float32)
    if float(pixels.max() - pixels.min()) < MIN_CONTRAST:
        raise EmptyCanvas("The canvas is empty: draw a digit (white on black) first.")
    if _border_is_bright(pixels):
        pixels = 255.0 - pixels
    pixels = pixels - pixels.min()
    ink = pixels > INK_FRACTION * pixels.max()
    rows, columns = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    cropped = pixels[rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1]
    boxed = _fit_in_box(cropped, BOX_SIDE)
    return _centre_by_mass(boxed, MNIST_SIDE)


def _border_is_bright(pixels: np.ndarray) -> bool:
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    middle = (float(pixels.max()) + float(pixels.min())) / 2
    return float(np.median(border)) > middle


def _fit_in_box(pixels: np.ndarray, side: int) -> np.ndarray:
    """Scale so the longer side is ``side`` pixels (aspect kept; antialiased), values 0..1."""
    height, width = pixels.shape
    scale = side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    resized = np.asarray(image.resize(size, Image.Resampling.LANCZOS), dtype=np.float32)
    peak = float(resized.max())
    return resized / peak if peak > 0 else resized


def _centre_by_mass(digit: np.ndarray, side: int) -> np.ndarray:
    """Place ``digit`` in a ``side`` x ``side`` black image with its centre of mass centred."""
    height, width = digit.shape
    total = float(digit.sum())
    rows, columns = np.indices(digit.shape)
    centre_row = float((rows * digit).sum() / total)
    centre_column = float((columns * digit).sum() / total)
    top = int(round(side / 2 - 0.5 - centre_row))
    left = int(round(side / 2 - 0.5 - centre_column))
    # a lopsided digit may not fit once its mass is centred: keep it inside the frame
    top, left = min(max(top, 0), side - height), min(max(left, 0), side - width)
    out = np.zeros((side, side), dtype=np.float32)
    out[top : top + height, left : left + width] = digit
    return out
