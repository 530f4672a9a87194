"""HQ shows companions as people linked to the person they came with: a real gate logs a person typed in by ID and
a child without a phone added as their companion (the gate's own path, `Gate.present_companion`), syncs to a live
HQ (SQLite, and PostgreSQL when reachable), and the dashboard's tracing pages read "with <masked name>"."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path

import pytest

from tests.dash_testkit import PASSWORD, Staff, make_user
from tests.helpers import make_resident_id
from tests.sync_testkit import (  # noqa: F401
    MakeGate,
    RunningHq,
    hq_db_url,
    issuer_keys,
    make_gate,
    signing_key_file,
    start_hq,
)

from kiosk.gate import CHILD_WITHOUT_ID, open_gate
from sync.core.policy import Direction


@pytest.fixture
def hq(hq_db_url: str, signing_key_file: Path, issuer_keys: Path) -> Iterator[RunningHq]:
    """A live HQ with the district key: gates get keys of their own to find typed ID numbers by."""
    yield from start_hq(hq_db_url, signing_key_file, district_key_file=issuer_keys / "district.key", timezone="UTC")


def _rows(html: str) -> list[str]:
    """Each table row's text, tags dropped."""
    return [" ".join(unescape(re.sub(r"<[^>]+>", " ", row)).split()) for row in re.findall(r"<tr>(.*?)</tr>", html, re.S)]


def test_a_companion_is_shown_with_the_person_they_came_with(hq: RunningHq, make_gate: MakeGate) -> None:
    gate = make_gate(hq, "north-gate")
    assert gate.sync().online  # the gate's keys and lists
    judge = open_gate(gate.config)
    try:
        adult = judge.present_manual(make_resident_id(41), "Wang Daming", direction=Direction.IN, operator="keeper-1")
        child = judge.present_companion(adult, "", "Wang Xiaoming", doc_type=CHILD_WITHOUT_ID, operator="keeper-1")
        alone = judge.present_manual(make_resident_id(42), "Li Si", direction=Direction.IN, operator="keeper-1")
    finally:
        assert judge.store is not None
        judge.store.close()
    assert child.entry is not None and alone.entry is not None
    assert gate.sync().online
    now = datetime.now(UTC)
    window = {"from": (now - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
              "to": (now + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")}
    make_user(hq.db, "vera")
    vera = Staff(hq.url, "vera", PASSWORD)
    try:
        page = vera.get("/trace/gate", gate="north-gate", **window)
    finally:
        vera.close()

    assert page.status_code == 200, page.text
    rows = [r for r in _rows(page.text) if "W**" in r or "L* S*" in r]
    assert len(rows) == 3
    (companion,) = [r for r in rows if "companion" in r]
    assert "W*** X******* with W*** D*****" in companion
    assert all(" with " not in r for r in rows if "companion" not in r)
