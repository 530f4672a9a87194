"""The sync indicator's words for each state the gate database can record, HQ's error text made harmless, and
an older gate database gaining the lists' confirmation time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from kiosk.store import GateStore
from kiosk.ui.sync_status import describe, is_problem
from kiosk.uplink.status import Connection, SyncStatus
from kiosk.uplink.state import SyncState

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def status(connection: Connection, **values: object) -> SyncStatus:
    fields: dict[str, object] = {
        "entries_waiting": 3,
        "upload_cursor": 7,
        "last_success_at": None,
        "last_attempt_at": None,
        "last_error": None,
        "bundle_version": 0,
        "bundle_applied_at": None,
    }
    return SyncStatus(connection=connection, **(fields | values))  # type: ignore[arg-type]


def test_each_state_in_words() -> None:
    tried = {"last_attempt_at": NOW - timedelta(seconds=5)}
    assert describe(status(Connection.NOT_ENROLLED), NOW) == "not enrolled · 3 waiting"
    assert describe(status(Connection.OFFLINE), NOW) == "not tried yet · 3 waiting · never synced"
    online = status(Connection.ONLINE, entries_waiting=0, last_success_at=NOW - timedelta(seconds=5), **tried)
    assert describe(online, NOW) == "online · 0 waiting · synced 5 s ago"
    offline = status(Connection.OFFLINE, last_success_at=NOW - timedelta(hours=3), last_error="unreachable", **tried)
    assert describe(offline, NOW) == "offline · 3 waiting · synced 3 h ago"
    assert [is_problem(s) for s in (status(Connection.OFFLINE), online, offline)] == [False, False, True]


def test_hq_refusing_shows_its_words_with_control_characters_made_visible() -> None:
    refused = status(
        Connection.ERROR, last_attempt_at=NOW, last_error="HQ refused (401): [bold]revoked[/] \x1b[2J" + "x" * 200
    )

    line = describe(refused, NOW)

    assert line.startswith("error · 3 waiting · never synced · HQ refused (401): [bold]revoked[/] \\x1b[2J")
    assert "\x1b" not in line and len(line) < 140 and is_problem(refused)
    assert describe(refused, NOW, error_chars=0) == "error · 3 waiting · never synced"


def test_an_older_gate_database_takes_the_lists_age_from_when_its_bundle_was_applied(tmp_path: Path) -> None:
    with GateStore(tmp_path / "gate.db", "north-gate") as store:
        SyncState(store)
        store.db.execute("ALTER TABLE sync_state DROP COLUMN bundle_checked_at")
        store.db.execute("DELETE FROM _sqlite_migrations WHERE name = 'm002_bundle_checked_at'")
        store.db.execute("UPDATE sync_state SET bundle_version = 4, bundle_applied_at = ?", [NOW.isoformat()])
        store.db.conn.commit()

        record = SyncState(store).record()

    assert (record.bundle_version, record.bundle_checked_at) == (4, NOW)
