"""The one Markdown-table renderer of the project (reports, READMEs, notebooks).

Example:

>>> print(markdown_table(["model", "accuracy"], [["mlp", 0.98], ["cnn", 0.9953]]))
| model | accuracy |
| --- | --- |
| mlp | 0.98 |
| cnn | 0.9953 |
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A GitHub-flavoured Markdown table; floats get 4 significant digits, ``None`` a dash."""
    lines = [
        "| " + " | ".join(map(str, headers)) + " |",
        "| " + " | ".join("---" for _ in headers) + " |",
    ]
    for row in rows:
        if len(row) != len(headers):
            raise ValueError(f"Expected {len(headers)} cells per row. Received: {list(row)}")
        lines.append("| " + " | ".join(_cell(value) for value in row) + " |")
    return "\n".join(lines)


def text_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A plain-text table with columns as wide as their widest cell (nothing is cut off).

    Example:

    >>> print(text_table(["layer", "params"], [["conv1", 1296], ["dense", 10]]))
    layer  params
    -----  ------
    conv1   1,296
    dense      10
    """
    cells = [[str(header) for header in headers]]
    numeric = [True] * len(headers)
    for row in rows:
        if len(row) != len(headers):
            raise ValueError(f"Expected {len(headers)} cells per row. Received: {list(row)}")
        cells.append([f"{value:,}" if isinstance(value, int) else _cell(value) for value in row])
        numeric = [was and isinstance(value, int) for was, value in zip(numeric, row)]
    widths = [max(len(line[column]) for line in cells) for column in range(len(headers))]

    def render(line: list[str]) -> str:
        return "  ".join(
            cell.rjust(width) if is_number else cell.ljust(width)
            for cell, width, is_number in zip(line, widths, numeric)
        ).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([render(cells[0]), rule, *(render(line) for line in cells[1:])])


def keras_layer_table(model: Any) -> str:
    """Every layer of a built Keras model: name (type), output shape, parameters and, for
    functional models, the layers it reads from, without ``model.summary()``'s truncation.

    Example:

    >>> import keras
    >>> inputs = keras.Input((4,), name="features")
    >>> model = keras.Model(inputs, keras.layers.Dense(2, name="logits")(inputs), name="tiny")
    >>> print(keras_layer_table(model))
    Model "tiny": 10 parameters (10 trainable)
    layer                  output shape  parameters  inputs
    ---------------------  ------------  ----------  --------
    features (InputLayer)  (None, 4)              0
    logits (Dense)         (None, 2)             10  features
    """
    rows = []
    for layer in model.layers:
        try:
            shape = str(tuple(layer.output.shape))
        except (AttributeError, ValueError):  # a layer that was never called
            shape = "?"
        sources = []
        for node in getattr(layer, "_inbound_nodes", []):
            for tensor in getattr(node, "input_tensors", []):
                history = getattr(tensor, "_keras_history", None)
                if history is not None and history.operation is not layer:
                    sources.append(history.operation.name)
        rows.append(
            [
                f"{layer.name} ({type(layer).__name__})",
                shape,
                int(layer.count_params()),
                ", ".join(dict.fromkeys(sources)),
            ]
        )
    trainable = sum(int(math.prod(weight.shape)) for weight in model.trainable_weights)
    header = f'Model "{model.name}": {model.count_params():,} parameters ({trainable:,} trainable)'
    return header + "\n" + text_table(["layer", "output shape", "parameters", "inputs"], rows)
