"""Parts some tests need that a machine may lack: a PostgreSQL server for HQ, Chromium for the dashboard.

A plain local run skips such a test, saying why. Under CI (`CI` set), and whenever `$POCKET_HQ_TEST_POSTGRES`
names a server to test on, it fails instead: `.ci/run` provides both parts, so a broken setup must turn the run
red rather than green with those tests quietly skipped.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import pytest

CHROMIUM = Path(os.environ.get("POCKET_TEST_CHROMIUM", "/usr/bin/chromium"))
"""Debian's Chromium, which Playwright drives (`.ci/run` installs it); $POCKET_TEST_CHROMIUM points elsewhere."""


def parts_required() -> bool:
    """True under CI and when a PostgreSQL server to test on is named: a missing part is then a failure."""
    ci = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
    return ci or bool(os.environ.get("POCKET_HQ_TEST_POSTGRES"))


def missing_part(reason: str) -> NoReturn:
    """Skip this test with `reason` on a plain local run; fail it when parts are required."""
    if parts_required():
        pytest.fail(f"{reason} (CI or $POCKET_HQ_TEST_POSTGRES is set, so this test may not skip)", pytrace=False)
    pytest.skip(reason)


def chromium() -> Path:
    """The Chromium executable the browser tests launch, or `missing_part`."""
    if not CHROMIUM.exists():
        missing_part(f"no Chromium at {CHROMIUM} (.ci/run installs Debian's chromium package)")
    return CHROMIUM
