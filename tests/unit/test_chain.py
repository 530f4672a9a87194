"""The hash chain covers every field an entry has: each column of the gate's `entries` table (and each field of
the wire entry HQ receives), edited alone, is detected. The columns come from the schema itself, so a column
added later without joining the hash fails here. The hash's canonical form is pinned: a gate and an HQ of
different versions, and a log written before an upgrade, must agree on it."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database
from tests.sync_testkit import hq_db, hq_db_url  # noqa: F401

from sync.core.chain import CHAINED_FIELDS, GENESIS_HASH, OPTIONAL_FIELDS, ChainProblem, entry_hash, verify_chain
from sync.core.codes.base import Colour
from sync.core.policy import Decision, Direction, Verdict
from sync.core.policy.rules.access import RESIDENT
from sync.core.policy.rules.colours import CODE_COLOUR
from kiosk.store import EntryDraft, GateStore, migrations
from sync.hq.db import HqDatabase
from sync.hq.gates import add_gate
from sync.hq.ingest import ingest
from sync.core.protocol import UploadBatch, WireEntry

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def _entry_columns() -> list[str]:
    """The gate's `entries` columns, as its migrations make them, less the hash itself."""
    db = Database(memory=True)
    migrations.apply(db)
    return [column.name for column in db["entries"].columns if column.name != "hash"]


ENTRY_COLUMNS = _entry_columns()
WIRE_FIELDS = [name for name in WireEntry.model_fields if name != "hash"]


def _log(path: Path, gate: str, drafts: list[EntryDraft], start: datetime) -> list[dict[str, Any]]:
    with GateStore(path, gate) as store:
        for i, draft in enumerate(drafts):
            store.record(draft, now=start + timedelta(minutes=i))
        return store.entries()


@pytest.fixture
def logs(tmp_path: Path) -> tuple[Path, list[dict[str, Any]], dict[str, Any]]:
    """A gate's log of five entries, and a donor: an entry of another gate that differs from the third in every
    field (so putting one of its fields into that entry is a real edit of that field alone)."""
    resident = EntryDraft(
        Direction.IN, "PGC1", Verdict(Decision.PASS, (CODE_COLOUR[Colour.GREEN](), RESIDENT()), Colour.GREEN),
        "a" * 32, "Z**** S**", 36.5, "op1", {"note": "a"},
    )  # fmt: skip
    stranger = EntryDraft(
        Direction.OUT, "manual", Verdict(Decision.REFUSE, (CODE_COLOUR[Colour.RED](),), Colour.RED),
        "b" * 32, "L* S*", 38.2, "op2", {"visit": "3-2-501"},
    )  # fmt: skip
    path = tmp_path / "gate.db"
    rows = _log(path, "north-gate", [resident] * 5, T0)
    donor = _log(tmp_path / "other.db", "south-gate", [stranger] * 9, T0 + timedelta(days=3))[-1]
    return path, rows, donor


def test_the_chain_covers_exactly_the_logged_columns() -> None:
    assert sorted(CHAINED_FIELDS + OPTIONAL_FIELDS) == sorted(ENTRY_COLUMNS)
    assert sorted(CHAINED_FIELDS + OPTIONAL_FIELDS) == sorted(WIRE_FIELDS)


@pytest.mark.parametrize("column", ENTRY_COLUMNS)
def test_each_column_edited_alone_is_detected(logs: tuple[Path, list[dict[str, Any]], dict[str, Any]], column: str) -> None:
    path, rows, donor = logs
    assert donor[column] != rows[2][column], "the donor entry must differ in this column"
    with sqlite3.connect(path) as conn:  # someone with the file, not the gate's own code
        conn.execute(f"UPDATE entries SET [{column}] = ? WHERE seq = 3", [donor[column]])

    with GateStore(path, "north-gate") as store:
        problems = store.verify()

    assert "edited" in {p.kind for p in problems}, (column, problems)


@pytest.mark.parametrize("field", WIRE_FIELDS)
def test_each_field_edited_on_the_way_to_hq_is_an_alert(
    hq_db: HqDatabase, logs: tuple[Path, list[dict[str, Any]], dict[str, Any]], field: str
) -> None:
    _, rows, donor = logs
    add_gate(hq_db, "north-gate")
    sent = [*rows[:-1], rows[-1] | {field: donor[field]}]  # the last one, so even a changed seq keeps the order

    receipt = ingest(hq_db, "north-gate", UploadBatch(gate="north-gate", batch_id="b", entries=sent))

    assert "edited" in {a.kind.value for a in receipt.alerts}, (field, receipt.alerts)


def test_the_hash_is_sha256_of_sorted_compact_utf8_json() -> None:
    row = {
        "id": "01JBZ8Q3N4R5S6T7V8W9X0Y1Z2", "seq": 7, "ts": "2026-11-01T08:00:00.000+00:00", "gate": "north-gate",
        "direction": "in", "subject": "ab" * 16, "name": "张*", "code_type": "PGC1", "colour": "green",
        "verdict": "pass", "reasons": '["green code"]', "temperature": 36.6, "operator": "op1", "details": "{}",
        "prev_hash": GENESIS_HASH, "hash": "not part of the hash", "received_at": "nor is this",
    }  # fmt: skip
    canonical = (
        '{"code_type":"PGC1","colour":"green","details":"{}","direction":"in","gate":"north-gate",'
        '"id":"01JBZ8Q3N4R5S6T7V8W9X0Y1Z2","name":"张*","operator":"op1","prev_hash":"' + GENESIS_HASH + '",'
        '"reasons":"[\\"green code\\"]","seq":7,"subject":"' + "ab" * 16 + '","temperature":36.6,'
        '"ts":"2026-11-01T08:00:00.000+00:00","verdict":"pass"}'
    )

    assert entry_hash(row) == hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    assert entry_hash(row) == "df70e83545e203459e0e000c45ce06bef93bfba25a965ffc1d38ddb98037ed0a"


def _chain(count: int, start_seq: int = 1, prev: str = GENESIS_HASH) -> Iterator[dict[str, Any]]:
    for seq in range(start_seq, start_seq + count):
        row = {field: "" for field in CHAINED_FIELDS} | {"seq": seq, "prev_hash": prev}
        row["hash"] = prev = entry_hash(row)
        yield row


def test_verify_chain_names_each_problem_and_where() -> None:
    rows = list(_chain(6))
    damaged = [rows[0], rows[1] | {"name": "edited"}, rows[3], rows[4] | {"prev_hash": rows[0]["hash"]}, rows[5]]

    assert verify_chain(damaged) == [
        ChainProblem(2, "edited", "content does not match its hash"),
        ChainProblem(4, "gap", "entries 3..3 are missing"),
        ChainProblem(5, "broken", "does not follow the entry before it"),
        ChainProblem(5, "edited", "content does not match its hash"),
    ]


def test_verify_chain_starts_after_its_anchor() -> None:
    rows = list(_chain(3, start_seq=5, prev="ab" * 32))

    assert verify_chain(rows, 4, "ab" * 32) == []
    assert verify_chain(rows) == [ChainProblem(5, "gap", "entries 1..4 are missing")]
    assert verify_chain(rows, 4) == [ChainProblem(5, "broken", "does not follow the entry before it")]
    assert verify_chain(rows[1:], 4, "ab" * 32) == [ChainProblem(6, "gap", "entries 5..5 are missing")]
