"""Entries partitioned by month on PostgreSQL (declarative partitioning, by range of `ts`), so that a city's
tracing reads only the months it asks about and retention drops a month whole instead of deleting its rows.

Each calendar month (UTC) is a partition named `entries_yYYYYmMM`, holding `ts` from the first instant of the
month to the first of the next, as the stored text sorts ('2024-05-01T00:00:00.000+00:00'); the column is
compared in the "C" collation, byte by byte, so bounds, indexes and queries agree whatever the database's locale.
A DEFAULT partition, `entries_default`, takes any time outside the months made (a gate whose clock is years off,
an entry older than the oldest month), so that no upload is ever refused for its time.

- `make_ahead` makes this month and the next `AHEAD_MONTHS` (the daily purge does, and the migration that
  partitions the table), so the first entry of a month never waits on DDL; a month whose entries already went
  to the default partition (HQ was down as the month began, a gate's clock ran ahead) takes them with it.
- `held` says what each partition holds, for `pocket-hq db status`.
- `drop_before` drops the months that end at or before the retention cutoff, whole (`retention` deletes the
  older entries of the one month that straddles the cutoff, so that no entry outlives the retention period).

Partitions are made and dropped by one HQ process at a time: the purge is a background job (`sync.hq.jobs`)
and the migration holds the migration lock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, text

from sync.core.clock import utc_text

AHEAD_MONTHS = 3
"""Months made ahead of the current one: three months of headroom when the daily purge runs, and two still if
HQ is stopped for a month."""
DEFAULT = "entries_default"
_NAME = re.compile(r"^entries_y(\d{4})m(\d{2})$")


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def of(cls, moment: datetime) -> Month:
        moment = moment.astimezone(UTC)
        return cls(moment.year, moment.month)

    def plus(self, months: int) -> Month:
        index = self.year * 12 + self.month - 1 + months
        return Month(index // 12, index % 12 + 1)

    @property
    def name(self) -> str:
        return f"entries_y{self.year:04d}m{self.month:02d}"

    @property
    def bounds(self) -> tuple[str, str]:
        """[first instant of the month, first of the next) as stored `ts` text."""
        following = self.plus(1)
        return (utc_text(datetime(self.year, self.month, 1, tzinfo=UTC)),
                utc_text(datetime(following.year, following.month, 1, tzinfo=UTC)))


def is_partitioned(conn: Connection) -> bool:
    """True when this database's entries table is partitioned (PostgreSQL after migration 0008)."""
    if conn.dialect.name != "postgresql":
        return False
    kind = conn.execute(text("SELECT relkind FROM pg_class WHERE oid = to_regclass('entries')")).scalar()
    return bool(kind == "p")


def months(conn: Connection) -> list[Month]:
    """The month partitions the entries table has, oldest first."""
    names = conn.execute(text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = to_regclass('entries')"
    )).scalars()
    return sorted(Month(int(m[1]), int(m[2])) for name in names if (m := _NAME.match(name)))


@dataclass(frozen=True)
class Held:
    name: str
    entries: int
    exact: bool
    """False when `entries` is PostgreSQL's estimate (its statistics, as of the last ANALYZE)."""


def held(conn: Connection) -> list[Held]:
    """Each month partition (oldest first) with about how many entries it holds (PostgreSQL's statistics: instant
    at any size), then the default partition with exactly how many (it should hold few or none)."""
    estimates = dict(conn.execute(text(
        "SELECT c.relname, c.reltuples FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = to_regclass('entries')"
    )).all())
    shown = [Held(m.name, max(int(estimates.get(m.name, 0)), 0), False) for m in months(conn)]
    outside = conn.execute(text(f"SELECT count(*) FROM {DEFAULT}")).scalar_one()
    return [*shown, Held(DEFAULT, int(outside), True)]


def make_month(conn: Connection, month: Month) -> int:
    """Make the month's partition; the number of entries it took over from the default partition."""
    low, high = month.bounds
    conn.execute(text(f"LOCK TABLE {DEFAULT} IN EXCLUSIVE MODE"))  # no entry of the month lands there meanwhile
    waiting = conn.execute(
        text(f"SELECT count(*) FROM {DEFAULT} WHERE ts >= :low AND ts < :high"), {"low": low, "high": high}
    ).scalar_one()
    span = f"FOR VALUES FROM ('{low}') TO ('{high}')"  # made here from integers: nothing to quote
    if not waiting:
        conn.execute(text(f"CREATE TABLE {month.name} PARTITION OF entries {span}"))
        return 0
    conn.execute(text(f"CREATE TABLE {month.name} (LIKE entries INCLUDING DEFAULTS)"))
    conn.execute(
        text(f"WITH moved AS (DELETE FROM {DEFAULT} WHERE ts >= :low AND ts < :high RETURNING *)"
             f" INSERT INTO {month.name} SELECT * FROM moved"),
        {"low": low, "high": high},
    )
    conn.execute(text(f"ALTER TABLE entries ATTACH PARTITION {month.name} {span}"))
    return int(waiting)


def make_ahead(conn: Connection, now: datetime | None = None, ahead: int = AHEAD_MONTHS) -> list[Month]:
    """Make this month's partition and the next `ahead` months' where missing; the months made."""
    held = set(months(conn))
    current = Month.of(now or datetime.now(UTC))
    made = [m for m in (current.plus(i) for i in range(ahead + 1)) if m not in held]
    for month in made:
        make_month(conn, month)
    return made


def drop_before(conn: Connection, cutoff: str) -> int:
    """Drop every month partition that ends at or before `cutoff` (stored `ts` text), whole; the entries they
    held. A month still being read waits for its readers, at most `lock_timeout`, then the purge tries again
    at its next run."""
    dropped = 0
    for month in months(conn):
        if month.bounds[1] > cutoff:
            break
        conn.execute(text("SET LOCAL lock_timeout = '30s'"))
        dropped += conn.execute(text(f"SELECT count(*) FROM {month.name}")).scalar_one()
        conn.execute(text(f"DROP TABLE {month.name}"))
    return dropped
