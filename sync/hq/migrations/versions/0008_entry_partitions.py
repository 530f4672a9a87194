"""On PostgreSQL, entries partitioned by month of their time (`sync.hq.partitions`); SQLite is left as it is.

The entries held move in one transaction: the table is renamed aside, the partitioned table made with a partition
for every month from the oldest entry's (at most two years back; anything older goes to the default partition,
for the purge) to `AHEAD_MONTHS` ahead, the rows copied, the old table dropped, and the keys and indexes built
on the partitions afterwards (faster than keeping them up row by row). Ten million entries take minutes; HQ is
not serving meanwhile (`pocket-hq db upgrade` says what it is doing). A partitioned table's keys must hold the
partition key: the primary key becomes (id, ts) and the (gate, seq) key (gate, seq, ts) (see `sync.hq.tables`).

The partitioned table takes every column the entries table has when this runs (read from the catalog, not
listed here), so columns that earlier migrations added (`reason_codes` by 0004, `superseded_by` by 0005) move
over with their values.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from sync.hq.partitions import AHEAD_MONTHS, DEFAULT, Month, make_month

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

log = logging.getLogger("pocket_hq")
OLDEST_MONTHS = 24
"""How far back months are made for the entries held; older ones wait in the default partition for the purge."""
INDEXES = (
    "CREATE INDEX ix_entries_ts ON entries (ts)",
    "CREATE INDEX ix_entries_subject_ts_id ON entries (subject, ts, id)",
    "CREATE INDEX ix_entries_gate_ts_id_subject ON entries (gate, ts, id, subject)",
    "CREATE INDEX ix_entries_alarm_ts ON entries (ts) WHERE colour IN ('red', 'yellow')",
)
C_TS = 'COLLATE "C"'
"""The time column is compared byte by byte on the partitioned table (`sync.hq.partitions`); the unpartitioned
table had the database's own collation, as the downgrade gives it back."""
OLD_INDEXES = ("ix_entries_ts", "ix_entries_subject_ts_id", "ix_entries_gate_ts_id_subject", "ix_entries_alarm_ts")


def _set_aside() -> None:
    """Rename the entries table and its indexes out of the way (index names are the schema's, not the table's)."""
    op.execute("ALTER TABLE entries RENAME TO entries_old")
    op.execute("ALTER INDEX entries_pkey RENAME TO entries_old_pkey")
    op.execute("ALTER TABLE entries_old RENAME CONSTRAINT uq_entries_gate_seq TO uq_entries_old_gate_seq")
    for name in OLD_INDEXES:
        op.execute(f"ALTER INDEX {name} RENAME TO {name.replace('ix_entries', 'ix_entries_old')}")


def _columns(bind: sa.Connection, collate_ts: str) -> tuple[str, str]:
    """The column definitions of the table set aside (`entries_old`), in its order, with `collate_ts` on `ts`,
    and their names."""
    found = bind.execute(sa.text(
        "SELECT attname, format_type(atttypid, atttypmod) AS type, attnotnull FROM pg_attribute "
        "WHERE attrelid = 'entries_old'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
    )).all()
    definitions = [
        f'"{row.attname}" {row.type}{" " + collate_ts if row.attname == "ts" and collate_ts else ""}'
        f'{" NOT NULL" if row.attnotnull else ""}'
        for row in found
    ]
    return ", ".join(definitions), ", ".join(f'"{row.attname}"' for row in found)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    held, oldest = bind.execute(sa.text("SELECT count(*), min(ts) FROM entries")).one()
    if held:
        log.warning("moving %d entries into monthly partitions (one transaction; minutes for millions)", held)
    _set_aside()
    columns, names = _columns(bind, C_TS)
    op.execute(f"CREATE TABLE entries ({columns}) PARTITION BY RANGE (ts)")
    op.execute(f"CREATE TABLE {DEFAULT} PARTITION OF entries DEFAULT")
    now = Month.of(datetime.now(UTC))
    first = now
    if oldest is not None:
        try:
            first = min(max(Month.of(datetime.fromisoformat(oldest)), now.plus(-OLDEST_MONTHS)), now)
        except ValueError:
            pass  # not a time: nothing to make a month for
    month = first
    while month <= now.plus(AHEAD_MONTHS):
        make_month(bind, month)
        month = month.plus(1)
    op.execute(f"INSERT INTO entries ({names}) SELECT {names} FROM entries_old")
    op.execute("DROP TABLE entries_old")
    op.execute("ALTER TABLE entries ADD CONSTRAINT entries_pkey PRIMARY KEY (id, ts)")
    op.execute("ALTER TABLE entries ADD CONSTRAINT uq_entries_gate_seq UNIQUE (gate, seq, ts)")
    for statement in INDEXES:
        op.execute(statement)
    op.execute("ANALYZE entries")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    _set_aside()
    columns, names = _columns(bind, "")
    op.execute(f"CREATE TABLE entries ({columns})")
    op.execute(f"INSERT INTO entries ({names}) SELECT {names} FROM entries_old")
    op.execute("DROP TABLE entries_old")
    op.execute("ALTER TABLE entries ADD CONSTRAINT entries_pkey PRIMARY KEY (id)")
    op.execute("ALTER TABLE entries ADD CONSTRAINT uq_entries_gate_seq UNIQUE (gate, seq)")
    for statement in INDEXES:
        op.execute(statement)
