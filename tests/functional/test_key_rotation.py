"""Key rotation through a real HQ and a real gate: an issuer key rotated with an overlap (codes signed by the old
key pass during it and are refused after it), and HQ's bundle-signing key rotated (gates accept the new key
because the old one signed it, and pin it). A rekeyed gate's old token: see test_district_key_off_gates."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner, Result
from tests.sync_testkit import Gate, MakeGate, RunningHq, hq_db_url, make_gate, start_hq  # noqa: F401

from kiosk.gate import open_gate
from kiosk.uplink.status import Connection
from sync.core.bundle import create_signing_key, fingerprint, load_public_key, load_signing_key
from sync.core.codes.base import Colour
from sync.core.codes.keys import DISTRICT_KEY_FILE, create_issuer_keys, load_issuer_key
from sync.core.codes.pgc import issue_code
from sync.core.identity import load_district_key, subject_hash
from sync.core.policy import Decision, Direction
from sync.hq import issuer_keys, lists
from sync.hq.cli import main as hq_main

RESIDENT = "110101199001010031"


def run(*args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(hq_main, list(args))
    assert result.exit_code == code, result.output + str(result.exception or "")
    return result


def _code(keys: Path) -> str:
    """A green code for RESIDENT, signed by the keys folder's current issuer key."""
    now = datetime.now(UTC)
    return issue_code(
        load_issuer_key(keys),
        issuer="district-hq",
        subject=subject_hash(load_district_key(keys / DISTRICT_KEY_FILE), RESIDENT),
        name="L* S*",
        colour=Colour.GREEN,
        issued_at=now - timedelta(minutes=1),
        expires_at=now + timedelta(days=10),
    )


def _verdict(gate: Gate, text: str) -> tuple[Decision, tuple[str, ...]]:
    judge = open_gate(gate.config)
    try:
        verdict = judge.assess_code(text, direction=Direction.IN).verdict
    finally:
        assert judge.store is not None
        judge.store.close()
    return verdict.decision, verdict.reasons


def test_an_old_issuer_key_passes_during_the_overlap_and_is_refused_after_it(
    hq_db_url: str, make_gate: MakeGate, tmp_path: Path
) -> None:
    keys = tmp_path / "hq-keys"
    create_issuer_keys(keys)
    signing = tmp_path / "hq-signing.key.pem"
    create_signing_key(signing)
    # HQ looks for due background work as it starts, and then not again until the test has it look
    for hq in start_hq(hq_db_url, signing, district_key_file=keys / DISTRICT_KEY_FILE, job_poll_seconds=3600):
        run("trust", "add", str(keys), "--db", hq.settings.db)
        gate = make_gate(hq, "north-gate")
        roster = tmp_path / "roster.csv"
        roster.write_text(f"id_number,name,unit\n{RESIDENT},Li Si,1-101\n")
        run("roster", "load", "north-gate", str(roster), "--db", hq.settings.db, "--district-key", str(keys / DISTRICT_KEY_FILE))
        old_code = _code(keys)
        old_kid = load_issuer_key(keys).kid.hex()
        assert gate.sync().connection is Connection.ONLINE
        assert _verdict(gate, old_code)[0] is Decision.PASS

        rotated = run("keys", "rotate", "--dir", str(keys), "--overlap-hours", "72", "--db", hq.settings.db)
        new_code = _code(keys)
        assert f"issuer key {old_kid} is trusted until" in rotated.stdout
        assert (keys / "retired" / f"{old_kid}.key.pem").exists() and load_issuer_key(keys).kid.hex() != old_kid
        assert not (keys / "trust" / f"{old_kid}.pub.pem").exists()
        assert "(withdrawn at " in run("trust", "list", "--db", hq.settings.db).stdout
        run("trust", "add", str(keys), "--db", hq.settings.db)  # the folder again, as README's set-up does
        assert "(withdrawn at " in run("trust", "list", "--db", hq.settings.db).stdout  # still on its way out

        assert gate.sync().connection is Connection.ONLINE
        assert _verdict(gate, old_code)[0] is Decision.PASS  # during the overlap: both keys trusted
        assert _verdict(gate, new_code)[0] is Decision.PASS

        # The server withdraws what is due every minute (its `withdraw-keys` job); here, as of the overlap's end.
        jobs = hq.server.app.state.hq.jobs
        assert "withdraw-keys" in jobs.run_due(lambda: datetime.now(UTC) + timedelta(hours=71))
        assert [kid for kid, _ in issuer_keys.pending(hq.db)] == [old_kid], "not withdrawn before the overlap ends"
        assert "withdraw-keys" in jobs.run_due(lambda: datetime.now(UTC) + timedelta(hours=73))
        assert issuer_keys.pending(hq.db) == []
        assert gate.sync().connection is Connection.ONLINE
        decision, reasons = _verdict(gate, old_code)
        assert decision is Decision.REFUSE and any(old_kid in reason for reason in reasons), reasons
        assert _verdict(gate, new_code)[0] is Decision.PASS


