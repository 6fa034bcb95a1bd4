"""Execute tutorial notebooks headless with papermill, as the harness and ``make`` do.

Each notebook has a cell tagged ``parameters`` that sets ``QUICK = False``; papermill injects
``QUICK = True`` after it for a smoke-test run. A full run saves its outputs back into the
notebook, so the executed notebook is what a grader opens; the command line saves a quick run
under a scratch folder (:data:`QUICK_OUTPUT_DIR`) instead, so a smoke test never overwrites the
committed full-run notebooks. TensorFlow's start-up notices (the oneDNN line its C++ runtime
writes to the kernel's stderr before any logging is set up) are removed from the saved outputs
(:func:`strip_startup_notices`); every other output is kept as the kernel wrote it.

Example: a two-cell notebook whose tagged ``parameters`` cell papermill overrides.

>>> import tempfile
>>> import nbformat
>>> folder = Path(tempfile.mkdtemp())
>>> cells = [nbformat.v4.new_code_cell("QUICK = False", metadata={"tags": ["parameters"]}),
...          nbformat.v4.new_code_cell("print('quick run' if QUICK else 'full run')")]
>>> nbformat.write(nbformat.v4.new_notebook(cells=cells), folder / "demo.ipynb")
>>> executed = execute_notebook(folder / "demo.ipynb", quick=True, output_path=folder / "out.ipynb")
>>> nbformat.read(executed, as_version=4).cells[-1].outputs[0]["text"].strip()
'quick run'

or from a shell::

    python -m a2common.notebooks packages/*/notebooks/*.ipynb          # full runs, in place
    python -m a2common.notebooks --quick packages/*/notebooks/*.ipynb  # → build/notebooks-quick/
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
import papermill
from papermill.exceptions import PapermillExecutionError

KERNEL_NAME = "python3"
QUICK_OUTPUT_DIR = Path("build/notebooks-quick")
"""Where the command line saves quick runs (relative to the working directory)."""
# The kernel inherits this process's environment. A headless MPLBACKEND (e.g. ``Agg``, as the
# Makefile and CI set for scripts) would stop matplotlib from embedding figures in the
# executed notebook, so kernels always get the notebook backend.
KERNEL_MPLBACKEND = "module://matplotlib_inline.backend_inline"


STARTUP_NOTICES = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to "
    r"STDERR|I0000 [^\n]*port\.cc:\d+\] oneDNN custom operations are on\.[^\n]*)\n?",
    re.MULTILINE,
)
"""Lines TensorFlow's runtime prints on import whatever the log level: noise in a tutorial."""


def strip_startup_notices(notebook: nbformat.NotebookNode) -> int:
    """Remove :data:`STARTUP_NOTICES` lines from the stderr outputs of ``notebook``, in place.

    Only whole lines of ``stderr`` stream outputs that match are removed; a stream left empty is
    dropped. Returns the number of lines removed.

    Example:

    >>> cell = nbformat.v4.new_code_cell("import keras")
    >>> cell.outputs = [nbformat.v4.new_output("stream", name="stderr", text=(
    ...     "WARNING: All log messages before absl::InitializeLog() is called are written to "
    ...     "STDERR\\nI0000 00:00:1.2 7 port.cc:153] oneDNN custom operations are on. You may "
    ...     "see slightly different numerical results.\\nreal warning\\n"))]
    >>> strip_startup_notices(nbformat.v4.new_notebook(cells=[cell]))
    2
    >>> cell.outputs[0]["text"]
    'real warning\\n'
    """
    removed = 0
    for cell in notebook.cells:
        kept = []
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                output["text"], count = STARTUP_NOTICES.subn("", output["text"])
                removed += count
                if not output["text"]:
                    continue
            kept.append(output)
        if "outputs" in cell:
            cell["outputs"] = kept
    return removed


@contextlib.contextmanager
def _kernel_environment() -> Iterator[None]:
    previous = os.environ.get("MPLBACKEND")
    os.environ["MPLBACKEND"] = KERNEL_MPLBACKEND
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = previous


