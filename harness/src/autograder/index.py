"""Writes ``assignment2/README.md``: the landing page a grader opens first.

Everything on the page is read from the repository when it is generated: the last grade's
``assignment2/results/results.json`` (every number on the page comes from there), the notebook
exports listed in ``assignment2/notebooks/exports.json`` (written by
:mod:`autograder.submission`), the model cards, ``KNOWN_BUGS.md`` files, TensorBoard log folders
of the graded runs, the published classifier, the API docs and the demo. Whatever does not exist
yet is named as missing together with the command that makes it; nothing crashes on a tree where
no model has been trained.

Example (shell)::

    python -m autograder index        # the page only (make cards runs it too)
    make submission                   # notebook exports first, then the page
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from a2common.runs import RESULT_FILE, GradedRun
from a2common.tables import markdown_table
from autograder.registry import TASKS, Task
from autograder.results import STATE_TEXT
from autograder.runner import REPO_ROOT

PACKAGE_ORDER = (
    "autograd",
    "keras_models",
    "lightning_cnn",
    "modern_convnets",
    "conv3d",
    "a2common",
)
"""Packages listed first, in this order; any other ``packages/<name>/README.md`` follows."""
SEPARATE_SECTIONS = ("a2demo",)
"""Packages that get a section of their own rather than a package entry."""
EXPORTS_MANIFEST = Path("assignment2") / "notebooks" / "exports.json"
API_DOCS_INDEX = Path("assignment2") / "docs" / "api" / "index.html"
PUBLISHED_CLASSIFIER = Path("runs") / "published" / "animals3_classifier"
TENSORBOARD_EVENTS = "events.out.tfevents.*"


@dataclass
class GradeResults:
    """``results.json`` as the landing page reads it.

    ``version`` is 2 for the per-metric format written since issue 9, 1 for the older one and
    ``None`` when there is no readable file (``problem`` then says why).

    Example:

    >>> GradeResults.load(Path("/nonexistent/results.json")).version is None
    True
    """

    path: Path
    version: int | None
    data: dict[str, Any] = field(default_factory=dict)
    problem: str = ""

    @classmethod
    def load(cls, path: Path) -> GradeResults:
        if not path.is_file():
            return cls(path, None, problem="No grade has been recorded yet: run `make grade`.")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            tests = data["tests"]
        except (ValueError, KeyError, TypeError) as error:
            return cls(
                path,
                None,
                problem=f"`{path.name}` could not be read ({error!r}): run "
                "`make grade` to rewrite it.",
            )
        extras = [test.get("extra_data", {}) for test in tests]
        version = 2 if all("state" in e and "metrics" in e for e in extras) else 1
        return cls(path, version, data)

    @property
    def tests_by_task(self) -> dict[str, dict[str, Any]]:
        return {
            test["extra_data"]["task"]: test
            for test in self.data.get("tests", [])
            if "task" in test.get("extra_data", {})
        }


def _rel(path: Path, start: Path) -> str:
    return Path(os.path.relpath(path, start)).as_posix()


def _link(path: Path, start: Path, text: str | None = None) -> str:
    return f"[{text or path.name}]({_rel(path, start)})"


def _readme_title(readme: Path, fallback: str) -> str:
    try:
        first = readme.read_text(encoding="utf-8").splitlines()[0]
    except (OSError, IndexError):
        return fallback
    return first.lstrip("# ").strip() or fallback


def package_names(root: Path) -> list[str]:
    """Packages with a README, in :data:`PACKAGE_ORDER` first, without the separate sections."""
    found = {p.parent.name for p in (root / "packages").glob("*/README.md")}
    found -= set(SEPARATE_SECTIONS)
    return [n for n in PACKAGE_ORDER if n in found] + sorted(found - set(PACKAGE_ORDER))


def tensorboard_logdirs(runs: Path, task: str) -> list[Path]:
    """Folders holding TensorBoard event files in the full graded runs of ``task``.

    A Keras ``TensorBoard`` callback writes ``…/tensorboard/{train,validation}/events…``: the
    folder above ``train``/``validation`` is the log folder to open.
    """
    folders = set()
    for events in (runs / "full" / task).glob(f"seed*/work/**/{TENSORBOARD_EVENTS}"):
        folder = events.parent
        if folder.name in ("train", "validation"):
            folder = folder.parent
        folders.add(folder)
    return sorted(folders)


def model_file_paths(runs: Path, task: str) -> list[Path]:
    """The model files that the full graded runs of ``task`` list in their ``result.json``.

    A task names its saved models relative to its run's work folder (``TaskResult.model_files``);
    a file that is missing, or a ``result.json`` that cannot be read, is left out.
    """
    paths = []
    for result_file in sorted((runs / "full" / task).glob(f"seed*/{RESULT_FILE}")):
        run = GradedRun(task, result_file.parent)
        try:
            listed = run.result.get("model_files", [])
        except (OSError, ValueError, AttributeError):
            continue
        paths += [run.work_dir / name for name in listed if (run.work_dir / name).is_file()]
    return paths


def _format_value(entry: dict[str, Any]) -> str:
    text = f"{entry['value']:.4f}"
    if entry.get("std") is not None:
        text += f" ± {entry['std']:.4f} ({len(entry['per_seed'])} seeds)"
    if entry.get("ci95"):
        low, high = entry["ci95"]
        text += f" (95% CI {low:.4f}–{high:.4f})"
    return text


def _note(test: dict[str, Any]) -> str:
    """First line of a test's output, run folders shown relative to the repository."""
    first = (test.get("output") or "").strip().splitlines()
    return re.sub(r"/\S*/(runs/)", r"\1", first[0]) if first else ""


