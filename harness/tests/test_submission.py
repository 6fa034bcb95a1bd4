"""The submission landing page and the notebook exports (issue 14), on a small fake repository."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from autograder import submission
from autograder.index import (
    GradeResults,
    model_file_paths,
    render_index,
    tensorboard_logdirs,
    write_index,
)
from autograder.registry import TASKS
from autograder.runner import REPO_ROOT

RESULTS_V2 = Path(__file__).parent / "data" / "results_v2.json"
FIXTURE_TASKS = ("autograd_mnist_simple", "keras_pima_binary", "keras_wine_multihead")
LATE_TASK = "keras_cifar7_cnn"
"""Registered but absent from the fixture results: listed as not graded, never with a number."""


def _notebook(outputs: bool, text: str = "hello") -> dict:
    cell = {
        "cell_type": "code",
        "id": "code",
        "execution_count": 1 if outputs else None,
        "metadata": {},
        "source": f"print({text!r})",
        "outputs": [{"output_type": "stream", "name": "stdout", "text": text + "\n"}]
        if outputs
        else [],
    }
    title = {"cell_type": "markdown", "id": "title", "metadata": {}, "source": "# A notebook"}
    return {
        "cells": [title, cell],
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    for package in ("autograd", "keras_models"):
        folder = tmp_path / "packages" / package
        (folder / "notebooks").mkdir(parents=True)
        (folder / "README.md").write_text(f"# {package} — a test package\n")
    (tmp_path / "packages" / "autograd" / "KNOWN_BUGS.md").write_text("# Known bugs\n")
    notebooks = tmp_path / "packages" / "keras_models" / "notebooks"
    (notebooks / "01_run.ipynb").write_text(json.dumps(_notebook(True)))
    (notebooks / "02_blank.ipynb").write_text(json.dumps(_notebook(False)))
    return tmp_path


@pytest.fixture
def tasks() -> dict:
    return {name: TASKS[name] for name in (*FIXTURE_TASKS, LATE_TASK)}


def _with_results(repo: Path, source: Path | None = RESULTS_V2, text: str | None = None) -> None:
    target = repo / "assignment2" / "results" / "results.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    if text is not None:
        target.write_text(text)
    elif source is not None:
        shutil.copy(source, target)


def test_every_number_on_the_page_comes_from_results_json(repo, tasks):
    _with_results(repo)
    page = render_index(repo, tasks)
    fixture = json.loads(RESULTS_V2.read_text())
    allowed = set()
    for test in fixture["tests"]:
        for entry in test["extra_data"]["metrics"].values():
            allowed |= {f"{v:.4f}" for v in [entry["value"], *(entry["ci95"] or [])]}
    table = page.split("## Graded results")[1].split("## Packages")[0]
    shown = set(re.findall(r"\d+\.\d{4}", table))
    assert shown and shown <= allowed
    pima = next(line for line in table.splitlines() if "`keras_pima_binary` | roc_auc" in line)
    assert "0.8256 (95% CI 0.7534–0.8904)" in pima and "≥ 0.83 (not met)" in pima
    assert "accuracy[colour]" in table and "accuracy[quality_band]" in table
    simple = next(line for line in table.splitlines() if "`autograd_mnist_simple`" in line)
    assert "not graded in this run" in simple and "| – |" in simple
    assert "no valid run in runs/full/autograd_mnist_simple/seed0" in simple  # made relative
    late = next(line for line in table.splitlines() if f"`{LATE_TASK}`" in line)
    assert "not in this results.json" in late and "| – |" in late
    assert "had not finished" in table  # the fixture is a partial grade


def test_links_and_missing_parts_degrade_without_crashing(repo, tasks):
    page = render_index(repo, tasks)
    assert "No grade has been recorded yet: run `make grade`." in page
    assert "[KNOWN_BUGS.md](../packages/autograd/KNOWN_BUGS.md)" in page
    assert "no KNOWN_BUGS.md yet" in page  # keras_models has none
    assert "model card: not written yet" in page
    assert "not exported yet: run `make submission`" in page
    assert "The demo is not in this tree yet" in page
    assert "`make docs` writes it" in page
    assert "Not published in this tree yet" in page
    assert page.index("### autograd") < page.index("### keras_models")


def test_quick_results_are_flagged_as_smoke_results(repo, tasks):
    quick = json.loads(RESULTS_V2.read_text())
    quick["extra_data"]["quick"] = True
    _with_results(repo, text=json.dumps(quick))
    assert "**These are QUICK smoke results**" in render_index(repo, tasks)
    _with_results(repo)
    assert "QUICK smoke" not in render_index(repo, tasks)


def test_old_and_broken_results_files_are_named_not_trusted(repo, tasks):
    v1 = {
        "score": 10,
        "max_score": 10,
        "output": "1 of 1 graded tasks passed.",
        "tests": [
            {
                "status": "passed",
                "extra_data": {
                    "task": "keras_pima_binary",
                    "metric": "accuracy",
                    "value": 0.5,
                    "required": 0.4,
                    "target": 0.6,
                },
            }
        ],
        "extra_data": {"git_revision": "abc", "finished_at": "2026-01-01"},
    }
    _with_results(repo, text=json.dumps(v1))
    assert GradeResults.load(repo / "assignment2/results/results.json").version == 1
    page = render_index(repo, tasks)
    assert "re-run `make grade`" in page and "| keras_pima_binary | accuracy | 0.5 |" in page
    _with_results(repo, text="{not json")
    assert "could not be read" in render_index(repo, tasks)


def test_cards_exports_and_demo_are_linked_once_they_exist(repo, tasks):
    _with_results(repo)
    cards = repo / "packages" / "keras_models" / "model_cards"
    cards.mkdir()
    (cards / "keras_pima_binary.html").write_text("<html></html>")
    (repo / "packages" / "a2demo").mkdir()
    (repo / "packages" / "a2demo" / "README.md").write_text("# demo\n")
    submission.export_notebooks(repo, pdf=False)
    path = write_index(repo, tasks)
    page = path.read_text()
    assert path == repo / "assignment2" / "README.md"
    assert "[card](../packages/keras_models/model_cards/keras_pima_binary.html)" in page
    assert "[HTML](notebooks/keras_models/01_run_output.html)" in page
    assert "[packages/a2demo](../packages/a2demo/README.md)" in page
    assert "### demo" not in page  # the demo has its own section, not a package entry


def test_exports_are_incremental_and_skip_notebooks_without_outputs(repo):
    first = {e.notebook: e for e in submission.export_notebooks(repo, pdf=False)}
    run = first["packages/keras_models/notebooks/01_run.ipynb"]
    blank = first["packages/keras_models/notebooks/02_blank.ipynb"]
    html = repo / "assignment2" / "notebooks" / run.html
    assert "hello" in html.read_text() and run.pdf is None and "--no-pdf" in run.note
    assert blank.html is None and "no outputs" in blank.note
    broken = repo / "packages" / "keras_models" / "notebooks" / "03_broken.ipynb"
    broken.write_text("{truncated")
    assert "not a readable notebook" in submission.export_notebooks(repo, pdf=False)[2].note
    broken.unlink()
    stamp = html.stat().st_mtime_ns
    again = submission.export_notebooks(repo, pdf=False)
    assert again[0].reused and html.stat().st_mtime_ns == stamp
    source = repo / "packages" / "keras_models" / "notebooks" / "01_run.ipynb"
    source.write_text(json.dumps(_notebook(True, "changed")))
    changed = submission.export_notebooks(repo, pdf=False)[0]
    assert not changed.reused and "changed" in html.read_text()
    source.unlink()
    submission.export_notebooks(repo, pdf=False)
    assert not html.exists()  # exports of deleted notebooks go too


def _fake_chromium(tmp_path: Path, body: str) -> Path:
    script = tmp_path / "fake-chromium"
    script.write_text(
        '#!/bin/sh\nfor a in "$@"; do case "$a" in --print-to-pdf=*) '
        f'out="${{a#--print-to-pdf=}}";; esac; done\n{body}\n'
    )
    script.chmod(0o755)
    return script


def test_pdfs_are_printed_by_the_system_chromium_and_failures_are_reported(
    repo, tmp_path, monkeypatch
):
    good = _fake_chromium(tmp_path, "printf '%%PDF-1.4 fake' > \"$out\"")
    monkeypatch.setenv(submission.CHROMIUM_ENV, str(good))
    run = submission.export_notebooks(repo)[0]
    assert run.pdf and (repo / "assignment2" / "notebooks" / run.pdf).read_bytes()[:5] == b"%PDF-"
    assert submission.export_notebooks(repo)[0].note.startswith("HTML and PDF (up to date)")
    (repo / "assignment2" / "notebooks" / run.pdf).unlink()
    bad = _fake_chromium(tmp_path, "echo 'cannot print' >&2; exit 3")
    monkeypatch.setenv(submission.CHROMIUM_ENV, str(bad))
    failed = submission.export_notebooks(repo)[0]
    assert failed.pdf is None and "exit 3" in failed.note and "cannot print" in failed.note
    monkeypatch.setenv(submission.CHROMIUM_ENV, str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match="not an executable"):
        submission.export_notebooks(repo)


def test_pdfs_typeset_formulas_with_a_local_mathjax_when_installed(repo, tmp_path, monkeypatch):
    # the fake browser "prints" the page it was given, so the test reads what it loaded
    echo = _fake_chromium(
        tmp_path, 'for page; do :; done; { printf "%%PDF-"; cat "${page#file://}"; } > "$out"'
    )
    monkeypatch.setenv(submission.CHROMIUM_ENV, str(echo))
    monkeypatch.setattr(submission, "LOCAL_MATHJAX", tmp_path / "missing" / "MathJax.js")
    plain = submission.export_notebooks(repo)[0]
    assert "TeX source" in plain.note
    html = (repo / "assignment2" / "notebooks" / plain.html).read_text()
    assert submission.CDN_MATHJAX in html
    mathjax = tmp_path / "mathjax" / "MathJax.js"
    mathjax.parent.mkdir()
    mathjax.write_text("// MathJax")
    monkeypatch.setattr(submission, "LOCAL_MATHJAX", mathjax)
    typeset = submission.export_notebooks(repo)[0]  # reprinted although the notebook is unchanged
    printed = (repo / "assignment2" / "notebooks" / typeset.pdf).read_text()
    assert "TeX source" not in typeset.note and not typeset.note.endswith("(up to date)")
    assert mathjax.as_uri() in printed and submission.CDN_MATHJAX not in printed
    assert submission.CDN_MATHJAX in (repo / "assignment2" / "notebooks" / typeset.html).read_text()


@pytest.mark.skipif(submission.find_chromium() is None, reason="no system Chromium here")
def test_real_chromium_prints_an_html_export(tmp_path):
    html = tmp_path / "page.html"
    html.write_text("<html><body><h1>assignment2</h1></body></html>")
    submission.html_to_pdf(html, tmp_path / "page.pdf", submission.find_chromium(), timeout_s=60)
    assert (tmp_path / "page.pdf").read_bytes()[:5] == b"%PDF-"


def test_tensorboard_logdirs_are_the_folders_above_train_and_validation(tmp_path):
    work = tmp_path / "full" / "task" / "seed0" / "work"
    for sub in ("model/tensorboard/train", "model/tensorboard/validation", "lightning/version_0"):
        (work / sub).mkdir(parents=True)
        (work / sub / "events.out.tfevents.1.host").write_text("")
    assert tensorboard_logdirs(tmp_path, "task") == [
        work / "lightning" / "version_0",
        work / "model" / "tensorboard",
    ]
    assert tensorboard_logdirs(tmp_path, "other") == []


def test_model_files_are_the_existing_files_each_seed_lists(tmp_path):
    for seed, listed in ((0, ["model/model.keras", "gone.keras"]), (1, ["model/model.keras"])):
        run = tmp_path / "full" / "task" / f"seed{seed}"
        (run / "work" / "model").mkdir(parents=True)
        (run / "work" / "model" / "model.keras").write_text("weights")
        (run / "result.json").write_text(json.dumps({"model_files": listed}))
    (tmp_path / "full" / "broken" / "seed0").mkdir(parents=True)
    (tmp_path / "full" / "broken" / "seed0" / "result.json").write_text("{truncated")
    assert model_file_paths(tmp_path, "task") == [
        tmp_path / "full" / "task" / f"seed{seed}" / "work" / "model" / "model.keras"
        for seed in (0, 1)
    ]
    assert model_file_paths(tmp_path, "broken") == model_file_paths(tmp_path, "absent") == []


def test_docs_index_lists_modules_and_notebook_exports(repo, tmp_path, monkeypatch):
    for name in ("tiny_alpha", "tiny_beta"):
        module = tmp_path / "modules" / name
        module.mkdir(parents=True)
        (module / "__init__.py").write_text(
            f'"""{name}: a documented test module."""\n\n'
            "def answer() -> int:\n"
            '    """The answer."""\n    return 42\n'
        )
    monkeypatch.syspath_prepend(str(tmp_path / "modules"))
    shutil.copytree(REPO_ROOT / submission.DOCS_TEMPLATES, repo / submission.DOCS_TEMPLATES)
    index = submission.build_docs(repo, ("tiny_alpha", "tiny_beta", "tiny_not_installed"))
    assert "No notebook exports yet: run `make submission` first." in index.read_text()
    assert re.search(r"not installed in this environment:\s+tiny_not_installed", index.read_text())
    with pytest.raises(ValueError, match="make setup"):
        submission.build_docs(repo, ("tiny_not_installed",))
    modules = ("tiny_alpha", "tiny_beta")
    submission.export_notebooks(repo, pdf=False)
    index = submission.build_docs(repo, modules)
    page = index.read_text()
    assert index == repo / "assignment2" / "docs" / "api" / "index.html"
    assert 'href="../../notebooks/keras_models/01_run_output.html"' in page
    assert "tiny_alpha.html" in page
    assert "The answer." in (index.parent / "tiny_alpha.html").read_text()
    assert (index.parent / ".gitignore").read_text().splitlines()[-1] == "*"
