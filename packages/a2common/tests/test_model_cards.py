"""Model cards: a real card rendered to HTML, Markdown and JSON, and input validation."""

import math
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest

from a2common.grading import ModelCardText
from a2common.model_cards import MetricEntry, read_model_card, write_model_card

SHA = "0123456789abcdef" * 4
SECTION_HEADINGS = [
    "1. Model details",
    "2. Intended use",
    "3. Factors",
    "4. Metrics",
    "5. Evaluation data",
    "6. Training data",
    "7. Quantitative analyses",
    "8. Ethical considerations",
    "9. Caveats and recommendations",
]


def card_text(**overrides):
    values = dict(
        overview="A toy classifier of cats and dogs.",
        architecture="Conv(8) -> Dense(2)",
        intended_uses=["Teaching model cards."],
        intended_users=["Students."],
        out_of_scope_uses=["Veterinary diagnosis."],
        factors=["Animal breed."],
        training_data="100 pet photos.",
        evaluation_data="40 pet photos.",
        ethical_considerations=[("Pet photos may show people", "Not used to identify anyone")],
        caveats=["Trained on 100 images only."],
    )
    values.update(overrides)
    return ModelCardText(**values)


def card_arguments(**overrides):
    arguments = dict(
        name="toy_cnn",
        text=card_text(),
        metrics=[MetricEntry("test accuracy", 0.983, confidence_interval=(0.9712, 0.9901))],
        per_class={"cat": {"recall": 0.975}, "dog": {"recall": 0.991}},
        data_sha256={"pets.npz": SHA},
        training={
            "epochs": 3,
            "seconds": 12.34,
            "parameters": 12345,
            "command": "python -m toy.train",
            "batch_size": 32,
        },
    )
    arguments.update(overrides)
    return arguments


@pytest.fixture
def figure():
    figure, axis = plt.subplots(figsize=(2, 2))
    axis.plot([0, 1, 2], [1.0, 0.5, 0.25])
    yield figure
    plt.close(figure)


def test_card_has_nine_sections_in_html_and_markdown_and_round_trips_json(tmp_path, figure):
    html_path = write_model_card(tmp_path, graphics={"Learning curves": figure}, **card_arguments())

    assert html_path == tmp_path / "toy_cnn.html"
    html = html_path.read_text(encoding="utf-8")
    markdown = (tmp_path / "toy_cnn.md").read_text(encoding="utf-8")
    for document in (html, markdown):
        positions = [document.find(heading) for heading in SECTION_HEADINGS]
        assert -1 not in positions and positions == sorted(positions), positions
        for expected in [
            "toy_cnn",
            "0.983",
            "0.9712",
            "0.9901",
            "cat",
            "0.991",
            "Trained on 100 images only.",
            "python -m toy.train",
            "12,345",
            "Animal breed.",
            "Veterinary diagnosis.",
            "Pet photos may show people",
            "100 pet photos.",
            "40 pet photos.",
            SHA,
            "batch_size",
            "Conv(8) -&gt; Dense(2)" if document is html else "Conv(8) -> Dense(2)",
        ]:
            assert expected in document, expected
        assert "data:image/png;base64,iVBORw0KGgo" in document  # the PNG signature
    assert "### Learning curves" in markdown

    card = read_model_card(tmp_path / "toy_cnn.json")
    assert card.model_details.name == "toy_cnn"
    metrics = card.quantitative_analysis.performance_metrics
    assert [(m.type, m.value, m.slice) for m in metrics] == [
        ("test accuracy", "0.983", None),
        ("recall", "0.975", "cat"),
        ("recall", "0.991", "dog"),
    ]
    assert metrics[0].confidence_interval.upper_bound == "0.9901"
    assert card.quantitative_analysis.graphics.collection[0].name == "Learning curves"
    assert "Animal breed." in card.model_details.documentation
    assert card.to_proto().model_details.name == "toy_cnn"  # protobuf 7 compatibility


def test_html_escapes_author_text_and_keeps_unicode(tmp_path):
    html_path = write_model_card(
        tmp_path,
        **card_arguments(
            name="plain",
            text=card_text(overview="Ünïcode — <script>alert(1)</script>"),
            metrics=[MetricEntry("test accuracy", np.float32(0.5))],
            per_class=None,
        ),
    )
    html = html_path.read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "Ünïcode —" in (tmp_path / "plain.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "overrides, message",
    [
        (dict(metrics=[MetricEntry("test accuracy", math.nan)]), "'test accuracy'"),
        (dict(metrics=[MetricEntry("loss", math.inf)]), "'loss'"),
        (dict(per_class={"cat": {"recall": float("nan")}}), "'recall [cat]'"),
        (
            dict(metrics=[MetricEntry("acc", 0.9, confidence_interval=(0.95, 0.85))]),
            "lower <= upper",
        ),
        (dict(metrics=[], per_class=None), "at least one metric"),
    ],
)
def test_non_finite_or_inconsistent_metric_is_named(tmp_path, overrides, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        write_model_card(tmp_path, **card_arguments(**overrides))
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    "overrides, message",
    [
        (dict(name="../escape"), "file-name-safe"),
        (dict(training={"epochs": 1}), "missing"),
        (dict(data_sha256={"pets.npz": "abc"}), "sha256"),
        (dict(data_sha256={}), "sha256"),
        (dict(text=card_text(caveats=[])), "caveats"),
        (dict(text=card_text(overview="", factors=[])), "overview"),
    ],
)
def test_invalid_inputs_are_rejected_without_writing(tmp_path, overrides, message):
    with pytest.raises(ValueError, match=message):
        write_model_card(tmp_path, **card_arguments(**overrides))
    assert not list(tmp_path.iterdir())


def test_a_graphic_must_be_a_figure(tmp_path):
    with pytest.raises(TypeError, match="matplotlib Figure"):
        write_model_card(tmp_path, graphics={"curves": "not a figure"}, **card_arguments())


def test_compat_stand_ins_fail_loudly_and_reimport_is_harmless():
    import importlib

    from a2common import _mct_compat

    importlib.reload(_mct_compat)
    import tensorflow_model_analysis as tfma

    with pytest.raises(ImportError, match="without its TFX dependencies"):
        tfma.load_eval_result("somewhere")
