"""From a trace to the gates in one step (issue 19): an admin ticks a case's contact on the contacts page of a live
HQ, previews, applies; the audit log names the admin and the trace; a real gate syncs and holds the contact on the
next scan, then lets them through once the entry lapses (the gate's clock injected, no sleeps). A bad request
changes nothing; a viewer cannot do it; an upload of the red/yellow list does not drop the traced entry."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.dash_testkit import PASSWORD, Event, Staff, make_user, person, record_and_ingest
from tests.sync_testkit import (  # noqa: F401
    MakeGate,
    RunningHq,
    hq_db_url,
    issuer_keys,
    make_gate,
    signing_key_file,
    start_hq,
)

from kiosk.gate import open_gate
from sync.core.codes.base import Colour
from sync.core.codes.keys import DISTRICT_KEY_FILE, load_issuer_key
from sync.core.codes.pgc import issue_code
from sync.core.identity import load_district_key
from sync.core.policy import Decision, Direction
from sync.hq import lists
from sync.hq.staff import Role
from sync.hq.tables import audit_log, traced_colour


@pytest.fixture
def hq(hq_db_url: str, signing_key_file: Path, issuer_keys: Path) -> Iterator[RunningHq]:
    """A live HQ with the district key (SQLite, and PostgreSQL when reachable), an admin 'ada' and a viewer 'vera'."""
    for running in start_hq(hq_db_url, signing_key_file, district_key_file=issuer_keys / "district.key", timezone="UTC"):
        make_user(running.db, "ada", Role.ADMIN)
        make_user(running.db, "vera")
        yield running


def _code(keys: Path, subject: str, now: datetime) -> str:
    return issue_code(
        load_issuer_key(keys), issuer="district-hq", subject=subject, name="Z**** S**", colour=Colour.GREEN,
        issued_at=now - timedelta(minutes=1), expires_at=now + timedelta(hours=48),
    )


def _contacts_link(case: str, now: datetime) -> str:
    window = f"from={(now - timedelta(days=1)):%Y-%m-%dT%H:%M}&to={(now + timedelta(hours=1)):%Y-%m-%dT%H:%M}"
    return f"/trace/contacts?subject={case}&minutes=15&{window}"


def _ticked(html: str) -> list[str]:
    return re.findall(r'type="checkbox" name="subject" value="([0-9a-f]{32})"', html)


def test_a_traced_contact_is_held_at_the_gate_then_lapses(
    hq: RunningHq, make_gate: MakeGate, issuer_keys: Path, tmp_path: Path
) -> None:
    key = load_district_key(issuer_keys / DISTRICT_KEY_FILE)
    now = datetime.now(UTC)
    (_, case), (_, contact), (_, stranger) = person(key, 1), person(key, 2), person(key, 3)
    record_and_ingest(hq.db, tmp_path / "east", "east-gate", [
        Event(now - timedelta(hours=3), case, name="W*** D****"),
        Event(now - timedelta(hours=3) + timedelta(minutes=5), contact, name="L* S*"),
        Event(now - timedelta(hours=8), stranger, name="Z**** S**"),
    ])
    lists.add_trust(hq.db, lists.trust_documents_from([issuer_keys]))
    gate = make_gate(hq, "north-gate")
    lists.replace_roster(hq.db, "north-gate", [{"subject": contact, "name": "L* S*", "unit": "3-201"}])
    assert gate.sync().online

    ada = Staff(hq.url, "ada")
    link = _contacts_link(case, now)
    result = ada.get(link)
    assert result.status_code == 200 and _ticked(result.text) == [contact]

    preview = ada.post("/trace/list", {"subject": contact, "colour": "yellow", "reason": "close contact of <case 7>",
                                       "days": "0.5", "trace": link})
    assert preview.status_code == 200, preview.text
    assert 'id="n-added">1<' in preview.text and "L* S*" in preview.text
    assert "&lt;case 7&gt;" in preview.text and "<case 7>" not in preview.text
    with hq.db.read() as conn:
        assert conn.execute(select(traced_colour)).first() is None, "a preview changes nothing"

    fields = dict(re.findall(r'<input type="hidden" name="(colour|reason|days|trace)" value="([^"]*)"', preview.text))
    applied = ada.post("/trace/list/apply", {"subject": contact} | {k: unescape(v) for k, v in fields.items()})
    assert applied.status_code == 303 and applied.headers["location"] == "/admin/lists?traced=1"
    page = ada.get("/admin/lists").text
    assert "close contact of &lt;case 7&gt;" in page and 'href="/trace/contacts?' in page
    with hq.db.read() as conn:
        audit = conn.execute(select(audit_log).where(audit_log.c.action == "list from trace")).one()
        until = datetime.fromisoformat(conn.execute(select(traced_colour.c.until)).scalar_one())
    assert audit.username == "ada" and json.loads(audit.detail)["trace"] == unescape(fields["trace"]) == link
    assert json.loads(audit.detail)["subjects"] == [contact]

    assert gate.sync().bundle_changed
    judge = open_gate(gate.config)
    try:
        held = judge.assess_code(_code(issuer_keys, contact, now), direction=Direction.IN, now=now + timedelta(minutes=1))
        lapsed = judge.assess_code(
            _code(issuer_keys, contact, now), direction=Direction.IN, now=until + timedelta(minutes=1)
        )
    finally:
        assert judge.store is not None
        judge.store.close()
    assert held.verdict.decision is not Decision.PASS and "yellow list" in " ".join(held.verdict.reasons)
    assert lapsed.verdict.decision is Decision.PASS, lapsed.verdict.reasons
    assert timedelta(hours=11) < until - now < timedelta(hours=13)
    ada.close()


def test_an_upload_keeps_traced_entries_and_bad_requests_change_nothing(hq: RunningHq, issuer_keys: Path) -> None:
    key = load_district_key(issuer_keys / DISTRICT_KEY_FILE)
    (_, case), (_, contact) = person(key, 1), person(key, 2)
    link = _contacts_link(case, datetime.now(UTC))
    ada = Staff(hq.url, "ada")
    good = {"subject": contact, "colour": "red", "reason": "contact", "days": "3", "trace": link}

    for change, problem in [
        ({"colour": "green"}, "choose yellow or red"),
        ({"reason": "  "}, "give a reason"),
        ({"days": "400"}, "lasts between 0.01 and 90 days"),
        ({"days": "soon"}, "must be a number of days"),
        ({"subject": "110101199001010031"}, "not a subject"),
        ({"trace": "https://elsewhere.example/"}, "which tracing result"),
    ]:
        answer = ada.post("/trace/list/apply", good | change)
        assert answer.status_code == 422 and problem in unescape(answer.text), (change, answer.text[-800:])
    with hq.db.read() as conn:
        assert conn.execute(select(traced_colour)).first() is None

    vera = Staff(hq.url, "vera", PASSWORD)
    assert vera.post("/trace/list/apply", good).status_code == 403
    assert ada.post("/trace/list/apply", good).status_code == 303
    lists.replace_colour_list(hq.db, [])  # an upload replaces the uploaded list whole
    with hq.db.read() as conn:
        assert conn.execute(select(traced_colour.c.subject)).scalars().all() == [contact]
    ada.close()
    vera.close()


def test_a_traced_red_over_an_uploaded_yellow_lapses_back_to_yellow_at_the_gate(
    hq: RunningHq, make_gate: MakeGate, issuer_keys: Path
) -> None:
    key = load_district_key(issuer_keys / DISTRICT_KEY_FILE)
    now = datetime.now(UTC)
    (_, case), (_, contact) = person(key, 1), person(key, 2)
    lists.add_trust(hq.db, lists.trust_documents_from([issuer_keys]))
    lists.replace_colour_list(hq.db, [{"subject": contact, "colour": "yellow", "note": "uploaded"}])
    gate = make_gate(hq, "north-gate")
    ada = Staff(hq.url, "ada")
    answer = ada.post("/trace/list/apply", {"subject": contact, "colour": "red", "reason": "case in the household",
                                            "days": "1", "trace": _contacts_link(case, now)})
    assert answer.status_code == 303, answer.text
    with hq.db.read() as conn:
        until = datetime.fromisoformat(conn.execute(select(traced_colour.c.until)).scalar_one())
    assert gate.sync().online

    judge = open_gate(gate.config)
    try:
        reasons = [
            judge.assess_code(_code(issuer_keys, contact, now), direction=Direction.IN, now=at).verdict.reasons[0]
            for at in (now + timedelta(minutes=1), until + timedelta(minutes=1))
        ]
    finally:
        assert judge.store is not None
        judge.store.close()
    assert reasons == ["on HQ's red list (code shows green)", "on HQ's yellow list (code shows green)"]
    ada.close()
