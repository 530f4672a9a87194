"""Who is inside (`[presence]`): a person entering again without having left, or leaving again without coming
back, judged through the real gate on a real SQLite log; only passages count."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from kiosk.gate import Gate
from kiosk.store import GateStore
from sync.core.codes import TrustList
from sync.core.identity import subject_hash
from sync.core.policy import Direction, Policy
import tomllib
from tests.unit.test_gate_manual import KEY, NOW, resident_id


@pytest.fixture
def store(tmp_path: Path) -> GateStore:
    store = GateStore(tmp_path / "gate.db", "north-gate")
    store.replace_table("roster", [{"subject": subject_hash(KEY, resident_id(1)), "name": "Z**** S**", "unit": "3-201"}])
    yield store
    store.close()


def walk(gate: Gate, direction: Direction, minutes: int) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    outcome = gate.present_manual(resident_id(1), "Zhang San", direction=direction, now=NOW + timedelta(minutes=minutes))
    verdict = outcome.assessment.verdict
    return verdict.decision.value, verdict.reasons, verdict.warnings


def test_in_out_in_passes_and_a_second_entry_without_leaving_is_held_naming_the_first(store: GateStore) -> None:
    gate = Gate(store, TrustList(), Policy(), KEY)
    assert walk(gate, Direction.IN, 0)[0] == "pass"
    assert walk(gate, Direction.OUT, 30)[0] == "pass"
    assert walk(gate, Direction.IN, 60)[0] == "pass"
    decision, reasons, _ = walk(gate, Direction.IN, 62)
    assert decision == "hold"
    assert reasons == ("entered 2026-11-23 10:00 UTC and never left: screenshot of someone else's code?",)
    # The held attempt moved nobody: leaving now is a normal exit; leaving again is held.
    assert walk(gate, Direction.OUT, 90)[0] == "pass"
    decision, reasons, _ = walk(gate, Direction.OUT, 95)
    assert decision == "hold" and reasons[0].startswith("left 2026-11-23 10:30 UTC and never came back in")


@pytest.mark.parametrize(("setting", "decision", "warned"), [("refuse", "refuse", False), ("pass", "pass", True)])
def test_the_policy_says_what_a_repeat_leads_to(store: GateStore, setting: str, decision: str, warned: bool) -> None:
    policy = Policy.model_validate(tomllib.loads(f"[presence]\nrepeat = \"{setting}\"\n"))
    gate = Gate(store, TrustList(), policy, KEY)
    walk(gate, Direction.IN, 0)
    got, reasons, warnings = walk(gate, Direction.IN, 1)
    assert got == decision
    assert any("never left" in text for text in warnings) is warned


def test_a_retaken_temperature_is_not_a_second_entry(store: GateStore) -> None:
    gate = Gate(store, TrustList(), Policy(), KEY)
    first = gate.present_manual(resident_id(1), "Zhang San", direction=Direction.IN, now=NOW)
    again = gate.retake_temperature(first, 36.6, now=NOW + timedelta(minutes=1))
    assert again.assessment.verdict.decision.value == "pass"
