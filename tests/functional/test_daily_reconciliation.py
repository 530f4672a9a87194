"""Daily reconciliation through a real gate and a real HQ (SQLite and PostgreSQL): the gate's store logs a day's
passages, the real sync service uploads them and then reports the day's counts (the ones `pocket-kiosk report
--day` prints), and the staff dashboard sets them beside HQ's counts of the same day. When HQ loses an entry of
that day, the day is flagged on the gate's page and the gate on the overview."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select
from tests.dash_testkit import Staff, make_user
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
    start_hq,
)

from kiosk.cli import main as kiosk_main
from kiosk.store import EntryDraft
from kiosk.uplink.day_reports import due_report
from kiosk.uplink.state import SyncState
from sync.core.codes.base import Colour
from sync.core.policy import Decision, Direction, Verdict
from sync.hq.retention import purge
from sync.hq.tables import entries, gate_days

ZONE = "Asia/Shanghai"


@pytest.fixture
def district_hq(hq_db_url: str, signing_key_file: Path) -> Iterator[RunningHq]:
    """A live HQ in the district's zone (which its bundle gives the gates)."""
    yield from start_hq(hq_db_url, signing_key_file, timezone=ZONE)


def _day(days_ago: int) -> date:
    return datetime.now(ZoneInfo(ZONE)).date() - timedelta(days=days_ago)


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(ZONE)).astimezone(UTC)


def _draft(direction: Direction, decision: Decision, n: int, **details: str) -> EntryDraft:
    reasons = ("green code",) if decision is Decision.PASS else ("temperature 38.1 °C",)
    verdict = Verdict(decision, reasons, Colour.GREEN)
    return EntryDraft(direction=direction, code_type="PGC1", verdict=verdict, subject=f"{n:032x}", name="Z**** S**",
                      temperature=36.5, operator="keeper-1", details={"n": str(n), **details})


def log_a_day(gate: Gate, day: date) -> None:
    """Eight attempts on `day`: 4 let in (one of them a held person let in by an amendment: one passage), 2 left,
    1 refused, 1 held."""
    with gate.store() as store:
        for i in range(3):
            store.record(_draft(Direction.IN, Decision.PASS, i), now=_at(day, 8, i))
        for i in range(2):
            store.record(_draft(Direction.OUT, Decision.PASS, 10 + i), now=_at(day, 12, i))
        store.record(_draft(Direction.IN, Decision.REFUSE, 20), now=_at(day, 15))
        store.record(_draft(Direction.IN, Decision.HOLD, 21), now=_at(day, 16))
        amended = store.record(_draft(Direction.IN, Decision.HOLD, 22), now=_at(day, 23, 58))
        store.record(_draft(Direction.IN, Decision.PASS, 22, amends=amended.id), now=_at(day, 23, 59))


def _day_row(html: str, day: date) -> str:
    found = re.search(rf'<tr data-day="{day.isoformat()}"[^>]*>(.*?)</tr>', html, re.S)
    assert found is not None, f"no row for {day} on the gate page"
    return found.group(1)


def _cells(row: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]


def test_a_days_counts_agree_until_hq_loses_an_entry_of_that_day(district_hq: RunningHq, make_gate: MakeGate) -> None:
    running = district_hq
    gate = make_gate(running, "north-gate", timezone=ZONE)
    day, before, today = _day(2), _day(3), _day(0)
    log_a_day(gate, day)
    gate.log(1, at=_at(before, 9))
    gate.log(1, start=50)  # today: not over, not reported
    with gate.store() as store:
        assert due_report(gate.config, SyncState(store), datetime.now(UTC)) is None  # nothing uploaded yet

    status = gate.sync()

    assert status.last_error is None and status.uploaded == 11
    with running.db.read() as conn:
        reported = {r.day: r for r in conn.execute(select(gate_days).where(gate_days.c.gate == "north-gate"))}
    assert sorted(reported) == [before.isoformat(), day.isoformat(), _day(1).isoformat()]
    printed = CliRunner().invoke(
        kiosk_main, ["report", "--day", day.isoformat(), "--json", "--config", str(gate.config_file)]
    )
    assert printed.exit_code == 0, printed.output
    mine = json.loads(printed.output)
    assert mine == {"gate": "north-gate", "day": day.isoformat(), "attempts": 8, "let_in": 4, "left": 2,
                    "refused": 1, "held": 1}
    row = reported[day.isoformat()]
    assert {k: getattr(row, k) for k in ("attempts", "let_in", "left", "refused", "held")} == {
        k: v for k, v in mine.items() if k not in ("gate", "day")}

    make_user(running.db, "vera")
    staff = Staff(running.url, "vera")
    try:
        page = staff.get("/gates/north-gate").text
        assert _cells(_day_row(page, day))[:7] == [day.isoformat(), "8 / 8", "4 / 4", "2 / 2", "1 / 1", "1 / 1",
                                                   "counts agree"]
        assert "counts differ" not in page
        assert today.isoformat() not in re.findall(r'data-day="([^"]+)"', page)
        assert "counts differ" not in staff.get("/").text

        # HQ loses the refused attempt of that day (a restore from an older backup, a hand in the database).
        with running.db.begin() as conn:
            conn.execute(delete(entries).where(entries.c.gate == "north-gate", entries.c.verdict == "refuse"))

        page = staff.get("/gates/north-gate").text
        cells = _cells(_day_row(page, day))
        assert cells[:7] == [day.isoformat(), "8 / 7", "4 / 4", "2 / 2", "1 / 0", "1 / 1", "counts differ"]
        assert '<td class="num hot">1 / 0</td>' in _day_row(page, day)
        assert _cells(_day_row(page, before))[6] == "counts agree"
        overview = staff.get("/").text
        marked = re.search(r'<tr class="state-ok" data-gate="north-gate">.*?</tr>', overview, re.S)
        assert marked is not None and 'href="/gates/north-gate#days"' in marked.group(0)
        assert f"differ from HQ's: {day.isoformat()}" in marked.group(0)
    finally:
        staff.close()

    # The gate reports each day once: a later sync sends nothing again, and a later day only once it is over.
    assert gate.sync().last_error is None
    with running.db.read() as conn:
        assert len(conn.execute(select(gate_days.c.day).where(gate_days.c.gate == "north-gate")).all()) == 3


