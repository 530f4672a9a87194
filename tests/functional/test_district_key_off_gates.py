"""A stolen gate laptop reveals nobody: the district key stays at HQ, gates get keys of their own, a typed ID number on
no list reaches HQ sealed, and a gate enrolled before moves over at its next sync. Through a real HQ (with its
district key) and real gate folders enrolled the real way."""

from __future__ import annotations

import base64
import json
import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import x25519
from sqlalchemy import select
from tests.sync_testkit import (  # noqa: F401
    Gate,
    MakeGate,
    RunningHq,
    hq_db_url,
    issuer_keys,
    make_gate,
    signing_key_file,
    start_hq,
)

from kiosk import id_keys
from kiosk.gate import open_gate
from kiosk.uplink.enrollment import enroll
from kiosk.uplink.status import Connection
from sync.core.codes.keys import DISTRICT_KEY_FILE
from sync.core.identity import load_district_key, subject_hash
from sync.core.policy import Decision, Direction
from sync.core.sealing import SealError, open_sealed_id
from sync.hq import lists, tracing, uploads
from sync.hq.gates import rekey_gate
from sync.hq.tables import unsealed_entries

RESIDENT = "110101199001010031"
CONTACT = "110101199001010023"
STRANGER = "11010519491231002X"


@pytest.fixture
def keyed_hq(hq_db_url: str, signing_key_file: Path, issuer_keys: Path) -> Iterator[RunningHq]:
    """A live HQ that holds the district key, as the README runs it."""
    yield from start_hq(hq_db_url, signing_key_file, district_key_file=issuer_keys / DISTRICT_KEY_FILE)


def _load(hq: RunningHq, kind: uploads.Kind, csv_file: Path, key: bytes, gate: str | None = None) -> None:
    """A list through the operator's path (`pocket-hq roster load`, `colour-list load`, the dashboard)."""
    upload = uploads.create(hq.db, kind, csv_file.name, "test", gate)
    checked = uploads.check(hq.db, upload.id, csv_file, key)
    assert checked.state is uploads.State.READY, checked.message
    uploads.apply(hq.db, upload.id)


