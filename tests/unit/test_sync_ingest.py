"""HQ's ingest on its own (no HTTP), on each database: duplicates, replays, and every kind of broken history."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.sync_testkit import hq_db, hq_db_url  # noqa: F401

from kiosk.chain import entry_hash
from kiosk.codes.base import Colour
from kiosk.policy import Decision, Direction, Verdict
from kiosk.store import EntryDraft, GateStore
from sync.hq.db import HqDatabase, escape_nul, unescape_nul
from sync.hq.gates import add_gate, list_alerts
from sync.hq.ingest import BatchConflict, ingest
from sync.protocol import UploadBatch, WireEntry


@pytest.fixture
def rows(tmp_path: Path) -> Iterator[list[dict[str, object]]]:
    with GateStore(tmp_path / "gate.db", "g1") as store:
        for _ in range(6):
            store.record(EntryDraft(Direction.IN, "PGC1", Verdict(Decision.PASS, ("green code",), Colour.GREEN)))
        yield store.entries()


def _batch(rows: list[dict[str, object]], batch_id: str = "b") -> UploadBatch:
    return UploadBatch(gate="g1", batch_id=batch_id, entries=[WireEntry.model_validate(r) for r in rows])


def _rehash(row: dict[str, object], **changes: object) -> dict[str, object]:
    changed = row | changes
    return changed | {"hash": entry_hash(changed)}


def test_in_order_batches_follow_the_chain(hq_db: HqDatabase, rows: list[dict[str, object]]) -> None:
    add_gate(hq_db, "g1")
    first = ingest(hq_db, "g1", _batch(rows[:3], "a"))
    second = ingest(hq_db, "g1", _batch(rows[3:], "b"))
    assert (first.stored, first.chain_seq, second.stored, second.chain_seq) == (3, 3, 3, 6)
    assert first.alerts == second.alerts == []


def test_overlapping_batches_count_duplicates(hq_db: HqDatabase, rows: list[dict[str, object]]) -> None:
    add_gate(hq_db, "g1")
    ingest(hq_db, "g1", _batch(rows[:4], "a"))
    again = ingest(hq_db, "g1", _batch(rows[2:], "b"))
    assert (again.stored, again.duplicates, again.refused, again.alerts) == (2, 2, 0, [])
    replay = ingest(hq_db, "g1", _batch(rows[2:], "b"))
    assert replay.replayed and replay.stored == 2
    with pytest.raises(BatchConflict):
        ingest(hq_db, "g1", _batch(rows[:1], "b"))


def test_every_kind_of_broken_history_is_an_alert(hq_db: HqDatabase, rows: list[dict[str, object]]) -> None:
    add_gate(hq_db, "g1")
    ingest(hq_db, "g1", _batch(rows[:2], "a"))
    rewritten = _rehash(rows[1], id="01ARZ3NDEKTSV4RRFFQ69G5FAV")  # seq 2 again, as a different entry
    edited = rows[2] | {"verdict": "refuse"}  # content no longer matches its hash
    after_gap = rows[4]  # seq 4 is missing

    receipt = ingest(hq_db, "g1", _batch([rewritten, edited, after_gap], "b"))

    assert [(a.kind.value, a.seq) for a in receipt.alerts] == [("rewritten", 2), ("edited", 3), ("gap", 5)]
    assert (receipt.stored, receipt.refused, receipt.chain_seq) == (2, 1, 5)
    assert [(a["kind"], a["seq"]) for a in list_alerts(hq_db, "g1")] == [("rewritten", 2), ("edited", 3), ("gap", 5)]
    relinked = _rehash(rows[5], prev_hash="ab" * 32)
    assert [a.kind.value for a in ingest(hq_db, "g1", _batch([relinked], "c")).alerts] == ["broken"]


@pytest.mark.parametrize(("how", "found"), [("genuine", []), ("relinked", [("broken", 1)])])
def test_entries_filling_a_gap_at_the_start_must_follow_the_genesis(
    hq_db: HqDatabase, rows: list[dict[str, object]], how: str, found: list[tuple[str, int]]
) -> None:
    add_gate(hq_db, "g1")
    ingest(hq_db, "g1", _batch(rows[2:], "a"))  # 1 and 2 are missing
    first = rows[0] if how == "genuine" else _rehash(rows[0], prev_hash="ab" * 32)

    receipt = ingest(hq_db, "g1", _batch([first], "b"))

    assert receipt.stored == 1 and [(a.kind.value, a.seq) for a in receipt.alerts] == found
    assert [(a["kind"], a["seq"]) for a in list_alerts(hq_db, "g1")] == [("gap", 3), *found]


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from(["\x00", "\ue000", "0", "1", "a", "\U0001f600"]) | st.characters(), max_size=40))
def test_text_escaped_for_postgresql_comes_back_unchanged_and_holds_no_nul(text: str) -> None:
    escaped = escape_nul(text)

    assert unescape_nul(escaped) == text and "\x00" not in escaped
    assert (escaped == text) == ("\x00" not in text and "\ue000" not in text)  # plain text is stored as it is
