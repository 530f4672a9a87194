"""A copy of the two programs and their shared core in a temporary folder, to change as a developer would (a
module added, a line of registration, an import across) and to run from there, the repository left alone."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COPIED = ("kiosk", "sync", "config", "pyproject.toml")


def copy_programs(folder: Path) -> Path:
    """`kiosk/`, `sync/`, `config/` and `pyproject.toml` copied into `folder` (without bytecode)."""
    for name in COPIED:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, folder / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, folder / name)
    return folder


def changed_files(copy: Path) -> set[str]:
    """The files of the copy that are new or differ from the repository's, as paths relative to it."""
    changed = set()
    for path in copy.rglob("*"):
        if not path.is_file() or "__pycache__" in path.parts or path.name.startswith(".import_linter"):
            continue
        relative = path.relative_to(copy)
        original = REPO / relative
        if not original.is_file() or original.read_bytes() != path.read_bytes():
            changed.add(relative.as_posix())
    return changed


def run(copy: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """A command run in the copy, its Python importing the copy's programs rather than the repository's."""
    env = os.environ | {"PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        list(args), cwd=copy, env=env, input=stdin, capture_output=True, text=True, timeout=180, check=False
    )


def run_python(copy: Path, code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run(copy, sys.executable, "-c", code, *args)


def lint_imports(copy: Path) -> subprocess.CompletedProcess[str]:
    return run(copy, str(Path(sys.executable).parent / "lint-imports"))
