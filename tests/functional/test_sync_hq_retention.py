"""HQ's own retention: a started server purges entries older than its `retention_days` on start and then every
`purge_interval_hours` (a day by default; a second here), with no command and no request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.sync_testkit import MakeGate, hq_db_url, make_gate, signing_key_file, start_hq, wait_until  # noqa: F401

from sync.hq.gates import list_gates


def test_a_running_hq_purges_entries_past_its_retention_on_start_and_then_periodically(
    make_gate: MakeGate, hq_db_url: str, signing_key_file: Path
) -> None:
    fortnight_ago = datetime.now(UTC) - timedelta(days=15)
    for first in start_hq(hq_db_url, signing_key_file):  # the default 28 days keeps a fortnight
        gate = make_gate(first, "north-gate")
        gate.log(2, at=fortnight_ago)  # the gate's clock said so when they were logged
        recent = gate.log(2)
        assert gate.sync().online
        assert first.entry_count() == 4
        first_url = first.url

    for hq in start_hq(hq_db_url, signing_key_file, retention_days=10, purge_interval_hours=1 / 3600):
        wait_until(lambda: hq.entry_count() == 2, "the purge on start")
        assert hq.entry_ids("north-gate") == recent

        gate.config_file.write_text(gate.config_file.read_text().replace(first_url, hq.url))
        gate.log(1, at=fortnight_ago)
        synced = gate.sync()
        assert synced.online and synced.upload_cursor == 5, synced.last_error
        assert list_gates(hq.db)[0].chain_seq == 5  # HQ took it in (and may have purged it already)
        wait_until(lambda: hq.entry_count() == 2, "a purge while running")
        assert hq.entry_ids("north-gate") == recent
        assert hq.alert_kinds("north-gate") == []  # purging never looks like a broken chain
