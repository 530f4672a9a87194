"""Nothing lost, nothing hidden on the gate-to-HQ path (issue 14, points 1-4, 9 and 10), each through a real gate
(its SQLite file, its sync service or its command line) and a real HQ on 127.0.0.1, on SQLite and PostgreSQL:

1. a text HQ's database could not hold (NUL) is stored as sent; an entry HQ cannot take is refused alone, with
   its reason, and the gate's later entries still arrive; a failed upload does not keep the gate from its lists;
   a value the database refuses is a 4xx, not the retryable 503 of an unavailable database;
2. a gate database put back from a backup: HQ refuses the entries that reuse its sequence numbers, and the
   gate keeps them, says so (exit status, status line, kiosk, dashboard) and goes on with the later ones;
3. an enormous sequence number cannot carry HQ's chain position off, and a deleted row is still found;
4. an entry edited at the gate and re-sent under its original hash is refused and flagged;
9. an unreadable gate database is not "0 waiting" and `sync --status` exits 1 on it; `verify`, `check` and
   `sync --status` read a database on a read-only disk;
10. a gate hanging up mid-upload is one line in HQ's log; a list naming one person twice is refused with its
    line numbers, at the gate and at HQ.
"""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select
from tests.dash_testkit import Staff, make_user
from tests.functional.ui_support import Recorder, open_context, recorded_app, run, text_of, wait_for
from tests.helpers import make_resident_id
from tests.sync_testkit import (  # noqa: F401
    FaultyProxy,
    Gate,
    MakeGate,
    RunningHq,
    hq,
    hq_db_url,
    issuer_keys,
    make_gate,
    proxy,
    signing_key_file,
)
from tests.sync_testkit import wait_until as wait_in_hq

from kiosk.chain import entry_hash
from kiosk.cli import main as kiosk_main
from kiosk.codes.base import Colour
from kiosk.identity import load_district_key
from kiosk.policy import Decision, Direction, Verdict
from kiosk.store import EntryDraft
from sync.hq import lists
from sync.hq.cli import main as hq_main
from sync.hq.db import gates
from sync.status import Connection

GATE = "north-gate"


