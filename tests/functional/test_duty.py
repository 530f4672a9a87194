"""Proof of duty: a gate records its changes of state (shift, camera, lists) as chained duty events, they reach a
real HQ exactly once with the entries' sync, and HQ's hour-by-hour timeline shows the gaps. Times are injected."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from tests.sync_testkit import MakeGate, RunningHq, hq, hq_db_url, make_gate, signing_key_file  # noqa: F401

from kiosk.duty_log import DutyLog
from sync.core.duty import DutyKind
from sync.hq.duty import gate_timeline
from sync.hq.tables import duty_events

DAY = datetime(2026, 3, 2, tzinfo=UTC)


def test_a_camera_unplugged_for_an_hour_shows_as_a_gap(hq: RunningHq, make_gate: MakeGate) -> None:
    gate = make_gate(hq, "north-gate")
    with gate.store() as store:
        log = DutyLog(store)
        assert log.note(DutyKind.SHIFT_ON, DAY + timedelta(hours=7))
        assert log.note(DutyKind.CAMERA_LOST, DAY + timedelta(hours=10))
        assert not log.note(DutyKind.CAMERA_LOST, DAY + timedelta(hours=10, minutes=20))  # still lost: no event
        assert log.note(DutyKind.CAMERA_BACK, DAY + timedelta(hours=11))

    gate.sync()
    gate.sync()  # nothing new: nothing sent twice

    with hq.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(duty_events)).scalar_one() == 3
    with hq.db.read() as conn:
        timeline = gate_timeline(conn, "north-gate", now=DAY + timedelta(hours=13, minutes=5))
    hours = {h.start.hour: h for h in timeline if h.start.date() == DAY.date()}
    assert hours[10].camera == 0.0 and hours[10].gap
    assert [hours[h].gap for h in (8, 9, 11, 12)] == [False] * 4
    assert hours[6].keeper == 0.0 and hours[6].gap  # before the shift: no keeper signed in
    with gate.store() as store:
        assert DutyLog(store).waiting() == []


def test_hq_stores_each_duty_event_once_and_flags_an_edited_one(hq: RunningHq, make_gate: MakeGate) -> None:
    gate = make_gate(hq, "north-gate")
    with gate.store() as store:
        log = DutyLog(store)
        log.note(DutyKind.SHIFT_ON, DAY)
        log.note(DutyKind.LISTS_STALE, DAY + timedelta(hours=1))
        with store.transaction() as db:  # someone edits the gate's record of when the lists went stale
            db.execute("UPDATE duty_events SET ts = ? WHERE seq = 2", [(DAY + timedelta(hours=5)).isoformat()])

    gate.sync()

    assert ("broken", 1) in hq.alert_kinds("north-gate")
