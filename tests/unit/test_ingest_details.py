"""HQ's ingest, details a dashboard reads: when each gate was last heard from (a replayed batch counts as
contact, for that gate only), its last upload, and each alert's words."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete
from tests.sync_testkit import hq_db, hq_db_url  # noqa: F401

from sync.core.chain import entry_hash
from sync.core.codes.base import Colour
from sync.core.policy import Decision, Direction, Verdict
from kiosk.store import EntryDraft, GateStore
from sync.core.clock import utc_text
from sync.hq.db import HqDatabase
from sync.hq.tables import entries
from sync.hq.gates import add_gate, list_gates
from sync.hq.ingest import ingest
from sync.core.protocol import UploadBatch, UploadReceipt

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def rows(tmp_path: Path) -> Iterator[list[dict[str, object]]]:
    with GateStore(tmp_path / "gate.db", "g1") as store:
        for _ in range(3):
            store.record(EntryDraft(Direction.IN, "PGC1", Verdict(Decision.PASS, ("green code",), Colour.GREEN)), now=T0)
        yield store.entries()


def contact(db: HqDatabase) -> dict[str, tuple[str | None, str | None]]:
    return {g.gate_id: (g.last_seen_at, g.last_upload_at) for g in list_gates(db)}


def test_a_replayed_batch_is_contact_from_that_gate_only(hq_db: HqDatabase, rows: list[dict[str, object]]) -> None:  # noqa: F811
    add_gate(hq_db, "g1")
    add_gate(hq_db, "g2")
    batch = UploadBatch(gate="g1", batch_id="b", entries=rows)
    first = ingest(hq_db, "g1", batch, now=T0)
    assert contact(hq_db)["g1"] == (utc_text(T0), utc_text(T0))

    again = ingest(hq_db, "g1", batch, now=T0 + timedelta(minutes=5))

    assert again.replayed and again.stored == first.stored == 3
    assert contact(hq_db) == {"g1": (utc_text(T0 + timedelta(minutes=5)), utc_text(T0)), "g2": (None, None)}


def _rehash(row: dict[str, object], **changes: object) -> dict[str, object]:
    changed = row | changes
    return changed | {"hash": entry_hash(changed)}


def details(receipt: UploadReceipt) -> list[tuple[str, int, str]]:
    return [(a.kind.value, a.seq, a.detail) for a in receipt.alerts]


def test_each_alert_says_what_happened_in_the_words_staff_read(hq_db: HqDatabase, rows: list[dict[str, object]]) -> None:  # noqa: F811
    add_gate(hq_db, "g1")
    ingest(hq_db, "g1", UploadBatch(gate="g1", batch_id="a", entries=[rows[0]]), now=T0)
    resent = UploadBatch(gate="g1", batch_id="b", entries=[_rehash(rows[0], verdict="refuse")])
    assert details(ingest(hq_db, "g1", resent, now=T0)) == [
        ("edited", 1, f"entry {rows[0]['id']} re-sent with content that differs from the copy HQ holds "
                      "(verdict, hash); the new version was not stored")]  # fmt: skip
    ingest(hq_db, "g1", UploadBatch(gate="g1", batch_id="c", entries=[rows[2]]), now=T0)  # seq 2 is missing

    forged = _rehash(rows[1], prev_hash="ab" * 32, name="someone else")
    assert details(ingest(hq_db, "g1", UploadBatch(gate="g1", batch_id="d", entries=[forged]), now=T0)) == [
        ("broken", 2, "arrived late to fill a gap and does not follow entry 1"),
        ("broken", 3, f"does not follow entry {rows[1]['id']}, which arrived late for seq 2: that is not the entry "
                      "that stood there"),
    ]  # fmt: skip


def test_a_late_entry_whose_content_was_changed_is_flagged(hq_db: HqDatabase, rows: list[dict[str, object]]) -> None:  # noqa: F811
    add_gate(hq_db, "g1")
    ingest(hq_db, "g1", UploadBatch(gate="g1", batch_id="a", entries=[rows[0], rows[2]]), now=T0)
    altered = rows[1] | {"verdict": "refuse"}
    assert details(ingest(hq_db, "g1", UploadBatch(gate="g1", batch_id="b", entries=[altered]), now=T0)) == [
        ("edited", 2, "arrived late to fill a gap and its content does not match its hash")]  # fmt: skip


def test_an_entry_resent_at_the_chain_head_after_hq_dropped_it_is_checked(
    hq_db: HqDatabase, rows: list[dict[str, object]]  # noqa: F811
) -> None:
    """HQ's retention may drop the entry its chain head points at; one sent again at that place is checked
    against its neighbours like any late entry, never stored unchecked."""
    add_gate(hq_db, "g1")
    ingest(hq_db, "g1", UploadBatch(gate="g1", batch_id="a", entries=rows), now=T0)
    with hq_db.begin() as conn:
        conn.execute(delete(entries).where(entries.c.seq == 3))

    altered = rows[2] | {"verdict": "refuse"}
    receipt = ingest(hq_db, "g1", UploadBatch(gate="g1", batch_id="b", entries=[altered]), now=T0)

    assert details(receipt) == [("edited", 3, "arrived late to fill a gap and its content does not match its hash")]
