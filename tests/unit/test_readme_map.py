"""README's architecture map matches the folders: every file and folder it names exists where it says, and every
module and package of the gate program, the shared core and the HQ program is on it."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROGRAM_FOLDERS = ("kiosk", "sync/core", "sync/hq")


def _map() -> list[str]:
    """The lines of the code block that opens README's "Architecture" section."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Architecture\n", 1)[1].split("\n## ", 1)[0]
    return section.split("```\n", 2)[1].splitlines()


def _named(lines: list[str]) -> dict[str, set[str]]:
    """The names each top-level folder's lines mention (`x.py`, `x/`, `x/__init__.py`), by folder."""
    named: dict[str, set[str]] = {}
    top = ""
    for line in lines:
        if not line.startswith(" "):
            top = line.split()[0].rstrip("/")
            named[top] = set()
            line = line[len(top) + 1 :]
        named[top] |= set(re.findall(r"(?<![\w./])(\w+(?:/\w+)*(?:\.py\b|/(?=[\s,:)]|$)))", line))
    return named


def test_every_name_on_the_map_exists_in_its_folder() -> None:
    for top, names in _named(_map()).items():
        assert (REPO / top).is_dir(), f"{top}/ is on the map but is not a folder"
        for name in names:
            assert list((REPO / top).glob(f"**/{name.rstrip('/')}")), f"{top}: {name} is on the map but not there"


def test_every_module_and_package_of_the_programs_is_on_the_map() -> None:
    named = _named(_map())
    assert set(named) == set(PROGRAM_FOLDERS)
    for top in PROGRAM_FOLDERS:
        for path in sorted((REPO / top).iterdir()):
            if path.name.startswith("_") or path.name == "__pycache__":
                continue
            if path.suffix == ".py":
                assert path.name in named[top], f"{top}/{path.name} is not on README's map"
            elif path.is_dir():
                assert f"{path.name}/" in named[top], f"{top}/{path.name}/ is not on README's map"
