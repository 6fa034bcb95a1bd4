"""Model cards (Mitchell et al., 2019) built with the Model Card Toolkit (MCT 2.0).

:func:`write_model_card` fills an MCT ``ModelCard`` (validated against MCT's JSON schema) and
renders it with this package's templates, which follow the paper's nine sections in order:
model details, intended use, factors, metrics, evaluation data, training data, quantitative
analyses, ethical considerations, caveats and recommendations. It writes ``<name>.html``,
``<name>.md`` and ``<name>.json`` (MCT's JSON, read back by :func:`read_model_card`).

The autograder is the only caller: it writes one card per graded model from the graded run.

MCT's schema has no "factors" field: the factors are kept in ``model_details.documentation``
(under the heading "Factors"), and the templates show them as their own section.

Example:

>>> import tempfile
>>> from pathlib import Path
>>> from a2common.grading import ModelCardText
>>> out_dir = Path(tempfile.mkdtemp()) / "model_cards"
>>> mnist_sha256 = "06af5dfe73b70e3bc1c36439982b18a8d76803db9b544f6fdf838a37fbb01b64"
>>> html_path = write_model_card(
...     out_dir, name="mnist_cnn", title="MNIST CNN",
...     text=ModelCardText(overview="A small CNN for 28x28 digits.", intended_uses=["Teaching."],
...                        factors=["Digit class."], training_data="MNIST train (60k).",
...                        evaluation_data="MNIST test (10k).", caveats=["Digits only."]),
...     metrics=[MetricEntry("test accuracy", 0.9912, confidence_interval=(0.9893, 0.993))],
...     training={"epochs": 5, "seconds": 52.3, "parameters": 93322,
...               "command": "make grade PACKAGE=keras_models"},
...     data_sha256={"mnist.npz": mnist_sha256},
...     date="2025-01-01",
... )
>>> sorted(path.name for path in out_dir.iterdir())
['mnist_cnn.html', 'mnist_cnn.json', 'mnist_cnn.md']
>>> card = read_model_card(html_path.with_suffix(".json"))
>>> card.model_details.name, card.quantitative_analysis.performance_metrics[0].value
('MNIST CNN', '0.9912')
"""

from __future__ import annotations

import datetime
import json
import math
import numbers
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from a2common import _mct_compat  # noqa: F401  (must come before model_card_toolkit)

# isort: split
from model_card_toolkit import (
    ConfidenceInterval,
    Considerations,
    Dataset,
    Graphic,
    Limitation,
    ModelCard,
    ModelCardToolkit,
    Owner,
    PerformanceMetric,
    Risk,
    UseCase,
    User,
    Version,
)
from model_card_toolkit.utils import validation
from model_card_toolkit.utils.graphics import figure_to_base64str

from a2common.grading import ModelCardText

DEFAULT_OWNERS = (("assignment2 authors", "see the repository README"),)
REQUIRED_TRAINING_KEYS = ("epochs", "seconds", "parameters", "command")
TEMPLATES = Path(__file__).parent / "templates"
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_SHA256 = re.compile(r"[0-9a-f]{64}")
FACTORS_HEADING = "Factors"


@dataclass(frozen=True)
class MetricEntry:
    """One row of the card's metrics table.

    Args:
        name: what was measured, e.g. ``"test accuracy"``.
        value: the measured value (a fraction for accuracies).
        slice: the subset it was measured on (e.g. a class name), or ``None`` for all of it.
        confidence_interval: ``(lower, upper)`` bounds, or ``None``.
    """

    name: str
    value: float
    slice: str | None = None
    confidence_interval: tuple[float, float] | None = None


