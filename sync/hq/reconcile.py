"""Daily reconciliation at HQ: each gate's own counts of a day (`DayReport`, sent with its sync once the day is
over and uploaded whole) beside HQ's counts of the same gate and window, in the same words (attempts, let in,
left, refused, held; one passage per attempt: an entry superseded by its amendment is not counted).

HQ's side is counted from the entries themselves, not from the hourly statistics: the window is the gate's day in
the district's zone (which need not fall on UTC hours), and what is compared is what HQ holds now. A report means
the gate had synced past that day when it sent it, so a day whose counts differ is flagged: HQ lost or gained an
entry of it, or holds one with another verdict. The latest report of each gate and day wins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, and_, case, func, select

from sync.core.clock import utc_text
from sync.core.protocol import DayReport
from sync.hq.tables import dialect_insert, entries, gate_days

COUNTS = ("attempts", "let_in", "left", "refused", "held")
"""What is compared, in the order shown."""


@dataclass(frozen=True)
class DayCheck:
    """One reported day of one gate: the gate's counts and HQ's, each in `COUNTS` order."""

    gate: str
    day: str
    gate_counts: tuple[int, ...]
    hq_counts: tuple[int, ...]
    reported_at: str

    @property
    def differs(self) -> bool:
        return self.gate_counts != self.hq_counts

    def pairs(self) -> list[tuple[str, int, int]]:
        """(what, the gate's count, HQ's count), in `COUNTS` order."""
        return list(zip(COUNTS, self.gate_counts, self.hq_counts, strict=True))


def store_report(conn: Connection, report: DayReport, now: datetime) -> int:
    """Keep each day of the report, replacing an earlier report of the same gate and day; how many days."""
    rows = [
        {
            "gate": report.gate,
            "day": d.day,
            "start": utc_text(d.start),
            "end": utc_text(d.end),
            "attempts": d.attempts,
            "let_in": d.let_in,
            "left": d.left,
            "refused": d.refused,
            "held": d.held,
            "reported_at": utc_text(now),
        }
        for d in report.days
    ]
    insert = dialect_insert(conn, gate_days)
    kept = {name: insert.excluded[name] for name in ("start", "end", *COUNTS, "reported_at")}
    conn.execute(insert.on_conflict_do_update(index_elements=["gate", "day"], set_=kept), rows)
    return len(rows)


def _hq_counts() -> list[object]:
    """HQ's counts of the entries joined to a report row's window, in `COUNTS` order."""
    passed = entries.c.verdict == "pass"
    return [
        func.count(entries.c.id),
        func.coalesce(func.sum(case((and_(passed, entries.c.direction == "in"), 1), else_=0)), 0),
        func.coalesce(func.sum(case((and_(passed, entries.c.direction == "out"), 1), else_=0)), 0),
        func.coalesce(func.sum(case((entries.c.verdict == "refuse", 1), else_=0)), 0),
        func.coalesce(func.sum(case((entries.c.verdict == "hold", 1), else_=0)), 0),
    ]


def day_checks(conn: Connection, gates: Sequence[str], since_day: str) -> list[DayCheck]:
    """The reported days from `since_day` (YYYY-MM-DD) on of these gates, newest first, each with HQ's counts of
    its window: one query, each window read from the (gate, ts) index."""
    if not gates:
        return []
    window = and_(
        entries.c.gate == gate_days.c.gate,
        entries.c.ts >= gate_days.c.start,
        entries.c.ts < gate_days.c.end,
        entries.c.superseded_by.is_(None),
    )
    reported = [gate_days.c[name] for name in COUNTS]
    query = (
        select(gate_days.c.gate, gate_days.c.day, gate_days.c.reported_at, *reported, *_hq_counts())
        .select_from(gate_days.outerjoin(entries, window))
        .where(gate_days.c.gate.in_(list(gates)), gate_days.c.day >= since_day)
        .group_by(gate_days.c.gate, gate_days.c.day, gate_days.c.reported_at, *reported)
        .order_by(gate_days.c.day.desc(), gate_days.c.gate)
    )
    width = len(COUNTS)
    return [
        DayCheck(
            row[0], row[1], tuple(int(n) for n in row[3 : 3 + width]), tuple(int(n) for n in row[3 + width :]), row[2]
        )
        for row in conn.execute(query)
    ]


def mismatched(conn: Connection, gates: Sequence[str], since_day: str) -> dict[str, list[str]]:
    """Of these gates, those with a reported day from `since_day` on whose counts differ: gate -> its days."""
    found: dict[str, list[str]] = {}
    for check in day_checks(conn, gates, since_day):
        if check.differs:
            found.setdefault(check.gate, []).append(check.day)
    return found
