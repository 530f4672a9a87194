"""Shared fixtures: real issuer keys, codes issued through `pocket-hq issue`, and a gate folder with its config.

Codes are made by the same CLI path HQ staff use, so a test that passes here exercises what a real code does.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings

from kiosk.config import KioskConfig, load_config
from kiosk.keeper_locale import set_zone
from sync.core.i18n import SOURCE_LANGUAGE, use
from tests.helpers import IssueCode, make_resident_id, run_hq

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    # CI runs the same generated examples every time, so a run fails for a change, not for the draw; a
    # developer's runs keep drawing new ones (and keep any failure found in .hypothesis/ to replay).
    settings.load_profile("ci")


@pytest.fixture(autouse=True)
def english_afterwards() -> Iterator[None]:
    """Each test starts in English and the laptop's zone, whatever the one before chose process-wide (a CLI run
    with --lang zh_CN, a gate that followed its district's zone)."""
    yield
    use(SOURCE_LANGUAGE, ())
    set_zone(None)


@pytest.fixture(scope="session")
def hq_keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hq") / "keys"
    run_hq("keys", "init", "--dir", str(folder))
    return folder


@pytest.fixture(scope="session")
def other_keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An issuer the gate does not trust (with its own district key)."""
    folder = tmp_path_factory.mktemp("rogue") / "keys"
    run_hq("keys", "init", "--dir", str(folder), "--alg", "ES256")
    return folder


@pytest.fixture(scope="session")
def issue(hq_keys: Path) -> IssueCode:
    """issue(serial=1, colour="green", name="Zhang San", keys=None, png=None, extra=()) -> code text."""

    def _issue(
        serial: int = 1,
        colour: str = "green",
        name: str = "Zhang San",
        keys: Path | None = None,
        png: Path | None = None,
        extra: tuple[str, ...] = (),
    ) -> str:
        args = ["issue", "--keys", str(keys or hq_keys), "--id", make_resident_id(serial), "--name", name]
        args += ["--colour", colour, *extra]
        if png is not None:
            args += ["--png", str(png)]
        return run_hq(*args).strip()

    return _issue


@dataclass
class GateFolder:
    root: Path
    config_file: Path
    config: KioskConfig

    @property
    def db(self) -> Path:
        return self.config.database


@pytest.fixture
def gate(tmp_path: Path, hq_keys: Path) -> GateFolder:
    """A gate configured like a real one: kiosk.toml with relative paths to its database and HQ's keys."""
    root = tmp_path / "gate"
    root.mkdir()
    config_file = root / "kiosk.toml"
    config_file.write_text(
        "\n".join(
            [
                'gate_id = "north-gate"',
                'database = "north-gate.db"',
                f'trust_dir = "{hq_keys / "trust"}"',
                f'district_key_file = "{hq_keys / "district.key"}"',
                "debounce_seconds = 5",
            ]
        )
        + "\n"
    )
    return GateFolder(root, config_file, load_config(config_file))


# -- artifacts: files tests save for people to look at (screenshots of the dashboard) ------------------------

ARTIFACTS = Path(os.environ.get("POCKET_TEST_ARTIFACTS") or Path(__file__).resolve().parent.parent / "test-artifacts")
"""Where tests save pictures; set $POCKET_TEST_ARTIFACTS to put them elsewhere (git ignores the default)."""
_SAVED: list[Path] = []


@pytest.fixture(scope="session")
def artifacts() -> Callable[[str], Path]:
    """artifacts("dashboard/overview.png") -> the path to write it to (its folder made), listed at the end of
    the run."""

    def _path(name: str) -> Path:
        path = ARTIFACTS / name
        path.parent.mkdir(parents=True, exist_ok=True)
        _SAVED.append(path)
        return path

    return _path


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    saved = [p for p in _SAVED if p.exists()]
    if saved:
        folders = sorted({str(p.parent) for p in saved})
        terminalreporter.write_line(f"{len(saved)} screenshots saved as artifacts in {', '.join(folders)}")
