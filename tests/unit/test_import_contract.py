"""The layout is held by import-linter contracts: the two programs stand on the shared core and never import each
other, the core imports neither, only the gate's UI imports Textual, and no modules import each other in a
circle. The contracts hold, cover every gate module, and refuse a module that imports across."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.program_copy import copy_programs, lint_imports

REPO = Path(__file__).resolve().parents[2]
UI_OR_ENTRY_POINTS = {"kiosk.ui", "kiosk.cli"}
"""The UI package may import Textual; the CLI is the composition root that starts it."""


def test_import_linter_contract_holds() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports")], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    contracts = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    assert {"layers", "independence", "forbidden", "acyclic_siblings"} <= {c["type"] for c in contracts}


def test_contract_lists_every_domain_module() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    sources = {
        module
        for contract in config
        if "textual" in contract.get("forbidden_modules", ())
        for module in contract["source_modules"]
    }
    for path in sorted((REPO / "kiosk").iterdir()):
        if path.name.startswith("_") or not (path.suffix == ".py" or (path / "__init__.py").exists()):
            continue
        module = f"kiosk.{path.stem}"
        if module in UI_OR_ENTRY_POINTS:
            continue
        assert module in sources, f"{module} is not covered by the no-Textual contract in pyproject.toml"
    assert {"sync.core", "sync.hq"} <= sources


@pytest.mark.parametrize(
    ("module", "imports", "broken"),
    [
        ("kiosk/probe.py", "from sync.hq import lists", "The gate program and the HQ program never import each other"),
        ("sync/hq/probe.py", "from kiosk import gate", "The gate program and the HQ program never import each other"),
        ("sync/core/probe.py", "from kiosk import store", "The shared core is pure domain"),
        ("sync/core/codes/probe.py", "import sync.hq.ingest", "The shared core is pure domain"),
        ("kiosk/uplink/probe.py", "import textual", "Only the gate's UI imports Textual"),
    ],
)
def test_an_import_across_the_layout_breaks_the_contracts(tmp_path: Path, module: str, imports: str, broken: str) -> None:
    copy = copy_programs(tmp_path)
    (copy / module).write_text(f'"""An import that must not be."""\n\n{imports}\n')

    result = lint_imports(copy)

    assert result.returncode != 0, result.stdout
    assert broken in " ".join(line.strip() for line in result.stdout.splitlines() if "BROKEN" in line)


def test_an_import_circle_breaks_the_contracts(tmp_path: Path) -> None:
    """The store imports the gate, which imports the store: siblings in a circle."""
    copy = copy_programs(tmp_path)
    store = copy / "kiosk" / "store.py"
    store.write_text(store.read_text() + "\nfrom kiosk import gate  # noqa: E402\n")

    result = lint_imports(copy)

    assert result.returncode != 0
    assert "No import circles among sibling modules and packages BROKEN" in result.stdout


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
