"""The gate store, field by field: what an entry row holds (colour, reasons and details as text in the keeper's
language, sorted), what record() hands back, the order and limits of the readers, where a new entry follows
when the head record is missing, and the store used from the threads the kiosk runs."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from sync.core.codes import Colour
from sync.core.policy import Decision, Direction, Verdict
from kiosk.store import EntryDraft, GateStore, StoreError
from sync.core.clock import utc_text

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def draft(n: int = 0, colour: Colour | None = Colour.RED, details: dict[str, str] | None = None) -> EntryDraft:
    verdict = Verdict(Decision.REFUSE, ("红码", "temperature 37.5 °C"), colour)
    return EntryDraft(Direction.OUT, "PGC1", verdict, f"{n:032x}", "张*", 37.46, "op1", details or {"b": "二", "a": "1"})


@pytest.fixture
def store(tmp_path: Path) -> GateStore:
    with GateStore(tmp_path / "gate.db", "north") as s:
        yield s


def test_an_entry_row_holds_what_the_keeper_saw(store: GateStore) -> None:
    entry = store.record(draft(), now=T0)
    row = store.entries()[0]

    assert (entry.id, entry.seq, entry.ts, entry.verdict) == (row["id"], 1, "2026-11-01T08:00:00.000+00:00", "refuse")
    assert (row["colour"], row["direction"], row["temperature"]) == ("red", "out", 37.5)
    assert row["reasons"] == '["红码", "temperature 37.5 °C"]'
    assert row["details"] == '{"a": "1", "b": "二"}'
    uncoloured = store.record(draft(1, colour=None), now=T0)
    assert uncoloured.row["colour"] is None and store.entries(after_seq=1)[0]["colour"] is None


def test_times_are_stored_in_utc_whatever_the_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    try:
        moment = datetime(2026, 11, 1, 16, 0, tzinfo=timezone(timedelta(hours=8)))
        assert utc_text(moment) == "2026-11-01T08:00:00.000+00:00"
    finally:
        monkeypatch.undo()
        time.tzset()


def test_readers_keep_sequence_order_and_their_limits(store: GateStore) -> None:
    for i in range(60):
        store.record(draft(i), now=T0 + timedelta(seconds=i))

    assert [r["seq"] for r in store.entries(after_seq=55)] == [56, 57, 58, 59, 60]
    assert [r["seq"] for r in store.entries(after_seq=10, limit=3)] == [11, 12, 13]
    assert [r["seq"] for r in store.recent(limit=3)] == [60, 59, 58]
    assert len(store.recent()) == 50 and store.recent()[-1]["seq"] == 11
    assert store.count_entries() == 60


def test_without_a_head_record_a_new_entry_follows_the_last_row(store: GateStore) -> None:
    for i in range(3):
        store.record(draft(i), now=T0)
    store.db.execute("DELETE FROM meta WHERE key IN ('head_seq', 'head_hash')")
    store.db.conn.commit()

    entry = store.record(draft(9), now=T0)

    assert entry.seq == 4 and entry.row["prev_hash"] == store.entries()[2]["hash"] and store.verify() == []


def test_a_half_kept_head_is_no_head(store: GateStore) -> None:
    for i in range(2):
        store.record(draft(i), now=T0)
    store.db.execute("DELETE FROM meta WHERE key = 'head_hash'")
    store.db.conn.commit()
    assert store.record(draft(9), now=T0).seq == 3


def test_with_every_entry_purged_and_no_head_the_next_follows_the_purge_anchor(store: GateStore) -> None:
    for i in range(3):
        store.record(draft(i), now=T0)
    last = store.entries()[-1]
    assert store.purge(retention_days=1, now=T0 + timedelta(days=2)).purged == 3
    store.db.execute("DELETE FROM meta WHERE key IN ('head_seq', 'head_hash')")
    store.db.conn.commit()

    entry = store.record(draft(9), now=T0 + timedelta(days=2))

    assert (entry.seq, entry.row["prev_hash"]) == (4, last["hash"]) and store.verify() == []


def test_the_newest_entry_removed_alone_is_named(store: GateStore) -> None:
    for i in range(3):
        store.record(draft(i), now=T0)
    store.db.execute("DELETE FROM entries WHERE seq = 3")
    store.db.conn.commit()
    assert [(p.seq, p.detail) for p in store.verify()] == [(3, "the newest entry 3 is missing")]


def test_a_database_in_a_new_folder_is_made(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "gate.db"
    with GateStore(path, "north") as store:
        store.record(draft(), now=T0)
        assert store.path == path and path.exists()


def test_the_store_is_shared_by_the_kiosks_threads(store: GateStore) -> None:
    errors: list[BaseException] = []

    def camera() -> None:
        try:
            for i in range(20):
                store.record(draft(i), now=T0)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=camera) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == [] and store.count_entries() == 60 and store.verify() == []


def test_meta_values_are_replaced_and_lists_named(store: GateStore) -> None:
    store.set_meta({"a": "1", "b": "2"})
    store.set_meta({"a": "3"})
    assert (store.get_meta("a"), store.get_meta("b"), store.get_meta("c")) == ("3", "2", None)
    with pytest.raises(ValueError, match="^not a list table: entries$"):
        store.replace_table("entries", [])


def test_a_file_too_damaged_to_read_names_itself(tmp_path: Path) -> None:
    path = tmp_path / "gate.db"
    with GateStore(path, "north") as store:
        for i in range(200):
            store.record(draft(i), now=T0)
    data = path.read_bytes()
    page = int.from_bytes(data[16:18], "big")
    found = []
    for number in range(1, len(data) // page):
        path.write_bytes(data[: number * page] + b"\xff" * page + data[(number + 1) * page :])
        try:
            damaged = GateStore(path, "north")
        except StoreError:
            continue  # the schema itself is damaged: it does not open
        try:
            damaged.verify()
        except StoreError as exc:
            found.append(str(exc))
        finally:
            damaged.close()
    assert found and all(text.startswith(f"the gate database {path} is damaged (") for text in found)