def test_an_issuer_key_rotated_with_no_overlap_is_withdrawn_at_once(
    hq_db_url: str, make_gate: MakeGate, tmp_path: Path
) -> None:
    keys = tmp_path / "hq-keys"
    create_issuer_keys(keys)
    signing = tmp_path / "hq-signing.key.pem"
    create_signing_key(signing)
    for hq in start_hq(hq_db_url, signing, district_key_file=keys / DISTRICT_KEY_FILE):
        run("trust", "add", str(keys), "--db", hq.settings.db)
        gate = make_gate(hq, "north-gate")
        roster = tmp_path / "roster.csv"
        roster.write_text(f"id_number,name,unit\n{RESIDENT},Li Si,1-101\n")
        run("roster", "load", "north-gate", str(roster), "--db", hq.settings.db, "--district-key", str(keys / DISTRICT_KEY_FILE))
        leaked_code = _code(keys)
        leaked_kid = load_issuer_key(keys).kid.hex()
        assert gate.sync().connection is Connection.ONLINE
        assert _verdict(gate, leaked_code)[0] is Decision.PASS

        rotated = run("keys", "rotate", "--dir", str(keys), "--overlap-hours", "0", "--db", hq.settings.db)
        assert f"issuer key {leaked_kid} is withdrawn from every gate" in rotated.stdout
        assert leaked_kid not in run("trust", "list", "--db", hq.settings.db).stdout
        assert gate.sync().connection is Connection.ONLINE
        assert _verdict(gate, leaked_code)[0] is Decision.REFUSE
        assert _verdict(gate, _code(keys))[0] is Decision.PASS


def test_a_rotation_that_cannot_publish_leaves_the_keys_folder_as_it_was(hq_db_url: str, tmp_path: Path) -> None:
    keys = tmp_path / "hq-keys"
    create_issuer_keys(keys)
    kid = load_issuer_key(keys).kid.hex()
    (keys / "trust" / f"{kid}.pub.pem").unlink()  # the old key's public half is gone: HQ cannot publish it
    before = sorted(path.relative_to(keys) for path in keys.rglob("*"))
    failed = run("keys", "rotate", "--dir", str(keys), "--db", hq_db_url, code=1)
    assert f"{kid}.pub.pem" in failed.output
    assert sorted(path.relative_to(keys) for path in keys.rglob("*")) == before
    assert load_issuer_key(keys).kid.hex() == kid
    assert run("trust", "list", "--db", hq_db_url).stdout == ""  # and nothing was published


def test_a_bundle_signed_by_a_rotated_signing_key_is_accepted_and_the_new_key_pinned(
    hq_db_url: str, make_gate: MakeGate, tmp_path: Path
) -> None:
    signing = tmp_path / "hq-signing.key.pem"
    create_signing_key(signing)
    old = fingerprint(load_signing_key(signing))
    for hq in start_hq(hq_db_url, signing):
        gate = make_gate(hq, "north-gate")
        assert gate.sync().connection is Connection.ONLINE
    pinned = gate.config.hq_key_file
    assert pinned is not None and fingerprint(load_public_key(pinned.read_bytes())) == old

    rotated = run("signing-key", "rotate", "--signing-key", str(signing), "--db", hq_db_url)
    new = fingerprint(load_signing_key(signing))
    assert new != old and f"endorsed by {old}" in rotated.stdout

    for hq in start_hq(hq_db_url, signing):  # restarted: it signs with the new key
        _point(gate, hq)
        lists.set_policy(hq.db, None)  # a change, so the gate fetches a bundle signed by the new key
        status = gate.sync()
        assert status.connection is Connection.ONLINE, status.last_error
        assert status.bundle_changed
        assert fingerprint(load_public_key(pinned.read_bytes())) == new
        assert gate.sync().connection is Connection.ONLINE  # and verifies the next one with the new pin directly


def test_a_bundle_signed_by_a_key_the_pinned_one_never_endorsed_is_refused(
    hq_db_url: str, make_gate: MakeGate, tmp_path: Path
) -> None:
    signing = tmp_path / "hq-signing.key.pem"
    create_signing_key(signing)
    for hq in start_hq(hq_db_url, signing):
        gate = make_gate(hq, "north-gate")
        assert gate.sync().connection is Connection.ONLINE
    shutil.move(signing, tmp_path / "lost.pem")
    create_signing_key(signing)  # a new key, not endorsed by the pinned one
    for hq in start_hq(hq_db_url, signing):
        _point(gate, hq)
        lists.set_policy(hq.db, None)
        status = gate.sync()
        assert status.connection is Connection.ERROR
        assert "not the HQ key this gate pinned" in (status.last_error or "")


def _point(gate: Gate, hq: RunningHq) -> None:
    """The gate's HQ address, after HQ came back on another port."""
    text = gate.config_file.read_text()
    start = text.index("hq_url = ")
    end = text.index("\n", start)
    gate.config_file.write_text(text[:start] + f'hq_url = "{hq.url}"' + text[end:])
