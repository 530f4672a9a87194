"""A PostgreSQL or Chromium test that cannot reach its part skips on a plain local run and fails under CI (or
when $POCKET_HQ_TEST_POSTGRES names a server): run for real, in a pytest of its own, on a tiny test file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.parts import parts_required

REPO = Path(__file__).resolve().parents[2]
UNREACHABLE = "postgresql://pocket:pocket@127.0.0.1:9/postgres"
"""Port 9 (discard): nothing listens there, so the connection is refused at once."""
TINY = '''
from tests.parts import chromium
from tests.sync_testkit import hq_db_url  # noqa: F401


def test_on_hq_database(hq_db_url):
    assert hq_db_url


def test_in_chromium():
    assert chromium().exists()
'''


def run_tiny(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The tiny file's PostgreSQL variant and its Chromium test, in a pytest run of their own, with `env` (and
    nothing of this run's CI or PostgreSQL settings)."""
    test_file = tmp_path / "test_tiny.py"
    test_file.write_text(TINY)
    base = {k: v for k, v in os.environ.items() if k not in ("CI", "POCKET_HQ_TEST_POSTGRES", "PYTEST_ADDOPTS")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-c", str(REPO / "pyproject.toml"), "--rootdir", str(REPO),
         "-p", "no:cacheprovider", "-q", "-rsf", "-k", "postgresql or chromium", str(test_file)],
        cwd=REPO, env=base | {"POCKET_TEST_CHROMIUM": str(tmp_path / "no-chromium"), **env},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_under_ci_missing_parts_fail_the_run(tmp_path: Path) -> None:
    result = run_tiny(tmp_path, CI="true", POCKET_HQ_TEST_POSTGRES=UNREACHABLE)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 failed" in result.stdout and "1 error" in result.stdout  # the database is a fixture: an error
    assert "skipped" not in result.stdout
    assert f"no PostgreSQL reachable at {UNREACHABLE}" in result.stdout
    assert f"no Chromium at {tmp_path / 'no-chromium'}" in result.stdout


def test_a_plain_local_run_skips_a_missing_part_and_says_why(tmp_path: Path) -> None:
    result = run_tiny(tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "failed" not in result.stdout
    assert "SKIPPED [1] tests/parts.py" in result.stdout and "no Chromium at" in result.stdout


@pytest.mark.parametrize(
    ("ci", "postgres", "required"),
    [("", "", False), ("0", "", False), ("false", "", False), ("true", "", True), ("1", "", True),
     ("", "postgresql://x/y", True)],
)  # fmt: skip
def test_what_counts_as_ci(monkeypatch: pytest.MonkeyPatch, ci: str, postgres: str, required: bool) -> None:
    """A named PostgreSQL server makes parts required without CI too (the run above shows what 'required' does)."""
    monkeypatch.setenv("CI", ci)
    monkeypatch.setenv("POCKET_HQ_TEST_POSTGRES", postgres)
    assert parts_required() is required
