"""The domain never imports Textual: the import-linter contract holds and covers every domain module."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
UI_OR_ENTRY_POINTS = {"kiosk.ui", "kiosk.cli"}
"""The UI package may import Textual; the CLI is the composition root that starts it."""


def test_import_linter_contract_holds() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports")], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_contract_lists_every_domain_module() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    sources = {m for contract in config if "textual" in contract["forbidden_modules"] for m in contract["source_modules"]}
    for path in sorted((REPO / "kiosk").iterdir()):
        if path.name.startswith("_") or not (path.suffix == ".py" or (path / "__init__.py").exists()):
            continue
        module = f"kiosk.{path.stem}"
        if module in UI_OR_ENTRY_POINTS:
            continue
        assert module in sources, f"{module} is not covered by the no-Textual contract in pyproject.toml"
    assert "sync" in sources


def test_a_kiosk_start_loads_neither_the_http_client_nor_jsonschema() -> None:
    """What the kiosk imports before its first screen, for a gate that is not enrolled: httpx (sync) and
    jsonschema (EU certificates) come later, when they are needed; each would add a tenth of a second to
    every start (bench/kiosk_bench.py)."""
    probe = (
        "import sys, kiosk.cli, kiosk.ui.launch, kiosk.ui.screens.gate, kiosk.ui.feed;"
        "print(sorted({'httpx', 'jsonschema', 'stamina'} & set(sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
