"""The gate database: durable, chained entries; tamper evidence; retention; lists."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sync.core.codes import Colour
from sync.core.policy import Decision, Direction, Verdict
from kiosk.store import EntryDraft, GateStore, StoreError
from sync.core.clock import utc_text

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def draft(n: int = 0, name: str = "Z* S*") -> EntryDraft:
    return EntryDraft(
        direction=Direction.IN,
        code_type="PGC1",
        verdict=Verdict(Decision.PASS, ("green code", "resident"), Colour.GREEN),
        subject=f"{n:032x}",
        name=name,
        temperature=36.64,
        operator="op1",
    )


@pytest.fixture
def store(tmp_path: Path) -> GateStore:
    with GateStore(tmp_path / "gate.db", "north") as s:
        yield s


def fill(store: GateStore, count: int, start: datetime = T0) -> None:
    for i in range(count):
        store.record(draft(i), now=start + timedelta(minutes=i))


def test_entries_are_chained_and_committed(store: GateStore, tmp_path: Path) -> None:
    fill(store, 3)
    other = sqlite3.connect(tmp_path / "gate.db")  # a second connection sees what record() returned
    rows = other.execute("SELECT seq, prev_hash, hash, reasons, temperature FROM entries ORDER BY seq").fetchall()
    assert [r[0] for r in rows] == [1, 2, 3]
    assert rows[1][1] == rows[0][2] and rows[2][1] == rows[1][2]
    assert json.loads(rows[0][3]) == ["green code", "resident"]
    assert rows[0][4] == 36.6
    assert store.verify() == []


def test_ids_are_unique_and_sortable(store: GateStore) -> None:
    fill(store, 20)
    ids = [row["id"] for row in store.entries()]
    assert len(set(ids)) == 20 and ids == sorted(ids)


def test_durability_settings(store: GateStore) -> None:
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_edited_row_is_detected(store: GateStore) -> None:
    fill(store, 5)
    store.db.execute("UPDATE entries SET verdict = 'refuse', temperature = 36.5 WHERE seq = 3")
    store.db.conn.commit()
    problems = store.verify()
    assert [(p.seq, p.kind) for p in problems] == [(3, "edited")]


def test_edited_row_with_recomputed_hash_breaks_the_link(store: GateStore) -> None:
    from sync.core.chain import entry_hash

    fill(store, 5)
    row = store.entries(after_seq=2, limit=1)[0] | {"name": "forged"}
    row["hash"] = entry_hash(row)
    store.db["entries"].update(row["id"], {"name": "forged", "hash": row["hash"]})
    assert [(p.seq, p.kind) for p in store.verify()] == [(4, "broken")]


def test_deleted_row_is_detected(store: GateStore) -> None:
    fill(store, 5)
    store.db.execute("DELETE FROM entries WHERE seq = 2")
    store.db.conn.commit()
    assert [(p.seq, p.kind) for p in store.verify()] == [(3, "gap")]


def test_the_newest_rows_deleted_are_detected_and_their_numbers_never_given_again(store: GateStore) -> None:
    fill(store, 5)
    store.db.execute("DELETE FROM entries WHERE seq >= 4")
    store.db.conn.commit()
    assert [(p.seq, p.kind, p.detail) for p in store.verify()] == [(5, "gap", "the newest entries 4..5 are missing")]

    fill(store, 1, start=T0 + timedelta(hours=1))

    assert store.entries()[-1]["seq"] == 6
    assert [(p.seq, p.kind) for p in store.verify()] == [(6, "gap")]


def test_a_database_from_before_the_head_was_kept_gains_it(tmp_path: Path) -> None:
    with GateStore(tmp_path / "gate.db", "north") as store:
        fill(store, 3)
        store.db.execute("DELETE FROM meta WHERE key LIKE 'head_%'")
        store.db.execute("DELETE FROM _sqlite_migrations WHERE name = 'm003_chain_head'")
        store.db.conn.commit()
    with GateStore(tmp_path / "gate.db", "north") as store:
        assert store.get_meta("head_seq") == "3"
        store.db.execute("DELETE FROM entries WHERE seq = 3")
        store.db.conn.commit()
        assert [(p.seq, p.kind) for p in store.verify()] == [(3, "gap")]


def test_purge_keeps_the_chain_verifiable_and_sequence_going(store: GateStore) -> None:
    fill(store, 10, start=T0)
    removed = store.purge(retention_days=28, now=T0 + timedelta(days=28, minutes=4, seconds=30))
    assert (removed.purged, removed.kept_unsent) == (5, 0)
    assert store.count_entries() == 5
    assert store.verify() == []
    fill(store, 1, start=T0 + timedelta(days=29))
    assert store.entries()[-1]["seq"] == 11 and store.verify() == []
    store.purge(retention_days=1, now=T0 + timedelta(days=40))
    assert store.count_entries() == 0
    fill(store, 1, start=T0 + timedelta(days=41))
    assert store.entries()[-1]["seq"] == 12 and store.verify() == []


def test_purge_keeps_old_entries_after_the_upload_cursor_and_says_how_many(store: GateStore) -> None:
    fill(store, 10, start=T0)
    later = T0 + timedelta(days=40)

    kept = store.purge(retention_days=28, now=later, keep_after_seq=4)

    assert (kept.purged, kept.kept_unsent) == (4, 6)
    assert "kept 6 older ones HQ does not have yet" in kept.describe()
    assert [row["seq"] for row in store.entries()] == [5, 6, 7, 8, 9, 10] and store.verify() == []
    nothing = store.purge(retention_days=28, now=later, keep_after_seq=0)
    assert (nothing.purged, nothing.kept_unsent) == (0, 6) and store.verify() == []
    fill(store, 1, start=later)
    rest = store.purge(retention_days=28, now=later, keep_after_seq=11)
    assert (rest.purged, rest.kept_unsent) == (6, 0)
    assert [row["seq"] for row in store.entries()] == [11] and store.verify() == []


def test_a_transaction_is_all_or_nothing_and_nests_as_a_savepoint(store: GateStore) -> None:
    store.set_meta({"a": "1"})
    with pytest.raises(RuntimeError), store.transaction():
        store.set_meta({"a": "2"})
        store.record(draft())
        raise RuntimeError("half way")
    assert store.get_meta("a") == "1" and store.count_entries() == 0

    with store.transaction():
        store.set_meta({"a": "3"})
        with pytest.raises(RuntimeError), store.transaction():
            store.set_meta({"a": "4"})
            raise RuntimeError("inner only")
        store.record(draft())
    assert store.get_meta("a") == "3" and store.count_entries() == 1 and store.verify() == []


def test_a_transaction_takes_the_write_lock_at_once(store: GateStore, tmp_path: Path) -> None:
    """BEGIN IMMEDIATE: a second connection (the sync service's) waits instead of failing half way."""
    other = sqlite3.connect(tmp_path / "gate.db", timeout=0)
    with store.transaction():
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
    other.execute("BEGIN IMMEDIATE")
    other.execute("ROLLBACK")
    other.close()


def test_knowledge_from_lists(store: GateStore) -> None:
    now = T0
    store.replace_table("roster", [{"subject": "a" * 32, "name": "A*", "unit": "1-101"}])
    store.replace_table(
        "passes",
        [
            {"id": "p1", "subject": "b" * 32, "kind": "staff", "valid_from": utc_text(now - timedelta(days=1)),
             "valid_until": utc_text(now + timedelta(days=1)), "note": ""},
            {"id": "p2", "subject": "c" * 32, "kind": "staff", "valid_from": utc_text(now - timedelta(days=9)),
             "valid_until": utc_text(now - timedelta(days=1)), "note": ""},
        ],
    )
    store.replace_table("colour_list", [{"subject": "a" * 32, "colour": "red", "note": ""}])
    a, b, c = (store.knowledge(x * 32, now) for x in "abc")
    assert a.resident and a.listed_colour is Colour.RED and a.hq_pass is None
    assert not b.resident and b.hq_pass is not None and b.hq_pass.kind == "staff"
    assert c.hq_pass is None and c.listed_colour is None


def test_replace_table_is_all_or_nothing(store: GateStore) -> None:
    store.replace_table("roster", [{"subject": "a" * 32, "name": "A*", "unit": ""}])
    with pytest.raises(sqlite3.IntegrityError):
        store.replace_table(
            "roster", [{"subject": "b" * 32, "name": "B*", "unit": ""}, {"subject": "b" * 32, "name": "B*", "unit": ""}]
        )
    assert [r["subject"] for r in store.rows("roster")] == ["a" * 32]


def test_unwritable_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "gate.db"
    GateStore(path, "north").close()
    store = GateStore(path, "north")
    store.db.execute("PRAGMA query_only = ON")
    with pytest.raises(StoreError, match="entry NOT logged"):
        store.record(draft())
    store.db.execute("PRAGMA query_only = OFF")
    assert store.count_entries() == 0
    store.record(draft())
    assert store.count_entries() == 1 and store.verify() == []
    store.close()


def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "gate.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="cannot open the gate database"):
        GateStore(path, "north")


def test_full_disk_refuses_the_entry_and_keeps_the_log_intact(store: GateStore) -> None:
    """SQLite's own 'database or disk is full' (max_page_count caps the file as a full disk would)."""
    fill(store, 3)
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    store.db.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(StoreError, match="entry NOT logged: database or disk is full"):
        for i in range(500):  # the current pages have some room left; fill it
            store.record(draft(100 + i, name="x" * 2000))
    kept = store.count_entries()
    assert store.verify() == []
    store.db.execute("PRAGMA max_page_count = 1073741823")
    store.record(draft(999))
    assert store.count_entries() == kept + 1 and store.verify() == []
