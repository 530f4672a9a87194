"""Sneakernet sync: a gate with no network carries its entries to HQ on a USB stick and brings HQ's lists and
receipts back (`pocket-kiosk sync --export DIR`, `pocket-hq sync-import FILE`), run as a person would, with a real
HQ database and a real gate database. The gate is enrolled over the network once (as installed), then never
talks to HQ again: each stick is a folder."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select
from tests.sync_testkit import Gate, MakeGate, RunningHq, hq, hq_db_url, make_gate, signing_key_file  # noqa: F401

from kiosk.cli import main as kiosk_main
from kiosk.duty_log import DutyLog
from sync.core.duty import DutyKind
from sync.hq.tables import duty_events
from kiosk.uplink.state import SyncState
from sync.hq.cli import main as hq_main


def run(command: object, *args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(command, list(args))  # type: ignore[arg-type]
    assert result.exit_code == code, result.output + str(result.exception or "")
    return result


def visit(gate: Gate, stick: Path, code: int = 0) -> dict[str, object]:
    """The keeper puts the stick in the gate and runs the sync by stick; what it reported."""
    result = run(kiosk_main, "sync", "--export", str(stick), "--config", str(gate.config_file), "--json", code=code)
    report: dict[str, object] = json.loads(result.stdout)
    return report


def hq_import(running: RunningHq, signing_key: Path, export: Path, code: int = 0) -> Result:
    return run(hq_main, "sync-import", str(export), "--db", running.settings.db, "--signing-key", str(signing_key), code=code)


def cursor_of(gate: Gate) -> int:
    with gate.store() as store:
        return SyncState(store).record().upload_cursor


def bundle_version_of(gate: Gate) -> int:
    with gate.store() as store:
        return SyncState(store).record().bundle_version


def new_stick(tmp_path: Path, name: str) -> Path:
    stick = tmp_path / name
    stick.mkdir()
    return stick


def test_sticks_out_of_order_and_one_twice_lose_and_double_nothing(
    hq: RunningHq, make_gate: MakeGate, signing_key_file: Path, tmp_path: Path
) -> None:
    gate = make_gate(hq, "north-gate")
    first_ids = gate.log(5)
    with gate.store() as store:  # the camera was out for a while: duty events travel on the stick too
        DutyLog(store).note(DutyKind.CAMERA_LOST)
        DutyLog(store).note(DutyKind.CAMERA_BACK)
    stick_a, stick_b = new_stick(tmp_path, "stick-a"), new_stick(tmp_path, "stick-b")
    export_a = Path(str(visit(gate, stick_a)["export"]))
    later_ids = gate.log(3, start=5)
    export_b = Path(str(visit(gate, stick_b)["export"]))
    assert cursor_of(gate) == 0  # writing an export acknowledges nothing
    policy = tmp_path / "policy.toml"
    policy.write_text("[temperature]\nrefuse_at_or_above = 37.5\n")
    run(hq_main, "policy", "set", str(policy), "--db", hq.settings.db)

    # HQ gets the later stick first, then the earlier one, then the later one again.
    assert "8 entries on the stick, 8 new, 0 already held" in hq_import(hq, signing_key_file, export_b).stdout
    assert "5 entries on the stick, 0 new, 5 already held" in hq_import(hq, signing_key_file, export_a).stdout
    assert "8 entries on the stick, 0 new, 8 already held" in hq_import(hq, signing_key_file, export_b).stdout
    assert hq.entry_ids("north-gate") == first_ids + later_ids
    assert hq.alert_kinds("north-gate") == []
    with hq.db.read() as conn:
        assert list(conn.execute(select(duty_events.c.kind).order_by(duty_events.c.seq)).scalars()) == [
            "camera_lost", "camera_back"]

    # Back at the gate, the later stick first: the cursor moves to HQ's receipt, the new lists are applied.
    before = bundle_version_of(gate)
    back_b = visit(gate, stick_b)
    assert (back_b["acknowledged"], back_b["cursor"], back_b["exported"]) == (8, 8, 0)
    assert bundle_version_of(gate) > before
    with gate.store() as store:
        assert DutyLog(store).waiting() == []  # HQ's receipt acknowledged them
    with gate.store() as store:
        assert '"refuse_at_or_above":37.5' in (store.get_meta("hq_policy") or "")
    # The earlier stick, twice: its receipt is behind the cursor and changes nothing.
    for _ in range(2):
        back_a = visit(gate, stick_a)
        assert (back_a["acknowledged"], back_a["cursor"]) == (0, 8)
    newest = gate.log(2, start=8)
    onward = visit(gate, stick_a)
    assert onward["exported"] == 2
    hq_import(hq, signing_key_file, Path(str(onward["export"])))
    assert hq.entry_ids("north-gate") == first_ids + later_ids + newest
    assert visit(gate, stick_a)["cursor"] == 10


def _rewrite_payload(export: Path, change: object) -> None:
    """Edit an export's content as someone with a text editor would (the mark left as it was)."""
    envelope = json.loads(export.read_text())
    payload = json.loads(base64.b64decode(envelope["payload"]))
    change(payload)  # type: ignore[operator]
    envelope["payload"] = base64.b64encode(json.dumps(payload).encode()).decode()
    export.write_text(json.dumps(envelope))