def kiosk(*args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(kiosk_main, list(args))
    assert result.exit_code == code, result.output + str(result.exception or "")
    return result


def _tamper(gate: Gate, sql: str, *args: object) -> None:
    with sqlite3.connect(gate.config.database) as conn:
        conn.execute(sql, args)


def _post(hq: RunningHq, gate: Gate, rows: list[dict[str, object]], batch_id: str) -> dict[str, object]:
    """Upload rows as anyone holding the gate's token can (not through the gate's own cursor)."""
    body = {"protocol": 1, "gate": GATE, "batch_id": batch_id, "entries": rows}
    answer = httpx.post(
        f"{hq.url}/v1/gates/{GATE}/entries", json=body, headers={"Authorization": f"Bearer {gate.token}"}
    )
    assert answer.status_code == 200, answer.text
    receipt: dict[str, object] = answer.json()
    return receipt


def _draft(operator: str = "keeper-1", name: str = "Z**** S**") -> EntryDraft:
    return EntryDraft(
        direction=Direction.IN,
        code_type="PGC1",
        verdict=Verdict(Decision.PASS, ("green code",), Colour.GREEN),
        subject="ab" * 16,
        name=name,
        temperature=36.6,
        operator=operator,
        details={"note": "scanned text\x00with a NUL"},
    )


# -- 1. one bad text never stops a gate's sync ----------------------------------------------------------------


def test_a_nul_in_any_text_field_is_stored_as_sent(hq: RunningHq, make_gate: MakeGate) -> None:
    """On PostgreSQL a NUL used to turn every upload into a 503, for good."""
    gate = make_gate(hq, GATE)
    gate.log(2)
    with gate.store() as store:
        store.record(_draft(operator="keep\x00er", name="Z\x00 S\ue000\ue0001"))
    gate.log(2, start=10)

    status = gate.sync()

    assert status.connection is Connection.ONLINE, status.last_error
    assert (status.entries_waiting, status.refused) == (0, 0)
    with gate.store() as store:
        local = store.entries()
    held = hq.entry_rows(GATE)
    assert [{k: r[k] for k in local[0]} for r in held] == local
    assert held[2]["operator"] == "keep\x00er" and held[2]["name"] == "Z\x00 S\ue000\ue0001"
    assert hq.alert_kinds(GATE) == []


def test_an_entry_hq_cannot_take_is_refused_alone_and_later_entries_still_arrive(
    hq: RunningHq, make_gate: MakeGate
) -> None:
    """An entry HQ cannot take as it is (a name of 600 characters, a time not in the gate's form) used to stop
    the gate's uploads there for good, and so would one the gate cannot even encode (an infinite temperature):
    now each is refused alone, with its reason, and kept."""
    gate = make_gate(hq, GATE, sync_batch_entries=4)
    logged = gate.log(6)
    _tamper(gate, "UPDATE entries SET name = ? WHERE seq = 2", "N" * 600)
    _tamper(gate, "UPDATE entries SET ts = '2024-05-01 08:00' WHERE seq = 5")
    _tamper(gate, "UPDATE entries SET temperature = 9e999 WHERE seq = 3")

    first = gate.sync()
    later = gate.log(3, start=20)
    second = gate.sync()

    assert hq.entry_ids(GATE) == [logged[0], logged[3], logged[5], *later]
    assert [(k, s) for k, s in hq.alert_kinds(GATE) if k == "refused"] == [("refused", 2), ("refused", 5)]
    for status in (first, second):
        assert status.connection is Connection.ERROR
        assert (status.entries_waiting, status.refused, status.upload_cursor) == (3, 3, 1)
        assert "HQ refused 3 entries (#2..#5): HQ cannot take this entry as sent: name:" in (status.last_error or "")
    listed = [json.loads(line) for line in kiosk("sync", "--refused", "--json", "--config", str(gate.config_file)).stdout.splitlines()]
    assert [(r["seq"], r["kind"]) for r in listed] == [(2, "refused"), (3, "refused"), (5, "refused")]
    assert "at most 500 characters" in listed[0]["reason"] and "ts:" in listed[2]["reason"]
    assert listed[1]["reason"] == "this gate cannot send it: temperature is inf, a number JSON cannot carry"


def test_a_failed_upload_does_not_keep_the_gate_from_hqs_new_lists(
    hq: RunningHq, make_gate: MakeGate, proxy: FaultyProxy, issuer_keys: Path, tmp_path: Path
) -> None:
    gate = make_gate(hq, GATE, url=proxy.url, sync_retry_seconds=1)
    gate.log(3)
    red = tmp_path / "red.csv"
    red.write_text(f"id_number,colour\n{make_resident_id(1)},red\n")
    version = lists.replace_colour_list(hq.db, list(lists.iter_colour_list(red, load_district_key(issuer_keys / "district.key"))))
    proxy.answer_next(503, "/entries", times=100)

    status = gate.sync()

    assert status.connection is Connection.OFFLINE and status.entries_waiting == 3
    assert status.bundle_version == version and status.bundle_changed
    with gate.store() as store:
        assert len(store.rows("colour_list")) == 1


def test_a_value_the_database_refuses_is_a_4xx_not_an_unavailable_database(hq: RunningHq) -> None:
    """A NUL in a dashboard filter reaches the database as it is (PostgreSQL refuses it): a client's fault, not
    'HQ's database is unavailable' (which gates retry forever)."""
    make_user(hq.db, "vera")
    staff = Staff(hq.url, "vera")
    try:
        answer = staff.get("/alerts", gate="north\x00gate")
    finally:
        staff.close()

    assert answer.status_code != 503 and answer.status_code < 500


# -- 2. a restored gate database ------------------------------------------------------------------------------


def _restored(hq: RunningHq, make_gate: MakeGate) -> tuple[Gate, list[str]]:
    """A gate that synced 5 entries, was backed up, synced 10 more, then had the backup put back and logged 10
    new entries over the same sequence numbers 6..15; their ids."""
    gate = make_gate(hq, GATE)
    gate.log(5)
    assert gate.sync().online
    database = gate.config.database
    backup = database.with_name("backup.db")
    with closing(sqlite3.connect(database)) as conn, closing(sqlite3.connect(backup)) as copy:
        conn.backup(copy)
    gate.log(10, start=100)
    assert gate.sync().online and hq.entry_count(GATE) == 15
    for suffix in ("-wal", "-shm"):
        database.with_name(database.name + suffix).unlink(missing_ok=True)
    shutil.copyfile(backup, database)
    return gate, gate.log(10, start=200)


def test_a_restored_gate_database_keeps_what_hq_refuses_and_says_so(hq: RunningHq, make_gate: MakeGate) -> None:
    gate, reused = _restored(hq, make_gate)
    config = str(gate.config_file)

    once = kiosk("sync", "--once", "--config", config, code=1)
    shown = kiosk("sync", "--status", "--config", config, code=1)
    listed = kiosk("sync", "--refused", "--config", config).stdout.splitlines()
    kiosk("purge", "--config", config)
    later = gate.log(2, start=300)
    again = gate.sync()

    for text in (once.stdout, shown.stdout):
        assert text.startswith("error: 10 waiting (10 refused by HQ) (HQ has #5)")
        assert "HQ refused 10 entries (#6..#15): HQ already holds entry" in text and "backup" in text
    assert [line.split()[:2] for line in listed] == [[f"#{6 + i}", entry_id] for i, entry_id in enumerate(reused)]
    assert again.connection is Connection.ERROR and again.refused == 10 and again.entries_waiting == 10
    assert hq.entry_ids(GATE)[-2:] == later  # the entries after them arrive
    assert sorted(s for k, s in hq.alert_kinds(GATE) if k == "rewritten") == list(range(6, 16))
    with gate.store() as store:
        assert [r["id"] for r in store.entries(after_seq=5, limit=10)] == reused  # kept, purge or not
    shown_in_kiosk, highlighted = _kiosk_sync_line(gate)
    assert shown_in_kiosk.startswith("Sync: error · 10 waiting (10 refused by HQ) · synced") and highlighted
    assert "HQ refused 10 entries (#6..#15): HQ already holds" in shown_in_kiosk
    make_user(hq.db, "vera")
    staff = Staff(hq.url, "vera")
    try:
        page = staff.get("/alerts", gate=GATE).text
    finally:
        staff.close()
    assert f"a different entry {reused[0]} claims it and was not stored" in page

    handed = [json.loads(line) for line in kiosk("sync", "--refused", "--json", "--config", config).stdout.splitlines()]
    kiosk("sync", "--dismiss-refused", "--config", config)
    after = kiosk("sync", "--once", "--config", config)
    with gate.store() as store:
        assert [r["entry"] for r in handed] == store.entries(after_seq=5, limit=10)  # whole, for the district
    assert after.stdout.startswith("online: 0 waiting (HQ has #17)")
    assert "HQ has refused no entry" in kiosk("sync", "--refused", "--config", config).stderr


def _kiosk_sync_line(gate: Gate) -> tuple[str, bool]:
    """The running kiosk's sync indicator (the real app, reading the gate's sync record), and whether it stands
    out."""
    context = open_context(gate.config, sync=None)
    seen: list[tuple[str, bool]] = []

    async def scenario() -> None:
        async with recorded_app(context, Recorder()).run_test(size=(160, 36)) as pilot:
            pilot.app.screen.refresh_sync()
            await wait_for(pilot, lambda: "refused" in text_of(pilot, "#sync-status"))
            seen.append((text_of(pilot, "#sync-status"), pilot.app.screen.query_one("#sync-status").has_class("-problem")))

    run(scenario, context)
    return seen[0]


def test_entries_hq_refused_go_again_when_the_operator_says_so(hq: RunningHq, make_gate: MakeGate) -> None:
    gate = make_gate(hq, GATE)
    logged = gate.log(4)
    _tamper(gate, "UPDATE entries SET name = ? WHERE seq = 2", "N" * 600)
    assert gate.sync().refused == 1
    with gate.store() as store:
        row = store.entries(after_seq=1, limit=1)[0]
    with sqlite3.connect(gate.config.database) as conn:  # the keeper's fix: the name it had
        conn.execute("UPDATE entries SET name = 'Z**** S**' WHERE seq = 2")
    assert row["name"] == "N" * 600

    kiosk("sync", "--retry-refused", "--config", str(gate.config_file))
    status = gate.sync()

    assert status.connection is Connection.ONLINE, status.last_error
    assert (status.refused, status.entries_waiting, status.upload_cursor) == (0, 0, 4)
    assert hq.entry_ids(GATE) == logged


# -- 3. sequence numbers ---------------------------------------------------------------------------------------


def test_an_enormous_sequence_number_is_refused_and_gaps_are_still_found(hq: RunningHq, make_gate: MakeGate) -> None:
    gate = make_gate(hq, GATE)
    gate.log(3)
    gate.sync()
    with gate.store() as store:
        last = store.entries()[-1]
    forged = dict(last, seq=2**61, id="01J00000000000000000000000", prev_hash=last["hash"])
    forged["hash"] = entry_hash(forged)
    jump = dict(forged, seq=1000, id="01J00000000000000000000001")
    jump["hash"] = entry_hash(jump)

    refused = _post(hq, gate, [forged], "far")
    pushed = _post(hq, gate, [jump], "ahead")  # plausible, so stored (and a gap), but it pushes the head on
    gate.log(5, start=10)
    _tamper(gate, "DELETE FROM entries WHERE seq = 6")
    synced = gate.sync()

    assert (refused["stored"], refused["refused"], refused["chain_seq"]) == (0, 1, 3)
    assert "implausibly far ahead" in refused["refusals"][0]["reason"]  # type: ignore[index]
    assert pushed["chain_seq"] == 1000
    assert synced.online and synced.entries_waiting == 0
    assert hq.alert_kinds(GATE) == [("refused", 2**61), ("gap", 1000), ("gap", 7)]
    with hq.db.read() as conn:
        assert conn.execute(select(gates.c.chain_seq)).scalar_one() == 1000


# -- 4. edits ----------------------------------------------------------------------------------------------


def test_an_entry_edited_and_resent_under_its_hash_is_refused_and_flagged(hq: RunningHq, make_gate: MakeGate) -> None:
    gate = make_gate(hq, GATE)
    gate.log(3)
    gate.sync()
    original = hq.entry_rows(GATE)
    _tamper(gate, "UPDATE entries SET verdict = 'refuse', colour = 'red' WHERE seq = 2")
    _tamper(gate, "UPDATE sync_state SET upload_cursor = 0")  # it goes again

    status = gate.sync()

    assert hq.alert_kinds(GATE) == [("edited", 2)]
    assert hq.entry_rows(GATE) == original
    assert status.connection is Connection.ERROR and status.refused == 1
    assert "HQ holds entry" in (status.last_error or "") and "colour, verdict" in (status.last_error or "")


# -- 9. status and read-only databases --------------------------------------------------------------------------


def test_the_status_of_an_unreadable_gate_database_is_not_0_waiting(hq: RunningHq, make_gate: MakeGate) -> None:
    gate = make_gate(hq, GATE)
    gate.log(3)
    database = gate.config.database
    with database.open("r+b") as file:
        file.write(b"not a database, whatever it was" * 4)

    shown = kiosk("sync", "--status", "--config", str(gate.config_file), code=1)
    as_json = json.loads(kiosk("sync", "--status", "--json", "--config", str(gate.config_file), code=1).stdout)

    assert shown.stdout.startswith("error: waiting unknown") and "0 waiting" not in shown.stdout
    assert as_json["entries_waiting"] is None and "file is not a database" in as_json["last_error"]


@pytest.fixture
def read_only_disk(tmp_path: Path) -> Iterator[Path]:
    """A small file system, mounted on a folder, that the test fills and then remounts read-only."""
    mount = tmp_path / "disk"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a file system here: {made.stderr.strip()}")
    try:
        yield mount
    finally:
        if subprocess.run(["umount", str(mount)]).returncode != 0:
            subprocess.run(["umount", "--lazy", str(mount)], check=True)
            pytest.fail("the read-only disk was still in use when the test ended: a file left open")


def test_verify_check_and_status_read_a_gate_database_on_a_read_only_disk(
    hq: RunningHq, make_gate: MakeGate, read_only_disk: Path
) -> None:
    gate = make_gate(hq, GATE)
    gate.log(3)
    gate.sync()
    gate.log(2, start=10)
    moved = read_only_disk / "gate"
    shutil.copytree(gate.folder, moved)
    config = str(moved / "kiosk.toml")
    subprocess.run(["mount", "-o", "remount,ro", str(read_only_disk)], check=True)

    verified = kiosk("verify", "--config", config)
    checked = kiosk("check", "PGC1:not-a-code", "--config", config)
    shown = kiosk("sync", "--status", "--config", config, code=1)

    assert verified.stdout.strip() == "chain intact: 5 entries"
    assert checked.stdout.startswith("REFUSE  -: code is damaged or malformed")
    assert shown.stdout.startswith("error: 2 waiting (HQ has #3)") and "read-only" in shown.stdout


# -- 10. HQ's log and duplicate list lines ---------------------------------------------------------------------


def test_a_gate_hanging_up_mid_upload_is_one_line_in_hqs_log(
    hq: RunningHq, make_gate: MakeGate, proxy: FaultyProxy, caplog: pytest.LogCaptureFixture
) -> None:
    gate = make_gate(hq, GATE, url=proxy.url)
    gate.log(50)
    proxy.fail_next("reset", "/entries")  # half the body reaches HQ, then both connections are reset
    seen: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = seen.append  # type: ignore[method-assign]
    logging.getLogger("uvicorn.error").addHandler(handler)
    try:
        with caplog.at_level(logging.WARNING, logger="pocket_hq"):
            gate.sync()
            wait_in_hq(lambda: any("hung up" in r.getMessage() for r in caplog.records), "HQ's log line")
            assert gate.sync().online
    finally:
        logging.getLogger("uvicorn.error").removeHandler(handler)

    lines = [r for r in caplog.records if r.name == "pocket_hq"]
    assert len(lines) == 1 and lines[0].exc_info is None
    assert lines[0].getMessage().startswith(f"gate {GATE} hung up mid-upload after ")
    assert [r.getMessage() for r in seen if r.levelno >= logging.ERROR] == []  # no "Exception in ASGI application"


def test_a_list_naming_one_person_twice_is_refused_with_both_lines(
    hq: RunningHq, make_gate: MakeGate, issuer_keys: Path, tmp_path: Path
) -> None:
    gate = make_gate(hq, GATE, district_key_file=str(issuer_keys / "district.key"))
    twice = make_resident_id(7)
    roster = tmp_path / "roster.csv"
    roster.write_text(f"id_number,name,unit\n{twice},Li Si,1-101\n{make_resident_id(8)},Wang Wu,1-102\n"
                      f"{twice.lower()},Li Si,2-202\n")
    red = tmp_path / "red.csv"
    red.write_text(f"id_number,colour\n{make_resident_id(9)},red\n{make_resident_id(9)},yellow\n")
    db, key = ["--db", hq.settings.db], ["--district-key", str(issuer_keys / "district.key")]

    at_gate = kiosk("roster", "import", str(roster), "--config", str(gate.config_file), code=1)
    at_hq = CliRunner().invoke(hq_main, ["roster", "load", GATE, str(roster), *db, *key])
    listed = CliRunner().invoke(hq_main, ["colour-list", "load", str(red), *db, *key])

    for said in (at_gate.output, at_hq.output):
        assert "roster.csv: nothing loaded: line 4: the same ID number as line 2" in said
    assert "red.csv: nothing loaded: line 3: the same ID number as line 2" in listed.output
    assert (at_hq.exit_code, listed.exit_code) == (1, 1)
    with gate.store() as store:
        assert store.rows("roster") == []
    assert lists.colour_counts(hq.db) == {}
