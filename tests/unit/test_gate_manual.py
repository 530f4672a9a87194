"""Typed entries at the gate: manual entry by ID number, visitors, and a temperature taken after the verdict."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kiosk.codes import TrustList
from kiosk.gate import EntryInputError, Gate, Visitor
from kiosk.identity import resident_id_check_digit, subject_hash
from kiosk.policy import Decision, Direction, Policy, Verdict
from kiosk.store import EntryDraft, GateStore

KEY = b"d" * 32
NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)


def resident_id(serial: int) -> str:
    first17 = f"11010119900101{serial:03d}"
    return first17 + resident_id_check_digit(first17)


@pytest.fixture
def gate(tmp_path: Path) -> Gate:
    store = GateStore(tmp_path / "gate.db", "north-gate")
    store.replace_table("roster", [{"subject": subject_hash(KEY, resident_id(1)), "name": "Z**** S**", "unit": "1"}])
    yield Gate(store, TrustList(), Policy(), KEY)
    store.close()


def test_a_resident_typed_by_id_passes_and_is_logged_as_manual_with_a_masked_name(gate: Gate) -> None:
    outcome = gate.present_manual(resident_id(1), "Zhang San", direction=Direction.IN, operator="li01", now=NOW)
    assert outcome.assessment.verdict.decision.value == "pass"
    row = outcome.entry.row
    assert (row["code_type"], row["name"], row["operator"]) == ("manual", "Z**** S**", "li01")
    assert row["subject"] == subject_hash(KEY, resident_id(1)) and resident_id(1) not in json.dumps(row)


def test_the_red_list_applies_to_a_typed_id_as_to_a_code(gate: Gate) -> None:
    gate.store.replace_table("colour_list", [{"subject": subject_hash(KEY, resident_id(1)), "colour": "red", "note": ""}])
    outcome = gate.present_manual(resident_id(1), "Zhang San", direction=Direction.IN, now=NOW)
    assert outcome.assessment.verdict.decision.value == "refuse"
    assert "on HQ's red list" in outcome.assessment.verdict.reasons


@pytest.mark.parametrize(
    ("id_number", "doc_type", "field", "words"),
    [
        (resident_id(1)[:-1] + ("1" if resident_id(1)[-1] != "1" else "2"), "resident-id", "id_number", "check digit"),
        ("1101011990", "resident-id", "id_number", "18 characters"),
        ("E12", "passport", "id_number", "5 to 32"),
    ],
)
def test_a_mistyped_document_number_is_refused_and_nothing_is_logged(
    gate: Gate, id_number: str, doc_type: str, field: str, words: str
) -> None:
    with pytest.raises(EntryInputError, match=words) as raised:
        gate.present_manual(id_number, "Zhang San", doc_type=doc_type, direction=Direction.IN, now=NOW)
    assert raised.value.field == field
    assert gate.store.count_entries() == 0


def test_another_document_type_is_checked_for_form_only_and_hashed_apart(gate: Gate) -> None:
    outcome = gate.present_manual("E12345678", "John Smith", doc_type="passport", direction=Direction.IN, now=NOW)
    assert outcome.entry.row["subject"] == subject_hash(KEY, "E12345678", "passport")
    assert json.loads(outcome.entry.row["details"]) == {"doc_type": "passport"}


@pytest.mark.parametrize("temperature", [3.68, 52.0, math.nan, math.inf, -0.0])
def test_an_impossible_temperature_is_a_typing_mistake(gate: Gate, temperature: float) -> None:
    with pytest.raises(EntryInputError, match="between 30 and 45"):
        gate.present_manual(resident_id(1), "Zhang San", direction=Direction.IN, temperature=temperature, now=NOW)
    assert gate.store.count_entries() == 0


@pytest.mark.parametrize("temperature", [math.nan, math.inf, 0.0])
def test_the_store_never_hashes_a_temperature_it_cannot_give_back(gate: Gate, temperature: float) -> None:
    verdict = Verdict(Decision.PASS, ("green code",), None)
    with pytest.raises(ValueError, match="temperature: a temperature between 30 and 45"):
        EntryDraft(Direction.IN, "PGC1", verdict, temperature=temperature)
    assert gate.store.count_entries() == 0


def test_a_visitor_without_a_pass_is_refused_and_logged_with_the_visit(gate: Gate) -> None:
    visitor = Visitor(name="Zhou Ba", phone="138 1234 5678", household="3-2-501", reason="family visit")
    outcome = gate.present_visitor(visitor, direction=Direction.IN, operator="li01", now=NOW)
    assert outcome.assessment.verdict.decision.value == "refuse"
    assert outcome.assessment.verdict.reasons == ("not a resident and no valid pass from HQ",)
    row = outcome.entry.row
    details = json.loads(row["details"])
    assert (row["code_type"], row["name"], row["subject"]) == ("visitor", "Z*** B*", None)
    assert details["household"] == "3-2-501" and details["reason"] == "family visit"
    assert details["phone"] == "138****5678" and "13812345678" not in json.dumps(row)
    assert details["phone_hash"] == subject_hash(KEY, "13812345678", "phone")


def test_a_visitor_with_an_hq_pass_found_by_id_passes(gate: Gate) -> None:
    gate.store.replace_table(
        "passes",
        [
            {
                "id": "p1",
                "subject": subject_hash(KEY, resident_id(7)),
                "kind": "courier",
                "valid_from": (NOW - timedelta(days=1)).isoformat(),
                "valid_until": (NOW + timedelta(days=1)).isoformat(),
                "note": "",
            }
        ],
    )
    visitor = Visitor("Wu Jiu", "13900000000", "5-101", "parcel", id_number=resident_id(7))
    outcome = gate.present_visitor(visitor, direction=Direction.IN, now=NOW)
    assert outcome.assessment.verdict.decision.value == "pass"
    assert any("courier pass" in reason for reason in outcome.assessment.verdict.reasons)


@pytest.mark.parametrize(
    ("visitor", "field"),
    [
        (Visitor("", "13800000000", "1-101", "visit"), "name"),
        (Visitor("Zhou Ba", "12", "1-101", "visit"), "phone"),
        (Visitor("Zhou Ba", "13800000000", " ", "visit"), "household"),
        (Visitor("Zhou Ba", "13800000000", "1-101", ""), "reason"),
        (Visitor("Zhou Ba", "13800000000", "1-101", "visit", id_number="123"), "id_number"),
    ],
)
def test_an_incomplete_visitor_form_logs_nothing(gate: Gate, visitor: Visitor, field: str) -> None:
    with pytest.raises(EntryInputError) as raised:
        gate.present_visitor(visitor, direction=Direction.IN, now=NOW)
    assert raised.value.field == field
    assert gate.store.count_entries() == 0


def test_a_temperature_after_the_verdict_is_a_new_entry_amending_the_first(gate: Gate) -> None:
    first = gate.present_manual(resident_id(1), "Zhang San", direction=Direction.IN, operator="li01", now=NOW)
    second = gate.retake_temperature(first, 38.1, operator="li01", now=NOW + timedelta(seconds=5))
    assert second.assessment.verdict.decision.value == "refuse"
    assert any(r.startswith("temperature 38.1") for r in second.assessment.verdict.reasons)
    row = second.entry.row
    assert json.loads(row["details"])["amends"] == first.entry.id
    assert (row["seq"], row["temperature"], row["code_type"], row["direction"]) == (2, 38.1, "manual", "in")
    assert gate.store.verify() == []


def test_without_a_district_key_typed_ids_cannot_be_checked(tmp_path: Path) -> None:
    with GateStore(tmp_path / "gate.db", "g") as store:
        gate = Gate(store, TrustList(), Policy(), None)
        with pytest.raises(EntryInputError, match="district key"):
            gate.present_manual(resident_id(1), "Zhang San", direction=Direction.IN, now=NOW)
        assert store.count_entries() == 0
