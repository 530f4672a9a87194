"""Uploading a gate's log to a real HQ: exactly once, through dropped connections, with tampering flagged.

Every test runs against a live HQ on 127.0.0.1 (SQLite, and PostgreSQL when one is reachable) and a gate whose
SQLite file was written by the real store.
"""

from __future__ import annotations

import sqlite3

import httpx
import pytest
from tests.sync_testkit import (  # noqa: F401
    FaultyProxy,
    Gate,
    MakeGate,
    RunningHq,
    hq,
    hq_db_url,
    make_gate,
    proxy,
    signing_key_file,
)

from kiosk.chain import entry_hash, verify_chain
from sync.status import Connection
from sync.protocol import UploadBatch, WireEntry


def test_a_thousand_offline_entries_arrive_exactly_once(hq: RunningHq, make_gate: MakeGate) -> None:
    gate = make_gate(hq, "north-gate", sync_batch_entries=300)
    logged = gate.log(1000)

    status = gate.sync()

    assert status.connection is Connection.ONLINE, status.last_error
    assert (status.uploaded, status.entries_waiting, status.upload_cursor) == (1000, 0, 1000)
    assert hq.entry_ids("north-gate") == logged
    assert hq.alert_kinds("north-gate") == []
    again = gate.sync()
    assert (again.uploaded, hq.entry_count()) == (0, 1000)


def test_held_entries_are_the_gates_rows_byte_for_byte(hq: RunningHq, make_gate: MakeGate) -> None:
    gate = make_gate(hq, "north-gate")
    gate.log(5)
    gate.sync()
    with gate.store() as store:
        local = store.entries()
    held = hq.entry_rows("north-gate")
    assert [{k: r[k] for k in local[0]} for r in held] == local
    assert all(entry_hash(r) == r["hash"] for r in held)


def _batch(gate_rows: list[dict[str, object]], batch_id: str) -> bytes:
    entries = [WireEntry.model_validate(r) for r in gate_rows]
    return UploadBatch(gate="north-gate", batch_id=batch_id, entries=entries).model_dump_json().encode()


def test_a_batch_sent_twice_is_stored_once(hq: RunningHq, make_gate: MakeGate) -> None:
    gate = make_gate(hq, "north-gate")
    gate.log(20)
    with gate.store() as store:
        rows = store.entries()
    headers = {"Authorization": f"Bearer {gate.token}", "Content-Type": "application/json"}
    url = f"{hq.url}/v1/gates/north-gate/entries"

    first = httpx.post(url, content=_batch(rows, "b-1"), headers=headers).json()
    second = httpx.post(url, content=_batch(rows, "b-1"), headers=headers).json()
    other_id = httpx.post(url, content=_batch(rows, "b-2"), headers=headers).json()

    assert (first["stored"], first["replayed"]) == (20, False)
    assert (second["stored"], second["replayed"]) == (20, True)
    assert (other_id["stored"], other_id["duplicates"], other_id["replayed"]) == (0, 20, False)
    assert hq.entry_count() == 20
    assert hq.alert_kinds("north-gate") == []


def test_a_batch_id_reused_for_other_entries_is_refused(hq: RunningHq, make_gate: MakeGate) -> None:
    gate = make_gate(hq, "north-gate")
    gate.log(4)
    with gate.store() as store:
        rows = store.entries()
    headers = {"Authorization": f"Bearer {gate.token}"}
    url = f"{hq.url}/v1/gates/north-gate/entries"
    assert httpx.post(url, content=_batch(rows[:2], "b-1"), headers=headers).status_code == 200

    answer = httpx.post(url, content=_batch(rows[2:], "b-1"), headers=headers)

    assert answer.status_code == 409
    assert "already used" in answer.json()["detail"]
    assert hq.entry_count() == 2


@pytest.mark.parametrize("fault", ["reset", "drop"])
def test_a_connection_cut_mid_upload_loses_and_doubles_nothing(
    hq: RunningHq, make_gate: MakeGate, proxy: FaultyProxy, fault: str
) -> None:
    gate = make_gate(hq, "north-gate", url=proxy.url, sync_batch_entries=100)
    logged = gate.log(450)
    proxy.fail_next(fault, "/entries")

    cut = gate.sync()

    assert proxy.applied == [(fault, "/v1/gates/north-gate/entries")]
    assert cut.connection is Connection.OFFLINE
    assert cut.upload_cursor == 0 and cut.entries_waiting == 450
    held_after_cut = hq.entry_count()
    assert held_after_cut == (100 if fault == "drop" else 0)
    resumed = gate.sync()
    assert resumed.connection is Connection.ONLINE, resumed.last_error
    assert resumed.entries_waiting == 0
    assert hq.entry_ids("north-gate") == logged
    assert hq.alert_kinds("north-gate") == []