def _card_link(task: Task | None, name: str, root: Path, start: Path) -> str:
    package = task.package if task else None
    card = root / "packages" / str(package) / "model_cards" / f"{name}.html"
    return _link(card, start, "card") if package and card.is_file() else "not written yet"


def results_section(results: GradeResults, root: Path, tasks: dict[str, Task]) -> list[str]:
    """The graded-results table: one row per task metric, every number from ``results.json``."""
    start = root / "assignment2"
    if results.version is None:
        return [results.problem]
    data, meta = results.data, results.data.get("extra_data", {})
    links = (
        f"details in {_link(results.path.parent / 'report.md', start, 'report.md')} and "
        f"{_link(results.path, start, 'results.json')}"
    )
    lines = [
        f"{data.get('output', '')} Score {data.get('score', 0):g} / "
        f"{data.get('max_score', 0):g}. Revision `{meta.get('git_revision', '?')}`, "
        f"finished {meta.get('finished_at', '?')}; {links}.",
        "",
    ]
    if meta.get("quick"):
        lines += [
            "**These are QUICK smoke results** (tiny training): run `make grade` for the "
            "graded numbers.",
            "",
        ]
    if results.version == 1:
        lines += [
            "This `results.json` is in the format written before issue 9 (v1: one metric "
            "per task, no per-task state): re-run `make grade` for the full table.",
            "",
        ]
        rows = [
            [
                e["task"],
                e.get("metric"),
                e.get("value"),
                f"≥ {e.get('required')}",
                f"≥ {e.get('target')}",
                test.get("status", "?"),
            ]
            for test in data["tests"]
            for e in [test["extra_data"]]
        ]
        return lines + [
            markdown_table(["task", "metric", "value", "required", "target", "status"], rows)
        ]
    rows = []
    graded = results.tests_by_task
    for name, test in graded.items():
        extra = test["extra_data"]
        status = STATE_TEXT.get(extra["state"], extra["state"])
        card = _card_link(tasks.get(name), name, root, start)
        if not extra["metrics"]:
            rows.append(
                [
                    f"`{name}`",
                    extra.get("metric"),
                    "–",
                    f"≥ {extra.get('required')}",
                    f"≥ {extra.get('target')}",
                    f"{status}: {_note(test)}",
                    card,
                ]
            )
        for key, entry in extra["metrics"].items():
            target = f"≥ {entry['target']} ({'met' if entry['target_met'] else 'not met'})"
            rows.append(
                [
                    f"`{name}`",
                    key,
                    _format_value(entry),
                    f"≥ {entry['required']}",
                    target,
                    status,
                    card,
                ]
            )
    for name, task in tasks.items():
        if name not in graded:
            rows.append(
                [
                    f"`{name}`",
                    task.primary.name,
                    "–",
                    f"≥ {task.primary.required}",
                    f"≥ {task.primary.target}",
                    "not in this results.json (registered after the grade): run `make grade`",
                    _card_link(task, name, root, start),
                ]
            )
    lines.append(
        markdown_table(
            ["task", "metric", "value", "required", "target", "status", "model card"], rows
        )
    )
    if not meta.get("complete", True):
        lines += [
            "",
            "The grade that wrote this file had not finished (still running or "
            "interrupted): tasks listed as not graded get their numbers when it does.",
        ]
    return lines


def load_exports(root: Path) -> dict[str, dict[str, Any]]:
    """The notebook exports recorded by ``make submission`` (empty when none were built)."""
    manifest = root / EXPORTS_MANIFEST
    try:
        return json.loads(manifest.read_text(encoding="utf-8"))["notebooks"]
    except (OSError, ValueError, KeyError):
        return {}


def _notebook_rows(
    package_dir: Path, root: Path, exports: dict[str, dict[str, Any]], start: Path
) -> list[list[str]]:
    rows = []
    export_dir = root / EXPORTS_MANIFEST.parent
    for notebook in sorted((package_dir / "notebooks").glob("*.ipynb")):
        entry = exports.get(_rel(notebook, root), {})
        cells = []
        for kind in ("html", "pdf"):
            target = export_dir / entry[kind] if entry.get(kind) else None
            cells.append(_link(target, start, kind.upper()) if target and target.is_file() else "–")
        note = entry.get("note", "not exported yet: run `make submission`")
        rows.append([_link(notebook, start), *cells, note])
    return rows


