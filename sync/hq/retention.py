"""HQ's retention: entries older than the district's period are purged here as they are at the gates.

On PostgreSQL, where entries are partitioned by month (`sync.hq.partitions`), every month that ended before the
cutoff is dropped whole, and only the older entries of the month that straddles the cutoff are deleted row by
row, so that no entry outlives the retention period; the months ahead are made in the same step. On SQLite the
entries older than the cutoff are deleted.

Chain positions live on the gate rows, so purging old entries never makes HQ think a gate's history broke;
alerts are kept (they say what went wrong, not who passed), and so is the staff audit log (it says who looked).
The hourly statistics of purged hours go with their entries, and so do the gates' own counts of those days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, delete

from sync.core.clock import utc_text
from sync.hq import partitions, stats
from sync.hq.db import HqDatabase
from sync.hq.tables import entries, gate_days, unsealed_entries, upload_batches


@dataclass(frozen=True)
class Purged:
    entries: int
    batches: int
    cutoff: str
    months_dropped: int = 0
    """Entries among `entries` that went with a whole month's partition (PostgreSQL)."""


def purge_in(conn: Connection, retention_days: int, now: datetime | None = None) -> Purged:
    """Purge entries older than `retention_days` (with their `unsealed_entries` marks), and the upload records
    of that age, in the caller's transaction (on PostgreSQL, also make the months ahead)."""
    moment = now or datetime.now(UTC)
    cutoff = utc_text(moment - timedelta(days=retention_days))
    dropped = 0
    if partitions.is_partitioned(conn):
        partitions.make_ahead(conn, moment)
        dropped = partitions.drop_before(conn, cutoff)
    gone = conn.execute(delete(entries).where(entries.c.ts < cutoff)).rowcount
    conn.execute(delete(unsealed_entries).where(unsealed_entries.c.ts < cutoff))
    batches = conn.execute(delete(upload_batches).where(upload_batches.c.received_at < cutoff)).rowcount
    stats.purge(conn, cutoff)
    conn.execute(delete(gate_days).where(gate_days.c.start < cutoff))
    return Purged(entries=dropped + gone, batches=batches, cutoff=cutoff, months_dropped=dropped)


def purge(db: HqDatabase, retention_days: int, now: datetime | None = None) -> Purged:
    """`purge_in`, in a transaction of its own (`pocket-hq purge`)."""
    with db.begin() as conn:
        return purge_in(conn, retention_days, now)
