"""Builds the Gradescope autograder bundle (``make gradescope``).

Gradescope unpacks the zip into ``/autograder/source``, runs ``setup.sh`` once when it builds the
image, then ``run_autograder`` for every submission, which must leave
``/autograder/results/results.json``. The bundle holds:

* ``setup.sh`` and ``run_autograder`` (templates in the repository's ``gradescope/`` folder):
  the pinned stack of ``constraints.txt`` in ``/autograder/venv``; the submission's ``packages/``
  graded by the bundle's own harness (``python -m autograder grade --quick``, or the full grade
  with ``AUTOGRADER_FULL=1``); a zero-score results.json naming the error when grading crashes;
* ``constraints.txt``, ``harness/`` and every ``packages/<name>`` (``pyproject.toml``, README,
  ``src/``);
* ``shared/data`` and ``shared/weights`` when found beside the repository (the datasets and
  pretrained weights the tasks read; leave them out with ``--no-shared``).

Example (shell)::

    python -m autograder gradescope --out build/gradescope    # -> build/gradescope.zip
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

from autograder.runner import REPO_ROOT

TEMPLATES = Path("gradescope")
ENTRY_POINTS = ("setup.sh", "run_autograder")
SHARED_FOLDERS = ("data", "weights")
SKIPPED = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc", ".pytest_cache")
BUNDLE_README = """\
# assignment2 Gradescope autograder

Upload the zip as a Gradescope "zip file upload" autograder (a Debian/Ubuntu base image with
Python 3.11 available). `setup.sh` installs the pinned stack; `run_autograder` grades the
submission's `packages/` (the repository layout) with this bundle's harness and writes
`/autograder/results/results.json`. `AUTOGRADER_FULL=1` runs the full grade instead of the quick
smoke variants (set the Gradescope timeout accordingly). Built by `make gradescope`.
"""


def find_shared(root: Path = REPO_ROOT) -> Path | None:
    """``shared/`` in the repository, else beside it (where the data loader looks too)."""
    for candidate in (root / "shared", root.parent / "shared"):
        if any((candidate / name).is_dir() for name in SHARED_FOLDERS):
            return candidate
    return None


def _copy_package(source: Path, target: Path) -> None:
    target.mkdir(parents=True)
    for name in ("pyproject.toml", "README.md"):
        if (source / name).is_file():
            shutil.copy2(source / name, target / name)
    if (source / "src").is_dir():
        shutil.copytree(source / "src", target / "src", ignore=SKIPPED)


def build_bundle(
    out: Path, root: Path = REPO_ROOT, *, shared: Path | None = None, make_zip: bool = True
) -> tuple[Path, Path | None]:
    """Write the bundle folder ``out`` (replaced) and ``out`` + ``.zip``; returns both paths.

    ``shared`` is the folder whose ``data``/``weights`` are bundled (``None``: none).
    """
    templates = root / TEMPLATES
    missing = [name for name in ENTRY_POINTS if not (templates / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"Expected {', '.join(missing)} in {templates}. Received a "
            "tree without the Gradescope templates."
        )
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for name in ENTRY_POINTS:
        shutil.copy2(templates / name, out / name)
        (out / name).chmod(0o755)
    shutil.copy2(root / "constraints.txt", out / "constraints.txt")
    (out / "README.md").write_text(BUNDLE_README, encoding="utf-8")
    _copy_package(root / "harness", out / "harness")
    for pyproject in sorted((root / "packages").glob("*/pyproject.toml")):
        _copy_package(pyproject.parent, out / "packages" / pyproject.parent.name)
    for name in SHARED_FOLDERS:
        if shared is not None and (shared / name).is_dir():
            shutil.copytree(shared / name, out / "shared" / name, ignore=SKIPPED)
    if not make_zip:
        return out, None
    archive = out.with_suffix(".zip")
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in sorted(out.rglob("*")):
            if path.is_file():
                # ZipInfo.from_file keeps the mode bits: Gradescope needs the scripts executable
                info = zipfile.ZipInfo.from_file(path, path.relative_to(out).as_posix())
                info.compress_type = zipfile.ZIP_DEFLATED
                bundle.writestr(info, path.read_bytes())
    return out, archive
