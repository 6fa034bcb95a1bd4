"""Builds the ``assignment2/`` folder a grader opens: notebook exports, API docs, landing page.

* :func:`export_notebooks` turns every committed executed notebook
  ``packages/<package>/notebooks/<name>.ipynb`` into ``assignment2/notebooks/<package>/
  <name>_output.html`` (nbconvert's ``HTMLExporter``; seed 004 asks for an ``…_output.html``) and
  ``<name>_output.pdf``. Notebooks are never executed here. A notebook without any output is
  skipped and the page says so. Exports whose notebook is unchanged (same sha256, recorded in
  ``assignment2/notebooks/exports.json``) are kept, so re-running is fast.
* PDFs are printed by the system's Chromium (``/usr/bin/chromium`` from Debian, or
  ``$A2_CHROMIUM``) in headless mode from the HTML export: nbconvert 7's ``webpdf`` exporter
  launches Playwright's own downloaded browser and has no option for a system executable, and
  no browser is ever downloaded. Without Chromium only HTML is written and the page says why.
  The HTML loads MathJax from its CDN (nbconvert's default), which an offline print cannot
  reach: the PDF is printed from a copy pointing at Debian's ``libjs-mathjax``
  (``/usr/share/javascript/mathjax``) when installed, else its formulas stay TeX source.
* :func:`build_docs` runs pdoc over the packages into ``assignment2/docs/api`` with an index
  page that also links the notebook exports (template in ``docs/pdoc``). The pages are large
  (the sources are included), so the folder ignores itself in git: ``make docs`` rebuilds it.
* :func:`build_submission` does the exports and then writes the landing page
  (:mod:`autograder.index`).

Example (shell)::

    python -m autograder submission            # make submission
    python -m autograder submission --no-pdf   # HTML exports only
    python -m autograder docs                  # make docs
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from a2common.data import sha256_of
from autograder.index import EXPORTS_MANIFEST, load_exports, write_index
from autograder.runner import REPO_ROOT

CHROMIUM_ENV = "A2_CHROMIUM"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
PDF_TIMEOUT_S = 180
SCRIPT_TIME_MS = 20000
"""Virtual time Chromium gives the page's scripts (MathJax typesetting) before printing."""
LOCAL_MATHJAX = Path("/usr/share/javascript/mathjax/MathJax.js")
CDN_MATHJAX = "https://cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.7/latest.js"
MANIFEST_FORMAT = 1
DOC_MODULES = (
    "a2common",
    "autograd",
    "keras_models",
    "lightning_cnn",
    "modern_convnets",
    "conv3d",
    "a2demo",
    "autograder",
)
DOCS_OUT = Path("assignment2") / "docs" / "api"
DOCS_TEMPLATES = Path("docs") / "pdoc"


def find_chromium() -> Path | None:
    """The system Chromium: ``$A2_CHROMIUM``, else Debian's ``/usr/bin/chromium``, else None."""
    override = os.environ.get(CHROMIUM_ENV)
    if override:
        path = Path(override)
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise FileNotFoundError(
                f"{CHROMIUM_ENV}={override!r} is not an executable file. Fix: "
                "point it at a Chromium binary or unset it."
            )
        return path
    for candidate in (*CHROMIUM_CANDIDATES, shutil.which("chromium")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    return None


def has_outputs(notebook: dict[str, Any]) -> bool:
    """Whether any code cell of a notebook (as JSON) carries an output."""
    return any(
        cell.get("cell_type") == "code" and cell.get("outputs")
        for cell in notebook.get("cells", [])
    )


def notebook_to_html(notebook: Path, html: Path) -> None:
    """Export an executed notebook to a standalone HTML page (images embedded)."""
    import nbformat
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(nbformat.read(notebook, as_version=4))
    html.parent.mkdir(parents=True, exist_ok=True)
    html.write_text(body, encoding="utf-8")


def html_to_pdf(
    html: Path,
    pdf: Path,
    chromium: Path,
    timeout_s: int = PDF_TIMEOUT_S,
    mathjax: Path | None = None,
) -> None:
    """Print ``html`` to ``pdf`` with headless Chromium; raises ``RuntimeError`` on failure.

    With ``mathjax`` (a local ``MathJax.js``), a copy of the page that loads it instead of the
    CDN copy is printed, so formulas are typeset offline.
    """
    pdf.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="a2-chromium-") as profile:
        page = html.resolve()
        if mathjax is not None:
            page = Path(profile) / "print.html"
            page.write_text(
                html.read_text(encoding="utf-8").replace(CDN_MATHJAX, mathjax.resolve().as_uri()),
                encoding="utf-8",
            )
        command = [
            str(chromium),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-pdf-header-footer",
            f"--virtual-time-budget={SCRIPT_TIME_MS}",
            f"--user-data-dir={profile}",
            f"--print-to-pdf={pdf}",
            page.as_uri(),
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s)
        except subprocess.TimeoutExpired as error:
            raise RuntimeError(
                f"Chromium did not print {html.name} within {timeout_s} s"
            ) from error
    if not pdf.is_file() or pdf.read_bytes()[:5] != b"%PDF-":
        tail = " | ".join(done.stderr.strip().splitlines()[-3:])
        raise RuntimeError(
            f"Chromium wrote no PDF for {html.name} (exit {done.returncode}): {tail}"
        )


@dataclass
class Export:
    """What :func:`export_notebooks` did with one notebook (paths relative to the export folder).

    Example:

    >>> Export("packages/x/notebooks/a.ipynb", "x/a_output.html", None, "HTML only").pdf is None
    True
    """

    notebook: str
    html: str | None
    pdf: str | None
    note: str
    sha256: str = ""
    reused: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"sha256": self.sha256, "html": self.html, "pdf": self.pdf, "note": self.note}


