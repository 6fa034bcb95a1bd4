"""Test-time augmentation: which views are averaged, with which weights; bad input."""

from __future__ import annotations

import numpy as np
import pytest

from a2common.tta import average_over_views


def _linear_classifier(classes: int = 3, seed: int = 0):
    """A fixed softmax-linear "model" on flattened images: different for every view."""
    weights = np.random.default_rng(seed).normal(size=(6 * 6 * 2, classes))

    def predict(batch: np.ndarray) -> np.ndarray:
        logits = batch.reshape(len(batch), -1) @ weights
        exp = np.exp(logits - logits.max(axis=1, keepdims=True))
        return (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)

    return predict


def test_levels_average_the_image_its_mirror_and_one_pixel_shifts():
    images = np.random.default_rng(1).random((4, 6, 6, 2))
    predict = _linear_classifier()
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="reflect")
    up_left, down_right = padded[:, :6, :6], padded[:, 2:, 2:]

    def plain(batch):
        return predict(batch).astype(np.float64)

    def mirrored(batch):
        return (plain(batch) + plain(batch[:, :, ::-1])) / 2

    np.testing.assert_allclose(average_over_views(predict, images, level=0), plain(images))
    np.testing.assert_allclose(average_over_views(predict, images, level=1), mirrored(images))
    six_views = mirrored(images) / 2 + (mirrored(up_left) + mirrored(down_right)) / 4
    np.testing.assert_allclose(average_over_views(predict, images, level=2), six_views)
    three_views = plain(images) / 2 + (plain(up_left) + plain(down_right)) / 4
    np.testing.assert_allclose(
        average_over_views(predict, images, level=2, mirror=False), three_views
    )
    np.testing.assert_allclose(
        average_over_views(predict, images, level=1, mirror=False), plain(images)
    )
    # the views differ, so the levels do too: the test above cannot pass by accident
    assert not np.allclose(six_views, mirrored(images))
    assert not np.allclose(mirrored(images), plain(images))


def test_result_is_float64_rows_in_input_order():
    images = np.random.default_rng(2).random((5, 6, 6, 2)).astype(np.float32)
    predict = _linear_classifier()
    result = average_over_views(predict, images, level=2)
    assert result.dtype == np.float64 and result.shape == (5, 3)
    np.testing.assert_allclose(result.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(average_over_views(predict, images[3:4], level=2), result[3:4])


def test_bad_level_or_shape_is_refused_with_the_reason():
    predict = _linear_classifier()
    with pytest.raises(ValueError, match="level 0, 1 or 2"):
        average_over_views(predict, np.zeros((1, 6, 6, 2)), level=3)
    with pytest.raises(ValueError, match=r"\(n, height, width, channels\)"):
        average_over_views(predict, np.zeros((1, 72)), level=1)
    flat = np.zeros((2, 72))
    assert average_over_views(lambda batch: np.ones((len(batch), 3)), flat, level=0).shape == (2, 3)
