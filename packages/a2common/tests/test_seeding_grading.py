from __future__ import annotations

import json

import numpy as np
import pytest

from a2common.grading import (
    ModelCardText,
    TaskResult,
    dump_json,
    finished_info,
    is_finished,
    mark_finished,
)
from a2common.seeding import seed_everything


def test_seed_everything_repeats_numpy_and_python():
    import random

    seed_everything(3)
    first = (np.random.rand(), random.random())
    seed_everything(3)
    assert first == (np.random.rand(), random.random())


def result(**overrides):
    arguments = dict(
        predictions=np.full((3, 2), 0.5),
        train_seconds=1.0,
        epochs=1,
        parameters=10,
        history={"loss": [0.5]},
    )
    arguments.update(overrides)
    return TaskResult(**arguments)


def test_task_result_holds_predictions_not_a_score():
    assert result().prediction_arrays()["output"].shape == (3, 2)
    heads = result(predictions={"colour": np.zeros(3), "quality": np.ones((3, 3)) / 3})
    assert set(heads.prediction_arrays()) == {"colour", "quality"}
    with pytest.raises(TypeError, match="value"):
        TaskResult(value=0.99, train_seconds=0.0)


@pytest.mark.parametrize(
    "overrides, message",
    [
        (dict(predictions=np.array(["a", "b"])), "numeric predictions"),
        (dict(predictions=np.zeros((0, 2))), "n > 0"),
        (dict(predictions=np.zeros((2, 2, 2))), "shape"),
        (dict(train_seconds=float("nan")), "train_seconds"),
        (dict(epochs=-1), "epochs"),
        (dict(parameters=1.5), "parameters"),
        (dict(card="a card"), "ModelCardText"),
    ],
)
def test_task_result_rejects_malformed_fields(overrides, message):
    with pytest.raises((TypeError, ValueError), match=message):
        result(**overrides)


def test_json_is_strict_nan_becomes_null():
    text = dump_json(
        {
            "history": {"loss": [1.0, float("nan"), np.float32(np.inf)]},
            "n": np.int64(3),
            "array": np.ones(2),
        }
    )
    assert json.loads(text) == {"history": {"loss": [1.0, None, None]}, "n": 3, "array": [1.0, 1.0]}


def test_model_card_text_round_trips_and_names_missing_sections():
    text = ModelCardText(overview="x", ethical_considerations=[("risk", "mitigation")])
    assert "factors" in text.missing_sections()
    assert ModelCardText.from_dict(json.loads(dump_json(text.to_dict()))) == text


def test_finished_marker_round_trip(tmp_path):
    assert not is_finished(tmp_path)
    mark_finished(tmp_path, 12.5, epochs=3)
    assert is_finished(tmp_path) and finished_info(tmp_path) == {"train_seconds": 12.5, "epochs": 3}
