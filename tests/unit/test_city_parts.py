"""HQ's parts for a city, on the databases themselves: entries partitioned by month (made ahead, dropped whole by
retention with their unsealed marks, an existing database moved over), background jobs done once whichever
process takes them, rate-limit counts shared through the database, and gates' last contact written by several
processes in any order."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import insert, select, text
from tests.dash_testkit import Event, ingest_rows, record, record_and_ingest
from tests.sync_testkit import LimitsClock, _postgres_database, hq_db, hq_db_url, limits_clock  # noqa: F401

from sync.core.clock import utc_text
from sync.hq import jobs as jobs_module
from sync.hq import partitions
from sync.hq.db import MIGRATIONS, HqDatabase
from sync.hq.gates import Sightings, add_gate
from sync.hq.jobs import Jobs, Stopped
from sync.hq.rate_store import DatabaseStorage
from sync.hq.retention import purge_in
from sync.hq.tables import entries, gates, jobs, settings, unsealed_entries

T = datetime(2031, 5, 20, 12, 0, tzinfo=UTC)
"""A time no partition is made for until a test makes it (HQ makes the months around the real now)."""


@pytest.fixture
def pg_db() -> Iterator[HqDatabase]:
    """A migrated HQ database on the test PostgreSQL (these parts are PostgreSQL's)."""
    for url in _postgres_database():
        db = HqDatabase(url)
        db.upgrade()
        yield db
        db.dispose()


def _partition_of(db: HqDatabase) -> dict[str, str]:
    """Each entry's id, and the partition holding it."""
    with db.read() as conn:
        return dict(conn.execute(text("SELECT id, tableoid::regclass::text FROM entries")).all())


def _ids(db: HqDatabase) -> set[str]:
    with db.read() as conn:
        return set(conn.execute(select(entries.c.id)).scalars())


@pytest.mark.postgres
def test_entries_are_held_by_month_and_a_month_made_late_takes_the_entries_that_waited_for_it(
    pg_db: HqDatabase, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    with pg_db.read() as conn:
        made = partitions.months(conn)
    assert made == [partitions.Month.of(now).plus(i) for i in range(partitions.AHEAD_MONTHS + 1)]
    rows = record_and_ingest(pg_db, tmp_path, "g1", [Event(now - timedelta(minutes=5), "a" * 32), Event(T, "b" * 32)])

    assert _partition_of(pg_db) == {rows[0]["id"]: partitions.Month.of(now).name, rows[1]["id"]: partitions.DEFAULT}
    with pg_db.begin() as conn:
        assert partitions.make_ahead(conn, T, ahead=1) == [partitions.Month(2031, 5), partitions.Month(2031, 6)]
    assert _partition_of(pg_db)[rows[1]["id"]] == "entries_y2031m05"

    ingest_rows(pg_db, "g1", rows)  # the same batch again, now that its entries sit in other partitions
    assert _ids(pg_db) == {r["id"] for r in rows} and len(_partition_of(pg_db)) == 2


@pytest.mark.postgres
def test_retention_drops_whole_months_and_deletes_only_the_older_entries_of_the_month_it_straddles(
    pg_db: HqDatabase, tmp_path: Path
) -> None:
    with pg_db.begin() as conn:
        for month in (partitions.Month(2031, 3), partitions.Month(2031, 4)):
            partitions.make_month(conn, month)
    when = [datetime(2031, 3, 10, tzinfo=UTC), datetime(2031, 3, 30, tzinfo=UTC), datetime(2031, 4, 10, tzinfo=UTC),
            datetime(2031, 4, 30, tzinfo=UTC), datetime(2031, 5, 19, tzinfo=UTC)]
    rows = record_and_ingest(pg_db, tmp_path, "g1", [Event(t, f"{i:032x}") for i, t in enumerate(when)])
    with pg_db.begin() as conn:  # as if HQ had unsealed each one's typed ID number (issue 15): the marks go with them
        conn.execute(insert(unsealed_entries), [{"id": r["id"], "ts": r["ts"]} for r in rows])

    with pg_db.begin() as conn:
        done = purge_in(conn, 28, now=T)  # cutoff 2031-04-22: March goes whole, two of April's rows stay

    assert (done.entries, done.months_dropped, done.cutoff) == (3, 2, "2031-04-22T12:00:00.000+00:00")
    assert _ids(pg_db) == {r["id"] for r in rows[3:]}
    with pg_db.read() as conn:
        held = partitions.months(conn)
        assert set(conn.execute(select(unsealed_entries.c.id)).scalars()) == {r["id"] for r in rows[3:]}
    assert partitions.Month(2031, 3) not in held
    assert [partitions.Month(2031, m) for m in (4, 5, 6, 7, 8)] == [m for m in held if m.year == 2031]


@pytest.mark.postgres
def test_a_database_holding_entries_is_moved_over_to_monthly_partitions_entry_for_entry(tmp_path: Path) -> None:
    for url in _postgres_database():
        db = HqDatabase(url)
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with db.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "0007")
        now = datetime.now(UTC)
        events = [Event(now - timedelta(days=days), f"{days:032x}") for days in (3000, 45, 20, 0)] + [Event(T, "f" * 32)]
        today = record(tmp_path, "g1", events)[3]  # in time order, as a gate records them
        amending = Event(now + timedelta(minutes=1), today["subject"], details={"amends": today["id"]})
        rows = record(tmp_path, "g1", [amending])  # a temperature typed after the verdict (migration 0005)
        add_gate(db, "g1")
        ingest_rows(db, "g1", rows)
        with db.read() as conn:
            assert not partitions.is_partitioned(conn)

        db.upgrade()

        with db.read() as conn:
            assert partitions.is_partitioned(conn)
            moved = [dict(r._mapping) for r in conn.execute(select(entries).order_by(entries.c.seq))]
        superseded = {today["id"]: rows[5]["id"]}
        assert moved == [r | {"received_at": moved[i]["received_at"], "superseded_by": superseded.get(r["id"])}
                         for i, r in enumerate(rows)], "every column moves over, the amended entry still replaced"
        where = _partition_of(db)
        assert [where[r["id"]] for r in rows[1:4]] == [partitions.Month.of(now - timedelta(days=d)).name for d in (45, 20, 0)]
        assert where[rows[0]["id"]] == where[rows[4]["id"]] == partitions.DEFAULT, "too old, and a clock years ahead"
        ingest_rows(db, "g1", rows)  # sent again after the move: nothing doubles
        assert len(_ids(db)) == 6
        db.dispose()


def test_a_periodic_job_is_done_once_by_one_process_while_another_passes_it_by(hq_db: HqDatabase) -> None:
    """Two processes (two `Jobs`, each taking jobs on its own connections) look for work at the same moment."""
    started, release = threading.Event(), threading.Event()
    done: list[str] = []

    def work(conn: object, now: datetime) -> str:
        done.append("purge")
        started.set()
        assert release.wait(10)
        return "purged"

    first, second = Jobs(hq_db, "hq-a:1"), Jobs(hq_db, "hq-b:2")
    for process in (first, second):
        process.every("purge", timedelta(days=1), "retention_days=28", work, now=T)
    taken: list[list[str]] = []
    thread = threading.Thread(target=lambda: taken.append(first.run_due(lambda: T)))
    thread.start()
    assert started.wait(10)
    if hq_db.shared:  # on SQLite one process takes jobs, one at a time
        assert second.run_due(lambda: T) == [], "the job is held by the other process"
    release.set()
    thread.join(10)

    assert taken == [["purge"]] and second.run_due(lambda: T + timedelta(hours=23)) == []
    assert done == ["purge"]
    with hq_db.read() as conn:
        row = conn.execute(select(jobs).where(jobs.c.name == "purge")).one()
    assert (row.runs, row.process, row.outcome, row.due_at) == (1, "hq-a:1", "purged", utc_text(T + timedelta(days=1)))
    assert second.run_due(lambda: T + timedelta(days=1)) == ["purge"]


def test_a_job_that_fails_is_rolled_back_and_due_again_later(hq_db: HqDatabase) -> None:
    def work(conn: object, now: datetime) -> str:
        conn.execute(insert(settings).values(key="half-done", value="x"))  # type: ignore[attr-defined]
        raise RuntimeError("disk full")

    process = Jobs(hq_db, "hq-a:1")
    process.every("purge", timedelta(days=1), "", work, now=T)
    assert process.run_due(lambda: T) == ["purge"]
    with hq_db.read() as conn:
        row = conn.execute(select(jobs).where(jobs.c.name == "purge")).one()
        assert conn.execute(select(settings).where(settings.c.key == "half-done")).first() is None
    assert (row.runs, row.outcome) == (0, "failed in hq-a:1: disk full")
    assert row.due_at == utc_text(T + jobs_module.RETRY_AFTER)
    assert process.run_due(lambda: T + timedelta(minutes=9)) == []


def test_a_periodic_job_is_due_at_once_when_what_it_was_scheduled_with_changes(hq_db: HqDatabase) -> None:
    process = Jobs(hq_db, "hq-a:1")
    process.every("purge", timedelta(days=1), "retention_days=28", lambda conn, now: "purged", now=T)
    assert process.run_due(lambda: T) == ["purge"]
    process.every("purge", timedelta(days=1), "retention_days=28", lambda conn, now: "purged", now=T)
    assert process.run_due(lambda: T + timedelta(hours=1)) == [], "another process started as this one was"
    process.every("purge", timedelta(days=1), "retention_days=10", lambda conn, now: "purged", now=T + timedelta(hours=1))
    assert process.run_due(lambda: T + timedelta(hours=1)) == ["purge"], "a shorter retention applies at once"


def test_a_one_off_job_stopped_mid_way_is_left_due_and_done_once_later(hq_db: HqDatabase) -> None:
    process = Jobs(hq_db, "hq-a:1")
    calls: list[str] = []

    def check(key: str) -> str:
        calls.append(key)
        if process.stopping:
            raise Stopped("stopping")
        return "checked"

    process.one_off("check-upload", check)
    with hq_db.begin() as conn:
        jobs_module.queue(conn, "check-upload", "u1", now=T)
    process.stopping = True
    assert process._run_one(T) is None, "stopped: left as it was"
    process.stopping = False
    assert process.run_due(lambda: T) == ["check-upload:u1"]
    assert process.run_due(lambda: T) == []
    assert calls == ["u1", "u1"]


@pytest.mark.postgres
def test_rate_limits_counted_in_the_database_agree_with_memory_and_hold_across_processes(
    pg_db: HqDatabase, limits_clock: LimitsClock
) -> None:
    other = HqDatabase(str(pg_db.engine.url.render_as_string(hide_password=False)))  # another process's handle
    shared = [MovingWindowRateLimiter(DatabaseStorage(db, limits_clock)) for db in (pg_db, other)]
    memory = MovingWindowRateLimiter(MemoryStorage())
    tiers = [parse("3/minute"), parse("5/hour")]

    def hit(limiter: MovingWindowRateLimiter) -> bool:
        return all(limiter.hit(item, "gate-1") for item in tiers)

    answers = []
    for step in range(8):
        answers.append((hit(shared[step % 2]), hit(memory)))
        limits_clock.advance(5 if step != 3 else 61)
    assert [a for a, _ in answers] == [m for _, m in answers] == [True, True, True, False, True, True, False, False]
    for item in tiers:
        assert shared[0].get_window_stats(item, "gate-1") == shared[1].get_window_stats(item, "gate-1")
        assert shared[0].get_window_stats(item, "gate-1") == memory.get_window_stats(item, "gate-1")
    other.dispose()


def test_a_gates_last_contact_never_moves_back_whichever_process_writes_last(hq_db: HqDatabase) -> None:
    add_gate(hq_db, "g1")
    first, second = Sightings(hq_db), Sightings(hq_db)
    first.note("g1", T + timedelta(seconds=10), bundle_version=6)
    second.note("g1", T, bundle_version=5)
    first.flush()
    second.flush()  # older news, written last

    def seen() -> tuple[str, int]:
        with hq_db.read() as conn:
            row = conn.execute(select(gates.c.last_seen_at, gates.c.bundle_version_fetched)).one()
        return row.last_seen_at, row.bundle_version_fetched

    assert seen() == (utc_text(T + timedelta(seconds=10)), 6)
    second.note("g1", T + timedelta(seconds=20))
    second.flush()
    assert seen() == (utc_text(T + timedelta(seconds=20)), 6)
