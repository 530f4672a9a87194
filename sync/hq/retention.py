"""HQ's retention: entries older than the district's period are deleted here as they are at the gates.

Chain positions live on the gate rows, so purging old entries never makes HQ think a gate's history broke;
alerts are kept (they say what went wrong, not who passed), and so is the staff audit log (it says who looked).
The hourly statistics of purged hours go with their entries, and so do the gates' own counts of those days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete

from sync.core.clock import utc_text
from sync.hq import stats
from sync.hq.db import HqDatabase
from sync.hq.tables import entries, gate_days, unsealed_entries, upload_batches


@dataclass(frozen=True)
class Purged:
    entries: int
    batches: int
    cutoff: str


def purge(db: HqDatabase, retention_days: int, now: datetime | None = None) -> Purged:
    """Delete entries whose time is older than `retention_days`, and the upload records of that age."""
    cutoff = utc_text((now or datetime.now(UTC)) - timedelta(days=retention_days))
    with db.begin() as conn:
        gone = conn.execute(delete(entries).where(entries.c.ts < cutoff)).rowcount
        conn.execute(delete(unsealed_entries).where(unsealed_entries.c.ts < cutoff))
        batches = conn.execute(delete(upload_batches).where(upload_batches.c.received_at < cutoff)).rowcount
        stats.purge(conn, cutoff)
        conn.execute(delete(gate_days).where(gate_days.c.start < cutoff))
    return Purged(entries=gone, batches=batches, cutoff=cutoff)
