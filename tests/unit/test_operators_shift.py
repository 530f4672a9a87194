"""A shift's counts and handover, read back from a real gate database, and CSV exports a spreadsheet opens safely."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sync.core.csvcell import safe_cell
from kiosk.export import export_entries
from kiosk.gate import Gate
from sync.core.identity import resident_id_check_digit, subject_hash
from kiosk.operators import Operator, Shift
from sync.core.codes import TrustList
from sync.core.policy import Direction, Policy
from kiosk.shift import ShiftTally, handover, write_handover_csv
from sync.core.refusals import reason_kind
from kiosk.store import GateStore

START = datetime(2026, 11, 23, 8, tzinfo=UTC)
KEY = b"k" * 32


def resident_id(serial: int) -> str:
    first17 = f"11010119900101{serial:03d}"
    return first17 + resident_id_check_digit(first17)


@pytest.fixture
def gate(tmp_path: Path) -> Gate:
    store = GateStore(tmp_path / "gate.db", "north-gate")
    yield Gate(store, TrustList(), Policy(), KEY)
    store.close()


def at(minutes: int) -> datetime:
    return START + timedelta(minutes=minutes)


def test_counts_follow_direction_and_verdict_and_an_amendment_replaces_what_it_amends(gate: Gate) -> None:
    gate.store.replace_table("roster", [{"subject": subject_hash(KEY, resident_id(3)), "name": "W*** W*", "unit": "3"}])
    gate.present_manual(resident_id(1), "Zhang San", direction=Direction.IN, now=at(1))  # not a resident: refused
    gate.present_manual(resident_id(2), "Li Si", direction=Direction.OUT, now=at(2))  # leaving: passes
    first = gate.present_manual(resident_id(3), "Wang Wu", direction=Direction.IN, now=at(3))  # resident: passes
    second = gate.retake_temperature(first, 38.4, now=at(4))  # ... until the fever is taken
    assert first.assessment.verdict.decision.value == "pass" and second.assessment.verdict.decision.value == "refuse"
    rows = gate.store.entries()
    tally = ShiftTally().add_all(rows)
    assert len(rows) == 4 and tally.attempts == 3
    assert (tally.entered, tally.left, tally.refused, tally.held) == (0, 1, 2, 0)
    assert dict(tally.refusals_by_reason()) == {"access.no_pass": 1, "temperature.too_high": 1}


@pytest.mark.parametrize(
    ("reason", "kind"),
    [
        ("code has expired: valid until 2024-01-02 08:00 UTC", "code.expired"),
        ("temperature 38.2 °C (limit below 37.3 °C)", "temperature.too_high"),
        ("negative test is 80 h old (limit 72 h)", "negative_test.too_old"),
        ("on HQ's red list (code shows green)", "colours.red_listed"),
        ("red code", "colours.red_code"),
    ],
)
def test_reasons_are_counted_by_kind(reason: str, kind: str) -> None:
    """Even a sentence logged before reasons had codes is counted under its rule code (worded when shown)."""
    assert reason_kind(reason) == kind


def test_handover_reads_only_the_operators_entries_of_the_shift(gate: Gate, tmp_path: Path) -> None:
    gate.present_manual(resident_id(1), "Before", direction=Direction.IN, operator="li01", now=at(-5))
    gate.present_manual(resident_id(2), "Mine", direction=Direction.IN, temperature=39.0, operator="li01", now=at(5))
    gate.present_manual(resident_id(3), "Other", direction=Direction.IN, operator="wang02", now=at(6))
    shift = Shift("s1", Operator("li01", "Li Ming"), START)
    summary = handover(tmp_path / "gate.db", shift, at(60))
    assert summary.tally.attempts == 1 and summary.tally.refused == 1
    lines = dict(summary.lines())
    assert lines["refused"] == "1" and lines["refused or held: temperature too high"] == "1"
    out = tmp_path / "handover.csv"
    write_handover_csv(summary, out)
    written = dict(csv.reader(out.open(encoding="utf-8-sig")))
    assert written["operator"] == "Li Ming (li01)" and written["attempts"] == "1"


def test_entry_export_writes_the_range_and_neutralises_formulas_and_control_characters(gate: Gate, tmp_path: Path) -> None:
    gate.present_manual(resident_id(1), "=HYPERLINK(evil)", direction=Direction.IN, operator="li01", now=at(1))
    gate.present_manual(resident_id(2), "Li Si", direction=Direction.IN, operator="@li", now=at(2))
    gate.present_manual(resident_id(3), "Later", direction=Direction.IN, operator="li01", now=at(90))
    out = tmp_path / "exports" / "entries.csv"
    assert export_entries(tmp_path / "gate.db", START, at(60), out) == 2
    rows = list(csv.DictReader(out.open(encoding="utf-8-sig")))
    assert [r["seq"] for r in rows] == ["1", "2"]
    assert rows[0]["name"].startswith("'=")
    assert rows[1]["operator"] == "'@li"
    assert not list(out.parent.glob("*.part"))
    assert safe_cell("Bell\x07\x1b[2J") == "Bell\\x07\\x1b[2J"