class NotebookExecutionError(RuntimeError):
    """A cell of a notebook raised; the message names the notebook, the cell and the error."""

    def __init__(
        self,
        notebook: Path,
        cell_index: int,
        execution_count: int | None,
        source: str,
        ename: str,
        evalue: str,
    ) -> None:
        self.notebook, self.cell_index, self.execution_count = notebook, cell_index, execution_count
        self.ename, self.evalue = ename, evalue
        super().__init__(
            f"{notebook}: cell In [{execution_count}] (index {cell_index} in the executed "
            f"notebook) raised {ename}: {evalue}\n"
            f"--- cell source ---\n{source}\n---\nThe executed notebook, with the full "
            f"traceback, is saved at {notebook}."
        )


def execute_notebook(
    path: Path,
    *,
    quick: bool,
    output_path: Path | None = None,
    timeout_s: int = 1800,
    cwd: Path | None = None,
    progress_bar: bool = False,
) -> Path:
    """Run every cell of the notebook at ``path`` with the parameter ``QUICK=quick``.

    Args:
        path: the notebook to run.
        quick: value of the ``QUICK`` parameter (smoke-test run when ``True``).
        output_path: where to save the executed notebook; by default ``path`` itself.
        timeout_s: the longest one cell may run.
        cwd: the kernel's working directory; by default the notebook's folder, as in Jupyter.
        progress_bar: show papermill's per-cell progress bar.

    Returns:
        The path of the executed notebook.

    Raises:
        NotebookExecutionError: a cell raised (the executed notebook is saved anyway, so its
            outputs show what happened).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No notebook at {path}")
    output_path = Path(output_path) if output_path is not None else path
    try:
        with _kernel_environment():
            papermill.execute_notebook(
                str(path),
                str(output_path),
                parameters={"QUICK": bool(quick)},
                kernel_name=KERNEL_NAME,
                language="python",
                cwd=str(cwd or path.resolve().parent),
                execution_timeout=timeout_s,
                progress_bar=progress_bar,
            )
    except PapermillExecutionError as error:
        raise NotebookExecutionError(
            output_path, error.cell_index, error.exec_count, error.source, error.ename, error.evalue
        ) from None
    executed = nbformat.read(output_path, as_version=nbformat.NO_CONVERT)
    if strip_startup_notices(executed):
        nbformat.write(executed, output_path)
    return output_path


def quick_output_path(notebook: Path, output_dir: Path) -> Path:
    """Where a quick run of ``notebook`` is saved: its path relative to the working directory
    (or just its name when it lies outside) under ``output_dir``.

    Example:

    >>> quick_output_path(Path("packages/x/notebooks/01.ipynb"), Path("build/q")).as_posix()
    'build/q/packages/x/notebooks/01.ipynb'
    """
    resolved = Path(notebook).resolve()
    try:
        relative = resolved.relative_to(Path.cwd().resolve())
    except ValueError:
        relative = Path(resolved.name)
    return Path(output_dir) / relative


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m a2common.notebooks",
        description="Execute notebooks in place with papermill.",
    )
    parser.add_argument("notebooks", nargs="+", type=Path, metavar="NOTEBOOK")
    parser.add_argument("--quick", action="store_true", help="smoke-test run (QUICK=True)")
    parser.add_argument("--timeout-s", type=int, default=1800, help="limit per cell (seconds)")
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=QUICK_OUTPUT_DIR,
        help="where --quick runs are saved (default: %(default)s); full runs are saved in place",
    )
    args = parser.parse_args(argv)
    failures = 0
    for notebook in args.notebooks:
        output = quick_output_path(notebook, args.output_dir) if args.quick else notebook
        output.parent.mkdir(parents=True, exist_ok=True)
        print(f"Executing {notebook} (QUICK={args.quick}) -> {output}", flush=True)
        start = time.perf_counter()
        try:
            execute_notebook(
                notebook,
                quick=args.quick,
                timeout_s=args.timeout_s,
                output_path=output,
                progress_bar=True,
            )
        except (RuntimeError, TimeoutError) as error:  # a failing cell, a timeout, a dead kernel
            failures += 1
            print(f"FAILED after {time.perf_counter() - start:.1f} s: {error}", flush=True)
        else:
            print(f"done in {time.perf_counter() - start:.1f} s", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
