"""One model card per trained model, written with the Model Card Toolkit (MCT 2.0).

:func:`write_model_card` fills an MCT ``ModelCard`` (details, parameters, metrics with optional
confidence intervals, per-class metrics, considerations, figures) and writes three files:
``<name>.html`` (MCT's HTML template), ``<name>.md`` (MCT's Markdown template) and
``<name>.json`` (the card's data, which :func:`read_model_card` reads back).

Accuracies are fractions (``0.983``), not percentages.

Example:

>>> from pathlib import Path
>>> from a2common.plotting import visualize_metrics
>>> html_path = write_model_card(
...     Path("model_cards"), name="mnist_cnn",
...     overview="A small CNN that classifies 28x28 handwritten digits.",
...     metrics=[MetricEntry("test accuracy", 0.9912, confidence_interval=(0.9893, 0.9930))],
...     per_class={"0": {"recall": 0.996}, "1": {"recall": 0.995}},
...     dataset="MNIST (60k train / 10k test)", data_sha256={"mnist.npz": "731c...a1"},
...     training={"epochs": 5, "seconds": 52.3, "parameters": 93322,
...               "command": "python -m keras_basics.train --model cnn"},
...     limitations=["Only centred, white-on-black digits like MNIST's."],
...     graphics={"Learning curves": visualize_metrics(history)},
... )  # doctest: +SKIP
>>> read_model_card(html_path.with_suffix(".json")).model_details.name  # doctest: +SKIP
'mnist_cnn'
"""
from __future__ import annotations

import datetime
import json
import math
import numbers
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from a2common import _mct_compat  # noqa: F401  (must come before model_card_toolkit)
from model_card_toolkit import (ConfidenceInterval, Considerations, Dataset, Graphic, Limitation,
                                ModelCard, ModelCardToolkit, Owner, PerformanceMetric, Risk,
                                UseCase, Version)
from model_card_toolkit.utils import validation
from model_card_toolkit.utils.graphics import figure_to_base64str

DEFAULT_OWNERS = (("assignment2 authors", "see the repository README"),)
REQUIRED_TRAINING_KEYS = ("epochs", "seconds", "parameters", "command")
MARKDOWN_TEMPLATE = os.path.join("template", "md", "default_template.md.jinja")
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class MetricEntry:
    """One row of the card's metrics table.

    Args:
        name: what was measured, e.g. ``"test accuracy"``.
        value: the measured value (a fraction for accuracies).
        slice: the subset it was measured on (e.g. a class name), or ``None`` for all of it.
        confidence_interval: ``(lower, upper)`` bounds, e.g. from a bootstrap, or ``None``.
    """

    name: str
    value: float
    slice: str | None = None
    confidence_interval: tuple[float, float] | None = None


