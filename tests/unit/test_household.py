"""Household outings (`[household]`): members of one roster unit leaving, counted over the period through the real
gate on a real SQLite log, the count said in every verdict of someone leaving."""

from __future__ import annotations

import tomllib
from datetime import timedelta
from pathlib import Path

import pytest

from kiosk.gate import Gate
from kiosk.store import GateStore
from sync.core.codes import TrustList
from sync.core.identity import subject_hash
from sync.core.policy import Direction, Policy
from tests.unit.test_gate_manual import KEY, NOW, resident_id

ONE_EVERY_TWO_DAYS = '[household]\noutings = 1\nperiod_hours = 48\n[presence]\nrepeat = "pass"\n'


@pytest.fixture
def gate(tmp_path: Path) -> Gate:
    store = GateStore(tmp_path / "gate.db", "north-gate")
    store.replace_table("roster", [
        {"subject": subject_hash(KEY, resident_id(1)), "name": "Z**** S**", "unit": "3-201"},
        {"subject": subject_hash(KEY, resident_id(2)), "name": "L* S*", "unit": "3-201"},
        {"subject": subject_hash(KEY, resident_id(3)), "name": "W*** W*", "unit": "5-102"},
    ])
    yield Gate(store, TrustList(), Policy.model_validate(tomllib.loads(ONE_EVERY_TWO_DAYS)), KEY)
    store.close()


def out(gate: Gate, who: int, hours: float, direction: Direction = Direction.OUT) -> tuple[str, tuple[str, ...]]:
    moment = NOW + timedelta(hours=hours)
    outcome = gate.present_manual(resident_id(who), "Someone", direction=direction, now=moment)
    return outcome.assessment.verdict.decision.value, outcome.assessment.verdict.reasons


def test_one_outing_per_household_every_two_days(gate: Gate) -> None:
    decision, reasons = out(gate, 1, 0)
    assert decision == "pass" and "outing 1 of household 3-201 in 48 h (limit 1)" in reasons
    decision, reasons = out(gate, 2, 5)  # the other member of the household, the same day
    assert decision == "refuse" and "outing 2 of household 3-201 in 48 h: limit 1" in reasons
    assert out(gate, 3, 6)[0] == "pass"  # another household
    assert out(gate, 1, 8, Direction.IN)[0] == "pass"  # coming back is not an outing
    assert out(gate, 2, 49)[0] == "pass"  # two days later the household may go out again


def test_no_limit_by_default_and_visitors_are_no_household(tmp_path: Path) -> None:
    store = GateStore(tmp_path / "gate.db", "north-gate")
    store.replace_table("roster", [{"subject": subject_hash(KEY, resident_id(1)), "name": "Z", "unit": "3-201"}])
    gate = Gate(store, TrustList(), Policy(), KEY)
    for hours in (0, 1, 2):
        decision, reasons = out(gate, 1, hours)
        gate.present_manual(resident_id(1), "Z", direction=Direction.IN, now=NOW + timedelta(hours=hours, minutes=30))
        assert decision == "pass" and not any("household" in reason for reason in reasons)
    store.close()
