import numpy as np
import pytest

from keras_models.calibration import expected_calibration_error, reliability_bins


def test_perfectly_calibrated_predictions_score_zero():
    # Confidence 0.8 and exactly 8 of 10 right.
    probabilities = np.tile([0.8, 0.2], (10, 1))
    labels = np.array([0] * 8 + [1] * 2)
    assert expected_calibration_error(probabilities, labels) == pytest.approx(0.0)


def test_over_confident_predictions():
    # Confidence 1.0 but right 3 times out of 4.
    probabilities = np.array([[1.0, 0.0]] * 4)
    assert expected_calibration_error(probabilities, np.array([0, 0, 0, 1])) == pytest.approx(0.25)


def test_weighted_over_bins_by_hand():
    probabilities = np.array([[0.9, 0.1], [0.6, 0.4], [0.55, 0.45], [0.95, 0.05]])
    labels = np.array([0, 1, 0, 0])
    # 10 bins of width 0.1, each (lower, upper]: 0.9 alone in (0.8, 0.9] (right), 0.95 alone
    # in (0.9, 1.0] (right), 0.6 (wrong) and 0.55 (right) in (0.5, 0.6].
    expected = (1 / 4) * abs(1 - 0.9) + (1 / 4) * abs(1 - 0.95) + (2 / 4) * abs(0.5 - 0.575)
    ece = expected_calibration_error(probabilities, labels, num_bins=10)
    assert ece == pytest.approx(expected)


def test_bins_count_every_example():
    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet(np.ones(10), size=500)
    bins = reliability_bins(probabilities, rng.integers(0, 10, 500), num_bins=15)
    assert bins.count.sum() == 500 and len(bins.edges) == 16


@pytest.mark.parametrize(
    "probabilities, labels, message",
    [
        (np.zeros(3), np.zeros(3, int), "shape"),
        (np.full((2, 2), np.nan), np.zeros(2, int), "finite"),
        (np.full((2, 2), 0.5), np.zeros(3, int), "labels"),
        (np.full((2, 2), 0.5), np.zeros(2), "labels"),
    ],
)
def test_bad_inputs_raise(probabilities, labels, message):
    with pytest.raises(ValueError, match=message):
        expected_calibration_error(probabilities, labels)