def write_model_card(out_dir: Path, *, name: str, overview: str,
                     metrics: Mapping[str, float] | Sequence[MetricEntry], dataset: str,
                     data_sha256: Mapping[str, str], training: Mapping[str, Any],
                     limitations: Sequence[str],
                     ethical_considerations: Sequence[str | tuple[str, str]] = (),
                     use_cases: Sequence[str] = (), graphics: Mapping[str, Any] | None = None,
                     per_class: Mapping[str, Mapping[str, float]] | None = None,
                     architecture: str | None = None, title: str | None = None,
                     owners: Sequence[tuple[str, str]] = DEFAULT_OWNERS,
                     version: str = "1.0", date: str | None = None) -> Path:
    """Write ``<out_dir>/<name>.html``, ``.md`` and ``.json`` for one trained model.

    Args:
        out_dir: folder for the three files (created if needed).
        name: file-name-safe identifier of the model, e.g. ``"mnist_cnn"``.
        overview: what the model does, in a few sentences.
        metrics: ``{"test accuracy": 0.983}`` or a list of :class:`MetricEntry` (which can carry
            a slice and a confidence interval).
        dataset: the dataset and split sizes, e.g. ``"MNIST (60k train / 10k test)"``.
        data_sha256: sha256 of each data file used, ``{file name: hex digest}``.
        training: ``epochs``, ``seconds`` (wall time), ``parameters`` (count) and ``command``
            (how to reproduce); any other keys (``batch_size``, ``optimizer``...) are listed too.
        limitations: at least one known limitation.
        ethical_considerations: risks, each a string or a ``(risk, mitigation)`` pair.
        use_cases: intended uses.
        graphics: ``{caption: matplotlib Figure}``, embedded as base64 PNG images.
        per_class: ``{class name: {metric name: value}}``, added to the metrics table with the
            class as the slice.
        architecture: a description of the architecture (e.g. a layer summary).
        title: the display name, by default ``name``.
        owners: ``(name, contact)`` pairs.
        version: the model's version; ``date`` is the card's date (default: today, ISO 8601).

    Returns:
        The path of the HTML card; the ``.md`` and ``.json`` files are beside it.

    Raises:
        ValueError: a metric is not a finite number, a required training key is missing, the
            name is not file-name-safe, a sha256 is malformed or no limitation is given.
    """
    if not isinstance(name, str) or not _SAFE_NAME.fullmatch(name):
        raise ValueError(f"Expected a file-name-safe model name (letters, digits, '.', '_', "
                         f"'-'). Received: name={name!r}")
    entries = _metric_entries(metrics, per_class)
    missing = [key for key in REQUIRED_TRAINING_KEYS if key not in training]
    if missing:
        raise ValueError(f"training is missing {missing}; expected the keys "
                         f"{list(REQUIRED_TRAINING_KEYS)}. Received: keys={list(training)}")
    bad_sums = {file: digest for file, digest in data_sha256.items()
                if not isinstance(digest, str) or not _SHA256.fullmatch(digest)}
    if not data_sha256 or bad_sums:
        raise ValueError(f"Expected data_sha256 to map each data file to its 64-digit lowercase "
                         f"hex sha256. Received: data_sha256={dict(data_sha256)!r}")
    if not limitations:
        raise ValueError("Expected at least one limitation: every model has some.")

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    # MCT keeps its working assets (proto file, template copies) in its output_dir; use a
    # scratch folder for those and keep only the finished documents in out_dir.
    with tempfile.TemporaryDirectory(prefix="mct-") as assets_dir:
        toolkit = ModelCardToolkit(output_dir=assets_dir)
        card = toolkit.scaffold_assets()
        details = card.model_details
        details.name = title or name
        details.overview = f"{overview.strip()}\n\n{_training_summary(training, dataset)}"
        details.owners = [Owner(name=owner, contact=contact) for owner, contact in owners]
        details.version = Version(name=version, date=date or datetime.date.today().isoformat())
        parameters = card.model_parameters
        parameters.model_architecture = architecture
        parameters.data = [Dataset(name=dataset, description="sha256 of the files: " + ", ".join(
            f"{file} {digest}" for file, digest in data_sha256.items()))]
        card.quantitative_analysis.performance_metrics = [_performance_metric(e) for e in entries]
        card.quantitative_analysis.graphics.collection = [
            Graphic(name=caption, image=_figure_to_base64(caption, figure))
            for caption, figure in (graphics or {}).items()]
        card.considerations = Considerations(
            use_cases=[UseCase(description=text) for text in use_cases],
            limitations=[Limitation(description=text) for text in limitations],
            ethical_considerations=[_risk(item) for item in ethical_considerations])
        # Fail here, not later in read_model_card, if something does not fit MCT's schema.
        validation.validate_json_schema(json.loads(card.to_json()))

        toolkit.update_model_card(card)
        html = toolkit.export_format(output_file=f"{name}.html")
        markdown = toolkit.export_format(
            template_path=os.path.join(assets_dir, MARKDOWN_TEMPLATE), output_file=f"{name}.md")

    html_path = out_dir / f"{name}.html"
    # MCT's HTML template declares no charset: write pure ASCII so every browser reads it right.
    html_path.write_text(html, encoding="ascii", errors="xmlcharrefreplace")
    # The template's macros leave runs of blank lines; one is all Markdown needs.
    markdown = re.sub(r"\n\s*\n(\s*\n)+", "\n\n", markdown).strip() + "\n"
    (out_dir / f"{name}.md").write_text(markdown, encoding="utf-8")
    (out_dir / f"{name}.json").write_text(card.to_json() + "\n", encoding="utf-8")
    return html_path