def _publish(hq: RunningHq, key: bytes, tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(f"id_number,name,unit\n{RESIDENT},Li Si,3-201\n")
    _load(hq, uploads.Kind.ROSTER, roster, key, "north-gate")
    red = tmp_path / "red.csv"
    red.write_text(f"id_number,colour,note\n{CONTACT},red,close contact\n")
    _load(hq, uploads.Kind.COLOUR, red, key)


def _gate_files(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()]


def _cells(database: Path) -> Iterator[str]:
    with sqlite3.connect(database) as conn:
        tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for row in conn.execute(f"SELECT * FROM [{table}]"):
                yield from (str(cell) for cell in row)


def test_no_district_key_on_a_new_gate_and_a_typed_stranger_is_traced_at_hq_only(
    keyed_hq: RunningHq, make_gate: MakeGate, issuer_keys: Path, tmp_path: Path
) -> None:
    key = load_district_key(issuer_keys / DISTRICT_KEY_FILE)
    gate = make_gate(keyed_hq, "north-gate")
    _publish(keyed_hq, key, tmp_path)
    assert gate.sync().connection is Connection.ONLINE
    folder = gate.folder

    judge = open_gate(gate.config)
    try:
        resident = judge.present_manual(RESIDENT, "Li Si", direction=Direction.IN)
        contact = judge.present_manual(CONTACT, "Wang Wu", direction=Direction.IN)
        stranger = judge.present_manual(STRANGER, "Zhao Liu", direction=Direction.IN)
    finally:
        assert judge.store is not None
        judge.store.close()
    # Found on the gate's lists by the gate-keyed hash, and logged under the district subject codes carry.
    assert resident.assessment.verdict.decision is Decision.PASS
    assert resident.entry is not None and resident.entry.row["subject"] == subject_hash(key, RESIDENT)
    assert contact.assessment.verdict.decision is Decision.REFUSE
    assert "on HQ's red list" in contact.assessment.verdict.reasons
    # On no list: no subject, no hash a thief could test guesses against; the number only sealed to HQ.
    assert stranger.entry is not None and stranger.entry.row["subject"] is None
    assert stranger.assessment.verdict.decision is Decision.REFUSE
    sealed = _details(stranger.entry.row)["sealed_id"]
    assert set(_details(stranger.entry.row)) == {"doc_type", "sealed_id"}

    assert gate.sync().entries_waiting == 0
    # HQ resolved it on ingest: tracing by the person's ID number (hashed with the district key) finds them.
    now = datetime.now(UTC)
    window = tracing.Window(now - timedelta(hours=1), now + timedelta(hours=1))
    with keyed_hq.db.read() as conn:
        found = tracing.person(subject_hash(key, STRANGER), window).page(conn).items
        unsealed = conn.execute(select(unsealed_entries.c.id)).scalars().all()
    assert [p.id for p in found] == [stranger.entry.id] == unsealed
    # Sent again (a gate whose cursor went back), it is the same entry as the gate sent it: a duplicate, no alert.
    with sqlite3.connect(folder / "gate.db") as conn:
        conn.execute("UPDATE sync_state SET upload_cursor = 0")
    assert gate.sync().entries_waiting == 0
    assert keyed_hq.alert_kinds("north-gate") == [] and keyed_hq.entry_count("north-gate") == 3

    # No file or table on the gate holds the district key, in any form; nor the stranger's number.
    secret_forms = [key, key.hex().encode(), key.hex().upper().encode()]
    files = _gate_files(folder)
    assert any(path.name == "gate.db" for path in files)
    for path in files:
        data = path.read_bytes()
        assert not any(form in data for form in secret_forms), f"{path.name} holds the district key"
        assert STRANGER.encode() not in data and STRANGER.lower().encode() not in data, f"{path.name} holds the number"
    for cell in _cells(folder / "gate.db"):
        assert key.hex() not in cell.lower() and STRANGER not in cell.upper()

    # Nothing on the gate opens the seal: every 32-byte value its files and cells hold as hex or base64 (the gate's
    # own key, hashes, the token, public keys), and every 32 bytes of its small files, tried as HQ's private key.
    texts = [path.read_bytes().decode("latin-1") for path in files] + list(_cells(folder / "gate.db"))
    candidates = {bytes.fromhex(h) for text in texts for h in re.findall(r"[0-9a-fA-F]{64}", text)}
    candidates |= {
        raw for text in texts for b64 in re.findall(r"[A-Za-z0-9+/_-]{43}=?", text)
        if len(raw := base64.urlsafe_b64decode(b64.replace("+", "-").replace("/", "_").rstrip("=") + "=")) == 32
    }
    small = [path.read_bytes() for path in files if path.stat().st_size < 4096]
    candidates |= {data[i : i + 32] for data in small for i in range(len(data) - 31)}
    with gate.store() as store:
        gate_key = id_keys.read(store).gate_key
    assert gate_key is not None and gate_key in candidates
    for candidate in candidates:
        with pytest.raises(SealError):
            open_sealed_id(x25519.X25519PrivateKey.from_private_bytes(candidate), sealed)


def test_a_gate_enrolled_before_moves_over_and_deletes_its_district_key(
    keyed_hq: RunningHq, make_gate: MakeGate, issuer_keys: Path, tmp_path: Path
) -> None:
    key = load_district_key(issuer_keys / DISTRICT_KEY_FILE)
    kept = tmp_path / "district.key"  # the gate's copy, as the README used to say to give gates
    kept.write_bytes((issuer_keys / DISTRICT_KEY_FILE).read_bytes())
    gate = make_gate(keyed_hq, "north-gate", district_key_file=str(kept))
    # Lists loaded at HQ before gate keys: rows without a gate-keyed hash. The gate keeps its key for them.
    lists.replace_roster(keyed_hq.db, "north-gate", [{"subject": subject_hash(key, RESIDENT), "name": "L* S*", "unit": ""}])
    assert gate.sync().connection is Connection.ONLINE
    assert kept.exists()
    assert _typed_subject(gate, RESIDENT) == subject_hash(key, RESIDENT)
    with gate.store() as store:
        assert id_keys.rows_without_hash(store) == 1
        assert "kept until HQ loads its lists again" in id_keys.describe(store, gate.config.district_key_file)[0]

    _publish(keyed_hq, key, tmp_path)  # HQ loads the lists again: every row now has its gate-keyed hash
    assert gate.sync().connection is Connection.ONLINE
    assert not kept.exists()
    with gate.store() as store:
        text, warning = id_keys.describe(store, gate.config.district_key_file)
    assert text.startswith("deleted from this gate on ") and str(kept) in text and not warning
    assert _typed_subject(gate, RESIDENT) == subject_hash(key, RESIDENT)  # now found by the gate's own key
    assert _typed_subject(gate, STRANGER) is None  # and sealed to HQ


def test_a_rekeyed_gate_s_old_token_is_refused_and_a_new_laptop_carries_on(
    keyed_hq: RunningHq, make_gate: MakeGate, issuer_keys: Path, tmp_path: Path
) -> None:
    key = load_district_key(issuer_keys / DISTRICT_KEY_FILE)
    lost = make_gate(keyed_hq, "north-gate")
    _publish(keyed_hq, key, tmp_path)
    lost.log(3)
    assert lost.sync().entries_waiting == 0
    with lost.store() as store:
        old_key = id_keys.read(store)
    token, generation = rekey_gate(keyed_hq.db, "north-gate")
    assert generation == old_key.generation + 1  # type: ignore[operator]

    answer = httpx.get(f"{keyed_hq.url}/v1/gate", headers={"Authorization": f"Bearer {lost.token}"})
    assert answer.status_code == 401
    status = lost.sync()
    assert status.connection is Connection.ERROR and "HQ refused (401)" in (status.last_error or "")

    folder = tmp_path / "new-laptop"
    folder.mkdir()
    config_file = folder / "kiosk.toml"
    config_file.write_text('database = "gate.db"\nsync_retry_seconds = 0\nsync_timeout_seconds = 5\n')
    enroll(config_file, keyed_hq.url, token)
    laptop = Gate(folder, config_file, token)
    assert laptop.sync().connection is Connection.ONLINE
    with laptop.store() as store:
        new_key = id_keys.read(store)
    assert new_key.generation == generation and new_key.gate_key != old_key.gate_key
    assert _typed_subject(laptop, RESIDENT) == subject_hash(key, RESIDENT)
    # The new laptop continues the gate's chain where HQ holds it: its entries are taken, none refused.
    laptop.log(2, start=10)
    status = laptop.sync()
    assert status.connection is Connection.ONLINE and status.entries_waiting == 0
    assert keyed_hq.entry_count("north-gate") == 6  # 3 from the lost laptop, a typed one and 2 from the new one
    assert keyed_hq.alert_kinds("north-gate") == []


def _details(row: dict[str, object]) -> dict[str, str]:
    return dict(json.loads(str(row["details"])))


def _typed_subject(gate: Gate, id_number: str) -> str | None:
    """The subject a number typed at the gate is logged under (the entry is logged, as a keeper's would be)."""
    judge = open_gate(gate.config)
    try:
        logged = judge.present_manual(id_number, "Someone", direction=Direction.IN)
    finally:
        assert judge.store is not None
        judge.store.close()
    assert logged.entry is not None
    return logged.entry.row["subject"]  # type: ignore[no-any-return]