def package_section(
    package: str,
    root: Path,
    results: GradeResults,
    tasks: dict[str, Task],
    exports: dict[str, dict[str, Any]],
) -> list[str]:
    """Links of one package: README, known bugs, notebooks, tasks with cards, model files and
    TensorBoard."""
    start, folder = root / "assignment2", root / "packages" / package
    lines = [
        f"### {_readme_title(folder / 'README.md', package)}",
        "",
        f"- README: {_link(folder / 'README.md', start)}",
    ]
    bugs = folder / "KNOWN_BUGS.md"
    lines.append(
        f"- known bugs and limitations: "
        f"{_link(bugs, start) if bugs.is_file() else 'no KNOWN_BUGS.md yet'}"
    )
    own_tasks = [task for task in tasks.values() if task.package == package]
    graded = results.tests_by_task
    runs = root / "runs"
    for task in own_tasks:
        test = graded.get(task.name)
        state = str(test["extra_data"].get("state", test.get("status"))) if test else ""
        status = STATE_TEXT.get(state, state) if test else "not in results.json"
        card = _card_link(task, task.name, root, start)
        logdirs = tensorboard_logdirs(runs, task.name)
        logs = ", ".join(_link(d, start, _rel(d, runs)) for d in logdirs)
        models = ", ".join(
            _link(path, start, _rel(path, runs)) for path in model_file_paths(runs, task.name)
        )
        lines.append(
            f"- task `{task.name}` ({task.title}): {status}; model card: {card}"
            + (f"; model files: {models}" if models else "")
            + (f"; TensorBoard: {logs}" if logs else "")
        )
    rows = _notebook_rows(folder, root, exports, start)
    if rows:
        lines += ["", markdown_table(["executed notebook", "HTML", "PDF", "export"], rows)]
    else:
        lines.append("- notebooks: none")
    return lines + [""]


def extras_section(root: Path) -> list[str]:
    """The published classifier, TensorBoard, API docs and the demo, each or why it is absent."""
    start = root / "assignment2"
    lines = ["## Published classifier", ""]
    published = root / PUBLISHED_CLASSIFIER
    source = root / "packages" / "lightning_cnn" / "src" / "lightning_cnn" / "classifier.py"
    readme = root / "packages" / "lightning_cnn" / "README.md"
    lines.append(
        f'`lightning_cnn.load_classifier("animals3_classifier")` ({_link(source, start)}'
        f"; documented in {_link(readme, start, 'lightning_cnn/README.md')}, section "
        '"The published classifier").'
    )
    if (published / "classifier.json").is_file():
        lines.append(
            f"Published folder: {_link(published / 'classifier.json', start)} "
            "(model files, sha256 sums, source runs and their test accuracy)."
        )
    else:
        lines.append(
            "Not published in this tree yet: `python -m lightning_cnn.classifier "
            "publish animals3_classifier` builds it from the graded runs."
        )
    lines += [
        "",
        "## TensorBoard",
        "",
        "The graded runs' training logs (links in each package's task list; `runs/` is "
        "not committed, so they exist where the grade ran): `tensorboard --logdir "
        "runs/full`.",
        "",
        "## API documentation",
        "",
    ]
    docs = root / API_DOCS_INDEX
    lines.append(
        f"{_link(docs, start, 'API reference')} (pdoc, from the packages' docstrings, "
        "with links to the executed notebooks)."
        if docs.is_file()
        else "Not built in this tree: `make docs` writes it to `assignment2/docs/api/`."
    )
    lines += ["", "## Demo", ""]
    demo = root / "packages" / "a2demo" / "README.md"
    lines.append(
        f"{_link(demo, start, 'packages/a2demo')}: `make demo` starts it."
        if demo.is_file()
        else "The demo is not in this tree yet (`packages/a2demo`)."
    )
    return lines


def render_index(root: Path = REPO_ROOT, tasks: dict[str, Task] | None = None) -> str:
    """The whole landing page as Markdown."""
    tasks = TASKS if tasks is None else tasks
    results = GradeResults.load(root / "assignment2" / "results" / "results.json")
    exports = load_exports(root)
    lines = [
        "# assignment2 — submission index",
        "",
        "Generated by `make submission` (notebook exports, then this page) from the last "
        "`make grade`; do not edit it by hand. Reproduce every number with `make grade` "
        "(full) or `make grade QUICK=1` (the public smoke check); `make gradescope` builds "
        "the Gradescope autograder; setup is in the top-level README.",
        "",
        "## Graded results",
        "",
    ]
    lines += results_section(results, root, tasks)
    lines += [
        "",
        "## Packages",
        "",
        "Each package: README, known bugs, graded tasks (status, model card, TensorBoard "
        "logs) and its executed notebooks with HTML and PDF exports.",
        "",
    ]
    for package in package_names(root):
        lines += package_section(package, root, results, tasks, exports)
    lines += extras_section(root)
    return "\n".join(lines) + "\n"


def write_index(root: Path = REPO_ROOT, tasks: dict[str, Task] | None = None) -> Path:
    """Write ``assignment2/README.md`` under ``root``; returns its path."""
    path = root / "assignment2" / "README.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_index(root, tasks), encoding="utf-8")
    return path
