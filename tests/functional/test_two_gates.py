"""HQ's alert for one code at two gates (`[presence] two_gates_window_minutes`): two real gates enrolled with a
live HQ (SQLite, and PostgreSQL when reachable) upload entries of the same person, each through the gate's real
store and sync; the alert is read where operators read it (`pocket-hq alerts`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from tests.sync_testkit import MakeGate, RunningHq, hq, hq_db_url, make_gate, signing_key_file  # noqa: F401

from sync.core.policy import Direction
from sync.hq import lists
from sync.hq.cli import main as hq_main

T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


def _alerts(hq: RunningHq) -> list[dict[str, object]]:
    result = CliRunner().invoke(hq_main, ["alerts", "--json", "--db", hq.settings.db], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_one_code_entering_at_two_gates_within_the_window_is_an_alert(hq: RunningHq, make_gate: MakeGate) -> None:
    north, south = make_gate(hq, "north-gate"), make_gate(hq, "south-gate")
    north.log(1, at=T0)  # the resident walks in at the north gate...
    south.log(1, at=T0 + timedelta(minutes=7))  # ...and their code comes in at the south gate 7 minutes later
    assert north.sync().online and south.sync().online

    found = _alerts(hq)

    assert [(a["gate"], a["kind"], a["seq"]) for a in found] == [("south-gate", "two_gates", 1)]
    detail = str(found[0]["detail"])
    assert "entered at gate north-gate 2026-05-01T08:00:00.000+00:00 and at gate south-gate" in detail
    assert "7 min 00 s apart (policy: 30 min)" in detail and "Z**** S**" in detail
    assert hq.alert_kinds("north-gate") == []


def test_the_later_uploaded_side_raises_it_whichever_entered_first(hq: RunningHq, make_gate: MakeGate) -> None:
    north, south = make_gate(hq, "north-gate"), make_gate(hq, "south-gate")
    south.log(1, at=T0 + timedelta(minutes=20))
    assert south.sync().online
    north.log(1, at=T0)  # an offline gate's earlier entry arrives later
    assert north.sync().online

    assert [(a["gate"], a["kind"]) for a in _alerts(hq)] == [("north-gate", "two_gates")]


def test_leaving_in_between_or_outside_the_window_or_another_person_is_no_alert(
    hq: RunningHq, make_gate: MakeGate
) -> None:
    north, south = make_gate(hq, "north-gate"), make_gate(hq, "south-gate")
    north.log(1, at=T0)
    north.log(1, direction=Direction.OUT, at=T0 + timedelta(minutes=2))  # out by the north gate...
    south.log(1, at=T0 + timedelta(minutes=5))  # ...and back in by the south gate: no alarm
    south.log(1, start=1, at=T0 + timedelta(minutes=6))  # someone else
    north.log(1, start=2, at=T0 + timedelta(minutes=10))
    south.log(1, start=2, at=T0 + timedelta(minutes=41))  # 31 minutes later: outside the default window
    assert north.sync().online and south.sync().online

    assert _alerts(hq) == []


def test_the_window_is_the_published_policy_s(hq: RunningHq, make_gate: MakeGate, tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text("[presence]\ntwo_gates_window_minutes = 60\n")
    lists.set_policy(hq.db, lists.policy_file(policy))
    north, south, east = make_gate(hq, "north-gate"), make_gate(hq, "south-gate"), make_gate(hq, "east-gate")
    north.log(1, at=T0)
    south.log(1, at=T0 + timedelta(minutes=45))  # inside 60 minutes
    assert north.sync().online and south.sync().online
    policy.write_text("[presence]\ntwo_gates_window_minutes = 0\n")  # 0: HQ raises no such alert
    lists.set_policy(hq.db, lists.policy_file(policy))
    east.log(1, at=T0 + timedelta(minutes=46))
    assert east.sync().online

    assert [(a["gate"], a["kind"]) for a in _alerts(hq)] == [("south-gate", "two_gates")]
    assert "(policy: 60 min)" in str(_alerts(hq)[0]["detail"])
