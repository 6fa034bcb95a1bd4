"""Writes the Gradescope-format ``results.json`` and a readable ``report.md``."""
from __future__ import annotations

import json
import platform
import subprocess
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from a2common.data import dataset_sha256

from autograder.runner import REPO_ROOT, Outcome

REPORTED_PACKAGES = ("numpy", "tensorflow-cpu", "keras", "torch", "lightning", "torchmetrics",
                     "scikit-learn", "assignment2-autograd", "assignment2-keras-models",
                     "assignment2-lightning-cnn", "assignment2-modern-convnets",
                     "assignment2-conv3d", "assignment2-common")


def package_versions() -> dict[str, str]:
    versions = {}
    for name in REPORTED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def git_revision() -> str:
    try:
        revision = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT,
                                  capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=REPO_ROOT, capture_output=True, text=True).stdout.strip()
        return revision + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _test_output(outcome: Outcome) -> str:
    task = outcome.task
    if outcome.value is None:
        return outcome.message
    verdict = "PASSED" if outcome.status == "passed" else "FAILED"
    timing = (f"loaded from cache (trained in {outcome.train_seconds:.0f} s)" if outcome.from_cache
              else f"trained in {outcome.train_seconds or 0:.0f} s")
    lines = [f"{task.metric} = {outcome.value:.4f} on the test split: {verdict} "
             f"(required ≥ {outcome.threshold}, target ≥ {task.target}"
             f"{', target met' if outcome.target_met else ', target not met'}); {timing}; "
             f"wall time {outcome.seconds:.0f} s."]
    if outcome.message:
        lines.append(outcome.message)
    return "\n".join(lines)


def build_results(outcomes: list[Outcome], *, quick: bool, seed: int,
                  wall_seconds: float) -> dict[str, Any]:
    """The Gradescope results object (accuracies as fractions)."""
    tests = []
    for number, outcome in enumerate(outcomes, start=1):
        task = outcome.task
        tests.append({
            "name": f"{task.name}: {task.title}",
            "number": str(number),
            "score": task.max_score if outcome.status == "passed" else 0.0,
            "max_score": task.max_score,
            "status": outcome.status,
            "output": _test_output(outcome),
            "visibility": "visible",
            "extra_data": {
                "task": task.name, "metric": task.metric, "value": outcome.value,
                "required": outcome.threshold, "target": task.target,
                "seconds": round(outcome.seconds, 2),
                "train_seconds": (None if outcome.train_seconds is None
                                  else round(outcome.train_seconds, 2)),
                "from_cache": outcome.from_cache, "quick": quick,
                "data_sha256": dataset_sha256(task.datasets), "source": task.source,
                "details": outcome.details,
            },
        })
    passed = sum(t["status"] == "passed" for t in tests)
    return {
        "score": sum(t["score"] for t in tests),
        "max_score": sum(t["max_score"] for t in tests),
        "execution_time": round(wall_seconds, 2),
        "output": f"{passed} of {len(tests)} graded tasks passed"
                  f"{' (QUICK smoke variants)' if quick else ''}.",
        "visibility": "visible",
        "stdout_visibility": "visible",
        "tests": tests,
        "extra_data": {
            "seed": seed, "quick": quick,
            "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "git_revision": git_revision(), "python": platform.python_version(),
            "machine": f"{platform.machine()}, {platform.system()}",
            "package_versions": package_versions(),
        },
    }


def _fmt_seconds(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.0f} s" if value < 120 else f"{value / 60:.1f} min"


def render_report(results: dict[str, Any]) -> str:
    """A Markdown report: one row per task, then failures, versions and data checksums."""
    meta = results["extra_data"]
    lines = [f"# Grading report{' (QUICK)' if meta['quick'] else ''}", "",
             f"{results['output']} Score {results['score']:g} / {results['max_score']:g}. "
             f"Total wall time {_fmt_seconds(results['execution_time'])}.", "",
             f"Revision `{meta['git_revision']}`, seed {meta['seed']}, finished "
             f"{meta['finished_at']}, Python {meta['python']} on {meta['machine']}.", "",
             "| task | metric | value | required | target | train time | wall time | status |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for test in results["tests"]:
        extra = test["extra_data"]
        value = "–" if extra["value"] is None else f"{extra['value']:.4f}"
        cached = " (cached)" if extra["from_cache"] else ""
        lines.append(f"| {extra['task']} | {extra['metric']} | {value} | ≥ {extra['required']} | "
                     f"≥ {extra['target']} | {_fmt_seconds(extra['train_seconds'])}{cached} | "
                     f"{_fmt_seconds(extra['seconds'])} | {test['status']} |")
    failures = [t for t in results["tests"] if t["status"] != "passed"]
    if failures:
        lines += ["", "## Failures", ""]
        for test in failures:
            lines += [f"### {test['name']}", "", "```", test["output"].strip(), "```", ""]
    lines += ["", "## Package versions", ""]
    lines += [f"- {name} {version}" for name, version in meta["package_versions"].items()]
    checksums = {k: v for t in results["tests"] for k, v in t["extra_data"]["data_sha256"].items()}
    lines += ["", "## Data (sha256, verified by the loader)", ""]
    lines += [f"- `{name}` `{digest}`" for name, digest in sorted(checksums.items())]
    return "\n".join(lines) + "\n"


def write_results(results: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, report_path = out_dir / "results.json", out_dir / "report.md"
    json_path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    report_path.write_text(render_report(results))
    return json_path, report_path