def read_model_card(json_path: Path) -> ModelCard:
    """Read a card written by :func:`write_model_card` (validated against MCT's JSON schema)."""
    card = ModelCard()
    card.from_json(json.loads(Path(json_path).read_text(encoding="utf-8")))
    return card


def format_metric(value: float) -> str:
    """How the card prints a metric value: 4 significant digits (``0.98312`` -> ``'0.9831'``)."""
    return f"{value:.4g}"


def _metric_entries(metrics: Mapping[str, float] | Sequence[MetricEntry],
                    per_class: Mapping[str, Mapping[str, float]] | None) -> list[MetricEntry]:
    if isinstance(metrics, Mapping):
        entries = [MetricEntry(metric, value) for metric, value in metrics.items()]
    else:
        entries = list(metrics)
    for class_name, class_metrics in (per_class or {}).items():
        entries += [MetricEntry(metric, value, slice=str(class_name))
                    for metric, value in class_metrics.items()]
    if not entries:
        raise ValueError("Expected at least one metric. Received: metrics=[]")
    for entry in entries:
        label = entry.name if entry.slice is None else f"{entry.name} [{entry.slice}]"
        bounds = entry.confidence_interval or ()
        for what, value in [("value", entry.value), *zip(("lower bound", "upper bound"), bounds)]:
            # numbers.Real admits numpy scalars (what most metric functions return).
            if isinstance(value, bool) or not isinstance(value, numbers.Real) \
                    or not math.isfinite(value):
                raise ValueError(f"Expected a finite number as the {what} of metric {label!r}. "
                                 f"Received: {value!r}")
        if bounds and (len(bounds) != 2 or bounds[0] > bounds[1]):
            raise ValueError(f"Expected confidence_interval=(lower, upper) with lower <= upper "
                             f"for metric {label!r}. Received: {bounds!r}")
    return entries


def _performance_metric(entry: MetricEntry) -> PerformanceMetric:
    metric = PerformanceMetric(type=entry.name, value=format_metric(entry.value), slice=entry.slice)
    if entry.confidence_interval is not None:
        lower, upper = entry.confidence_interval
        metric.confidence_interval = ConfidenceInterval(
            lower_bound=format_metric(lower), upper_bound=format_metric(upper))
    return metric


def _training_summary(training: Mapping[str, Any], dataset: str) -> str:
    settings = ", ".join(f"{key}={value}" for key, value in training.items()
                         if key not in REQUIRED_TRAINING_KEYS)
    return (f"Training: {training['epochs']} epochs in {float(training['seconds']):.1f} s, "
            f"{int(training['parameters']):,} parameters, on {dataset}."
            + (f" Settings: {settings}." if settings else "")
            + f" Reproduce with `{training['command']}`.")


def _figure_to_base64(caption: str, figure: Any) -> str:
    if not hasattr(figure, "savefig"):
        raise TypeError(f"Expected a matplotlib Figure for graphic {caption!r}. "
                        f"Received: {type(figure).__name__}")
    return figure_to_base64str(figure)


def _risk(item: str | tuple[str, str]) -> Risk:
    risk, mitigation = (item, "none beyond this card") if isinstance(item, str) else item
    return Risk(name=risk, mitigation_strategy=mitigation)
