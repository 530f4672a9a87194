"""Hourly statistics of entries, per gate: what the overview draws, kept current by ingest.

Counting a day of a city's entries on every page view would cost a scan of hundreds of thousands of rows; the
overview reads these rollups instead (a row per gate and UTC hour, and one per refusal reason), which ingest
updates in the same transaction as it stores the entries, so they never disagree. `rebuild` recomputes them
from the entries (after a migration, a restore, or a bulk load); retention purges them with the entries.

Reasons are counted by kind, as the gates count them (`sync.core.refusals.reason_kind`): by rule code
(`temperature.too_high`), worded as the reader's label when shown, or for a reason without one, by its words
without particulars.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import Connection, Table, and_, case, delete, func, insert, select

from sync.core.refusals import entry_reasons, reason_kind
from sync.hq.tables import dialect_insert, entries, entry_stats, reason_stats, settings

REBUILD_MARKER = "stats_rebuild"
COUNT_COLUMNS = ("entries_in", "entries_out", "refused", "held", "red", "yellow", "let_in", "left")
_CHUNK = 5000


def hour_of(ts: str) -> str:
    """The UTC hour an entry time falls in, as stored: '2024-05-01T08'."""
    return ts[:13]


@dataclass
class Counts:
    """Passages (one per attempt: an amended entry counts as its amendment only), in the gates' words:
    attempts in and out, people let in, people who left, refused and held."""

    entries_in: int = 0
    """Attempts to come in, whatever their verdict."""
    entries_out: int = 0
    """Attempts to go out, whatever their verdict."""
    refused: int = 0
    held: int = 0
    red: int = 0
    yellow: int = 0
    let_in: int = 0
    """Attempts to come in that passed."""
    left: int = 0
    """Attempts to go out that passed."""

    @property
    def total(self) -> int:
        """Every attempt, in or out."""
        return self.entries_in + self.entries_out

    def add(self, other: Counts) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


def _tally(
    rows: Iterable[Mapping[str, Any]], sign: int = 1
) -> tuple[dict[tuple[str, str], Counts], Counter[tuple[str, str, str, str]]]:
    """Counts of `rows` per (gate, hour), and of their reasons; `sign` -1 gives what taking them away subtracts."""
    hours: dict[tuple[str, str], Counts] = {}
    reasons: Counter[tuple[str, str, str, str]] = Counter()
    for row in rows:
        key = (row["gate"], hour_of(row["ts"]))
        counts = hours.setdefault(key, Counts())
        verdict = row["verdict"]
        if row["direction"] == "in":
            counts.entries_in += sign
            counts.let_in += sign if verdict == "pass" else 0
        else:
            counts.entries_out += sign
            counts.left += sign if verdict == "pass" else 0
        if verdict == "refuse":
            counts.refused += sign
        elif verdict == "hold":
            counts.held += sign
        if row["colour"] == "red":
            counts.red += sign
        elif row["colour"] == "yellow":
            counts.yellow += sign
        if verdict != "pass":
            for label in {reason_kind(r) for r in entry_reasons(row["reasons"], row.get("reason_codes"))}:
                reasons[(*key, verdict, label)] += sign
    return hours, reasons


def _add(conn: Connection, table: Table, keys: list[str], columns: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    """Insert rows, or add their counts to the rows already there."""
    for start in range(0, len(rows), _CHUNK):
        statement = dialect_insert(conn, table)
        statement = statement.on_conflict_do_update(
            index_elements=keys, set_={c: table.c[c] + statement.excluded[c] for c in columns}
        )
        conn.execute(statement, rows[start : start + _CHUNK])


def record(conn: Connection, rows: Iterable[Mapping[str, Any]], *, sign: int = 1) -> None:
    """Count newly stored entries (inside the transaction that stores them); with `sign` -1, stop counting entries
    an amendment has just superseded."""
    hours, reasons = _tally(rows, sign)
    if hours:
        _add(
            conn,
            entry_stats,
            ["gate", "hour"],
            COUNT_COLUMNS,
            [{"gate": g, "hour": h, **vars(c)} for (g, h), c in hours.items()],
        )
    if reasons:
        _add(
            conn,
            reason_stats,
            ["gate", "hour", "verdict", "reason"],
            ("n",),
            [{"gate": g, "hour": h, "verdict": v, "reason": r, "n": n} for (g, h, v, r), n in reasons.items()],
        )


def rebuild(conn: Connection) -> None:
    """Recompute every statistic from the entries held (one transaction: the old ones stay until it commits)."""
    conn.execute(delete(entry_stats))
    conn.execute(delete(reason_stats))
    hour = func.substr(entries.c.ts, 1, 13)
    counted = entries.c.superseded_by.is_(None)

    def count_if(condition: Any) -> Any:
        return func.sum(case((condition, 1), else_=0))

    conn.execute(
        insert(entry_stats).from_select(
            ["gate", "hour", *COUNT_COLUMNS],
            select(
                entries.c.gate,
                hour,
                count_if(entries.c.direction == "in"),
                count_if(entries.c.direction != "in"),
                count_if(entries.c.verdict == "refuse"),
                count_if(entries.c.verdict == "hold"),
                count_if(entries.c.colour == "red"),
                count_if(entries.c.colour == "yellow"),
                count_if(and_(entries.c.direction == "in", entries.c.verdict == "pass")),
                count_if(and_(entries.c.direction != "in", entries.c.verdict == "pass")),
            )
            .where(counted)
            .group_by(entries.c.gate, hour),
        )
    )
    reasons: Counter[tuple[str, str, str, str]] = Counter()
    not_passed = conn.execute(
        select(entries.c.gate, entries.c.ts, entries.c.verdict, entries.c.reasons, entries.c.reason_codes)
        .where(entries.c.verdict != "pass", counted)
        .execution_options(yield_per=_CHUNK)
    )
    for row in not_passed:
        key = (row.gate, hour_of(row.ts), row.verdict)
        for label in {reason_kind(r) for r in entry_reasons(row.reasons, row.reason_codes)}:
            reasons[(*key, label)] += 1
    rows = [{"gate": g, "hour": h, "verdict": v, "reason": r, "n": n} for (g, h, v, r), n in reasons.items()]
    for start in range(0, len(rows), _CHUNK):
        conn.execute(insert(reason_stats), rows[start : start + _CHUNK])
    conn.execute(delete(settings).where(settings.c.key == REBUILD_MARKER))


def rebuild_needed(conn: Connection) -> bool:
    """Whether a migration asked for `rebuild` (it left the marker, which `rebuild` removes)."""
    return conn.execute(select(settings.c.value).where(settings.c.key == REBUILD_MARKER)).first() is not None


def purge(conn: Connection, cutoff: str) -> None:
    """Drop the statistics of hours wholly before `cutoff` (an entry time, as retention computes it)."""
    conn.execute(delete(entry_stats).where(entry_stats.c.hour < hour_of(cutoff)))
    conn.execute(delete(reason_stats).where(reason_stats.c.hour < hour_of(cutoff)))


# -- reading -------------------------------------------------------------------------------------------------


def _sums() -> list[Any]:
    return [func.coalesce(func.sum(entry_stats.c[c]), 0).label(c) for c in COUNT_COLUMNS]


def _window(query: Any, table: Table, start_hour: str, end_hour: str, gates: list[str] | None) -> Any:
    query = query.where(table.c.hour >= start_hour, table.c.hour <= end_hour)
    if gates is not None:
        query = query.where(table.c.gate.in_(gates))
    return query


def totals(conn: Connection, start_hour: str, end_hour: str, gates: list[str] | None = None) -> Counts:
    """Counts over the hours from `start_hour` to `end_hour` inclusive (of some gates, or all)."""
    row = conn.execute(_window(select(*_sums()), entry_stats, start_hour, end_hour, gates)).one()
    return Counts(**{c: int(row._mapping[c]) for c in COUNT_COLUMNS})


def by_hour(conn: Connection, start_hour: str, end_hour: str, gates: list[str] | None = None) -> dict[str, Counts]:
    query = _window(select(entry_stats.c.hour, *_sums()), entry_stats, start_hour, end_hour, gates)
    rows = conn.execute(query.group_by(entry_stats.c.hour))
    return {row.hour: Counts(**{c: int(row._mapping[c]) for c in COUNT_COLUMNS}) for row in rows}


def by_gate(conn: Connection, start_hour: str, end_hour: str, gates: list[str]) -> dict[str, Counts]:
    query = _window(select(entry_stats.c.gate, *_sums()), entry_stats, start_hour, end_hour, gates)
    rows = conn.execute(query.group_by(entry_stats.c.gate))
    return {row.gate: Counts(**{c: int(row._mapping[c]) for c in COUNT_COLUMNS}) for row in rows}


def by_gate_hour(conn: Connection, start_hour: str, end_hour: str, gates: list[str]) -> dict[str, dict[str, Counts]]:
    query = _window(select(entry_stats), entry_stats, start_hour, end_hour, gates)
    result: dict[str, dict[str, Counts]] = {}
    for row in conn.execute(query):
        result.setdefault(row.gate, {})[row.hour] = Counts(**{c: int(row._mapping[c]) for c in COUNT_COLUMNS})
    return result


@dataclass(frozen=True)
class ReasonCount:
    reason: str
    refused: int
    held: int

    @property
    def total(self) -> int:
        return self.refused + self.held


def reasons(
    conn: Connection, start_hour: str, end_hour: str, gates: list[str] | None = None, limit: int = 12
) -> list[ReasonCount]:
    """The commonest reasons for refusing or holding people in the window, most frequent first."""
    refused = func.sum(case((reason_stats.c.verdict == "refuse", reason_stats.c.n), else_=0))
    held = func.sum(case((reason_stats.c.verdict == "hold", reason_stats.c.n), else_=0))
    query = _window(
        select(reason_stats.c.reason, refused.label("refused"), held.label("held")),
        reason_stats,
        start_hour,
        end_hour,
        gates,
    )
    query = query.group_by(reason_stats.c.reason).order_by(func.sum(reason_stats.c.n).desc(), reason_stats.c.reason)
    return [ReasonCount(row.reason, int(row.refused), int(row.held)) for row in conn.execute(query.limit(limit))]
