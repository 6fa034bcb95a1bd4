"""Model cards: a real card rendered to HTML, Markdown and JSON, and input validation."""
import math
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from a2common.model_cards import MetricEntry, read_model_card, write_model_card  # noqa: E402

SHA = "0123456789abcdef" * 4


def card_arguments(**overrides):
    arguments = dict(
        name="toy_cnn", overview="A toy classifier of cats and dogs.",
        metrics=[MetricEntry("test accuracy", 0.983, confidence_interval=(0.9712, 0.9901))],
        per_class={"cat": {"recall": 0.975}, "dog": {"recall": 0.991}},
        dataset="cats/dogs (100 train / 40 test)", data_sha256={"pets.npz": SHA},
        training={"epochs": 3, "seconds": 12.34, "parameters": 12345,
                  "command": "python -m toy.train", "batch_size": 32},
        limitations=["Trained on 100 images only."],
        ethical_considerations=[("Pet photos may show people", "Not used to identify anyone")])
    arguments.update(overrides)
    return arguments


@pytest.fixture
def figure():
    figure, axis = plt.subplots(figsize=(2, 2))
    axis.plot([0, 1, 2], [1.0, 0.5, 0.25])
    yield figure
    plt.close(figure)


def test_card_renders_html_markdown_and_round_trips_json(tmp_path, figure):
    html_path = write_model_card(tmp_path, graphics={"Learning curves": figure},
                                 **card_arguments())

    assert html_path == tmp_path / "toy_cnn.html"
    html = html_path.read_text()
    markdown = (tmp_path / "toy_cnn.md").read_text()
    for document in (html, markdown):
        assert "Model Card for toy_cnn" in document
        assert "0.983 (0.9712, 0.9901)" in document
        assert "recall, cat" in document and "0.991" in document
        assert "Trained on 100 images only." in document
        assert "python -m toy.train" in document
        assert "base64,iVBORw0KGgo" in document  # the PNG signature, base64-encoded
    assert "<img src='data:image/jpeg;base64,iVBOR" in html
    assert '<img src="data:image/jpeg;base64,iVBOR' in markdown
    assert "### Learning curves" in markdown
    assert SHA in html  # the datasets section (only the HTML template shows datasets)

    card = read_model_card(tmp_path / "toy_cnn.json")
    assert card.model_details.name == "toy_cnn"
    metrics = card.quantitative_analysis.performance_metrics
    assert [(m.type, m.value, m.slice) for m in metrics] == [
        ("test accuracy", "0.983", None), ("recall", "0.975", "cat"), ("recall", "0.991", "dog")]
    assert metrics[0].confidence_interval.upper_bound == "0.9901"
    assert card.quantitative_analysis.graphics.collection[0].name == "Learning curves"
    assert card.model_parameters.data[0].name == "cats/dogs (100 train / 40 test)"
    assert card.to_proto().model_details.name == "toy_cnn"  # protobuf 7 compatibility


def test_metrics_can_be_a_dict_and_text_stays_ascii_safe(tmp_path):
    html_path = write_model_card(tmp_path, **card_arguments(
        name="plain", metrics={"test accuracy": np.float32(0.5)}, per_class=None,
        overview="Ünïcode — ok."))
    assert "&#8212;" in html_path.read_text(encoding="ascii")
    assert "Ünïcode — ok." in (tmp_path / "plain.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("overrides, message", [
    (dict(metrics={"test accuracy": math.nan}), "'test accuracy'"),
    (dict(metrics=[MetricEntry("loss", math.inf)]), "'loss'"),
    (dict(per_class={"cat": {"recall": float("nan")}}), "'recall [cat]'"),
    (dict(metrics=[MetricEntry("acc", 0.9, confidence_interval=(0.95, 0.85))]),
     "lower <= upper"),
])
def test_non_finite_or_inconsistent_metric_is_named(tmp_path, overrides, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        write_model_card(tmp_path, **card_arguments(**overrides))
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("overrides, message", [
    (dict(name="../escape"), "file-name-safe"),
    (dict(training={"epochs": 1}), "missing"),
    (dict(data_sha256={"pets.npz": "abc"}), "sha256"),
    (dict(limitations=[]), "limitation"),
])
def test_invalid_inputs_are_rejected(tmp_path, overrides, message):
    with pytest.raises(ValueError, match=message):
        write_model_card(tmp_path, **card_arguments(**overrides))


def test_compat_stand_ins_fail_loudly_and_reimport_is_harmless():
    import importlib

    from a2common import _mct_compat

    importlib.reload(_mct_compat)
    import tensorflow_model_analysis as tfma

    with pytest.raises(ImportError, match="without its TFX dependencies"):
        tfma.load_eval_result("somewhere")
