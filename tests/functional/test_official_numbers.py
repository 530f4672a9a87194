"""Numbers an official can trust, through a real gate and a real HQ (SQLite and PostgreSQL): real codes issued by
`pocket-hq issue` are judged by the kiosk's `Gate`, logged in its hash-chained store, uploaded by the real sync
service to a live HQ, and read back through the staff dashboard as an official reads them."""

from __future__ import annotations

import csv
import io
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.dash_testkit import Staff, make_user
from tests.sync_testkit import (  # noqa: F401
    Gate,
    MakeGate,
    RunningHq,
    hq_db_url,
    make_gate,
    signing_key_file,
    start_hq,
    wait_until,
)

from kiosk.cli import main as kiosk_main
from kiosk.config import load_config
from kiosk.gate import Gate as Kiosk
from kiosk.gate import open_gate
from kiosk.shift import ShiftTally
from sync.core.identity import load_district_key, subject_hash
from sync.core.policy import Decision, Direction
from sync.hq import lists
from sync.hq.staff import Role
from tests.functional.test_dash_admin import colour_csv, upload
from tests.functional.test_dash_http import midday_zone
from tests.helpers import IssueCode, make_resident_id


@dataclass
class District:
    hq: RunningHq
    gate: Gate
    kiosk: Kiosk
    key: bytes
    window: dict[str, str]

    def subject(self, serial: int) -> str:
        return subject_hash(self.key, make_resident_id(serial))