def write_model_card(
    out_dir: Path,
    *,
    name: str,
    text: ModelCardText,
    metrics: Sequence[MetricEntry],
    training: Mapping[str, Any],
    data_sha256: Mapping[str, str],
    per_class: Mapping[str, Mapping[str, float]] | None = None,
    graphics: Mapping[str, Any] | None = None,
    title: str | None = None,
    owners: Sequence[tuple[str, str]] = DEFAULT_OWNERS,
    version: str = "1.0",
    date: str | None = None,
) -> Path:
    """Write ``<out_dir>/<name>.html``, ``.md`` and ``.json`` for one trained model.

    Args:
        out_dir: folder for the three files (created if needed).
        name: file-name-safe identifier, e.g. the graded task's name.
        text: the author's sections (see :class:`a2common.grading.ModelCardText`); the required
            ones must be filled.
        metrics: the measured metrics (with confidence intervals where known).
        training: ``epochs``, ``seconds``, ``parameters`` and ``command`` (how to reproduce);
            other keys are listed as training settings.
        data_sha256: sha256 of each data file, ``{file name: hex digest}``.
        per_class: ``{class name: {metric name: value}}`` (the quantitative analyses).
        graphics: ``{caption: matplotlib Figure}``, embedded as base64 PNG images.
        title: the display name, by default ``name``.
        owners: ``(name, contact)`` pairs.
        version, date: the model's version and the card's date (default: today, ISO 8601).

    Returns:
        The path of the HTML card; the ``.md`` and ``.json`` files are beside it.

    Raises:
        ValueError: a section is missing, a metric is not a finite number, a training key is
            missing, the name is not file-name-safe or a sha256 is malformed.
    """
    if not isinstance(name, str) or not _SAFE_NAME.fullmatch(name):
        raise ValueError(
            f"Expected a file-name-safe model name (letters, digits, '.', '_', "
            f"'-'). Received: name={name!r}"
        )
    missing_sections = text.missing_sections()
    if missing_sections:
        raise ValueError(
            f"Model card {name!r} lacks the sections {missing_sections}: fill them "
            f"in the task's ModelCardText."
        )
    entries = _metric_entries(metrics, per_class)
    missing = [key for key in REQUIRED_TRAINING_KEYS if key not in training]
    if missing:
        raise ValueError(
            f"training is missing {missing}; expected the keys "
            f"{list(REQUIRED_TRAINING_KEYS)}. Received: keys={list(training)}"
        )
    bad_sums = {
        file: digest
        for file, digest in data_sha256.items()
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest)
    }
    if not data_sha256 or bad_sums:
        raise ValueError(
            f"Expected data_sha256 to map each data file to its 64-digit lowercase "
            f"hex sha256. Received: data_sha256={dict(data_sha256)!r}"
        )

    sums = ", ".join(f"{file} {digest}" for file, digest in data_sha256.items())
    with tempfile.TemporaryDirectory(prefix="mct-") as assets_dir:
        card = ModelCardToolkit(output_dir=assets_dir).scaffold_assets()
    details = card.model_details
    details.name = title or name
    details.overview = text.overview.strip()
    details.documentation = f"{FACTORS_HEADING}:\n" + "\n".join(f"- {f}" for f in text.factors)
    details.owners = [Owner(name=owner, contact=contact) for owner, contact in owners]
    details.version = Version(name=version, date=date or datetime.date.today().isoformat())
    parameters = card.model_parameters
    parameters.model_architecture = text.architecture or None
    parameters.data = [
        Dataset(name="Training data", description=f"{text.training_data} (sha256: {sums})"),
        Dataset(name="Evaluation data", description=f"{text.evaluation_data} (sha256: {sums})"),
    ]
    card.quantitative_analysis.performance_metrics = [_performance_metric(e) for e in entries]
    card.quantitative_analysis.graphics.collection = [
        Graphic(name=caption, image=_figure_to_base64(caption, figure))
        for caption, figure in (graphics or {}).items()
    ]
    card.considerations = Considerations(
        users=[User(description=item) for item in text.intended_users],
        use_cases=[UseCase(description=item) for item in text.intended_uses]
        + [UseCase(description=f"Out of scope: {item}") for item in text.out_of_scope_uses],
        limitations=[Limitation(description=item) for item in text.caveats],
        ethical_considerations=[
            Risk(name=risk, mitigation_strategy=mitigation)
            for risk, mitigation in text.ethical_considerations
        ],
    )
    card_json = card.to_json()
    card_dict = json.loads(card_json)
    # Fail here, not later in read_model_card, if something does not fit MCT's schema.
    validation.validate_json_schema(card_dict)
    graphics_list = card_dict["quantitative_analysis"].get("graphics", {}).get("collection", [])
    context = {
        "card": card_dict,
        "text": text,
        "training": dict(training),
        "graphics": graphics_list,
        "settings": {k: v for k, v in training.items() if k not in REQUIRED_TRAINING_KEYS},
        "metrics": entries,
        "sha256": dict(data_sha256),
    }
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html", "html.jinja"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    html_path = out_dir / f"{name}.html"
    html = environment.get_template("model_card.html.jinja").render(**context)
    html_path.write_text(html, encoding="utf-8")
    markdown = environment.get_template("model_card.md.jinja").render(**context)
    markdown = re.sub(r"\n{3,}", "\n\n", markdown).strip() + "\n"
    (out_dir / f"{name}.md").write_text(markdown, encoding="utf-8")
    (out_dir / f"{name}.json").write_text(card_json + "\n", encoding="utf-8")
    return html_path


