"""Background work done once across HQ processes: a city runs several HQ processes on one PostgreSQL, and the
daily purge must still run once a day, and an uploaded list be checked once, whichever processes are up.

Every job is a row in `jobs`, due at `due_at`. A process takes a due job by locking its row (`SELECT ... FOR
UPDATE SKIP LOCKED`): while one process holds it, the others pass it by, so a due job is done by one process.
- A periodic job (the purge, housekeeping) does its work in that same transaction and sets its next due time
  there: the work and the schedule commit together, or roll back together (a process that dies mid-job, a
  failure), and the job is then still due for the next process that looks. So it runs exactly once per period.
  Its `params` say what it was scheduled with (the retention period, the interval): a process started with
  others makes it due at once, so that a shorter retention is applied on start.
- A one-off job (checking an uploaded list: a minute or two for a million rows) commits its progress as it goes,
  so that the dashboard can show it, and holds its row's lock in a transaction of its own until it ends. A
  process that dies mid-job drops its connection and with it the lock (within about a minute when the host
  itself died: `db.TCP_KEEPALIVE`), and the next process that looks starts the job over: one-off jobs are
  written to be started over. The row is removed when the job ends.
On SQLite there is one HQ process, which takes one job at a time: no lock is needed and none is taken.

Each process looks every `job_poll_seconds` (and at once when it queued work itself: `wake`), and on PostgreSQL
records in `hq_processes` when it last looked.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, or_, select, update

from sync.core.clock import utc_text
from sync.hq.db import HqDatabase
from sync.hq.tables import dialect_insert, hq_processes, jobs

log = logging.getLogger("pocket_hq")
RETRY_AFTER = timedelta(minutes=10)
"""A job that failed is due again this much later (or after its period, if shorter)."""
GONE_AFTER = timedelta(hours=1)
"""A process not heard from for this long is taken off `hq_processes` (by housekeeping)."""
MOST_PER_POLL = 1000
"""Jobs one look takes on, at most, before it lets the loop breathe."""

PeriodicWork = Callable[[Connection, datetime], str]
"""A periodic job's work, in the transaction that holds its row; what it did, in words (for `outcome`)."""
OneOffWork = Callable[[str], str]
"""A one-off job's work, given the key it was queued with; in transactions of its own; what it did, in words."""


class Stopped(Exception):
    """Raised by a one-off job's work when its process is stopping (`Jobs.stopping`): the job is left due, to be
    started over by the next process that looks."""


@dataclass(frozen=True)
class Periodic:
    name: str
    every: timedelta
    params: str
    work: PeriodicWork


def process_name() -> str:
    """'host:pid': which HQ process did a job, as an operator finds it."""
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


def queue(conn: Connection, kind: str, key: str, now: datetime | None = None) -> None:
    """Queue a one-off job of `kind` for `key`, due at once, in the caller's transaction (so that it exists if
    and only if what it works on does)."""
    conn.execute(jobs.insert().values(name=f"{kind}:{key}", due_at=utc_text(now or datetime.now(UTC)), params=""))


