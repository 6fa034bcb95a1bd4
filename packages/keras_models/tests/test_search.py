import keras_tuner
import numpy as np

from a2common.data import load_dataset
from keras_models.search import (
    DNNHyperModel,
    GridResult,
    grid_search_dnn,
    load_dnn_data,
    rows_to_markdown,
    train_and_score,
)


def _tiny_data():
    return load_dnn_data(load_dataset("fashion_mnist"), train_size=400, seed=0)


def test_dnn_data_is_flat_scaled_and_split_ten_percent():
    data = _tiny_data()
    assert data.train_x.shape == (360, 784) and data.val_x.shape == (40, 784)
    assert data.train_x.dtype == np.float32 and data.train_x.max() <= 1.0
    assert set(np.unique(data.val_y)) == set(range(10))  # stratified: every class held out


def test_grid_search_covers_the_grid_sorted_and_resumes(tmp_path, monkeypatch):
    data = _tiny_data()
    fits = []
    original_fit = DNNHyperModel.fit

    def counting_fit(self, hp, model, *args, **kwargs):
        fits.append(dict(hp.values))
        return original_fit(self, hp, model, *args, **kwargs)

    monkeypatch.setattr(DNNHyperModel, "fit", counting_fit)
    table = grid_search_dnn(
        data, epochs=1, units=(4,), activations=("relu", "tanh"), directory=tmp_path
    )
    assert {(r.n1, r.n2, r.activation) for r in table} == {(4, 4, "relu"), (4, 4, "tanh")}
    assert len(fits) == 2
    scores = [r.val_accuracy for r in table]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in scores)
    (project,) = tmp_path.glob("grid_*")
    assert any((project / "tensorboard").rglob("events.out.tfevents.*"))
    again = grid_search_dnn(
        data, epochs=1, units=(4,), activations=("relu", "tanh"), directory=tmp_path
    )
    assert again == table and len(fits) == 2  # reloaded from the tuner's folder, not retrained
    markdown = rows_to_markdown(table, ["n1", "n2", "activation", "val_accuracy"])
    assert markdown.count("\n") == 3 and "| tanh |" in markdown


def test_every_grid_point_starts_from_the_same_seed():
    hypermodel = DNNHyperModel(units=(4,), activations=("relu",), seed=3)
    first = hypermodel.build(keras_tuner.HyperParameters()).get_weights()
    second = hypermodel.build(keras_tuner.HyperParameters()).get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(first, second))


def test_train_and_score_reports_accuracy_and_calibration(tmp_path):
    data = _tiny_data()
    _, row = train_and_score(data, 8, 8, "relu", alpha=0.1, epochs=1, log_dir=tmp_path / "tb")
    assert any((tmp_path / "tb").rglob("events.out.tfevents.*"))
    assert row.name == "label smoothing α=0.1"
    assert 0.0 <= row.val_ece <= 1.0 and 0.0 <= row.test_accuracy <= 1.0
    assert len(row.history["val_accuracy"]) == 1
    assert isinstance(GridResult(4, 4, "relu", 0.5), GridResult)
