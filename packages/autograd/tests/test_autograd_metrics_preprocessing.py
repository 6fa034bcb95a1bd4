"""CategoricalAccuracy and OneHotEncoder (fit / forward / inverse, bad labels)."""

from __future__ import annotations

import numpy as np
import pytest

from autograd import Tensor, metrics
from autograd.preprocessing import OneHotEncoder


def test_categorical_accuracy_accumulates_and_resets():
    acc = metrics.CategoricalAccuracy()
    acc.update_state(np.eye(3), np.eye(3))
    acc.update_state(np.eye(3)[[0]], Tensor(np.array([[0.1, 0.7, 0.2]])))
    assert acc.result() == pytest.approx(0.75)
    assert acc(np.eye(2), np.array([[2.0, 1.0], [3.0, 0.0]])) == 0.5  # logits work too
    assert acc.result() == pytest.approx(0.75)  # __call__ leaves the state alone
    acc.reset_state()
    assert acc.result() == 0.0


def test_accuracy_shape_errors_and_registry():
    with pytest.raises(
        ValueError,
        match=r"Expected one-hot y_true with the shape of y_pred. "
        r"Received: y_true.shape=\(2,\), y_pred.shape=\(2, 3\)",
    ):
        metrics.CategoricalAccuracy().update_state(np.array([0, 1]), np.ones((2, 3)))
    assert isinstance(
        metrics.get("accuracy", sparse_labels=True), metrics.SparseCategoricalAccuracy
    )
    assert metrics.SparseCategoricalAccuracy()(np.array([2, 0]), np.eye(3)[[2, 1]]) == 0.5
    with pytest.raises(ValueError, match="Unknown metric.*Received: metric='acuracy'"):
        metrics.get("acuracy")


def test_mean_metric_is_weighted():
    mean = metrics.Mean()
    mean.update_state(1.0, sample_weight=1)
    mean.update_state(np.array([4.0, 4.0]))
    assert mean.result() == pytest.approx(3.0)


def test_one_hot_encoder_fit_forward_inverse():
    labels = np.array([7, 3, 5, 3])
    encoder = OneHotEncoder().fit(labels)
    assert encoder.uniq.tolist() == [3, 5, 7] and encoder.num_classes == 3
    np.testing.assert_array_equal(encoder.uniq2oh[5], [0.0, 1.0, 0.0])
    one_hot = encoder.forward(labels)
    assert one_hot.dtype == np.float32 and one_hot.shape == (4, 3)
    np.testing.assert_array_equal(one_hot.argmax(axis=1), [2, 0, 1, 0])
    np.testing.assert_array_equal(encoder.inverse(one_hot), labels)
    np.testing.assert_array_equal(encoder.inverse(np.array([[0.1, 0.2, 0.7]])), [7])


def test_one_hot_encoder_fits_on_first_forward_and_accepts_strings():
    encoder = OneHotEncoder(dtype="float64")
    out = encoder(np.array(["b", "a", "b"]))
    assert out.dtype == np.float64 and encoder.uniq.tolist() == ["a", "b"]
    assert encoder.inverse(out).tolist() == ["b", "a", "b"]


def test_one_hot_encoder_errors():
    encoder = OneHotEncoder().fit(np.arange(10))
    with pytest.raises(
        ValueError,
        match=r"Expected labels among the encoder's classes \[0, 1, "
        r".*Received: unknown labels \[10, 11\]",
    ):
        encoder.forward(np.array([1, 10, 11]))
    with pytest.raises(
        ValueError,
        match=r"Expected an array of shape \(n, 10\). "
        r"Received: shape=\(2, 3\)",
    ):
        encoder.inverse(np.zeros((2, 3)))
    with pytest.raises(
        ValueError,
        match=r"Expected a 1-D array of labels. Received: "
        r"labels.shape=\(2, 2\)",
    ):
        encoder.forward(np.zeros((2, 2)))
    with pytest.raises(RuntimeError, match="not fitted"):
        OneHotEncoder().inverse(np.eye(2))


def test_mean_absolute_error_metric_and_binary_accuracy_with_flat_labels():
    mae = metrics.get("mae")
    assert mae.name == "mae" and metrics.get("mean_absolute_error").name == "mean_absolute_error"
    mae.update_state(np.array([[1.0], [2.0]]), np.array([[1.5], [2.0]]))
    mae.update_state(np.array([[0.0]]), np.array([[-1.0]]))
    assert mae.result() == pytest.approx(0.5)
    accuracy = metrics.BinaryAccuracy()
    accuracy.update_state(np.array([1.0, 0.0, 1.0]), np.array([[0.9], [0.2], [0.4]]))
    assert accuracy.result() == pytest.approx(2 / 3)
