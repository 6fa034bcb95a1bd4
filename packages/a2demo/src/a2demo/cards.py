"""Model cards to browse: the autograder's HTML cards, else the card text of the graded run.

The autograder writes one card per graded task to ``packages/<package>/model_cards/<task>.html``
(``make grade`` / ``make cards``). Before that, a demo model's run already holds the card text
its task wrote (``result.json``); :func:`run_card_html` shows that text, marked as such, so
the page has something honest to show. Only names in the listing are served (no paths from
the request ever reach the file system).

Example:

>>> catalogue = CardCatalogue(cards_root=Path("/nonexistent"), runs_root=Path("/nonexistent"))
>>> catalogue.listing()
[]
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

_NAME = re.compile(r"^[A-Za-z0-9_]+$")


@dataclass(frozen=True)
class CardEntry:
    """One browsable card: ``source`` is ``"autograder"`` (HTML file) or ``"run"`` (card text).

    Example:

    >>> CardEntry("keras_mnist_cnn", "run", Path("runs/full/keras_mnist_cnn/seed0")).name
    'keras_mnist_cnn'
    """

    name: str
    source: str
    path: Path


class CardCatalogue:
    """Finds cards under ``cards_root`` (``<packages>/*/model_cards/*.html``) and run cards of
    ``tasks`` under ``runs_root``.

    Example:

    >>> CardCatalogue(Path("/nonexistent"), Path("/nonexistent"), ["keras_mnist_cnn"]).get("x")
    """

    def __init__(
        self, cards_root: Path | None, runs_root: Path | None, tasks: Iterable[str] = ()
    ) -> None:
        self.cards_root, self.runs_root, self.tasks = cards_root, runs_root, tuple(tasks)

    def listing(self) -> list[CardEntry]:
        """Every card found now, autograder cards first, sorted by name."""
        entries: dict[str, CardEntry] = {}
        if self.cards_root is not None and self.cards_root.is_dir():
            for path in sorted(self.cards_root.glob("*/model_cards/*.html")):
                if _NAME.match(path.stem):
                    entries.setdefault(path.stem, CardEntry(path.stem, "autograder", path))
        if self.runs_root is not None:
            for task in self.tasks:
                if task in entries:
                    continue
                for kind in ("full", "quick"):
                    run = self.runs_root / kind / task / "seed0"
                    if (run / "result.json").is_file():
                        entries[task] = CardEntry(task, "run", run)
                        break
        return sorted(
            entries.values(), key=lambda entry: (entry.source != "autograder", entry.name)
        )

    def get(self, name: str) -> CardEntry | None:
        """The entry called ``name``, or ``None``."""
        if not _NAME.match(name):
            return None
        return next((entry for entry in self.listing() if entry.name == name), None)

    def html(self, entry: CardEntry) -> str:
        """The card as a complete HTML page."""
        if entry.source == "autograder":
            return entry.path.read_text(encoding="utf-8", errors="replace")
        import json

        result = json.loads((entry.path / "result.json").read_text(encoding="utf-8"))
        return run_card_html(entry.name, entry.path, result.get("card") or {})


def run_card_html(task: str, run_path: Path, card: dict[str, Any]) -> str:
    """A plain page of a run's card text (escaped), with a note on where the full card comes
    from.

    Example:

    >>> page = run_card_html("t", Path("runs/full/t/seed0"), {"overview": "<b>x</b>"})
    >>> "&lt;b&gt;x&lt;/b&gt;" in page and "make grade" in page
    True
    """
    sections = []
    for key, value in card.items():
        title = html.escape(key.replace("_", " ").capitalize())
        if isinstance(value, list):
            items = []
            for item in value:
                if isinstance(item, (list, tuple)) and len(item) == 2:
                    items.append(
                        f"<li><b>Risk:</b> {html.escape(str(item[0]))} "
                        f"<b>Mitigation:</b> {html.escape(str(item[1]))}</li>"
                    )
                else:
                    items.append(f"<li>{html.escape(str(item))}</li>")
            body = f"<ul>{''.join(items)}</ul>" if items else "<p>(none)</p>"
        else:
            body = f"<p>{html.escape(str(value)) or '(none)'}</p>"
        sections.append(f"<h2>{title}</h2>{body}")
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(task)} (run card text)</title>"
        f"<link rel='stylesheet' href='/static/style.css'></head><body class='card'>"
        f"<h1>{html.escape(task)}</h1><p class='note'>Card text written by the task in "
        f"{html.escape(str(run_path))}. The autograder's full card (metrics with 95% "
        f"intervals) appears here after <code>make grade</code> or "
        f"<code>make cards</code>.</p>{''.join(sections)}</body></html>"
    )
