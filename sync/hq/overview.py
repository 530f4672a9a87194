"""What the dashboard's overview and gate pages read: every gate's state, alerts, and the latest red/yellow-code
attempts. Counts of entries come from the hourly statistics (`stats`), never from scanning entries.

A gate is 'stale' when HQ has not heard from it (an upload or a bundle request) for longer than the district's
threshold, 'never' when it was enrolled but has not been heard from at all, and 'revoked' once revoked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, and_, case, func, or_, select, text

from sync.core.clock import utc_text
from sync.hq.tables import ALARM_CONDITION, alerts, entries, gates
from sync.hq.paging import Page, keyset_page
from sync.hq.revisions import bundle_version
from sync.hq.tracing import COLUMNS, COUNTED, Passage


class GateState(StrEnum):
    OK = "ok"
    STALE = "stale"
    NEVER = "never"
    REVOKED = "revoked"


class GateFilter(StrEnum):
    ALL = "all"
    STALE = "stale"
    ALERTS = "alerts"
    REVOKED = "revoked"


@dataclass(frozen=True)
class GateStatus:
    gate_id: str
    created_at: str
    revoked_at: str | None
    last_seen_at: str | None
    last_upload_at: str | None
    chain_seq: int
    bundle_version_fetched: int | None
    state: GateState
    alerts: int


def _state(row: Any, stale_before: str) -> GateState:
    if row.revoked_at is not None:
        return GateState.REVOKED
    if row.last_seen_at is None:
        return GateState.NEVER
    return GateState.STALE if row.last_seen_at < stale_before else GateState.OK


def _stale(stale_before: str) -> Any:
    return and_(gates.c.revoked_at.is_(None), or_(gates.c.last_seen_at.is_(None), gates.c.last_seen_at < stale_before))


def _alerting() -> Any:
    return select(alerts.c.gate).where(alerts.c.gate == gates.c.gate_id).exists()


@dataclass(frozen=True)
class GateTally:
    enrolled: int
    stale: int
    revoked: int
    alerting: int

    @property
    def live(self) -> int:
        return self.enrolled - self.revoked


def gate_tally(conn: Connection, stale_before: datetime) -> GateTally:
    cutoff = utc_text(stale_before)
    enrolled, stale, revoked = conn.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((_stale(cutoff), 1), else_=0)), 0),
            func.count(gates.c.revoked_at),
        )
    ).one()
    alerting = conn.execute(select(func.count(func.distinct(alerts.c.gate)))).scalar_one()
    return GateTally(int(enrolled), int(stale), int(revoked), int(alerting))


def gate_page(
    conn: Connection,
    stale_before: datetime,
    show: GateFilter = GateFilter.ALL,
    *,
    after: str | None = None,
    before: str | None = None,
    size: int = 50,
) -> Page[GateStatus]:
    cutoff = utc_text(stale_before)
    query = select(gates)
    if show is GateFilter.STALE:
        query = query.where(_stale(cutoff))
    elif show is GateFilter.ALERTS:
        query = query.where(_alerting())
    elif show is GateFilter.REVOKED:
        query = query.where(gates.c.revoked_at.is_not(None))
    found = keyset_page(conn, query, [gates.c.gate_id], lambda r: [r.gate_id], after=after, before=before, size=size)
    names = [r.gate_id for r in found.items]
    counts = dict(
        conn.execute(select(alerts.c.gate, func.count()).where(alerts.c.gate.in_(names)).group_by(alerts.c.gate)).all()
    ) if names else {}
    items = [
        GateStatus(
            r.gate_id, r.created_at, r.revoked_at, r.last_seen_at, r.last_upload_at, r.chain_seq,
            r.bundle_version_fetched, _state(r, cutoff), int(counts.get(r.gate_id, 0)),
        )
        for r in found.items
    ]
    return Page(items, found.next_cursor, found.prev_cursor)


def gate_status(conn: Connection, gate_id: str, stale_before: datetime) -> GateStatus | None:
    row = conn.execute(select(gates).where(gates.c.gate_id == gate_id)).first()
    if row is None:
        return None
    count = conn.execute(select(func.count()).where(alerts.c.gate == gate_id)).scalar_one()
    return GateStatus(
        row.gate_id, row.created_at, row.revoked_at, row.last_seen_at, row.last_upload_at, row.chain_seq,
        row.bundle_version_fetched, _state(row, utc_text(stale_before)), int(count),
    )


def current_bundle(conn: Connection, gate_id: str) -> int:
    return bundle_version(conn, gate_id)


def gate_names(conn: Connection) -> list[str]:
    """Every enrolled gate's id (for pickers)."""
    return list(conn.execute(select(gates.c.gate_id).order_by(gates.c.gate_id)).scalars())


@dataclass(frozen=True)
class AlertRow:
    id: int
    gate: str
    seq: int
    kind: str
    detail: str
    created_at: str


def alert_page(
    conn: Connection, *, gate: str | None = None, after: str | None = None, before: str | None = None, size: int = 50
) -> Page[AlertRow]:
    """Alerts newest first (of one gate, or all)."""
    query = select(alerts)
    if gate:
        query = query.where(alerts.c.gate == gate)
    found = keyset_page(conn, query, [alerts.c.id], lambda r: [r.id], after=after, before=before, size=size, descending=True)
    return Page([AlertRow(**dict(r._mapping)) for r in found.items], found.next_cursor, found.prev_cursor)


def alerts_since(conn: Connection, since: datetime) -> int:
    return int(conn.execute(select(func.count()).where(alerts.c.created_at >= utc_text(since))).scalar_one())


def latest_alarms(conn: Connection, limit: int = 10, gate: str | None = None) -> list[Passage]:
    """The latest entries of red- or yellow-code holders, from the partial index on them. The condition is the
    index's own text: SQLite uses a partial index only for a WHERE term that matches it literally."""
    if gate:  # that gate's own entries, newest first, from the (gate, ts, id) index
        query = select(*COLUMNS).where(entries.c.gate == gate, entries.c.colour.in_(["red", "yellow"]), COUNTED)
    else:
        query = select(*COLUMNS).where(text(ALARM_CONDITION), COUNTED)
    rows = conn.execute(query.order_by(entries.c.ts.desc()).limit(limit))
    return [Passage.of(r) for r in rows]
