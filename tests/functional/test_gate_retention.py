"""Retention at an enrolled gate: `pocket-kiosk purge` (and every kiosk start) never removes an entry HQ has not
acknowledged, however old; once HQ has it, it goes; and the gate's chain verifies all along."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from tests.sync_testkit import Gate, MakeGate, RunningHq, hq, hq_db_url, make_gate, signing_key_file  # noqa: F401

from kiosk.cli import main as kiosk_main
from sync.core.codes.base import Colour
from sync.core.policy import Decision, Direction, Verdict
from kiosk.store import EntryDraft, GateStore
from kiosk.ui.context import open_kiosk

NOW = datetime.now(UTC)
PASSED = EntryDraft(Direction.IN, "PGC1", Verdict(Decision.PASS, ("green code", "resident"), Colour.GREEN), "ab" * 16)


def record_at(store: GateStore, *moments: datetime) -> None:
    for moment in moments:
        store.record(PASSED, now=moment)


def log_at(gate: Gate, *moments: datetime) -> None:
    with gate.store() as store:
        record_at(store, *moments)


def kiosk(*args: str) -> str:
    result = CliRunner().invoke(kiosk_main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def seqs(gate: Gate) -> list[int]:
    with gate.store() as store:
        return [row["seq"] for row in store.entries()]


def test_an_enrolled_gate_keeps_old_entries_until_hq_has_them(hq: RunningHq, make_gate: MakeGate) -> None:
    gate = make_gate(hq, "north-gate")
    config = ["--config", str(gate.config_file)]
    log_at(gate, *(NOW - timedelta(days=40, minutes=i) for i in range(3, 0, -1)))
    assert gate.sync().upload_cursor == 3
    log_at(gate, NOW - timedelta(days=35), NOW - timedelta(days=30), NOW)  # offline since: HQ has none of these

    first = kiosk("purge", *config)

    assert first.strip() == (
        "purged 3 entries older than 28 days; kept 2 older ones HQ does not have yet (they go at the next sync)"
    )
    assert seqs(gate) == [4, 5, 6] and "chain intact: 3 entries" in kiosk("verify", *config)
    context = open_kiosk(gate.config)  # a kiosk start purges too, and tells the keeper
    try:
        assert "Purged 0 entries older than 28 days; kept 2 older ones HQ does not have yet" in context.notes[0]
    finally:
        context.close()

    assert gate.sync().entries_waiting == 0 and hq.entry_count("north-gate") == 6
    second = kiosk("purge", *config)

    assert second.strip() == "purged 2 entries older than 28 days"
    assert seqs(gate) == [6] and "chain intact: 1 entry" in kiosk("verify", *config)
    log_at(gate, NOW)
    assert gate.sync().entries_waiting == 0 and hq.alert_kinds("north-gate") == []  # HQ sees an unbroken chain


def test_a_gate_that_is_not_enrolled_purges_by_age_alone(tmp_path: Path) -> None:
    config_file = tmp_path / "kiosk.toml"
    config_file.write_text('gate_id = "lone-gate"\ndatabase = "gate.db"\n')
    with GateStore(tmp_path / "gate.db", "lone-gate") as store:
        record_at(store, NOW - timedelta(days=40), NOW - timedelta(days=35), NOW - timedelta(days=1))

    assert kiosk("purge", "--config", str(config_file)).strip() == "purged 2 entries older than 28 days"
    assert "chain intact: 1 entry" in kiosk("verify", "--config", str(config_file))
