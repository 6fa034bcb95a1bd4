"""The one Markdown-table renderer of the project (reports, READMEs, notebooks).

Example:

>>> print(markdown_table(["model", "accuracy"], [["mlp", 0.98], ["cnn", 0.9953]]))
| model | accuracy |
| --- | --- |
| mlp | 0.98 |
| cnn | 0.9953 |
"""
from __future__ import annotations

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
    lines = ["| " + " | ".join(map(str, headers)) + " |",
             "| " + " | ".join("---" for _ in headers) + " |"]
    for row in rows:
        if len(row) != len(headers):
            raise ValueError(f"Expected {len(headers)} cells per row. Received: {list(row)}")
        lines.append("| " + " | ".join(_cell(value) for value in row) + " |")
    return "\n".join(lines)