def test_an_answer_held_back_until_the_gate_times_out_is_resent_once(
    hq: RunningHq, make_gate: MakeGate, proxy: FaultyProxy
) -> None:
    gate = make_gate(hq, "north-gate", url=proxy.url, sync_batch_entries=100, sync_timeout_seconds=1)
    logged = gate.log(250)
    proxy.fail_next("stall", "/entries")

    stalled = gate.sync()

    assert stalled.connection is Connection.OFFLINE and "ReadTimeout" in (stalled.last_error or "")
    assert hq.entry_count() == 100  # HQ committed the first batch; the gate never heard
    resumed = gate.sync()
    assert resumed.entries_waiting == 0
    assert hq.entry_ids("north-gate") == logged


def test_retries_inside_one_sync_ride_out_dropped_connections(
    hq: RunningHq, make_gate: MakeGate, proxy: FaultyProxy
) -> None:
    gate = make_gate(hq, "north-gate", url=proxy.url, sync_batch_entries=50, sync_retry_seconds=20)
    logged = gate.log(200)
    proxy.fail_next("drop", "/entries")
    proxy.fail_next("reset", "/entries")
    proxy.fail_next("drop", "/bundle")

    status = gate.sync()

    assert len(proxy.applied) == 3
    assert status.connection is Connection.ONLINE, status.last_error
    assert hq.entry_ids("north-gate") == logged
    assert status.bundle_version >= 1


@pytest.mark.parametrize("status", [500, 503, 429])
def test_a_5xx_or_429_answer_is_retried_and_the_upload_then_goes_through(
    hq: RunningHq, make_gate: MakeGate, proxy: FaultyProxy, status: int
) -> None:
    gate = make_gate(hq, "north-gate", url=proxy.url, sync_retry_seconds=20)
    logged = gate.log(5)
    proxy.answer_next(status, "/entries", times=2)

    synced = gate.sync()

    assert [a.status for a in proxy.answers if a.path.endswith("/entries")] == [status, status, 200]
    assert synced.connection is Connection.ONLINE, synced.last_error
    assert hq.entry_ids("north-gate") == logged


@pytest.mark.parametrize("status", [401, 403, 409, 422])
def test_a_refusal_is_shown_and_not_retried(hq: RunningHq, make_gate: MakeGate, proxy: FaultyProxy, status: int) -> None:
    """DESIGN.md sync rule 6: retrying cannot fix a refusal, so the gate asks once and says what HQ said."""
    gate = make_gate(hq, "north-gate", url=proxy.url, sync_retry_seconds=20)
    gate.log(5)
    proxy.answer_next(status, "/entries")  # only once: a retry would reach HQ and be stored

    synced = gate.sync()

    assert [p for p in proxy.requests if p.endswith("/entries")] == ["/v1/gates/north-gate/entries"]
    assert synced.connection is Connection.ERROR
    assert f"HQ refused ({status}): the test proxy answers {status}" in (synced.last_error or "")
    assert (synced.upload_cursor, synced.entries_waiting, hq.entry_count()) == (0, 5, 0)


def _tamper(gate_db: str, sql: str, *args: object) -> None:
    with sqlite3.connect(gate_db) as conn:
        conn.execute(sql, args)


def test_an_edited_row_is_flagged_at_hq(hq: RunningHq, make_gate: MakeGate) -> None:
    gate = make_gate(hq, "north-gate")
    gate.log(10)
    _tamper(str(gate.config.database), "UPDATE entries SET verdict = 'refuse', colour = 'red' WHERE seq = 4")

    status = gate.sync()

    assert status.entries_waiting == 0
    assert hq.alert_kinds("north-gate") == [("edited", 4)]
    assert status.hq_alerts == 1


def test_a_row_rehashed_after_editing_breaks_the_chain_at_hq(hq: RunningHq, make_gate: MakeGate) -> None:
    gate = make_gate(hq, "north-gate")
    gate.log(6)
    with gate.store() as store:
        row = store.entries(after_seq=2, limit=1)[0]
    row["verdict"] = "refuse"
    _tamper(str(gate.config.database), "UPDATE entries SET verdict = ?, hash = ? WHERE seq = 3", "refuse", entry_hash(row))

    gate.sync()

    assert hq.alert_kinds("north-gate") == [("broken", 4)]


def test_a_deleted_row_is_flagged_as_a_gap(hq: RunningHq, make_gate: MakeGate) -> None:
    gate = make_gate(hq, "north-gate")
    gate.log(8)
    _tamper(str(gate.config.database), "DELETE FROM entries WHERE seq IN (5, 6)")

    status = gate.sync()

    assert hq.alert_kinds("north-gate") == [("gap", 7)]
    assert hq.entry_count() == 6 and status.entries_waiting == 0


