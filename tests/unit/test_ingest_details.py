"""HQ's ingest, details a dashboard reads: when each gate was last heard from (a replayed batch counts as
contact, for that gate only) and its last upload."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.sync_testkit import hq_db, hq_db_url  # noqa: F401

from kiosk.codes.base import Colour
from kiosk.policy import Decision, Direction, Verdict
from kiosk.store import EntryDraft, GateStore, utc_text
from sync.hq.db import HqDatabase
from sync.hq.gates import add_gate, list_gates
from sync.hq.ingest import ingest
from sync.protocol import UploadBatch

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
