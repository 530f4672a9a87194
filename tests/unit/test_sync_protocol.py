"""The wire models: entries travel unchanged (HQ recomputes the same hash), batches are bounded and ordered,
and peers ignore fields they do not know within a protocol version."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from sync.core.chain import entry_hash
from sync.core.codes.base import Colour
from sync.core.policy import Decision, Direction, Verdict
from kiosk.store import EntryDraft, GateStore
from sync.core.protocol import MAX_BATCH_ENTRIES, BundleContent, TrustDocument, UploadBatch, UploadReceipt, WireEntry


@pytest.fixture
def rows(tmp_path: Path) -> list[dict[str, object]]:
    with GateStore(tmp_path / "gate.db", "north-gate") as store:
        for temperature in (36.6, None, 37.25):
            verdict = Verdict(Decision.REFUSE, ("red code", "温度 37.3 °C"), Colour.RED)
            store.record(EntryDraft(Direction.OUT, "PGC1", verdict, "ab" * 16, "张*", temperature, "", {"k": "ü"}))
        return store.entries()


def test_an_entry_survives_the_wire_with_its_hash(rows: list[dict[str, object]]) -> None:
    for row in rows:
        received = WireEntry.model_validate_json(WireEntry.model_validate(row).model_dump_json())
        assert received.model_dump() == row
        assert entry_hash(received.model_dump()) == row["hash"]


def test_a_batch_must_be_in_order_without_repeats(rows: list[dict[str, object]]) -> None:
    entries = [WireEntry.model_validate(r) for r in rows]
    with pytest.raises(ValidationError, match="strictly increasing"):
        UploadBatch(gate="north-gate", batch_id="b", entries=list(reversed(entries)))
    with pytest.raises(ValidationError, match="strictly increasing"):
        UploadBatch(gate="north-gate", batch_id="b", entries=[entries[0], entries[0]])
    with pytest.raises(ValidationError, match="at most"):
        UploadBatch(gate="north-gate", batch_id="b", entries=entries * (MAX_BATCH_ENTRIES // 3 + 1))


@pytest.mark.parametrize(
    ("field", "value"),
    [("id", "not-a-ulid"), ("gate", "../etc"), ("verdict", "maybe"), ("hash", "00"), ("subject", "Robert'); DROP")],
)
def test_an_entry_with_a_bad_field_is_refused(rows: list[dict[str, object]], field: str, value: str) -> None:
    with pytest.raises(ValidationError):
        WireEntry.model_validate(rows[0] | {field: value})


def test_unknown_fields_are_ignored_within_a_version() -> None:
    receipt = UploadReceipt.model_validate_json(
        '{"protocol": 1, "gate": "g", "batch_id": "b", "received": 1, "stored": 1, "duplicates": 0, "refused": 0,'
        ' "through_seq": 9, "chain_seq": 9, "a_field_from_a_newer_hq": {"x": 1}}'
    )
    assert receipt.through_seq == 9
    bundle = BundleContent.model_validate(
        {"gate": "g", "version": 3, "issued_at": "2026-11-23T08:00:00Z", "visitor_rules": [1, 2]}
    )
    assert bundle.roster == [] and bundle.policy is None


def test_trust_documents_are_open_to_new_types() -> None:
    doc = TrustDocument(type="x509-certificate", id="dsc-1", content="PEM")
    assert doc.type == "x509-certificate"
    with pytest.raises(ValidationError):
        TrustDocument(type="Not A Type!", id="x", content="")
