"""HQ's bundle reaching a gate: lists, passes, policy and trusted keys change real verdicts; a forged, tampered,
stale or unusable bundle is refused whole and the gate keeps the lists it had."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
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
    start_hq,
)

from sync.core.codes.base import Colour
from sync.core.codes.keys import DISTRICT_KEY_FILE, load_issuer_key
from sync.core.codes.pgc import issue_code
from kiosk.gate import open_gate
from kiosk.keeper_locale import ZONE_META, set_zone, zone
from sync.core.identity import load_district_key, subject_hash
from sync.core.policy import Decision, Direction
from kiosk.trust_store import list_documents
from sync.core.bundle import create_signing_key, public_pem
from kiosk.uplink.status import Connection
from sync.hq import lists
from sync.core.protocol import ISSUER_PUBLIC_KEY, TrustDocument
from kiosk.uplink.state import SyncState
from tests.standards_certs import NOW, issue_dcc, issue_shc, make_csca, make_dsc, make_shc_issuer

RESIDENT = "110101199001010031"
VISITOR = "110101199001010015"
CONTACT = "110101199001010023"


def _code(keys: Path, id_number: str, colour: Colour = Colour.GREEN) -> str:
    now = datetime.now(UTC)
    return issue_code(
        load_issuer_key(keys),
        issuer="district-hq",
        subject=subject_hash(load_district_key(keys / DISTRICT_KEY_FILE), id_number),
        name="Z**** S**",
        colour=colour,
        issued_at=now - timedelta(minutes=1),
        expires_at=now + timedelta(hours=24),
    )


def _verdict(gate: Gate, text: str) -> tuple[Decision, tuple[str, ...]]:
    judge = open_gate(gate.config)
    try:
        assessment = judge.assess_code(text, direction=Direction.IN)
    finally:
        assert judge.store is not None
        judge.store.close()
    return assessment.verdict.decision, assessment.verdict.reasons


def _publish_district(hq: RunningHq, keys: Path, tmp_path: Path) -> None:
    district_key = load_district_key(keys / DISTRICT_KEY_FILE)
    lists.add_trust(hq.db, lists.trust_documents_from([keys]))
    red = tmp_path / "red.csv"
    red.write_text(f"id_number,colour,note\n{CONTACT},red,close contact\n")
    lists.replace_colour_list(hq.db, list(lists.iter_colour_list(red, district_key)))
    lists.replace_roster(hq.db, "north-gate", [{"subject": subject_hash(district_key, RESIDENT), "name": "L* S*", "unit": "3-201"}])


def test_hq_lists_decide_verdicts_at_the_gate(hq: RunningHq, make_gate: MakeGate, issuer_keys: Path, tmp_path: Path) -> None:
    gate = make_gate(hq, "north-gate")
    _publish_district(hq, issuer_keys, tmp_path)
    assert _verdict(gate, _code(issuer_keys, RESIDENT))[0] is Decision.REFUSE  # no trusted keys yet

    status = gate.sync()

    assert status.connection is Connection.ONLINE and status.bundle_changed, status.last_error
    assert _verdict(gate, _code(issuer_keys, RESIDENT)) == (Decision.PASS, ("green code", "resident"))
    decision, reasons = _verdict(gate, _code(issuer_keys, CONTACT))
    assert decision is Decision.REFUSE and reasons[0] == "on HQ's red list (code shows green)"
    assert _verdict(gate, _code(issuer_keys, VISITOR))[0] is Decision.REFUSE

    now = datetime.now(UTC)
    lists.issue_pass(
        hq.db,
        id_number=VISITOR,
        district_key=load_district_key(issuer_keys / DISTRICT_KEY_FILE),
        kind="staff",
        valid_from=now - timedelta(minutes=1),
        valid_until=now + timedelta(hours=8),
        gate_id="north-gate",
    )
    policy = tmp_path / "policy.toml"
    policy.write_text('[colours]\nred = "hold"\n[access]\nnon_resident_without_pass = "hold"\n')
    lists.set_policy(hq.db, lists.policy_file(policy))
    later = gate.sync()

    assert later.bundle_version > status.bundle_version
    decision, reasons = _verdict(gate, _code(issuer_keys, VISITOR))
    assert decision is Decision.PASS and reasons[-1].startswith("staff pass until")
    assert _verdict(gate, _code(issuer_keys, CONTACT))[0] is Decision.HOLD  # HQ's policy is in force


def test_an_unchanged_bundle_is_not_fetched_again(hq: RunningHq, make_gate: MakeGate, proxy: FaultyProxy) -> None:
    gate = make_gate(hq, "north-gate", url=proxy.url)
    first = gate.sync()

    second = gate.sync()

    assert first.bundle_changed and not second.bundle_changed
    assert second.bundle_version == first.bundle_version
    assert [a.status for a in proxy.answers if a.path.endswith("/bundle")] == [200, 304]


def _lists(gate: Gate) -> dict[str, list[dict[str, object]]]:
    with gate.store() as store:
        return {table: store.rows(table) for table in ("roster", "passes", "colour_list", "trust_documents")}


def test_a_tampered_bundle_is_refused_and_the_previous_lists_stay(
    hq: RunningHq, make_gate: MakeGate, proxy: FaultyProxy, issuer_keys: Path, tmp_path: Path
) -> None:
    gate = make_gate(hq, "north-gate", url=proxy.url)
    _publish_district(hq, issuer_keys, tmp_path)
    gate.sync()
    before = _lists(gate)
    lists.replace_colour_list(hq.db, [])
    proxy.fail_next("tamper", "/bundle")

    status = gate.sync()

    assert proxy.applied == [("tamper", "/v1/gates/north-gate/bundle")]
    assert status.connection is Connection.ERROR
    assert "bundle" in (status.last_error or "") and not status.bundle_changed
    assert _lists(gate) == before
    assert gate.sync().bundle_changed  # untampered, it applies
    assert _lists(gate)["colour_list"] == []


def test_a_gzipped_bundle_damaged_in_transit_is_an_offline_status_and_the_previous_lists_stay(
    hq: RunningHq, make_gate: MakeGate, proxy: FaultyProxy, issuer_keys: Path, tmp_path: Path
) -> None:
    """HQ gzips answers over 4 KB; a damaged one cannot be decompressed. That is a status, not a crash of the
    sync worker, and worth trying again at the next interval."""
    gate = make_gate(hq, "north-gate", url=proxy.url)
    _publish_district(hq, issuer_keys, tmp_path)
    first = gate.sync()
    before = _lists(gate)
    residents = [{"subject": f"{i:032x}", "name": "W* L*", "unit": f"{i}-101"} for i in range(200)]
    lists.replace_roster(hq.db, "north-gate", residents)
    gate.log(3)
    proxy.fail_next("tamper", "/bundle")

    status = gate.sync()

    damaged = [a for a in proxy.answers if a.path.endswith("/bundle")][-1]
    assert proxy.applied == [("tamper", "/v1/gates/north-gate/bundle")] and damaged.content_encoding == "gzip"
    assert status.connection is Connection.OFFLINE
    assert "arrived damaged" in (status.last_error or "") and "DecodingError" in (status.last_error or "")
    assert status.entries_waiting == 0  # the upload before it went through
    assert (status.bundle_version, status.bundle_changed) == (first.bundle_version, False)
    assert _lists(gate) == before
    again = gate.sync()
    assert again.online and again.bundle_changed, again.last_error
    assert len(_lists(gate)["roster"]) == 200


def test_a_gzipped_bundle_damaged_in_transit_is_asked_for_again_within_the_retry_budget(
    hq: RunningHq, make_gate: MakeGate, proxy: FaultyProxy, issuer_keys: Path, tmp_path: Path
) -> None:
    """Asking again is harmless (the bundle is a GET), so a damaged answer is retried like a dropped one."""
    gate = make_gate(hq, "north-gate", url=proxy.url, sync_retry_seconds=20)
    _publish_district(hq, issuer_keys, tmp_path)
    residents = [{"subject": f"{i:032x}", "name": "W* L*", "unit": f"{i}-101"} for i in range(200)]
    lists.replace_roster(hq.db, "north-gate", residents)  # over 4 KB: HQ gzips the bundle
    proxy.fail_next("tamper", "/bundle")

    status = gate.sync()

    bundles = [(a.status, a.content_encoding) for a in proxy.answers if a.path.endswith("/bundle")]
    assert proxy.applied == [("tamper", "/v1/gates/north-gate/bundle")] and bundles == [(200, "gzip")] * 2
    assert status.online and status.bundle_changed, status.last_error
    assert len(_lists(gate)["roster"]) == 200


def test_a_bundle_signed_by_another_key_is_refused(hq: RunningHq, make_gate: MakeGate, tmp_path: Path) -> None:
    gate = make_gate(hq, "north-gate")
    rogue = create_signing_key(tmp_path / "rogue.key.pem")
    gate.config.hq_key_file.write_text(public_pem(rogue))  # type: ignore[union-attr]

    status = gate.sync()

    assert status.connection is Connection.ERROR
    assert "not the HQ key this gate pinned" in (status.last_error or "")
    assert status.bundle_version == 0


def test_an_unusable_bundle_changes_nothing(hq: RunningHq, make_gate: MakeGate, issuer_keys: Path, tmp_path: Path) -> None:
    gate = make_gate(hq, "north-gate")
    _publish_district(hq, issuer_keys, tmp_path)
    good = gate.sync()
    before = _lists(gate)
    lists.replace_colour_list(hq.db, [])
    lists.add_trust(hq.db, [TrustDocument(type=ISSUER_PUBLIC_KEY, id="00" * 8, content="not a key")])

    status = gate.sync()

    assert status.connection is Connection.ERROR and "trusted key 0000000000000000" in (status.last_error or "")
    assert status.bundle_version == good.bundle_version
    assert _lists(gate) == before


def test_a_stale_bundle_never_replaces_a_newer_one(hq: RunningHq, make_gate: MakeGate) -> None:
    gate = make_gate(hq, "north-gate")
    gate.sync()
    with sqlite3.connect(gate.config.database) as conn:
        conn.execute("UPDATE sync_state SET bundle_version = 999")

    status = gate.sync()

    assert status.connection is Connection.ERROR
    assert "older than the one in force (999)" in (status.last_error or "")


def test_trust_documents_of_types_a_gate_does_not_know_travel_and_wait(hq: RunningHq, make_gate: MakeGate) -> None:
    future = TrustDocument(type="ca-pin-set", id="pins-1", label="from a newer HQ", content="...")
    lists.add_trust(hq.db, [future])
    gate = make_gate(hq, "north-gate")

    status = gate.sync()

    assert status.connection is Connection.ONLINE, status.last_error
    with gate.store() as store:
        assert SyncState(store).trust_documents("ca-pin-set") == [future]
        assert list_documents(store) == []


def test_standard_certificates_verify_with_trust_files_from_hq(hq: RunningHq, make_gate: MakeGate, tmp_path: Path) -> None:
    signer = make_dsc(make_csca())
    issuer = make_shc_issuer()
    (tmp_path / "dsc.der").write_bytes(signer.der())
    (tmp_path / "issuer.jwks.json").write_text(json.dumps(issuer.jwks()))
    gate = make_gate(hq, "north-gate")
    dcc, shc = issue_dcc(signer), issue_shc(issuer)
    assert _verdict(gate, dcc)[1][0].startswith("code signed by an unknown issuer")

    lists.add_trust(hq.db, lists.trust_documents_from([tmp_path / "dsc.der", tmp_path / "issuer.jwks.json"]))
    status = gate.sync()

    assert status.connection is Connection.ONLINE, status.last_error
    with gate.store() as store:
        assert sorted((d.name, d.origin) for d in list_documents(store)) == [
            ("hq/dsc.der", "hq"), ("hq/issuer.jwks.json", "hq")
        ]
    for text in (dcc, shc):
        judge = open_gate(gate.config)
        assessment = judge.assess_code(text, direction=Direction.IN, now=NOW)  # the certificates are made around NOW
        judge.store.close()  # type: ignore[union-attr]
        assert assessment.error is None and assessment.credential is not None


def test_a_gate_can_only_read_its_own_bundle(hq: RunningHq, make_gate: MakeGate) -> None:
    north = make_gate(hq, "north-gate")
    make_gate(hq, "south-gate")

    answer = httpx.get(f"{hq.url}/v1/gates/south-gate/bundle", headers={"Authorization": f"Bearer {north.token}"})

    assert answer.status_code == 403


def test_the_districts_zone_reaches_the_gate_in_the_bundle_and_every_time_shown_follows_it(
    hq_db_url: str, signing_key_file: Path, make_gate: MakeGate
) -> None:
    """HQ's --timezone is the zone a keeper reads times in once the gate is enrolled (its own `timezone` until
    then); starting HQ with another zone brings the new one to the gate at its next sync."""
    try:
        for running in start_hq(hq_db_url, signing_key_file, timezone="Asia/Shanghai"):
            gate = make_gate(running, "north-gate", timezone="Europe/Paris")
            assert gate.sync().bundle_changed
            with gate.store() as store:
                assert store.get_meta(ZONE_META) == "Asia/Shanghai"
            set_zone(gate.config.timezone)  # as the gate starts: its own zone ...
            judge = open_gate(gate.config)
            assert zone() == ZoneInfo("Asia/Shanghai")  # ... until the district's is read from its database
            assert judge.store is not None
            judge.store.close()
            url = running.url
        for running in start_hq(hq_db_url, signing_key_file, timezone="Asia/Urumqi"):
            gate.config_file.write_text(gate.config_file.read_text().replace(url, running.url))
            judge = open_gate(gate.config)
            assert judge.in_force is not None and judge.store is not None
            assert gate.sync().bundle_changed
            assert judge.in_force.refresh()  # the running kiosk's periodic read puts the new bundle in force
            assert zone() == ZoneInfo("Asia/Urumqi")
            judge.store.close()
    finally:
        set_zone(None)


def test_the_roster_s_household_phones_reach_the_gate_and_a_bad_phone_refuses_the_file(
    hq: RunningHq, make_gate: MakeGate, issuer_keys: Path, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from sync.hq.cli import main as hq_main

    gate = make_gate(hq, "north-gate")
    key = ["--db", hq.settings.db, "--district-key", str(issuer_keys / DISTRICT_KEY_FILE)]
    roster = tmp_path / "roster.csv"
    roster.write_text(f"id_number,name,unit,phone\n{RESIDENT},Li Si,3-201,138 0013 8000\n{VISITOR},Wang Wu,4-101,\n")
    loaded = CliRunner().invoke(hq_main, ["roster", "load", "north-gate", str(roster), *key])
    assert loaded.exit_code == 0, loaded.output
    bad = tmp_path / "bad.csv"
    bad.write_text(f"id_number,name,unit,phone\n{RESIDENT},Li Si,3-201,call the office\n")
    refused = CliRunner().invoke(hq_main, ["roster", "load", "north-gate", str(bad), *key])

    assert gate.sync().online
    judge = open_gate(gate.config)
    try:
        phones = [judge.household_phone(unit) for unit in ("3-201", " 3-201 ", "4-101", "9-999")]
    finally:
        assert judge.store is not None
        judge.store.close()
    assert phones == ["13800138000", "13800138000", None, None]
    assert refused.exit_code != 0 and "phone is not 5 to 20 digits" in refused.output
