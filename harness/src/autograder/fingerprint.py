"""What a graded run depends on, recorded when it is made and checked before it is re-used.

A run's ``manifest.json`` holds:

* ``config``: the task's registry entry as far as it changes training (entry, params, datasets,
  quick, seed), the data files' sha256 and the harness's :data:`CONTRACT_VERSION`;
* ``files``: a digest of every file of this repository the task imported or opened (modules of
  any package, JSON settings, templates...), as the worker saw them: :func:`source_digest`, which
  for Python modules hashes the code without its docstrings, comments and layout, so that
  editing documentation (or reformatting) does not throw away hours of training;
* ``distributions``: the versions of the installed distributions whose modules it imported
  (numpy, keras, torch...), and the Python version;
* ``outputs``: sha256 of the files the worker wrote (predictions, result), so a truncated or
  altered output is noticed.

:func:`stale_reasons` compares a manifest with the tree as it is now; an empty list means the
run can be graded as it is.

Example:

>>> stale_reasons({"config": {"a": 1}}, {"a": 2})[0]
'the task configuration changed (a)'
"""

from __future__ import annotations

import ast
import hashlib
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from a2common.data import sha256_of

CONTRACT_VERSION = 2
"""Bump when what a task must return, or how the harness grades it, changes."""

REPO_ROOT = Path(__file__).resolve().parents[3]
_SOURCE_FOLDERS = ("packages", "harness")
_IGNORED_PARTS = {
    "__pycache__",
    ".venv",
    ".tox",
    "runs",
    ".cache",
    ".git",
    "notebooks",
    "model_cards",
}


def repository_file(path: str | Path) -> str | None:
    """``path`` relative to the repository if it is one of its source files, else ``None``."""
    try:
        resolved = Path(path).resolve()
        relative = resolved.relative_to(REPO_ROOT)
    except (OSError, ValueError):
        return None
    if not relative.parts or relative.parts[0] not in _SOURCE_FOLDERS:
        return None
    if _IGNORED_PARTS & set(relative.parts) or not resolved.is_file():
        return None
    return relative.as_posix()


def imported_files() -> set[str]:
    """Repository source files of every module imported in this process."""
    files = set()
    for module in list(sys.modules.values()):
        location = getattr(module, "__file__", None)
        if location and (relative := repository_file(location)):
            files.add(relative)
    return files


def distribution_versions() -> dict[str, str]:
    """Versions of the installed distributions whose top-level modules are imported now."""
    owners = metadata.packages_distributions()
    imported_top = {name.partition(".")[0] for name in list(sys.modules)}
    versions = {"python": sys.version.split()[0]}
    for top in sorted(imported_top & set(owners)):
        for distribution in owners[top]:
            try:
                versions[distribution] = metadata.version(distribution)
            except metadata.PackageNotFoundError:
                continue
    return versions


def _without_docstrings(tree: ast.AST) -> ast.AST:
    """``tree`` with the docstring of every module, class and function removed (in place)."""
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        body = node.body
        if (
            body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
    return tree


def source_digest(path: str | Path) -> str:
    r"""What a run depends on in the file at ``path``, as a digest.

    A Python module that parses is digested as its syntax tree without docstrings
    (``"ast-sha256:…"``): comments, blank lines, formatting and documentation do not change
    what a task computes, so they do not make its run stale; any change to the code does. Other
    files, and modules that do not parse, are digested byte for byte (``sha256_of``).

    Example:

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "a.py").write_text("def f(x):\n    'Double x.'\n    return 2 * x\n")
    >>> _ = (folder / "b.py").write_text("def f(x):  # a comment\n\n    return 2*x\n")
    >>> _ = (folder / "c.py").write_text("def f(x):\n    return 3 * x\n")
    >>> source_digest(folder / "a.py") == source_digest(folder / "b.py")
    True
    >>> source_digest(folder / "a.py") == source_digest(folder / "c.py")
    False
    """
    path = Path(path)
    if path.suffix == ".py":
        try:
            tree = ast.parse(path.read_bytes(), filename=str(path))
        except (SyntaxError, ValueError):
            return sha256_of(path)
        code = ast.dump(_without_docstrings(tree), include_attributes=False)
        return "ast-sha256:" + hashlib.sha256(code.encode("utf-8")).hexdigest()
    return sha256_of(path)


def hash_files(relative_paths: set[str] | list[str]) -> dict[str, str]:
    """:func:`source_digest` of each repository file of ``relative_paths`` that exists."""
    return {
        path: source_digest(REPO_ROOT / path)
        for path in sorted(relative_paths)
        if (REPO_ROOT / path).is_file()
    }


def stale_reasons(manifest: dict[str, Any], config: dict[str, Any]) -> list[str]:
    """Why the run recorded in ``manifest`` is out of date; empty when it is current."""
    reasons = []
    recorded = manifest.get("config", {})
    if recorded != config:
        changed = sorted(
            key for key in set(recorded) | set(config) if recorded.get(key) != config.get(key)
        )
        reasons.append(f"the task configuration changed ({', '.join(changed)})")
    changed_files = []
    for path, digest in manifest.get("files", {}).items():
        current = REPO_ROOT / path
        if not current.is_file() or source_digest(current) != digest:
            changed_files.append(path)
    if changed_files:
        shown = ", ".join(changed_files[:5]) + (" …" if len(changed_files) > 5 else "")
        reasons.append(f"{len(changed_files)} source file(s) changed ({shown})")
    changed_versions = []
    for name, version in manifest.get("distributions", {}).items():
        if name == "python":
            current_version = sys.version.split()[0]
        else:
            try:
                current_version = metadata.version(name)
            except metadata.PackageNotFoundError:
                current_version = "absent"
        if current_version != version:
            changed_versions.append(f"{name} {version} → {current_version}")
    if changed_versions:
        reasons.append("installed versions changed (" + ", ".join(changed_versions[:5]) + ")")
    return reasons
