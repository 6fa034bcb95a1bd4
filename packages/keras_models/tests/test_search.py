import numpy as np
from a2common.data import load_dataset

from keras_models.search import (GridResult, grid_search_dnn, load_dnn_data, rows_to_markdown,
                                 train_and_score)


def _tiny_data():
    return load_dnn_data(load_dataset("fashion_mnist"), train_size=400, seed=0)


def test_dnn_data_is_flat_scaled_and_split_ten_percent():
    data = _tiny_data()
    assert data.train_x.shape == (360, 784) and data.val_x.shape == (40, 784)
    assert data.train_x.dtype == np.float32 and data.train_x.max() <= 1.0
    assert set(np.unique(data.val_y)) == set(range(10))  # stratified: every class held out


def test_grid_search_covers_the_grid_sorted_and_resumes(tmp_path):
    data = _tiny_data()
    table = grid_search_dnn(data, epochs=1, units=(4,), activations=("relu", "tanh"),
                            directory=tmp_path)
    assert {(r.n1, r.n2, r.activation) for r in table} == {(4, 4, "relu"), (4, 4, "tanh")}
    scores = [r.val_accuracy for r in table]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in scores)
    (cached,) = tmp_path.glob("*.json")
    again = grid_search_dnn(data, epochs=1, units=(4,), activations=("relu", "tanh"),
                            directory=tmp_path)
    assert again == table and list(tmp_path.glob("*.json")) == [cached]
    markdown = rows_to_markdown(table, ["n1", "n2", "activation", "val_accuracy"])
    assert markdown.count("\n") == 3 and "| tanh |" in markdown


def test_train_and_score_reports_accuracy_and_calibration():
    data = _tiny_data()
    _, row = train_and_score(data, 8, 8, "relu", alpha=0.1, epochs=1)
    assert row.name == "label smoothing α=0.1"
    assert 0.0 <= row.val_ece <= 1.0 and 0.0 <= row.test_accuracy <= 1.0
    assert len(row.history["val_accuracy"]) == 1
    assert isinstance(GridResult(4, 4, "relu", 0.5), GridResult)