def test_hq_refuses_a_report_that_does_not_add_up_and_keeps_nothing(
    district_hq: RunningHq, make_gate: MakeGate
) -> None:
    gate = make_gate(district_hq, "north-gate", timezone=ZONE)
    start = _at(_day(2), 0)
    day = {"day": _day(2).isoformat(), "start": start.isoformat(), "end": (start + timedelta(days=1)).isoformat(),
           "attempts": 5, "let_in": 1, "left": 1, "refused": 1, "held": 1}

    answer = httpx.post(f"{district_hq.url}/v1/gates/north-gate/days", json={"gate": "north-gate", "days": [day]},
                        headers={"Authorization": f"Bearer {gate.token}"})

    assert answer.status_code == 422
    assert "let in, left, refused and held must add up to the attempts" in answer.json()["detail"]
    with district_hq.db.read() as conn:
        assert conn.execute(select(gate_days)).all() == []


def test_an_hq_without_daily_reconciliation_leaves_the_gate_syncing(
    hq: RunningHq, proxy: FaultyProxy, make_gate: MakeGate
) -> None:
    gate = make_gate(hq, "north-gate", url=proxy.url, timezone=ZONE)
    gate.log(3, at=_at(_day(2), 9))
    proxy.answer_next(404, path="/days")  # what an HQ older than the route answers
    service = gate.service()
    try:
        first = service.run_once()
        gate.log(1)
        second = service.run_once()
    finally:
        service.close()

    assert first.last_error is None and second.last_error is None
    assert second.uploaded == 1 and hq.entry_count("north-gate") == 4
    assert [p for p in proxy.requests if "/days" in p] == ["/v1/gates/north-gate/days"]  # asked once, not again
    with gate.store() as store:
        assert SyncState(store).days_reported_through() is None
    make_user(hq.db, "vera")
    staff = Staff(hq.url, "vera")
    try:
        assert "No day reported yet" in staff.get("/gates/north-gate").text
    finally:
        staff.close()


def test_a_day_with_an_entry_hq_refused_waits_until_the_refusal_is_dealt_with(
    district_hq: RunningHq, make_gate: MakeGate
) -> None:
    gate = make_gate(district_hq, "north-gate", timezone=ZONE)
    day, before = _day(2), _day(3)
    gate.log(2, at=_at(before, 9))
    with gate.store() as store:
        store.record(replace(_draft(Direction.IN, Decision.PASS, 1), code_type="PGC1\x01"), now=_at(day, 9))
        store.record(_draft(Direction.IN, Decision.PASS, 2), now=_at(day, 10))

    assert gate.sync().refused == 1  # HQ takes no code type with a control character in it

    with district_hq.db.read() as conn:
        assert [r.day for r in conn.execute(select(gate_days.c.day))] == [before.isoformat()]  # the day waits
    with gate.store() as store:
        assert SyncState(store).dismiss_refused() == 1  # the district has that entry another way
    assert gate.sync().last_error is None
    with district_hq.db.read() as conn:
        row = conn.execute(select(gate_days).where(gate_days.c.day == day.isoformat())).one()
    assert (row.attempts, row.let_in) == (2, 2)  # the gate's count; HQ holds 1 of them: the page flags the day
    make_user(district_hq.db, "vera")
    staff = Staff(district_hq.url, "vera")
    try:
        assert _cells(_day_row(staff.get("/gates/north-gate").text, day))[1:2] == ["2 / 1"]
    finally:
        staff.close()


def test_hq_retention_takes_the_gates_counts_of_the_days_it_purges(district_hq: RunningHq, make_gate: MakeGate) -> None:
    gate = make_gate(district_hq, "north-gate", timezone=ZONE)
    gate.log(1, at=_at(_day(3), 9))
    assert gate.sync().last_error is None

    purge(district_hq.db, retention_days=2)

    with district_hq.db.read() as conn:  # a day that started more than 2 days ago went with its entries
        assert [r.day for r in conn.execute(select(gate_days.c.day))] == [_day(1).isoformat()]
