"""Execute tutorial notebooks headless with papermill, as the harness and ``make`` do.

Each notebook has a cell tagged ``parameters`` that sets ``QUICK = False``; papermill injects
``QUICK = True`` after it for a smoke-test run. Outputs are saved back into the notebook (in
place by default), so the executed notebook is what a grader opens.

Example:

>>> execute_notebook(Path("packages/keras_models/notebooks/01_mnist_mlp.ipynb"), quick=True)
... # doctest: +SKIP

or from a shell::

    python -m a2common.notebooks --quick packages/*/notebooks/*.ipynb
"""
from __future__ import annotations

import argparse
import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

import papermill
from papermill.exceptions import PapermillExecutionError

KERNEL_NAME = "python3"
# The kernel inherits this process's environment. A headless MPLBACKEND (e.g. ``Agg``, as the
# Makefile and CI set for scripts) would stop matplotlib from embedding figures in the
# executed notebook, so kernels always get the notebook backend.
KERNEL_MPLBACKEND = "module://matplotlib_inline.backend_inline"


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

    def __init__(self, notebook: Path, cell_index: int, execution_count: int | None,
                 source: str, ename: str, evalue: str) -> None:
        self.notebook, self.cell_index, self.execution_count = notebook, cell_index, execution_count
        self.ename, self.evalue = ename, evalue
        super().__init__(
            f"{notebook}: cell In [{execution_count}] (index {cell_index} in the executed "
            f"notebook) raised {ename}: {evalue}\n"
            f"--- cell source ---\n{source}\n---\nThe executed notebook, with the full "
            f"traceback, is saved at {notebook}.")


def execute_notebook(path: Path, *, quick: bool, output_path: Path | None = None,
                     timeout_s: int = 1800, cwd: Path | None = None,
                     progress_bar: bool = False) -> Path:
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
                str(path), str(output_path), parameters={"QUICK": bool(quick)},
                kernel_name=KERNEL_NAME, language="python",
                cwd=str(cwd or path.resolve().parent), execution_timeout=timeout_s,
                progress_bar=progress_bar)
    except PapermillExecutionError as error:
        raise NotebookExecutionError(output_path, error.cell_index, error.exec_count,
                                     error.source, error.ename, error.evalue) from None
    return output_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m a2common.notebooks",
                                     description="Execute notebooks in place with papermill.")
    parser.add_argument("notebooks", nargs="+", type=Path, metavar="NOTEBOOK")
    parser.add_argument("--quick", action="store_true", help="smoke-test run (QUICK=True)")
    parser.add_argument("--timeout-s", type=int, default=1800, help="limit per cell (seconds)")
    args = parser.parse_args(argv)
    failures = 0
    for notebook in args.notebooks:
        print(f"Executing {notebook} (QUICK={args.quick})", flush=True)
        start = time.perf_counter()
        try:
            execute_notebook(notebook, quick=args.quick, timeout_s=args.timeout_s,
                             progress_bar=True)
        except (RuntimeError, TimeoutError) as error:  # a failing cell, a timeout, a dead kernel
            failures += 1
            print(f"FAILED after {time.perf_counter() - start:.1f} s: {error}", flush=True)
        else:
            print(f"done in {time.perf_counter() - start:.1f} s", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