def _export_one(
    notebook: Path,
    root: Path,
    out: Path,
    chromium: Path | None,
    why_no_pdf: str,
    previous: dict[str, Any],
) -> Export:
    relative = notebook.relative_to(root).as_posix()
    digest = sha256_of(notebook)
    stem = f"{notebook.parent.parent.name}/{notebook.stem}_output"
    html, pdf = f"{stem}.html", f"{stem}.pdf"
    try:
        if not has_outputs(json.loads(notebook.read_text(encoding="utf-8"))):
            return Export(
                relative,
                None,
                None,
                "not exported: the committed notebook has no "
                "outputs (execute it with `make notebooks`)",
                digest,
            )
        fresh = previous.get("sha256") == digest and (out / html).is_file()
        if not fresh:
            notebook_to_html(notebook, out / html)
    except (ValueError, KeyError) as error:  # not JSON, or not a valid notebook
        return Export(
            relative, None, None, f"not exported: not a readable notebook ({error})", digest
        )
    if chromium is None:
        (out / pdf).unlink(missing_ok=True)
        return Export(relative, html, None, f"HTML only: {why_no_pdf}", digest, fresh)
    mathjax = LOCAL_MATHJAX if LOCAL_MATHJAX.is_file() else None
    math_note = (
        "" if mathjax else "; PDF formulas as TeX source (no local MathJax: Debian's libjs-mathjax)"
    )
    # a PDF printed while MathJax was missing is reprinted once it is installed (and back)
    same_math = ("TeX source" in previous.get("note", "")) == (mathjax is None)
    if not (fresh and same_math and (out / pdf).is_file()):
        try:
            html_to_pdf(out / html, out / pdf, chromium, mathjax=mathjax)
        except RuntimeError as error:
            return Export(relative, html, None, f"HTML only: {error}", digest, fresh)
        fresh = False
    return Export(
        relative,
        html,
        pdf,
        ("HTML and PDF (up to date)" if fresh else "HTML and PDF") + math_note,
        digest,
        fresh,
    )


def export_notebooks(
    root: Path = REPO_ROOT, *, pdf: bool = True, progress: Callable[[Export], None] | None = None
) -> list[Export]:
    """Export every ``packages/*/notebooks/*.ipynb`` under ``root``; rewrites the manifest."""
    out = root / EXPORTS_MANIFEST.parent
    previous = load_exports(root)
    chromium, why_no_pdf = None, "PDFs not requested (--no-pdf)"
    if pdf:
        chromium = find_chromium()
        why_no_pdf = (
            "no system Chromium found (install Debian's `chromium` package or set "
            f"${CHROMIUM_ENV}); no browser is downloaded"
        )
    exports = []
    for notebook in sorted((root / "packages").glob("*/notebooks/*.ipynb")):
        relative = notebook.relative_to(root).as_posix()
        export = _export_one(notebook, root, out, chromium, why_no_pdf, previous.get(relative, {}))
        exports.append(export)
        if progress:
            progress(export)
    current = {e.notebook for e in exports}
    for gone, entry in previous.items():
        if gone not in current:
            for kind in ("html", "pdf"):
                if entry.get(kind):
                    (out / entry[kind]).unlink(missing_ok=True)
    manifest = {"format": MANIFEST_FORMAT, "notebooks": {e.notebook: e.to_json() for e in exports}}
    out.mkdir(parents=True, exist_ok=True)
    (root / EXPORTS_MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return exports


def build_submission(
    root: Path = REPO_ROOT, *, pdf: bool = True, progress: Callable[[Export], None] | None = None
) -> tuple[list[Export], Path]:
    """Notebook exports, then the landing page; returns (exports, README path)."""
    exports = export_notebooks(root, pdf=pdf, progress=progress)
    return exports, write_index(root)


def build_docs(
    root: Path = REPO_ROOT, modules: tuple[str, ...] = DOC_MODULES, out: Path | None = None
) -> Path:
    """API reference of ``modules`` with pdoc (it imports them), plus links to the notebooks.

    Returns the index page. A module that is not installed (e.g. the demo before ``make setup``
    installs it) is left out and named on the index page; import errors inside an installed
    package are reported by pdoc as warnings.
    """
    import importlib.util

    import pdoc
    import pdoc.render

    out = out or root / DOCS_OUT
    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    modules = tuple(name for name in modules if name not in missing)
    if not modules:
        raise ValueError(f"None of the modules {missing} is installed here: run `make setup`.")
    pdoc.render.configure(
        docformat="google",
        template_directory=root / DOCS_TEMPLATES,
        footer_text="assignment2 — built by `make docs`",
    )
    notebooks = []
    for notebook, entry in load_exports(root).items():
        if entry.get("html"):
            target = root / EXPORTS_MANIFEST.parent / entry["html"]
            notebooks.append(
                {"name": notebook, "href": Path(os.path.relpath(target, out)).as_posix()}
            )
    pdoc.render.env.globals["notebooks"] = notebooks
    pdoc.render.env.globals["notebooks_missing"] = (
        "" if notebooks else "No notebook exports yet: run `make submission` first."
    )
    pdoc.render.env.globals["modules_missing"] = missing
    if out.exists():
        shutil.rmtree(out)
    pdoc.pdoc(*modules, output_directory=out)
    # ~25 MB of generated pages (sources included): rebuilt by `make docs`, never committed
    (out / ".gitignore").write_text("# generated by `make docs`\n*\n", encoding="utf-8")
    return out / "index.html"
