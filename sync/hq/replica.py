"""Reads off the primary: the dashboard's tracing and overview read from a streaming replica of HQ's PostgreSQL
(`read_db`) when HQ has one, so that an investigation's heavy reads never slow the gates' uploads; writes, and
every read that must see them (the admin pages, sign-in, the gate API), stay on the primary.

A replica applies the primary's changes a moment after they are made, so what it shows may be a little behind.
`Reads.lag` says how far, for the dashboard to show beside what it read: whether the replica has applied all the
primary has written (by WAL position, taken on the primary first), and if not, how many bytes it has yet to
apply and the commit time of the last change it applied (the database it shows is as of then). A replica that
cannot be reached is passed over for `AWAY_SECONDS`, during which the primary answers, and the dashboard says so.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError, OperationalError

from sync.hq.db import DatabaseError, HqDatabase

log = logging.getLogger("pocket_hq")
AWAY_SECONDS = 30.0
"""How long an unreachable replica is passed over before HQ tries it again."""


def _lsn(value: str) -> int:
    """A WAL position ('16/B374D848') as a number of bytes."""
    high, _, low = value.partition("/")
    return (int(high, 16) << 32) + int(low, 16)


@dataclass(frozen=True)
class Lag:
    """How far behind the primary the replica was when asked."""

    reachable: bool
    standby: bool
    """False when `read_db` names a database that is not a standby (a primary, or a promoted standby)."""
    behind_bytes: int = 0
    """Bytes of the primary's changes the replica had not applied; 0 when it had applied them all."""
    as_of: datetime | None = None
    """When the last change the replica applied was committed on the primary (None when unknown)."""
    checked_at: datetime | None = None

    @property
    def seconds(self) -> float:
        """How far behind in time: 0 when up to date, else since the commit of the last change applied."""
        if self.behind_bytes <= 0 or self.as_of is None or self.checked_at is None:
            return 0.0
        return max((self.checked_at - self.as_of).total_seconds(), 0.0)


class Reads:
    """Where the dashboard's tracing and overview read: the replica when HQ has one and it answers, else the
    primary. `read()` is used as `HqDatabase.read()` is."""

    def __init__(self, primary: HqDatabase, replica_url: str | None, connections: int = 50) -> None:
        self.primary = primary
        self.replica: HqDatabase | None = None
        if replica_url is not None:
            if not primary.shared:
                raise DatabaseError("a read replica (--read-db) needs a PostgreSQL primary (--db postgresql://...)")
            self.replica = HqDatabase(replica_url, connections)
        self._away_until = 0.0

    @property
    def using_replica(self) -> bool:
        return self.replica is not None and time.monotonic() >= self._away_until

    @contextmanager
    def read(self) -> Iterator[Connection]:
        if self.replica is not None and self.using_replica:
            try:
                conn = self.replica.engine.connect()
            except OperationalError as exc:
                self._away(exc)
            else:
                with conn:
                    yield conn
                return
        with self.primary.read() as conn:
            yield conn

    def _away(self, exc: DBAPIError) -> None:
        self._away_until = time.monotonic() + AWAY_SECONDS
        reason = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else type(exc.orig).__name__
        log.error("read replica %s unreachable (the primary answers for %.0f s): %s",
                  self.replica.display if self.replica else "", AWAY_SECONDS, reason)

    def lag(self) -> Lag | None:
        """How far behind the primary the replica is (None when HQ has no replica)."""
        if self.replica is None:
            return None
        if not self.using_replica:
            return Lag(reachable=False, standby=True)
        with self.primary.read() as conn:
            written, now = conn.execute(text("SELECT pg_current_wal_lsn()::text, now()")).one()
        try:
            with self.replica.read() as conn:
                standby, applied, as_of = conn.execute(text(
                    "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text, pg_last_xact_replay_timestamp()"
                )).one()
        except OperationalError as exc:
            self._away(exc)
            return Lag(reachable=False, standby=True)
        if not standby:
            return Lag(reachable=True, standby=False, checked_at=now)
        behind = max(_lsn(written) - _lsn(applied), 0) if applied else 0
        return Lag(True, True, behind, as_of.astimezone(UTC) if as_of else None, now.astimezone(UTC))

    def dispose(self) -> None:
        if self.replica is not None:
            self.replica.dispose()