def test_history_rewritten_after_upload_is_refused_and_flagged(hq: RunningHq, make_gate: MakeGate) -> None:
    gate = make_gate(hq, "north-gate")
    gate.log(3)
    gate.sync()
    original = hq.entry_rows("north-gate")
    with gate.store() as store:
        rows = store.entries()
    forged = dict(rows[1], verdict="refuse")
    forged["hash"] = entry_hash(forged)
    batch = UploadBatch(gate="north-gate", batch_id="forged", entries=[WireEntry.model_validate(forged)])

    answer = httpx.post(
        f"{hq.url}/v1/gates/north-gate/entries",
        content=batch.model_dump_json(),
        headers={"Authorization": f"Bearer {gate.token}"},
    ).json()

    assert (answer["stored"], answer["refused"]) == (0, 1)
    assert hq.alert_kinds("north-gate") == [("edited", 2)]
    assert hq.entry_rows("north-gate") == original


def _post(hq: RunningHq, gate: Gate, rows: list[dict[str, object]], batch_id: str) -> dict[str, object]:
    """Upload rows as the gate's token allows anyone holding it to (not through the gate's own cursor)."""
    batch = UploadBatch(gate="north-gate", batch_id=batch_id, entries=[WireEntry.model_validate(r) for r in rows])
    answer = httpx.post(
        f"{hq.url}/v1/gates/north-gate/entries",
        content=batch.model_dump_json(),
        headers={"Authorization": f"Bearer {gate.token}"},
    )
    assert answer.status_code == 200, answer.text
    receipt: dict[str, object] = answer.json()
    return receipt


def _gap(hq: RunningHq, make_gate: MakeGate, missing: tuple[int, ...]) -> tuple[Gate, list[dict[str, object]]]:
    """A gate with 8 entries whose rows `missing` were deleted before they were uploaded, so HQ holds the rest
    and has flagged the gap; and all eight rows as they were logged."""
    gate = make_gate(hq, "north-gate")
    gate.log(8)
    with gate.store() as store:
        rows = store.entries()
    _tamper(str(gate.config.database), f"DELETE FROM entries WHERE seq IN ({', '.join(map(str, missing))})")
    gate.sync()
    assert hq.alert_kinds("north-gate") == [("gap", max(missing) + 1)]
    return gate, rows


def test_late_entries_the_gate_really_had_close_a_gap_cleanly(hq: RunningHq, make_gate: MakeGate) -> None:
    gate, rows = _gap(hq, make_gate, (4, 5))

    before = _post(hq, gate, [rows[3]], "late-4")  # in the gate's order: checked against the held entry 3
    after = _post(hq, gate, [rows[4]], "late-5")  # and against the now-held 4 and the held 6

    assert (before["stored"], before["alerts"], after["stored"], after["alerts"]) == (1, [], 1, [])
    held = hq.entry_rows("north-gate")
    assert [r["seq"] for r in held] == list(range(1, 9)) and verify_chain(held) == []
    assert hq.alert_kinds("north-gate") == [("gap", 6)]  # what happened then stays on record


def _forge(row: dict[str, object], how: str) -> dict[str, object]:
    forged = dict(row, verdict="refuse", colour="red")
    if how == "relinked":
        forged["prev_hash"] = "ab" * 32
    if how != "edited":
        forged["hash"] = entry_hash(forged)
    return forged


@pytest.mark.parametrize(
    ("how", "found"),
    [
        ("edited", [("edited", 4)]),  # its content no longer matches its hash
        ("rehashed", [("broken", 5)]),  # consistent, but not the entry that the held entry 5 follows
        ("relinked", [("broken", 4), ("broken", 5)]),  # nor does it follow the held entry 3
    ],
)
def test_a_forged_entry_filling_a_gap_is_stored_as_evidence_and_flagged(
    hq: RunningHq, make_gate: MakeGate, how: str, found: list[tuple[str, int]]
) -> None:
    gate, rows = _gap(hq, make_gate, (4,))

    answer = _post(hq, gate, [_forge(rows[3], how)], "filler")

    assert (answer["stored"], answer["refused"]) == (1, 0)
    assert [(a["kind"], a["seq"]) for a in answer["alerts"]] == found  # type: ignore[attr-defined]
    assert hq.alert_kinds("north-gate") == [("gap", 5), *found]
    assert [r["verdict"] for r in hq.entry_rows("north-gate") if r["seq"] == 4] == ["refuse"]


def test_fillers_sent_together_are_checked_against_each_other_and_a_break_is_flagged_once(
    hq: RunningHq, make_gate: MakeGate
) -> None:
    """Two late entries in one batch: the genuine 5 does not follow the forged 4 sent beside it (neither
    neighbour is held by HQ), which is one break at 5, not one for each side of the link."""
    gate, rows = _gap(hq, make_gate, (4, 5))

    answer = _post(hq, gate, [_forge(rows[3], "rehashed"), rows[4]], "fillers")

    assert (answer["stored"], answer["refused"]) == (2, 0)
    assert [(a["kind"], a["seq"]) for a in answer["alerts"]] == [("broken", 5)]  # type: ignore[attr-defined]
    assert hq.alert_kinds("north-gate") == [("gap", 6), ("broken", 5)]
