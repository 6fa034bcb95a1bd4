"""Writes the Gradescope-format ``results.json`` and a readable ``report.md``, atomically.

Both files are rewritten after every task, so an interrupted grade keeps what finished; tasks
not graded yet are listed as such, and ``extra_data.complete`` says whether the grade ran to
the end. Strict JSON: NaN/Infinity never appear (they become ``null``).
"""

from __future__ import annotations

import os
import platform
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from a2common.data import dataset_sha256
from a2common.grading import dump_json, to_jsonable
from a2common.machine import cpu_model, vector_isa
from a2common.tables import markdown_table
from autograder.runner import Outcome, git_revision

REPORTED_PACKAGES = (
    "numpy",
    "tensorflow-cpu",
    "keras",
    "torch",
    "lightning",
    "torchmetrics",
    "scikit-learn",
    "assignment2-autograd",
    "assignment2-keras-models",
    "assignment2-lightning-cnn",
    "assignment2-modern-convnets",
    "assignment2-conv3d",
    "assignment2-a2common",
)
STATE_TEXT = {
    "passed": "passed",
    "failed": "failed",
    "not_run": "not graded in this run",
    "interrupted": "interrupted",
}


def package_versions() -> dict[str, str]:
    versions = {}
    for name in REPORTED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def machine_facts() -> dict[str, Any]:
    """CPU model, vector ISA, BLAS and thread settings: what makes float results differ."""
    facts: dict[str, Any] = {
        "machine": platform.machine(),
        "system": platform.system(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
    }
    facts["cpu_model"] = cpu_model()
    facts["isa"] = vector_isa()
    try:
        from threadpoolctl import threadpool_info

        facts["blas"] = [
            {
                key: pool.get(key)
                for key in ("internal_api", "version", "architecture", "num_threads")
            }
            for pool in threadpool_info()
        ]
    except ImportError:
        pass
    facts["thread_environment"] = {
        name: os.environ[name]
        for name in (
            "OMP_NUM_THREADS",
            "MKL_NUM_THREADS",
            "OPENBLAS_NUM_THREADS",
            "OPENBLAS_CORETYPE",
            "TF_ENABLE_ONEDNN_OPTS",
            "ONEDNN_MAX_CPU_ISA",
        )
        if name in os.environ
    }
    return facts


def _test_output(outcome: Outcome) -> str:
    if not outcome.metrics:
        return outcome.message or STATE_TEXT[outcome.state]
    lines = []
    for key, entry in outcome.metrics.items():
        spread = (
            f" ± {entry['std']:.4f} over {len(entry['per_seed'])} seeds"
            if entry["std"] is not None
            else ""
        )
        interval = (
            f" (95% CI {entry['ci95'][0]:.4f}–{entry['ci95'][1]:.4f})" if entry["ci95"] else ""
        )
        lines.append(
            f"{key} = {entry['value']:.4f}{spread}{interval} on the "
            f"{outcome.task.labels[entry['head']].split} split: "
            f"{'PASSED' if entry['passed'] else 'FAILED'} (required ≥ "
            f"{entry['required']}, target ≥ {entry['target']}"
            f"{', target met' if entry['target_met'] else ', target not met'})."
        )
    timing = "loaded from its graded run" if outcome.from_cache else "trained in this grade"
    lines.append(
        f"Model {timing}: {outcome.facts['train_seconds']:.0f} s of training, "
        f"{outcome.facts['epochs']} epochs, {outcome.facts['parameters']:,} parameters; "
        f"wall time now {outcome.seconds:.0f} s."
    )
    if outcome.message:
        lines.append(outcome.message)
    return "\n".join(lines)


def test_entry(outcome: Outcome, number: int) -> dict[str, Any]:
    task = outcome.task
    primary = outcome.metrics.get(next(iter(outcome.metrics), ""), {})
    return {
        "name": f"{task.name}: {task.title}",
        "number": str(number),
        "score": task.max_score if outcome.state == "passed" else 0.0,
        "max_score": task.max_score,
        "status": "passed" if outcome.state == "passed" else "failed",
        "output": _test_output(outcome),
        "visibility": "visible",
        "extra_data": {
            "task": task.name,
            "package": task.package,
            "state": outcome.state,
            "metric": task.primary.name,
            "value": outcome.value,
            "required": task.primary.threshold(outcome.quick),
            "target": task.primary.target,
            "ci95": primary.get("ci95"),
            "metrics": outcome.metrics,
            "analysis": outcome.analysis,
            "quick": outcome.quick,
            "seconds": round(outcome.seconds, 2),
            "from_cache": outcome.from_cache,
            "train_seconds": outcome.facts.get("train_seconds"),
            "epochs": outcome.facts.get("epochs"),
            "parameters": outcome.facts.get("parameters"),
            "threads": outcome.facts.get("threads"),
            "trained_revision": outcome.facts.get("trained_revision"),
            "seeds": [run.seed for run in outcome.runs] or list(task.seeds),
            "run_dirs": outcome.facts.get("run_dirs", [str(run.path) for run in outcome.runs]),
            "data_sha256": dataset_sha256(task.all_datasets),
            "source": task.source,
            "details": outcome.facts.get("details", {}),
        },
    }


def build_results(
    outcomes: list[Outcome], *, quick: bool, wall_seconds: float, complete: bool
) -> dict[str, Any]:
    """The Gradescope results object (metrics as fractions) for every task in ``outcomes``."""
    tests = [test_entry(outcome, number) for number, outcome in enumerate(outcomes, start=1)]
    passed = sum(outcome.state == "passed" for outcome in outcomes)
    pending = sum(outcome.state in ("not_run", "interrupted") for outcome in outcomes)
    summary = (
        f"{passed} of {len(tests)} graded tasks passed"
        f"{' (QUICK smoke variants)' if quick else ''}."
        + (f" {pending} not graded in this run." if pending else "")
        + ("" if complete else " The grade did not finish (interrupted or running).")
    )
    return to_jsonable(
        {
            "score": sum(t["score"] for t in tests),
            "max_score": sum(t["max_score"] for t in tests),
            "execution_time": round(wall_seconds, 2),
            "output": summary,
            "visibility": "visible",
            "stdout_visibility": "visible",
            "tests": tests,
            "extra_data": {
                "quick": quick,
                "complete": complete,
                "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "git_revision": git_revision(),
                "package_versions": package_versions(),
                "machine": machine_facts(),
            },
        }
    )


def _fmt_seconds(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.0f} s" if value < 120 else f"{value / 60:.1f} min"


def _compute_section(tests: list[dict[str, Any]]) -> list[str]:
    """Training FLOPs against the CPU's measured matrix-product peak, for tasks that report them.

    The figures come from the task's run (``details``): multiply-adds counted from the model,
    ``6 x MACs x examples seen``, the training wall time, and a matrix-product benchmark in the
    run's precision (float32 or bfloat16) on the same machine right after training.
    """
    rows = []
    for test in tests:
        extra = test["extra_data"]
        details = extra.get("details") or {}
        peak = details.get("cpu_peak")
        flops, achieved = details.get("train_flops"), details.get("achieved_flops_per_second")
        if not flops or not achieved or not peak:
            continue
        rows.append(
            [
                extra["task"],
                f"{details['multiply_adds_per_example'] / 1e6:.2f}",
                f"{flops / 1e15:.4f}",
                _fmt_seconds(extra["train_seconds"]),
                f"{achieved / 1e9:.1f}",
                f"{peak['peak_flops_per_second'] / 1e9:.1f} ({peak.get('dtype', 'float32')})",
                f"{100 * achieved / peak['peak_flops_per_second']:.0f} %",
                f"{peak['cpu']} ({peak['isa']}; {peak['cores']} cores)",
            ]
        )
    if not rows:
        return []
    return [
        "",
        "## Training compute against the CPU's limit",
        "",
        "Training FLOPs = 6 x multiply-adds per example (counted from the model's layers) x "
        "examples seen; achieved = FLOPs / training wall time; peak = the best 2048 x 2048 "
        "matrix product TensorFlow ran on the same machine right after training, in the "
        "precision the run trained in (bfloat16 for a mixed_bfloat16 run).",
        "",
        markdown_table(
            [
                "task",
                "M multiply-adds / example",
                "training PFLOP",
                "train time",
                "achieved GFLOP/s",
                "matmul peak GFLOP/s",
                "of peak",
                "CPU",
            ],
            rows,
        ),
    ]


def render_report(results: dict[str, Any]) -> str:
    """A Markdown report: one row per task metric, then failures, machine, versions, data."""
    meta = results["extra_data"]
    machine = meta["machine"]
    lines = [
        f"# Grading report{' (QUICK)' if meta['quick'] else ''}",
        "",
        f"{results['output']} Score {results['score']:g} / {results['max_score']:g}. "
        f"Total wall time {_fmt_seconds(results['execution_time'])}.",
        "",
        f"Revision `{meta['git_revision']}`, finished {meta['finished_at']}, Python "
        f"{machine.get('python')} on {machine.get('cpu_model', machine.get('machine'))} "
        f"({machine.get('cpu_count')} CPUs).",
        "",
    ]
    rows = []
    for test in results["tests"]:
        extra = test["extra_data"]
        cached = " (graded run re-used)" if extra["from_cache"] else ""
        if not extra["metrics"]:
            rows.append(
                [
                    extra["task"],
                    extra["metric"],
                    None,
                    extra["required"],
                    extra["target"],
                    None,
                    None,
                    STATE_TEXT[extra["state"]],
                ]
            )
        for key, entry in extra["metrics"].items():
            value = f"{entry['value']:.4f}" + (f" ± {entry['std']:.4f}" if entry["std"] else "")
            rows.append(
                [
                    extra["task"],
                    key,
                    value,
                    f"≥ {entry['required']}",
                    f"≥ {entry['target']}",
                    _fmt_seconds(extra["train_seconds"]) + cached,
                    _fmt_seconds(extra["seconds"]),
                    STATE_TEXT[extra["state"]],
                ]
            )
    lines.append(
        markdown_table(
            ["task", "metric", "value", "required", "target", "train time", "wall time", "status"],
            rows,
        )
    )
    lines += _compute_section(results["tests"])
    failures = [t for t in results["tests"] if t["extra_data"]["state"] == "failed"]
    if failures:
        lines += ["", "## Failures", ""]
        for test in failures:
            lines += [f"### {test['name']}", "", "```", test["output"].strip(), "```", ""]
    lines += [
        "",
        "## Machine",
        "",
        f"- CPU: {machine.get('cpu_model')}; vector ISA: "
        f"{', '.join(machine.get('isa', [])) or 'unknown'}",
    ]
    for pool in machine.get("blas", []):
        lines.append(
            f"- {pool.get('internal_api')} {pool.get('version')} "
            f"({pool.get('architecture')}, {pool.get('num_threads')} threads)"
        )
    lines += ["", "## Package versions", ""]
    lines += [f"- {name} {version}" for name, version in meta["package_versions"].items()]
    checksums = {k: v for t in results["tests"] for k, v in t["extra_data"]["data_sha256"].items()}
    lines += ["", "## Data (sha256, verified by the loader)", ""]
    lines += [f"- `{name}` `{digest}`" for name, digest in sorted(checksums.items())]
    return "\n".join(lines) + "\n"


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def write_results(results: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    json_path, report_path = out_dir / "results.json", out_dir / "report.md"
    write_atomically(json_path, dump_json(results, indent=2) + "\n")
    write_atomically(report_path, render_report(results))
    return json_path, report_path
