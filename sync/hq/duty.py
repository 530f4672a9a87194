"""Proof of duty at HQ: storing each gate's duty events once, and the per-gate, per-hour timeline drawn from them
(`sync.core.duty`).

Events are stored by (gate, seq) with ON CONFLICT DO NOTHING, so a batch sent twice (a lost answer, a stick
carried twice) stores nothing twice. A run that does not follow the chain HQ holds (a gap, an edit, a break) is
stored all the same, as entries are, and raised as an alert: it is evidence.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, insert, select

from sync.core.chain import GENESIS_HASH
from sync.core.clock import utc_text
from sync.core.duty import TIMELINE_DAYS, DutyBatch, DutyHour, DutyKind, DutyReceipt, chain_breaks, duty_timeline
from sync.hq.db import HqDatabase
from sync.hq.tables import alerts, dialect_insert, duty_events, gates


def ingest_duty(db: HqDatabase, gate_id: str, batch: DutyBatch, now: datetime | None = None) -> DutyReceipt:
    """Store a batch already checked to be this gate's; what HQ now holds."""
    moment = utc_text(now or datetime.now(UTC))
    with db.begin() as conn:
        # The gate's row lock (as `ingest` takes it), so two copies of one batch racing each other are judged in turn.
        conn.execute(select(gates.c.gate_id).where(gates.c.gate_id == gate_id).with_for_update())
        first = batch.events[0].seq
        before = conn.execute(
            select(duty_events.c.seq, duty_events.c.hash).where(duty_events.c.gate == gate_id, duty_events.c.seq < first)
            .order_by(duty_events.c.seq.desc()).limit(1)
        ).first()
        held = set(conn.execute(
            select(duty_events.c.seq).where(duty_events.c.gate == gate_id, duty_events.c.seq.in_([e.seq for e in batch.events]))
        ).scalars())
        fresh = [e for e in batch.events if e.seq not in held]
        rows = [e.model_dump(mode="json") | {"received_at": moment} for e in fresh]
        problems = chain_breaks(rows, *(before or (0, GENESIS_HASH))) if fresh and fresh[0].seq == first else []
        if rows:
            conn.execute(dialect_insert(conn, duty_events).on_conflict_do_nothing(), rows)
        if problems:
            conn.execute(insert(alerts), [{"gate": gate_id, "seq": first, "kind": "broken", "detail": problem,
                                           "created_at": moment} for problem in problems])
    return DutyReceipt(gate=gate_id, through_seq=batch.events[-1].seq, stored=len(rows), problems=problems)


def gate_timeline(conn: Connection, gate_id: str, now: datetime, days: int = TIMELINE_DAYS) -> list[DutyHour]:
    """The gate's last `days` days, hour by hour, up to the hour of `now` (read where the dashboard reads)."""
    end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    start = end - timedelta(days=days)
    rows = conn.execute(
        select(duty_events.c.ts, duty_events.c.kind).where(duty_events.c.gate == gate_id).order_by(duty_events.c.seq)
    ).all()
    events = [(datetime.fromisoformat(row.ts), DutyKind(row.kind)) for row in rows]
    return duty_timeline(events, start, days * 24)