class Jobs:
    """The jobs this process does, and the loop that does them (`run_due`, `loop`)."""

    def __init__(self, db: HqDatabase, name: str | None = None) -> None:
        self.db = db
        self.name = name or process_name()
        self.stopping = False
        """Set when the process stops: one-off work checks it and raises `Stopped`."""
        self._periodic: dict[str, Periodic] = {}
        self._one_off: dict[str, OneOffWork] = {}
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def every(self, name: str, period: timedelta, params: str, work: PeriodicWork, now: datetime | None = None) -> None:
        """Do `work` every `period`, once across processes; a new job, or one whose `params` or period changed, is
        due at once."""
        self._periodic[name] = Periodic(name, period, params, work)
        moment = utc_text(now or datetime.now(UTC))
        with self.db.begin() as conn:
            row = conn.execute(select(jobs).where(jobs.c.name == name).with_for_update()).first()
            if row is None:
                conn.execute(dialect_insert(conn, jobs).values(
                    name=name, every_seconds=period.total_seconds(), params=params, due_at=moment
                ).on_conflict_do_nothing())
            elif row.params != params or row.every_seconds != period.total_seconds():
                conn.execute(update(jobs).where(jobs.c.name == name).values(
                    every_seconds=period.total_seconds(), params=params, due_at=moment))

    def one_off(self, kind: str, work: OneOffWork) -> None:
        """Do `work` for each job of `kind` queued (`queue`)."""
        self._one_off[kind] = work

    # -- doing them --------------------------------------------------------------------------------------------

    def run_due(self, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> list[str]:
        """Take and do the jobs due now, one after another, until none is left that no other process holds; the
        names of those done (or failed) here."""
        done: list[str] = []
        for _ in range(MOST_PER_POLL):
            if self.stopping:
                break
            name = self._run_one(now())
            if name is None:
                break
            done.append(name)
        if self.db.shared and not self.stopping:
            self._beat(now())
        return done

    def _due(self, conn: Connection, moment: datetime, skip_locked: bool) -> Any:
        """The first due job this process knows how to do (locked, skipping those locked, on PostgreSQL)."""
        known = or_(jobs.c.name.in_(list(self._periodic)), *(jobs.c.name.startswith(f"{kind}:") for kind in self._one_off))
        query = select(jobs).where(jobs.c.due_at <= utc_text(moment), known).order_by(jobs.c.due_at, jobs.c.name)
        if skip_locked:
            query = query.with_for_update(skip_locked=True)
        return conn.execute(query.limit(1)).first()

    def _run_one(self, moment: datetime) -> str | None:
        if self.db.shared:
            with self.db.engine.connect() as conn:
                row = None
                try:
                    with conn.begin():
                        row = self._due(conn, moment, skip_locked=True)
                        if row is None:
                            return None
                        self._do(conn, row, moment)
                except Stopped:
                    return None
                except Exception as exc:  # the job's own transaction is rolled back; the job is due again later
                    if row is None:
                        raise
                    self._failed(row.name, moment, exc)
                return str(row.name)
        with self.db.read() as conn:
            row = self._due(conn, moment, skip_locked=False)
        if row is None:
            return None
        try:
            if row.name in self._periodic:
                with self.db.begin() as conn:
                    self._do(conn, row, moment)
            else:
                self._do(None, row, moment)
        except Stopped:
            return None
        except Exception as exc:
            self._failed(row.name, moment, exc)
        return str(row.name)

    def _do(self, conn: Connection | None, row: Any, moment: datetime) -> None:
        """Do one job taken (its row locked in `conn` on PostgreSQL) and record it; raises what the work raised."""
        started = utc_text(moment)
        periodic = self._periodic.get(row.name)
        if periodic is not None:
            assert conn is not None
            outcome = periodic.work(conn, moment)
            finished = datetime.now(UTC)
            conn.execute(update(jobs).where(jobs.c.name == row.name).values(
                runs=jobs.c.runs + 1, started_at=started, finished_at=utc_text(finished), process=self.name,
                outcome=outcome[:2000], due_at=utc_text(moment + periodic.every)))
            log.info("job %s done by %s: %s", row.name, self.name, outcome)
            return
        kind, key = row.name.split(":", 1)
        self._doing(row.name, moment)
        try:
            outcome = self._one_off[kind](key)
        finally:
            self._doing(None, moment)
        if conn is not None:
            conn.execute(delete(jobs).where(jobs.c.name == row.name))
        else:
            with self.db.begin() as own:
                own.execute(delete(jobs).where(jobs.c.name == row.name))
        log.info("job %s done by %s: %s", row.name, self.name, outcome)

    def _failed(self, name: str, moment: datetime, exc: Exception) -> None:
        periodic = self._periodic.get(name)
        later = min(RETRY_AFTER, periodic.every) if periodic else RETRY_AFTER
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        log.error("job %s failed in %s (due again in %s): %s", name, self.name, later, reason, exc_info=exc)
        try:
            with self.db.begin() as conn:
                conn.execute(update(jobs).where(jobs.c.name == name).values(
                    due_at=utc_text(moment + later), outcome=f"failed in {self.name}: {reason}"[:2000]))
        except Exception as again:  # the database itself is away: the job stays due, for whoever looks next
            log.error("recording that job %s failed failed too: %s", name, again)

    def _beat(self, moment: datetime) -> None:
        with self.db.begin() as conn:
            statement = dialect_insert(conn, hq_processes).values(
                name=self.name, started_at=utc_text(moment), polled_at=utc_text(moment))
            conn.execute(statement.on_conflict_do_update(
                index_elements=["name"], set_={"polled_at": statement.excluded.polled_at}))

    def _doing(self, job: str | None, moment: datetime) -> None:
        """Say in `hq_processes` which one-off job this process is doing (PostgreSQL: where several are)."""
        if not self.db.shared:
            return
        with self.db.begin() as conn:
            statement = dialect_insert(conn, hq_processes).values(
                name=self.name, started_at=utc_text(moment), polled_at=utc_text(moment), doing=job)
            conn.execute(statement.on_conflict_do_update(index_elements=["name"], set_={"doing": job}))

    # -- the loop ----------------------------------------------------------------------------------------------

    def wake(self) -> None:
        """Look for due jobs now rather than at the next poll (after queueing one); from any thread."""
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def loop(self, poll_seconds: float, run: Callable[[], Any]) -> None:
        """Every `poll_seconds` (or when woken), `run()` (which calls `run_due` off the event loop), until stopped."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        while not self.stopping:
            try:
                await run()
            except Exception as exc:  # the database is away: look again at the next poll
                log.error("looking for background jobs failed: %s", exc)
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=poll_seconds)
            except TimeoutError:
                pass
            self._wake.clear()

    def forget_gone_processes(self, conn: Connection, moment: datetime) -> int:
        """Take processes not heard from for `GONE_AFTER` off `hq_processes`."""
        return conn.execute(delete(hq_processes).where(hq_processes.c.polled_at < utc_text(moment - GONE_AFTER))).rowcount


def listing(conn: Connection) -> tuple[list[Any], list[Any]]:
    """The HQ processes that have looked for work (latest first) and the jobs (by when due), as rows, for
    `pocket-hq db status`."""
    processes = conn.execute(select(hq_processes).order_by(hq_processes.c.polled_at.desc())).all()
    return list(processes), list(conn.execute(select(jobs).order_by(jobs.c.due_at, jobs.c.name)).all())
