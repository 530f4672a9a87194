"""The dashboard's storage on each database, without HTTP: hourly statistics kept by ingest (and rebuilt the
same), staff accounts and sessions, contact ranges, the migration of a database that already holds entries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import insert, inspect, select, update
from tests.dash_testkit import Event, record_and_ingest
from tests.sync_testkit import hq_db, hq_db_url  # noqa: F401

from sync.core.codes.base import Colour
from sync.core.policy import Decision, Direction
from sync.hq import stats, tracing, uploads
from sync.hq.db import MIGRATIONS, HqDatabase
from sync.hq.tables import (
    entries,
    entry_stats,
    reason_stats,
    settings,
    staged_colour_rows,
    staged_uploads,
    upload_files,
)
from sync.hq.ingest import ingest
from sync.hq.retention import purge
from sync.hq.staff import (
    Role,
    SessionEnded,
    SessionTimes,
    StaffError,
    add_user,
    check_password,
    disable_user,
    purge_sessions,
    session_for,
    set_password,
    start_session,
)
from sync.core.protocol import UploadBatch, WireEntry
from tests.helpers import make_resident_id

T = datetime(2030, 3, 1, 8, 0, tzinfo=UTC)
TIMES = SessionTimes(idle=timedelta(minutes=30), longest=timedelta(hours=12))


def _traffic() -> list[Event]:
    return [
        Event(T + timedelta(minutes=1), "a" * 32),
        Event(T + timedelta(minutes=2), "b" * 32, direction=Direction.OUT),
        Event(T + timedelta(minutes=3), "c" * 32, decision=Decision.REFUSE, colour=Colour.RED,
              reasons=("red code", "temperature 38.0 °C (limit below 37.3 °C)")),
        Event(T + timedelta(hours=1, minutes=5), "d" * 32, decision=Decision.HOLD, colour=Colour.YELLOW,
              reasons=("yellow code",)),
        Event(T + timedelta(hours=1, minutes=6), None, decision=Decision.REFUSE, colour=None,
              reasons=("temperature 39.1 °C (limit below 37.3 °C)",)),
    ]


def _snapshot(db: HqDatabase) -> tuple[set[tuple[object, ...]], set[tuple[object, ...]]]:
    with db.read() as conn:
        hours = {tuple(r) for r in conn.execute(select(entry_stats))}
        reasons = {tuple(r) for r in conn.execute(select(reason_stats))}
    return hours, reasons


def test_ingest_keeps_hourly_statistics_that_a_rebuild_agrees_with(hq_db: HqDatabase, tmp_path: Path) -> None:
    record_and_ingest(hq_db, tmp_path, "g1", _traffic())
    kept = _snapshot(hq_db)

    with hq_db.begin() as conn:
        stats.rebuild(conn)

    assert _snapshot(hq_db) == kept
    with hq_db.read() as conn:
        day = stats.totals(conn, "2030-03-01T00", "2030-03-01T23")
        first = stats.by_hour(conn, "2030-03-01T08", "2030-03-01T08")["2030-03-01T08"]
        reasons = stats.reasons(conn, "2030-03-01T00", "2030-03-01T23")
    assert (day.entries_in, day.entries_out, day.refused, day.held, day.red, day.yellow) == (4, 1, 2, 1, 1, 1)
    assert (first.total, first.refused) == (3, 1)
    assert [(r.reason, r.refused, r.held) for r in reasons] == [
        ("temperature.too_high", 2, 0), ("colours.red_code", 1, 0), ("colours.yellow_code", 0, 1)
    ]


def test_a_batch_sent_again_is_not_counted_again(hq_db: HqDatabase, tmp_path: Path) -> None:
    rows = record_and_ingest(hq_db, tmp_path, "g1", _traffic())

    ingest(hq_db, "g1", UploadBatch(gate="g1", batch_id="again", entries=[WireEntry.model_validate(r) for r in rows]))

    with hq_db.read() as conn:
        assert stats.totals(conn, "2030-03-01T00", "2030-03-01T23").total == 5


def test_retention_purges_the_statistics_of_purged_hours(hq_db: HqDatabase, tmp_path: Path) -> None:
    record_and_ingest(hq_db, tmp_path, "g1", _traffic())

    purge(hq_db, 28, now=T + timedelta(days=28, minutes=30))

    with hq_db.read() as conn:
        assert set(stats.by_hour(conn, "2030-03-01T00", "2030-03-01T23")) == {"2030-03-01T08", "2030-03-01T09"}
    purge(hq_db, 28, now=T + timedelta(days=28, hours=1, minutes=30))
    with hq_db.read() as conn:
        assert set(stats.by_hour(conn, "2030-03-01T00", "2030-03-01T23")) == {"2030-03-01T09"}
        assert {r.hour for r in conn.execute(select(reason_stats))} == {"2030-03-01T09"}


def _before_codes(row: dict[str, Any]) -> dict[str, Any]:
    """An entry as gates older than reason codes sent it: the English sentences alone (as stored before HQ had
    the column)."""
    return {k: v for k, v in row.items() if k != "reason_codes"}


def test_an_hq_that_held_entries_before_the_dashboard_gets_its_statistics(hq_db_url: str, tmp_path: Path) -> None:
    db = HqDatabase(hq_db_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with db.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
    scratch = HqDatabase(str(tmp_path / "scratch.db"))
    scratch.upgrade()
    rows = record_and_ingest(scratch, tmp_path, "g1", _traffic())
    with db.begin() as conn:  # as the gates of then sent them: without reason codes
        conn.execute(insert(entries), [_before_codes(r) | {"received_at": r["ts"]} for r in rows])

    db.upgrade()

    assert _snapshot(db) == _snapshot(scratch)
    with db.read() as conn:
        assert conn.execute(select(settings).where(settings.c.key == stats.REBUILD_MARKER)).first() is None
        names = {i["name"] for i in inspect(conn).get_indexes("entries")}
    assert {"ix_entries_subject_ts_id", "ix_entries_gate_ts_id_subject", "ix_entries_alarm_ts"} <= names
    assert not {"ix_entries_subject_ts", "ix_entries_gate_ts"} & names
    db.dispose()
    scratch.dispose()


def test_an_hq_upgraded_from_its_own_reason_labels_counts_refusals_by_the_gates_kinds(hq_db_url: str, tmp_path: Path) -> None:
    """Before the gate and HQ grouped refusals one way, HQ stored 'temperature N °C' where the gate said
    'temperature too high': the upgrade counts them again, the gates' way."""
    db = HqDatabase(hq_db_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with db.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0002")
    scratch = HqDatabase(str(tmp_path / "scratch.db"))
    scratch.upgrade()
    rows = record_and_ingest(scratch, tmp_path, "g1", _traffic())
    with scratch.read() as conn:
        counted = [r._asdict() for r in conn.execute(select(reason_stats))]
    scratch.dispose()
    old_labels = {"temperature.too_high": "temperature N °C", "colours.red_code": "red code",
                  "colours.yellow_code": "yellow code"}
    with db.begin() as conn:
        conn.execute(insert(entries), [_before_codes(r) | {"received_at": r["ts"]} for r in rows])
        conn.execute(insert(reason_stats), [r | {"reason": old_labels[r["reason"]]} for r in counted])

    db.upgrade()

    with db.read() as conn:
        reasons = stats.reasons(conn, "2030-03-01T00", "2030-03-01T23")
    assert [(r.reason, r.refused, r.held) for r in reasons] == [
        ("temperature.too_high", 2, 0), ("colours.red_code", 1, 0), ("colours.yellow_code", 0, 1)
    ]
    db.dispose()


def test_contact_ranges_merge_passages_close_together_at_one_gate(hq_db: HqDatabase, tmp_path: Path) -> None:
    me = "e" * 32
    record_and_ingest(hq_db, tmp_path, "g1", [Event(T, me), Event(T + timedelta(minutes=20), me),
                                               Event(T + timedelta(hours=2), me)])
    record_and_ingest(hq_db, tmp_path, "g2", [Event(T + timedelta(minutes=5), me)])
    window = tracing.Window(T - timedelta(hours=1), T + timedelta(hours=3))

    with hq_db.read() as conn:
        plan = tracing.plan_contacts(conn, me, window, 15)

    assert [(r.gate, r.start[11:16], r.end[11:16]) for r in plan.ranges] == [
        ("g1", "07:45", "08:35"), ("g1", "09:45", "10:15"), ("g2", "07:50", "08:20")
    ]
    with pytest.raises(tracing.TracingError, match="minutes must be between 1 and 1440"), hq_db.read() as conn:
        tracing.plan_contacts(conn, me, window, 0)
    with pytest.raises(tracing.TracingError, match="must end after it starts"):
        tracing.Window(T, T)


def test_contacts_of_one_passage_or_none_are_counted_and_paged_from_the_index(hq_db: HqDatabase, tmp_path: Path) -> None:
    """One range is a UNION ALL of one branch, no range a query that finds nothing; counts and pages agree, the
    unidentified passer-by is a contact too, and the person's own passages are not."""
    me = "f" * 32
    record_and_ingest(hq_db, tmp_path, "g1", [
        Event(T - timedelta(minutes=20), "a" * 32),
        Event(T - timedelta(minutes=10), "b" * 32),
        Event(T, me),
        Event(T + timedelta(minutes=5), None, decision=Decision.REFUSE, colour=None, reasons=("no code",)),
        Event(T + timedelta(minutes=6), me),
        Event(T + timedelta(minutes=9), "b" * 32),
    ])
    window = tracing.Window(T - timedelta(hours=1), T + timedelta(hours=1))
    nobody = tracing.Window(T + timedelta(days=1), T + timedelta(days=2))
    with hq_db.read() as conn:
        found = tracing.contacts(tracing.plan_contacts(conn, me, window, 15))
        summary, first = found.summary(conn), found.page(conn, size=2)
        second = found.page(conn, after=first.next_cursor, size=2)
        empty = tracing.contacts(tracing.plan_contacts(conn, me, nobody, 15))
        nothing = (empty.summary(conn), empty.count(conn), empty.page(conn).items)

    assert summary == (3, 1), "the passer-by without a code counts as a passage, not as a person"
    assert [(p.ts[11:16], p.subject, p.gate) for p in first.items + second.items] == [
        ("07:50", "b" * 32, "g1"), ("08:05", None, "g1"), ("08:09", "b" * 32, "g1")
    ]
    assert first.items[1].reasons == ["no code"] and first.items[0].name == "Z**** S**" and second.next_cursor is None
    assert nothing == ((0, 0), 0, [])


def test_a_contact_exactly_the_given_minutes_away_counts_and_a_millisecond_further_does_not(
    hq_db: HqDatabase, tmp_path: Path
) -> None:
    """The range around a passage is closed at both ends: 15 minutes before and after are still near."""
    me, edge, beyond = "f" * 32, timedelta(minutes=15), timedelta(minutes=15, milliseconds=1)
    record_and_ingest(hq_db, tmp_path, "g1", [
        Event(T - beyond, "a" * 32), Event(T - edge, "b" * 32), Event(T, me), Event(T + edge, "c" * 32),
        Event(T + beyond, "d" * 32),
    ])
    window = tracing.Window(T - timedelta(hours=1), T + timedelta(hours=1))
    with hq_db.read() as conn:
        found = tracing.contacts(tracing.plan_contacts(conn, me, window, 15))
        near = [p.subject for p in found.page(conn, size=10).items]

    assert near == ["b" * 32, "c" * 32]


def test_staff_passwords_and_accounts(hq_db: HqDatabase) -> None:
    add_user(hq_db, "ada", "a long passphrase", Role.ADMIN)

    assert check_password(hq_db, "ada", "a long passphrase") is not None
    assert check_password(hq_db, "ada", "a wrong passphrase") is None
    assert check_password(hq_db, "nobody", "a long passphrase") is None
    for name, password, words in [("ada", "another long one", "exists already"), ("b c", "a long passphrase", "not a user name"),
                                  ("bo", "short", "at least 12")]:
        with pytest.raises(StaffError, match=words):
            add_user(hq_db, name, password, Role.VIEWER)
    disable_user(hq_db, "ada")
    assert check_password(hq_db, "ada", "a long passphrase") is None


def test_sessions_end_when_idle_at_their_age_and_with_a_new_password(hq_db: HqDatabase) -> None:
    user = add_user(hq_db, "vera", "a long passphrase", Role.VIEWER)
    token, _ = start_session(hq_db, user, TIMES, now=T)

    assert session_for(hq_db, token, TIMES, now=T + timedelta(minutes=29)).user.username == "vera"
    assert session_for(hq_db, token, TIMES, now=T + timedelta(minutes=58)).user.role is Role.VIEWER
    with pytest.raises(SessionEnded, match="expired"):
        session_for(hq_db, token, TIMES, now=T + timedelta(minutes=29 + 60))
    busy, _ = start_session(hq_db, user, TIMES, now=T)
    for minutes in range(25, 12 * 60, 25):
        session_for(hq_db, busy, TIMES, now=T + timedelta(minutes=minutes))
    with pytest.raises(SessionEnded, match="expired"):
        session_for(hq_db, busy, TIMES, now=T + timedelta(hours=12, minutes=1))
    other, _ = start_session(hq_db, user, TIMES, now=T)
    set_password(hq_db, "vera", "a new long passphrase")
    with pytest.raises(SessionEnded, match="signed out"):
        session_for(hq_db, other, TIMES, now=T)
    start_session(hq_db, user, TIMES, now=T)
    with hq_db.begin() as conn:
        assert purge_sessions(conn, TIMES, T + timedelta(hours=1)) == 1


def test_uploads_cut_off_or_never_applied_are_cleared(hq_db: HqDatabase, tmp_path: Path) -> None:
    cut = uploads.create(hq_db, uploads.Kind.COLOUR, "red.csv", "ada")
    uploads.store_part(hq_db, cut.id, 0, b"id_number,colour,note\n")  # the rest never came: no check was queued
    queued = uploads.create(hq_db, uploads.Kind.COLOUR, "red.csv", "ada")
    uploads.queue_check(hq_db, queued.id)
    with hq_db.begin() as conn:
        assert uploads.fail_cut_off(conn, datetime.now(UTC) + timedelta(minutes=59)) == 0
        assert uploads.fail_cut_off(conn, datetime.now(UTC) + timedelta(hours=1, minutes=1)) == 1
    assert uploads.get(hq_db, cut.id).state is uploads.State.FAILED
    assert uploads.get(hq_db, queued.id).state is uploads.State.CHECKING, "its check is queued"
    with hq_db.read() as conn:
        assert conn.execute(select(upload_files.c.upload_id)).scalars().all() == []

    waiting = uploads.create(hq_db, uploads.Kind.COLOUR, "red.csv", "ada")
    (tmp_path / "upload").mkdir()
    (tmp_path / "upload" / "red.csv").write_text(f"id_number,colour,note\n{make_resident_id(1)},red,\n")
    assert uploads.check(hq_db, waiting.id, tmp_path / "upload" / "red.csv", b"k" * 32).state is uploads.State.READY
    assert (tmp_path / "upload" / "red.csv").exists(), "checking leaves the file to whoever saved it"

    with hq_db.begin() as conn:
        assert uploads.expire(conn, datetime.now(UTC) + timedelta(hours=23)) == 0
        assert uploads.expire(conn, datetime.now(UTC) + timedelta(days=2)) == 1
    assert uploads.get(hq_db, waiting.id).state is uploads.State.DISCARDED
    with hq_db.read() as conn:
        assert conn.execute(select(staged_colour_rows)).first() is None


def test_a_stored_upload_is_checked_from_the_start_whatever_an_earlier_check_left(hq_db: HqDatabase) -> None:
    """The check job starts over: a check cut short by a process that stopped left rows staged and a count read;
    the next one counts every row once, and the file goes when the check ends."""
    key = b"k" * 32
    upload = uploads.create(hq_db, uploads.Kind.COLOUR, "red list.csv", "ada")
    content = "id_number,colour,note\n" + "".join(f"{make_resident_id(i)},red,case {i}\n" for i in range(3000))
    data = content.encode()
    for part, start in enumerate(range(0, len(data), 1000)):  # parts split lines anywhere, as a megabyte does
        uploads.store_part(hq_db, upload.id, part, data[start : start + 1000])
    with hq_db.begin() as conn:
        conn.execute(insert(staged_colour_rows).values(upload_id=upload.id, subject="f" * 32, colour="red", note="x"))
        conn.execute(update(staged_uploads).where(staged_uploads.c.id == upload.id).values(rows_read=1234))

    outcome = uploads.check_stored(hq_db, upload.id, key, 10_000, lambda: False)

    done = uploads.get(hq_db, upload.id)
    assert done.state is uploads.State.READY and done.rows_read == 3000 and done.added == 3000, (outcome, done)
    with hq_db.read() as conn:
        assert conn.execute(select(upload_files)).first() is None
        assert "f" * 32 not in conn.execute(select(staged_colour_rows.c.subject)).scalars().all()
    assert uploads.check_stored(hq_db, upload.id, key, 10_000, lambda: False).endswith("ready already")