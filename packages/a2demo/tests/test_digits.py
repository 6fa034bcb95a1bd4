"""a2demo.digits: MNIST's own normalisation (20 px box, centre of mass at the centre)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from a2demo.digits import BOX_SIDE, EmptyCanvas, mnist_digit


@pytest.mark.parametrize("value", [0, 255, 128])
def test_a_one_colour_canvas_is_empty(value):
    with pytest.raises(EmptyCanvas, match="draw a digit") as caught:
        mnist_digit(Image.new("L", (280, 280), value))
    assert caught.value.status == 422


def test_output_is_28x28_in_unit_range(draw_seven):
    digit = mnist_digit(draw_seven())
    assert digit.shape == (28, 28) and digit.dtype == np.float32
    assert digit.min() == 0.0 and digit.max() == pytest.approx(1.0)


def test_the_longer_side_fills_the_20_pixel_box():
    canvas = Image.new("L", (300, 300), 0)
    ImageDraw.Draw(canvas).rectangle([140, 20, 160, 220], fill=255)  # tall bar
    ink = np.argwhere(mnist_digit(canvas) > 0.5)
    assert ink[:, 0].max() - ink[:, 0].min() + 1 == BOX_SIDE
    assert ink[:, 1].max() - ink[:, 1].min() + 1 < 6


def test_a_digit_drawn_in_a_corner_is_centred_by_mass():
    canvas = Image.new("L", (280, 280), 0)
    ImageDraw.Draw(canvas).ellipse([5, 5, 80, 110], outline=255, width=10)
    digit = mnist_digit(canvas)
    rows, columns = np.indices(digit.shape)
    centre = [(rows * digit).sum() / digit.sum(), (columns * digit).sum() / digit.sum()]
    assert centre == pytest.approx([13.5, 13.5], abs=0.6)


def test_polarity_does_not_matter(draw_seven):
    white_on_black = mnist_digit(draw_seven())
    black_on_white = mnist_digit(draw_seven(ink=0, background=255))
    assert np.abs(white_on_black - black_on_white).max() < 0.05


def test_canvas_size_does_not_matter(draw_seven):
    assert np.abs(mnist_digit(draw_seven(280)) - mnist_digit(draw_seven(560))).mean() < 0.02


def test_expects_greyscale():
    with pytest.raises(ValueError, match="Expected a greyscale"):
        mnist_digit(Image.new("RGB", (28, 28)))