@pytest.fixture
def district(hq_db_url: str, signing_key_file: Path, make_gate: MakeGate, hq_keys: Path) -> Iterator[District]:
    """A live HQ whose district is at midday, with north-gate enrolled (trusting HQ's issuer, rostering residents
    1 to 3) and its kiosk open; staff 'vera' may sign in."""
    now = datetime.now(UTC)
    zone = midday_zone(now)
    key_file = hq_keys / "district.key"
    for running in start_hq(hq_db_url, signing_key_file, timezone=zone, district_key_file=key_file):
        key = load_district_key(key_file)
        gate = make_gate(
            running, "north-gate", trust_dir=str(hq_keys / "trust"), district_key_file=str(key_file),
            sync_interval_seconds=3600,
        )
        lists.replace_roster(running.db, "north-gate", [
            {"subject": subject_hash(key, make_resident_id(n)), "name": "Z**** S**", "unit": f"3-10{n}"} for n in (1, 2, 3)
        ])
        assert gate.sync().bundle_version
        kiosk = open_gate(load_config(gate.config_file))
        make_user(running.db, "vera")
        local = datetime.now(UTC).astimezone(__import__("zoneinfo").ZoneInfo(zone))
        window = {"from": (local - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
                  "to": (local + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")}
        try:
            yield District(running, gate, kiosk, key, window)
        finally:
            assert kiosk.store is not None
            kiosk.store.close()


def _tile(html: str, name: str) -> str:
    found = re.search(rf'id="tile-{name}">(.*?)</(?:div|a)>', html, re.S)
    assert found, f"no tile {name}"
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


def _csv(text: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.decode("utf-8-sig"))))


def test_a_re_judged_person_is_one_passage_at_the_gate_and_everywhere_at_hq(district: District, issue: IssueCode) -> None:
    kiosk = district.kiosk
    first = kiosk.present_code(issue(serial=1), direction=Direction.IN, operator="li01")
    retaken = kiosk.retake_temperature(first, 38.4, operator="li01")
    kiosk.present_code(issue(serial=2), direction=Direction.IN, operator="li01")
    kiosk.present_code(issue(serial=3), direction=Direction.OUT, operator="li01")
    assert first.assessment.verdict.decision is Decision.PASS
    assert retaken.assessment.verdict.decision is Decision.REFUSE
    assert kiosk.store is not None
    gate_tally = ShiftTally().add_all(reversed(kiosk.store.recent()))

    assert district.gate.sync().uploaded == 4
    vera = Staff(district.hq.url, "vera")
    overview = vera.get("/").text
    gate_page = vera.get("/gates/north-gate").text
    traced = vera.get("/trace/person", subject=district.subject(1), **district.window).text
    exported = _csv(vera.client.get("/trace/gate.csv", params={"gate": "north-gate", **district.window}).content)
    vera.close()

    assert (gate_tally.attempts, gate_tally.entered, gate_tally.left, gate_tally.refused) == (3, 1, 1, 1)
    report = CliRunner().invoke(kiosk_main, ["report", "--day", f"{datetime.now().astimezone():%Y-%m-%d}", "--json",
                                             "--config", str(district.gate.config_file)])
    assert report.exit_code == 0, report.output
    assert json.loads(report.output) | {"day": ""} == {
        "gate": "north-gate", "day": "", "attempts": 3, "let_in": 1, "left": 1, "refused": 1, "held": 0}
    assert _tile(overview, "entries") == "3 attempts 1 let in, 1 left"
    assert _tile(overview, "refused") == "1 refused 0 held"
    assert "<dd>3 attempts: 1 let in, 1 left, 1 refused, 0 held;" in gate_page
    assert re.search(r'id="total">1<', traced) and "refuse" in traced
    assert sorted((r["direction"], r["verdict"]) for r in exported) == [("in", "pass"), ("in", "refuse"), ("out", "pass")]
    with district.hq.db.read() as conn:
        held = conn.exec_driver_sql("SELECT id, superseded_by FROM entries WHERE superseded_by IS NOT NULL").all()
    assert [tuple(r) for r in held] == [(first.entry.id, retaken.entry.id)], "the history keeps both entries"


def test_a_visit_with_an_expired_code_is_found_by_where_was_this_person(district: District, issue: IssueCode) -> None:
    expired = issue(serial=2, extra=("--issued-at", "2020-01-01T00:00Z"))
    forged = expired[:-8] + ("A" if expired[-8] != "A" else "B") + expired[-7:]
    kiosk = district.kiosk
    visit = kiosk.present_code(expired, direction=Direction.IN, operator="li01")
    forgery = kiosk.present_code(forged, direction=Direction.IN, operator="li01")
    assert district.gate.sync().uploaded == 2
    vera = Staff(district.hq.url, "vera")

    asked = vera.post("/trace/person", {"id_number": make_resident_id(2), "doc_type": "resident-id", **district.window})
    found = vera.client.get(asked.headers["location"]).text
    vera.close()

    assert visit.assessment.verdict.decision is Decision.REFUSE and visit.entry is not None
    assert visit.entry.row["subject"] == district.subject(2) and visit.entry.row["code_type"] == "PGC1"
    assert re.search(r'id="total">1<', found) and "code has expired" in found
    assert forgery.entry is not None and forgery.entry.row["subject"] is None
    assert '"code_hash"' in forgery.entry.row["details"]


def test_a_red_list_applied_in_the_dashboard_is_in_force_at_a_connected_gate_at_once(
    district: District, issue: IssueCode
) -> None:
    """The gate syncs every hour here: only HQ telling it can bring the list before the next scan."""
    make_user(district.hq.db, "ada", Role.ADMIN)
    service = district.gate.service()
    stop = threading.Event()
    statuses = []
    worker = threading.Thread(target=service.run, args=(stop.is_set, statuses.append), daemon=True)
    worker.start()
    try:
        wait_until(lambda: len(statuses) >= 2, "the gate's first sync")
        admin = Staff(district.hq.url, "ada")
        preview = upload(admin, colour_csv([(1, "red", "contact of a case")]))
        found = re.search(r'action="(/admin/uploads/[0-9a-f]+/apply)"', preview)
        assert found
        assert admin.post(found.group(1)).status_code == 303
        admin.close()
        wait_until(lambda: any(s.bundle_change for s in statuses[2:]), "the new red list at the gate", seconds=15)
        outcome = district.kiosk.present_code(issue(serial=1), direction=Direction.IN, operator="li01")
    finally:
        stop.set()
        worker.join(timeout=60)
        service.close()

    change = next(s.bundle_change for s in statuses[2:] if s.bundle_change)
    assert change.parts == ("red/yellow list",)
    assert outcome.assessment.verdict.decision is Decision.REFUSE
    assert "red list" in " ".join(map(str, outcome.assessment.verdict.reasons))
    # The latest red codes at HQ say whom (the masked name, as the gate logged it) and where; the gate's page, which
    # bundle version the gate has confirmed (HQ writes what it hears from gates every second).
    assert district.gate.sync().uploaded == 1
    vera = Staff(district.hq.url, "vera")
    overview = vera.get("/").text
    confirmed = f"the gate has confirmed version {change.version}; current {change.version}</dd>"
    wait_until(lambda: confirmed in vera.get("/gates/north-gate").text, "the gate's confirmation at HQ", seconds=10)
    vera.close()
    latest = overview.split("<h2>Latest red and yellow codes</h2>", 1)[1].split("</table>", 1)[0]
    assert '<td class="name">Z**** S**</td>' in latest and ">north-gate</a>" in latest