def read_model_card(json_path: Path) -> ModelCard:
    """Read a card written by :func:`write_model_card` (validated against MCT's JSON schema)."""
    card = ModelCard()
    card.from_json(json.loads(Path(json_path).read_text(encoding="utf-8")))
    return card


def format_metric(value: float) -> str:
    """How the card prints a metric value: 4 significant digits (``0.98312`` -> ``'0.9831'``)."""
    return f"{value:.4g}"


def _metric_entries(
    metrics: Sequence[MetricEntry], per_class: Mapping[str, Mapping[str, float]] | None
) -> list[MetricEntry]:
    entries = list(metrics)
    for class_name, class_metrics in (per_class or {}).items():
        entries += [
            MetricEntry(metric, value, slice=str(class_name))
            for metric, value in class_metrics.items()
        ]
    if not entries:
        raise ValueError("Expected at least one metric. Received: metrics=[]")
    for entry in entries:
        label = entry.name if entry.slice is None else f"{entry.name} [{entry.slice}]"
        bounds = entry.confidence_interval or ()
        for what, value in [("value", entry.value), *zip(("lower bound", "upper bound"), bounds)]:
            # numbers.Real admits numpy scalars (what most metric functions return).
            if (
                isinstance(value, bool)
                or not isinstance(value, numbers.Real)
                or not math.isfinite(value)
            ):
                raise ValueError(
                    f"Expected a finite number as the {what} of metric {label!r}. "
                    f"Received: {value!r}"
                )
        if bounds and (len(bounds) != 2 or bounds[0] > bounds[1]):
            raise ValueError(
                f"Expected confidence_interval=(lower, upper) with lower <= upper "
                f"for metric {label!r}. Received: {bounds!r}"
            )
    return entries


def _performance_metric(entry: MetricEntry) -> PerformanceMetric:
    metric = PerformanceMetric(type=entry.name, value=format_metric(entry.value), slice=entry.slice)
    if entry.confidence_interval is not None:
        lower, upper = entry.confidence_interval
        metric.confidence_interval = ConfidenceInterval(
            lower_bound=format_metric(lower), upper_bound=format_metric(upper)
        )
    return metric


def _figure_to_base64(caption: str, figure: Any) -> str:
    if not hasattr(figure, "savefig"):
        raise TypeError(
            f"Expected a matplotlib Figure for graphic {caption!r}. "
            f"Received: {type(figure).__name__}"
        )
    return figure_to_base64str(figure)
