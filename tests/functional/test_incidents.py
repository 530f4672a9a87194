"""Red-code incidents (issue 19) with a live HQ and a real gate: the procedure set at HQ reaches the gate in the
bundle; an incident the keeper records is at HQ, on the overview, before the first batch of a 10,000-entry backlog
is; it is sent once, and stays on the overview until an official closes it (audited)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from click.testing import CliRunner
from sqlalchemy import func, select

from tests.dash_testkit import Staff, make_user
from tests.sync_testkit import (  # noqa: F401
    MakeGate,
    RunningHq,
    hq,
    hq_db_url,
    issuer_keys,
    make_gate,
    signing_key_file,
)

from kiosk.gate import open_gate
from kiosk.incidents import is_incident, procedure_of, record_incident, unsent
from kiosk.uplink.status import SyncProgress
from sync.core.codes.base import Colour
from sync.core.codes.keys import DISTRICT_KEY_FILE, load_issuer_key
from sync.core.codes.pgc import issue_code
from sync.core.identity import load_district_key, subject_hash
from sync.core.policy import Direction
from sync.hq import lists
from sync.hq.cli import main as hq_main
from sync.hq.staff import Role
from sync.hq.tables import audit_log, entries, incidents

BACKLOG = 10_000


def _red_code(keys: Path, now: datetime) -> str:
    return issue_code(
        load_issuer_key(keys), issuer="district-hq",
        subject=subject_hash(load_district_key(keys / DISTRICT_KEY_FILE), "110101199001010023"), name="Z**** S**",
        colour=Colour.RED, issued_at=now - timedelta(minutes=1), expires_at=now + timedelta(hours=24),
    )


def _count(running: RunningHq, table: object) -> int:
    with running.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_an_incident_reaches_hq_before_a_10000_entry_backlog(
    hq: RunningHq, make_gate: MakeGate, issuer_keys: Path
) -> None:
    answer = CliRunner().invoke(hq_main, [
        "incidents", "procedure", "--db", hq.settings.db, "--phone", "12320-7",
        "--step", "Keep the person apart, outside the gate", "--step", "Call the health team",
    ])
    assert answer.exit_code == 0, answer.output
    lists.add_trust(hq.db, lists.trust_documents_from([issuer_keys]))
    gate = make_gate(hq, "north-gate")
    assert gate.sync().online
    with gate.store() as store:
        procedure = procedure_of(store)
    assert procedure is not None and procedure.phone == "12320-7" and len(procedure.steps) == 2

    gate.log(BACKLOG)
    now = datetime.now(UTC)
    judge = open_gate(gate.config)
    try:
        refused = judge.present_code(_red_code(issuer_keys, now), direction=Direction.IN, operator="keeper-1", now=now)
        assert is_incident(refused), refused.assessment.verdict
        assert judge.store is not None
        record_incident(judge.store, refused, "waiting for the health team", "keeper-1", now)
    finally:
        assert judge.store is not None
        judge.store.close()

    seen: list[tuple[int, int]] = []

    def at_first_batch(progress: SyncProgress) -> None:
        if not seen:
            seen.append((_count(hq, incidents), _count(hq, entries)))

    service = gate.service()
    try:
        status = service.run_once(progress=at_first_batch)
    finally:
        service.close()
    assert status.online, status.last_error
    assert seen and seen[0][0] == 1 and seen[0][1] <= gate.config.sync_batch_entries, seen
    assert _count(hq, entries) == BACKLOG + 1
    with gate.store() as store:
        assert unsent(store, 10) == []
    assert gate.sync().online and _count(hq, incidents) == 1, "sent once"

    make_user(hq.db, "olga", Role.VIEWER)
    olga = Staff(hq.url, "olga")
    page = olga.get("/").text
    assert 'id="incidents"' in page and "waiting for the health team" in page and "keeper-1" in page
    close = re.search(r'action="(/incidents/[0-9A-Z]{26}/close)"', page)
    assert close is not None
    assert olga.post(close.group(1)).status_code == 303
    assert 'id="incidents"' not in olga.get("/").text
    assert olga.post(close.group(1)).status_code == 404, "closed once"
    with hq.db.read() as conn:
        assert conn.execute(select(audit_log.c.username).where(audit_log.c.action == "close incident")).scalar() == "olga"
    olga.close()


def test_a_bad_incident_report_is_refused_and_changes_nothing(hq: RunningHq) -> None:
    token = hq.add_gate("north-gate")
    hq.add_gate("east-gate")
    incident = {"id": "01HZZZZZZZZZZZZZZZZZZZZZZZ", "entry_id": "01HZZZZZZZZZZZZZZZZZZZZZZY",
                "ts": "2027-03-01T09:30:00.000Z", "outcome": "sent home"}
    with httpx.Client(base_url=hq.url, headers={"Authorization": f"Bearer {token}"}) as client:
        for gate, body, status, problem in [
            ("north-gate", {"gate": "east-gate", "incidents": [incident]}, 403, "only report its own incidents"),
            ("north-gate", {"gate": "north-gate", "incidents": [incident | {"outcome": "shot"}]}, 422, "outcome"),
            ("north-gate", {"gate": "north-gate", "incidents": []}, 422, "incidents"),
            ("east-gate", {"gate": "east-gate", "incidents": [incident]}, 403, ""),
        ]:
            answer = client.post(f"/v1/gates/{gate}/incidents", json=body)
            assert answer.status_code == status and problem in answer.text, (body, answer.text)
        assert client.post("/v1/gates/north-gate/incidents", content=b"{not json").status_code == 422
        assert client.post("/v1/gates/north-gate/incidents", json={"gate": "north-gate", "incidents": [incident]}).json()["new"] == 1
        assert client.post("/v1/gates/north-gate/incidents", json={"gate": "north-gate", "incidents": [incident]}).json()["new"] == 0
    assert _count(hq, incidents) == 1