def _rename_entry(payload: dict[str, object]) -> None:
    batches: list[str] = payload["batches"]  # type: ignore[assignment]
    batches[0] = batches[0].replace('"keeper-1"', '"keeper-2"', 1)


@pytest.mark.parametrize(
    ("spoil", "reason"),
    [
        (lambda p: _rewrite_payload(p, _rename_entry), "was edited or damaged after the gate wrote it"),
        (lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]), "is not a gate's stick export"),
        (lambda p: p.write_text(p.read_text().replace('"gate": "south-gate"', '"gate": "north-gate"')),
         "does not verify with gate north-gate's token"),
    ],
    ids=["edited", "damaged", "another-gates-file"],
)
def test_hq_refuses_a_spoiled_export_and_takes_in_nothing(
    hq: RunningHq, make_gate: MakeGate, signing_key_file: Path, tmp_path: Path, spoil: object, reason: str
) -> None:
    north = make_gate(hq, "north-gate")
    south = make_gate(hq, "south-gate")
    north.log(2)
    south.log(2)
    stick = new_stick(tmp_path, "stick")
    exported = Path(str(visit(south if "another" in reason or "token" in reason else north, stick)["export"]))
    spoil(exported)  # type: ignore[operator]

    refused = hq_import(hq, signing_key_file, exported, code=1)

    assert reason in refused.output and "nothing was taken in" in refused.output
    assert hq.entry_count() == 0
    assert not list(stick.glob("hq-*"))


def test_the_gate_refuses_an_older_bundle_another_gates_bundle_and_an_edited_receipt(
    hq: RunningHq, make_gate: MakeGate, signing_key_file: Path, tmp_path: Path
) -> None:
    gate = make_gate(hq, "north-gate")
    gate.log(3)
    stick = new_stick(tmp_path, "stick")
    hq_import(hq, signing_key_file, Path(str(visit(gate, stick)["export"])))
    old_bundles = {p.name: p.read_bytes() for p in stick.glob("hq-bundle-*")}
    policy = tmp_path / "policy.toml"
    policy.write_text("[temperature]\nrefuse_at_or_above = 37.5\n")
    run(hq_main, "policy", "set", str(policy), "--db", hq.settings.db)
    exported = Path(str(visit(gate, new_stick(tmp_path, "other"))["export"]))
    hq_import(hq, signing_key_file, exported)
    visit(gate, exported.parent)  # the newer bundle and the receipt taken in
    version, cursor = bundle_version_of(gate), cursor_of(gate)
    assert cursor == 3

    # An older bundle, alone on a stick.
    older = new_stick(tmp_path, "older")
    for name, data in old_bundles.items():
        (older / name).write_bytes(data)
    report = visit(gate, older, code=1)
    assert "older than the one in force" in str(report["problems"])
    assert bundle_version_of(gate) == version

    # Another gate's bundle, renamed as if it were this gate's.
    south = make_gate(hq, "south-gate")
    south_stick = new_stick(tmp_path, "south")
    hq_import(hq, signing_key_file, Path(str(visit(south, south_stick)["export"])))
    foreign = new_stick(tmp_path, "foreign")
    for path in south_stick.glob("hq-bundle-*"):
        shutil.copy(path, foreign / path.name.replace("south-gate", "north-gate").replace("-v", "-v99"))
    report = visit(gate, foreign, code=1)
    assert "is for gate 'south-gate', not this gate" in str(report["problems"])
    assert bundle_version_of(gate) == version

    # A receipt edited to acknowledge more than HQ holds.
    gate.log(2, start=3)
    forged_stick = new_stick(tmp_path, "forged")
    hq_import(hq, signing_key_file, Path(str(visit(gate, forged_stick)["export"])))
    for path in forged_stick.glob("hq-receipt-*"):
        envelope = json.loads(path.read_text())
        payload = base64.b64decode(envelope["payload"]).replace(b'"through_seq":5', b'"through_seq":9')
        envelope["payload"] = base64.b64encode(payload).decode()
        path.write_text(json.dumps(envelope))
    report = visit(gate, forged_stick, code=1)
    assert "signature does not verify with HQ's pinned key" in str(report["problems"])
    assert cursor_of(gate) == 3


def test_a_large_stick_import_shows_progress(
    hq: RunningHq, make_gate: MakeGate, signing_key_file: Path, tmp_path: Path
) -> None:
    gate = make_gate(hq, "north-gate", sync_batch_entries=200)
    gate.log(2000)
    exported = Path(str(visit(gate, new_stick(tmp_path, "stick"))["export"]))

    done = hq_import(hq, signing_key_file, exported)

    lines = [line for line in done.stderr.splitlines() if line.startswith("taken in")]
    assert lines[0] == "taken in 200/2000 entries" and lines[-1] == "taken in 2000/2000 entries"
    assert len(lines) == 10 and hq.entry_count("north-gate") == 2000
