"""Companions without a phone (`Gate.present_companion`): each their own entry linked to the person they came with,
judged by every rule, never passing where that person did not; a child without an ID where the policy allows."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from kiosk.gate import CHILD_WITHOUT_ID, EntryInputError, Gate
from kiosk.store import GateStore
from sync.core.codes import TrustList
from sync.core.identity import subject_hash
from sync.core.policy import Direction, Policy
from tests.unit.test_gate_manual import KEY, NOW, resident_id


@pytest.fixture
def store(tmp_path: Path) -> GateStore:
    store = GateStore(tmp_path / "gate.db", "north-gate")
    store.replace_table("roster", [
        {"subject": subject_hash(KEY, resident_id(n)), "name": "X", "unit": "3-201"} for n in (1, 2)
    ])
    yield store
    store.close()


def test_a_companion_is_an_entry_of_their_own_linked_to_the_person_they_came_with(store: GateStore) -> None:
    gate = Gate(store, TrustList(), Policy(), KEY)
    adult = gate.present_manual(resident_id(1), "Zhang San", direction=Direction.OUT, now=NOW)
    elder = gate.present_companion(adult, resident_id(2), "Zhang Lao", now=NOW)
    child = gate.present_companion(adult, "", "Zhang Xiao", doc_type=CHILD_WITHOUT_ID, now=NOW)
    for companion in (elder, child):
        row = companion.entry.row
        assert (row["code_type"], row["direction"], row["verdict"]) == ("companion", "out", "pass")
        assert json.loads(row["details"])["companion_of"] == adult.entry.id
    assert child.entry.row["subject"] is None
    assert "child under 14 without an ID, with the person they came with" in child.assessment.verdict.reasons
    assert len(store.entries()) == 3  # three people


def test_a_companion_of_a_refused_person_is_refused_and_a_non_resident_companion_is_judged_as_such(
    store: GateStore,
) -> None:
    gate = Gate(store, TrustList(), Policy(), KEY)
    store.replace_table("colour_list", [{"subject": subject_hash(KEY, resident_id(1)), "colour": "red", "note": ""}])
    refused = gate.present_manual(resident_id(1), "Zhang San", direction=Direction.IN, now=NOW)
    child = gate.present_companion(refused, "", "Zhang Xiao", doc_type=CHILD_WITHOUT_ID, now=NOW)
    assert child.assessment.verdict.decision.value == "refuse"
    assert "came with a person who was refused" in child.assessment.verdict.reasons
    store.replace_table("colour_list", [])
    adult = gate.present_manual(resident_id(2), "Zhang Lao", direction=Direction.IN, now=NOW)
    stranger = gate.present_companion(adult, resident_id(7), "Li Si", now=NOW)  # not on the roster, no pass
    assert stranger.assessment.verdict.decision.value == "refuse"


def test_without_the_policys_leave_a_child_needs_an_id_and_nothing_is_logged(store: GateStore) -> None:
    policy = Policy.model_validate(tomllib.loads("[companions]\nchild_without_id_under = 0\n"))
    gate = Gate(store, TrustList(), policy, KEY)
    adult = gate.present_manual(resident_id(1), "Zhang San", direction=Direction.IN, now=NOW)
    with pytest.raises(EntryInputError, match="needs an ID number"):
        gate.present_companion(adult, "", "Zhang Xiao", doc_type=CHILD_WITHOUT_ID, now=NOW)
    with pytest.raises(EntryInputError, match="check digit"):
        wrong = resident_id(2)[:-1] + ("0" if resident_id(2)[-1] != "0" else "1")
        gate.present_companion(adult, wrong, "Zhang Lao", now=NOW)
    assert len(store.entries()) == 1
