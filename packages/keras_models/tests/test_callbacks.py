import keras
import numpy as np
import pytest
from sklearn.metrics import f1_score

from keras_models.callbacks import MacroF1Callback, predicted_classes, standard_callbacks


def _identity_model(width: int) -> keras.Model:
    """A model whose outputs are its inputs, so its predictions are known exactly."""
    inputs = keras.Input((width,))
    dense = keras.layers.Dense(width, use_bias=False, trainable=False)
    model = keras.Model(inputs, dense(inputs))
    dense.set_weights([np.eye(width, dtype="float32")])
    model.compile(optimizer="sgd", loss="mse")
    return model


def test_macro_f1_matches_sklearn_on_a_known_case(capsys):
    labels = np.array([0, 0, 1, 1, 2, 2, 2, 0])
    predicted = np.array([0, 1, 1, 1, 2, 0, 2, 0])
    scores = np.eye(3, dtype="float32")[predicted]
    callback = MacroF1Callback((scores, labels))
    callback.set_model(_identity_model(3))
    logs = {}
    callback.on_epoch_end(0, logs)
    expected = f1_score(labels, predicted, average="macro")
    assert logs["val_macro_f1"] == pytest.approx(expected) == pytest.approx(0.7555556)
    assert "epoch 1: val_macro_f1 = 0.7556" in capsys.readouterr().out


def test_macro_f1_thresholds_one_sigmoid_unit():
    probabilities = np.array([[0.9], [0.2], [0.6], [0.4]], dtype="float32")
    labels = np.array([1, 0, 0, 0])
    callback = MacroF1Callback((probabilities, labels), verbose=0)
    callback.set_model(_identity_model(1))
    expected = f1_score(labels, [1, 0, 1, 0], average="macro")
    assert callback.score() == pytest.approx(expected)


def test_macro_f1_scores_the_named_head_of_a_multi_output_model():
    inputs = keras.Input((2,))
    head = keras.layers.Dense(2, use_bias=False, trainable=False, name="b")
    model = keras.Model(inputs, {"a": keras.layers.Dense(1, name="a")(inputs), "b": head(inputs)})
    head.set_weights([np.eye(2, dtype="float32")])
    x, labels = np.array([[1, 0], [0, 1], [1, 0]], "float32"), np.array([0, 1, 1])
    callback = MacroF1Callback((x, labels), output="b", verbose=0)
    callback.set_model(model)
    assert callback.name == "val_b_macro_f1"
    assert callback.score() == pytest.approx(f1_score(labels, [0, 1, 0], average="macro"))
    callback.output = None
    with pytest.raises(ValueError, match="output="):
        callback.score()


def test_macro_f1_runs_inside_fit_and_reaches_the_history(tmp_path):
    x = np.random.default_rng(0).normal(size=(32, 3)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    callbacks = standard_callbacks(tmp_path, MacroF1Callback((x, y), verbose=0), patience=1)
    history = model.fit(x, y, validation_data=(x, y), epochs=2, verbose=0, callbacks=callbacks)
    assert len(history.history["val_macro_f1"]) == 2
    assert any((tmp_path / "tensorboard").rglob("events.out.tfevents.*"))


def test_predicted_classes():
    assert predicted_classes(np.array([0.2, 0.8])).tolist() == [0, 1]
    assert predicted_classes(np.array([[0.1, 0.7, 0.2]])).tolist() == [1]
