"""Impossible temperatures are refused wherever a reading enters, with the same bounds (`kiosk.readings`):
`scan --temperature` and `check --temperature` through the real CLI (nothing logged, the chain intact), and
a gate's upload to a real HQ (SQLite and PostgreSQL), which never stores one. The kiosk's forms and the policy
rule are tested with the UI and the policy (tests/functional/test_ui_gate.py, tests/unit/test_policy.py)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from tests.sync_testkit import MakeGate, RunningHq, hq, hq_db_url, make_gate, signing_key_file  # noqa: F401

from kiosk.chain import GENESIS_HASH, entry_hash
from kiosk.store import utc_text
from tests.conftest import GateFolder
from tests.helpers import IssueCode, camera_frame, make_resident_id, write_png

BIN = Path(sys.executable).parent
IMPOSSIBLE = ["nan", "inf", "-inf", "-5", "0", "-0.0", "29.9", "45.1"]


def kiosk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "pocket-kiosk"), *args], capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("reading", IMPOSSIBLE)
def test_scan_refuses_a_temperature_no_person_has_and_logs_nothing(
    gate: GateFolder, issue: IssueCode, reading: str
) -> None:
    frame = write_png(gate.root / "green.png", camera_frame(issue(serial=1)))

    result = kiosk("scan", "--source", str(frame), "--config", str(gate.config_file), f"--temperature={reading}")

    assert result.returncode == 2, result.stdout
    assert "Invalid value for '--temperature': a temperature between 30 and 45 °C, please" in result.stderr
    assert not gate.db.exists(), "nothing may be logged with a reading the chain cannot hold"


def test_a_real_reading_is_logged_as_taken_and_the_chain_verifies(gate: GateFolder, issue: IssueCode) -> None:
    frame = write_png(gate.root / "green.png", camera_frame(issue(serial=1)))

    scanned = kiosk("scan", "--source", str(frame), "--config", str(gate.config_file), "--temperature=36.6")
    verified = kiosk("verify", "--config", str(gate.config_file))

    assert scanned.returncode == 0, scanned.stderr
    with sqlite3.connect(gate.db) as conn:
        assert conn.execute("SELECT temperature FROM entries").fetchall() == [(36.6,)]
    assert verified.returncode == 0 and "chain intact: 1 entry" in verified.stdout


@pytest.mark.parametrize("reading", IMPOSSIBLE)
def test_check_refuses_a_temperature_instead_of_letting_it_pass(
    gate: GateFolder, issue: IssueCode, reading: str
) -> None:
    roster = gate.root / "residents.csv"
    roster.write_text(f"id_number,name,unit\n{make_resident_id(1)},Zhang San,3-101\n")
    assert kiosk("roster", "import", str(roster), "--config", str(gate.config_file)).returncode == 0

    result = kiosk("check", issue(serial=1), "--config", str(gate.config_file), f"--temperature={reading}", "--json")

    assert result.returncode == 2 and result.stdout == ""
    assert "a temperature between 30 and 45 °C, please" in result.stderr


def _old_gate_row(temperature: object) -> dict[str, object]:
    """Entry 1 of a gate as an earlier version logged it, hashed over the temperature it was given."""
    row: dict[str, object] = {
        "id": "01JD0000000000000000000001", "seq": 1, "ts": utc_text(datetime.now(UTC)),
        "gate": "north-gate", "direction": "in", "subject": "0" * 32, "name": "Z**** S**", "code_type": "PGC1",
        "colour": "green", "verdict": "pass", "reasons": '["green code"]', "temperature": temperature,
        "operator": "keeper-1", "details": "{}", "prev_hash": GENESIS_HASH,
    }
    return row | {"hash": entry_hash(row)}


@pytest.mark.parametrize("reading", [0.0, -5.0, 46.0, float("nan"), float("inf")])
def test_hq_never_stores_a_temperature_no_person_has(hq: RunningHq, make_gate: MakeGate, reading: float) -> None:
    gate = make_gate(hq, "north-gate")
    body = json.dumps({"protocol": 1, "gate": "north-gate", "batch_id": "b-1", "entries": [_old_gate_row(reading)]})

    answer = httpx.post(
        f"{hq.url}/v1/gates/north-gate/entries", content=body,
        headers={"Authorization": f"Bearer {gate.token}", "Content-Type": "application/json"},
    )

    assert "temperature" in answer.text, answer.text
    assert hq.entry_count() == 0
