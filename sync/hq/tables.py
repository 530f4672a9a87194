"""HQ's schema: one set of tables on SQLite (the embedded default) or PostgreSQL (a city), through SQLAlchemy
Core; `sync.hq.db` opens the database and migrates it to them (Alembic, on both).

Times are stored as UTC ISO 8601 text (`sync.core.clock.utc_text`), exactly as gates send them: an entry's `ts` is
part of its hash, and the fixed-width text sorts in time order on both databases.

Text a gate sends is stored as sent on both databases: PostgreSQL's text cannot hold NUL, so the columns that
carry it (`GateText`) escape it there, reversibly, and read it back unchanged.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect

metadata = MetaData()

ALARM_CONDITION = "colour IN ('red', 'yellow')"
"""Entries of red- or yellow-code holders: the attempts HQ staff watch for."""

AutoId = BigInteger().with_variant(Integer, "sqlite")
"""A growing integer key: BIGSERIAL on PostgreSQL, the rowid on SQLite."""

_ESCAPE = "\ue000"
"""A private-use character: on PostgreSQL it stands for itself as ESCAPE+'0' and for NUL as ESCAPE+'1'."""
_ESCAPED = re.compile(_ESCAPE + "([01])")


def escape_nul(value: str) -> str:
    """Text PostgreSQL can hold (no NUL), from which `unescape_nul` gives back exactly `value`."""
    if _ESCAPE not in value and "\x00" not in value:
        return value
    return value.replace(_ESCAPE, _ESCAPE + "0").replace("\x00", _ESCAPE + "1")


def unescape_nul(value: str) -> str:
    if _ESCAPE not in value:
        return value
    return _ESCAPED.sub(lambda m: _ESCAPE if m[1] == "0" else "\x00", value)


class _NulSafeText(TypeDecorator[str]):
    """PostgreSQL TEXT that holds NUL too (escaped; see `GateText`)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return escape_nul(value) if value is not None else value

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return unescape_nul(value) if value is not None else value


GateText = Text().with_variant(_NulSafeText(), "postgresql")
"""TEXT that holds any Unicode a gate sends, NUL included, on both databases: escaped on PostgreSQL, whose text
type refuses NUL; SQLite holds it as it is (and pays nothing). Text without NUL or the escape is stored
unchanged, so queries and indexes see what they always saw."""

gates = Table(
    "gates",
    metadata,
    Column("gate_id", String(64), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", String(40), nullable=False),
    Column("revoked_at", String(40)),
    Column("chain_seq", BigInteger, nullable=False, server_default="0"),
    Column("chain_hash", String(64), nullable=False),
    Column("last_seen_at", String(40)),
    Column("last_upload_at", String(40)),
    Column("bundle_version_fetched", BigInteger),
    Column("key_generation", Integer, nullable=False, server_default="1"),
)
"""`key_generation`: which of the gate's keys (`sync.hq.district`) its bundle carries; `gates rekey` takes the
next (migration 0006)."""

entries = Table(
    "entries",
    metadata,
    Column("id", String(26), primary_key=True),
    Column("gate", String(64), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("ts", String(40), nullable=False),
    Column("direction", String(8), nullable=False),
    Column("subject", String(32)),
    Column("name", GateText, nullable=False),
    Column("code_type", String(40), nullable=False),
    Column("colour", String(8)),
    Column("verdict", String(8), nullable=False),
    Column("reasons", GateText, nullable=False),
    Column("reason_codes", GateText),
    Column("temperature", Float),
    Column("operator", GateText, nullable=False),
    Column("details", GateText, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("received_at", String(40), nullable=False),
    Column("superseded_by", String(26)),
    UniqueConstraint("gate", "seq", name="uq_entries_gate_seq"),
    # On PostgreSQL the table is partitioned by month of `ts` (migration 0008, `sync.hq.partitions`), and a
    # partitioned table's keys must hold the partition key: there the primary key is (id, ts) and the unique
    # key (gate, seq, ts). An entry sent again is the same row (same id, same ts) and still cannot be doubled;
    # that no id or sequence number is taken twice with another time is ingest's check, made under the gate's
    # row lock that every upload of a gate takes.
    Index("ix_entries_ts", "ts"),
    # Tracing reads a person's or a gate's passages in time order, a page at a time: (ts, id) is the page key,
    # so these indexes give each page in order without sorting the window (migration 0002). The gate index also
    # holds the subject: "who passed" (how many people, everyone but the person traced) is then answered from
    # the index alone, without reading a busy gate's month of rows.
    Index("ix_entries_subject_ts_id", "subject", "ts", "id"),
    Index("ix_entries_gate_ts_id_subject", "gate", "ts", "id", "subject"),
    # The latest red/yellow-code attempts on the overview: a small partial index instead of a scan of the day.
    Index(
        "ix_entries_alarm_ts",
        "ts",
        sqlite_where=text(ALARM_CONDITION),
        postgresql_where=text(ALARM_CONDITION),
    ),
)

unsealed_entries = Table(
    "unsealed_entries",
    metadata,
    Column("id", String(26), primary_key=True),
    Column("ts", String(40), nullable=False),
    Index("ix_unsealed_entries_ts", "ts"),
)
"""Entries a gate sent with no subject (an ID number typed there, on none of its lists) that HQ filed under the
subject of the number the gate sealed to it (`sync.hq.ingest`, rule 8): as sent, their `subject` was NULL.
Purged with the entries (migration 0006)."""

duty_events = Table(
    "duty_events",
    metadata,
    Column("gate", String(64), primary_key=True),
    Column("seq", BigInteger, primary_key=True),
    Column("id", String(26), nullable=False),
    Column("ts", String(40), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("detail", GateText, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("received_at", String(40), nullable=False),
    Index("ix_duty_events_gate_ts", "gate", "ts"),
)
"""A gate's changes of state (shift on/off, camera lost/back, lists stale/fresh; `sync.core.duty`), once each by
(gate, seq): what the duty timeline is drawn from (migration 0012)."""

alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("gate", String(64), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("detail", GateText, nullable=False),
    Column("created_at", String(40), nullable=False),
    Index("ix_alerts_gate", "gate", "seq"),
)

upload_batches = Table(
    "upload_batches",
    metadata,
    Column("gate", String(64), primary_key=True),
    Column("batch_id", String(100), primary_key=True),
    Column("digest", String(64), nullable=False),
    Column("receipt", Text, nullable=False),
    Column("received_at", String(40), nullable=False),
    Index("ix_upload_batches_received_at", "received_at"),
)

roster = Table(
    "roster",
    metadata,
    Column("gate", String(64), primary_key=True),
    Column("subject", String(32), primary_key=True),
    Column("name", Text, nullable=False),
    Column("unit", Text, nullable=False),
    Column("kept_id", Text),
    Column("phone", Text, nullable=False, server_default=""),
)
"""`phone`: the household's, for the keeper to call a visitor's host (migration 0008).
`kept_id` on every list row: the ID number encrypted under HQ's list key (`sync.hq.district`), to hash the row
for each gate's key; NULL for rows loaded before gate keys (migration 0006)."""

passes = Table(
    "passes",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("subject", String(32), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("gate", String(64)),
    Column("valid_from", String(40), nullable=False),
    Column("valid_until", String(40), nullable=False),
    Column("note", Text, nullable=False),
    Column("issued_at", String(40), nullable=False),
    Column("kept_id", Text),
    Index("ix_passes_gate", "gate"),
)

colour_list = Table(
    "colour_list",
    metadata,
    Column("subject", String(32), primary_key=True),
    Column("colour", String(8), nullable=False),
    Column("note", Text, nullable=False),
    Column("name", Text, nullable=False, server_default=""),
    Column("kept_id", Text),
)
"""The red/yellow list in force. `name` is masked (when the file gave one), for officials only: gates get the
subject, colour and note (migration 0005)."""

traced_colour = Table(
    "traced_colour",
    metadata,
    Column("subject", String(32), primary_key=True),
    Column("colour", String(8), nullable=False),
    Column("reason", Text, nullable=False),
    Column("until", String(40), nullable=False),
    Column("trace", Text, nullable=False),
    Column("added_by", Text, nullable=False),
    Column("added_at", String(40), nullable=False),
    Column("name", Text, nullable=False, server_default=""),
)
"""People put on the red/yellow list from a tracing result (`sync.hq.traced_list`), each until `until` (UTC
text): kept apart from the uploaded list, which an upload replaces whole, so an upload never drops them and they
lapse by themselves. `trace` is the tracing result's link they came from (migration 0011)."""

incidents = Table(
    "incidents",
    metadata,
    Column("id", String(26), primary_key=True),
    Column("gate", String(64), nullable=False),
    Column("entry_id", String(26), nullable=False),
    Column("ts", String(40), nullable=False),
    Column("subject", String(32)),
    Column("name", Text, nullable=False),
    Column("colour", Text, nullable=False),
    Column("reasons", Text, nullable=False),
    Column("outcome", Text, nullable=False),
    Column("keeper", Text, nullable=False),
    Column("received_at", String(40), nullable=False),
    Column("closed_at", String(40)),
    Column("closed_by", Text),
    Index("incidents_open", "closed_at", "ts"),
)
"""Red-code incidents gates report (`sync.hq.incidents`): open (closed_at NULL) until an official closes them.
`reasons` is a JSON list, as the gate sent it (migration 0011)."""

trust_documents = Table(
    "trust_documents",
    metadata,
    Column("type", String(64), primary_key=True),
    Column("id", String(200), primary_key=True),
    Column("label", Text, nullable=False),
    Column("content", Text, nullable=False),
    Column("encoding", String(8), nullable=False),
    Column("added_at", String(40), nullable=False),
    Column("withdraw_at", String(40)),
)
"""`withdraw_at`: when a rotated-out issuer key stops being published (`pocket-hq keys rotate`; migration 0006)."""

settings = Table(
    "settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

revisions = Table(
    "revisions",
    metadata,
    Column("scope", String(100), primary_key=True),
    Column("value", BigInteger, nullable=False),
)
"""Bundle versions. Scope 'counter' only grows; every change to what gates receive takes the next value for its
scope ('district' for lists every gate gets, 'gate:<id>' for one gate's roster and passes). A gate's bundle
version is the larger of the two, so it only ever grows too."""


# -- the staff dashboard (migration 0002) -----------------------------------------------------------------

# An account's own language (migration 0004): NULL follows the district's (`serve --language`).
staff_users = Table(
    "staff_users",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("password_hash", Text, nullable=False),
    Column("role", String(16), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("password_changed_at", String(40), nullable=False),
    Column("disabled_at", String(40)),
    Column("language", String(16)),
)

staff_sessions = Table(
    "staff_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("username", String(64), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("last_seen_at", String(40), nullable=False),
    Column("expires_at", String(40), nullable=False),
    Index("ix_staff_sessions_username", "username"),
)
"""Signed-in staff. The cookie holds a random token; HQ keeps its SHA-256, as it does for gate tokens."""

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("at", String(40), nullable=False),
    Column("username", String(64), nullable=False),
    Column("action", String(40), nullable=False),
    Column("detail", Text, nullable=False),
    Column("results", BigInteger),
    Column("client", String(64), nullable=False),
    Index("ix_audit_log_username", "username", "id"),
)
"""Every tracing query, export and change made by staff, and every sign-in: who, when, what, how many rows."""

entry_stats = Table(
    "entry_stats",
    metadata,
    Column("gate", String(64), primary_key=True),
    Column("hour", String(13), primary_key=True),
    Column("entries_in", BigInteger, nullable=False),
    Column("entries_out", BigInteger, nullable=False),
    Column("refused", BigInteger, nullable=False),
    Column("held", BigInteger, nullable=False),
    Column("red", BigInteger, nullable=False),
    Column("yellow", BigInteger, nullable=False),
    Column("let_in", BigInteger, nullable=False, server_default="0"),
    Column("left", BigInteger, nullable=False, server_default="0"),
    Index("ix_entry_stats_hour", "hour"),
)
"""Passages per gate and UTC hour ('2024-05-01T08'), kept up to date by ingest: the overview reads a few
thousand of these instead of a day of entries. `entries_in`/`entries_out` count attempts in each direction,
`let_in`/`left` the people let through; an entry superseded by an amendment is not counted (migration 0005)."""

gate_days = Table(
    "gate_days",
    metadata,
    Column("gate", String(64), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("start", String(40), nullable=False),
    Column("end", String(40), nullable=False),
    Column("attempts", BigInteger, nullable=False),
    Column("let_in", BigInteger, nullable=False),
    Column("left", BigInteger, nullable=False),
    Column("refused", BigInteger, nullable=False),
    Column("held", BigInteger, nullable=False),
    Column("reported_at", String(40), nullable=False),
    Index("ix_gate_days_day", "day"),
)
"""Each gate's own counts of a day it finished and uploaded whole (`DayReport`), the latest report of each gate
and day: `sync.hq.reconcile` sets HQ's counts of the same window (`start` to `end`, UTC) beside them
(migration 0007)."""

reason_stats = Table(
    "reason_stats",
    metadata,
    Column("gate", String(64), primary_key=True),
    Column("hour", String(13), primary_key=True),
    Column("verdict", String(8), primary_key=True),
    Column("reason", String(120), primary_key=True),
    Column("n", BigInteger, nullable=False),
    Index("ix_reason_stats_hour", "hour"),
)
"""Refusals and holds per gate, UTC hour and reason (by kind, a rule code where the reason has one: see
`sync.core.refusals.reason_kind`)."""

staged_uploads = Table(
    "staged_uploads",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("gate", String(64)),
    Column("filename", Text, nullable=False),
    Column("uploaded_by", String(64), nullable=False),
    Column("uploaded_at", String(40), nullable=False),
    Column("state", String(16), nullable=False),
    Column("rows_read", BigInteger, nullable=False, server_default="0"),
    Column("message", Text, nullable=False, server_default=""),
    Column("base_version", BigInteger, nullable=False),
    Column("added", BigInteger),
    Column("changed", BigInteger),
    Column("removed", BigInteger),
    Column("unchanged", BigInteger),
    Column("finished_at", String(40)),
    Index("ix_staged_uploads_uploaded_at", "uploaded_at"),
)
"""A roster or red/yellow list CSV uploaded through the dashboard, checked and waiting for an admin to apply
it (or applied, discarded, failed). Its rows wait in the staged_* tables below until then."""

staged_colour_rows = Table(
    "staged_colour_rows",
    metadata,
    Column("upload_id", String(32), primary_key=True),
    Column("subject", String(32), primary_key=True),
    Column("colour", String(8), nullable=False),
    Column("note", Text, nullable=False),
    Column("name", Text, nullable=False, server_default=""),
    Column("line", BigInteger),
    Column("kept_id", Text),
)
"""`line`: where the row is in the uploaded file, for the preview (migration 0005)."""

staged_roster_rows = Table(
    "staged_roster_rows",
    metadata,
    Column("upload_id", String(32), primary_key=True),
    Column("subject", String(32), primary_key=True),
    Column("name", Text, nullable=False),
    Column("unit", Text, nullable=False),
    Column("line", BigInteger),
    Column("kept_id", Text),
    Column("phone", Text, nullable=False, server_default=""),
)



# -- several HQ processes on one database (migration 0007) -----------------------------------------------

jobs = Table(
    "jobs",
    metadata,
    Column("name", String(120), primary_key=True),
    Column("every_seconds", Float),
    Column("params", Text, nullable=False, server_default=""),
    Column("due_at", String(40), nullable=False),
    Column("runs", BigInteger, nullable=False, server_default="0"),
    Column("started_at", String(40)),
    Column("finished_at", String(40)),
    Column("process", String(120)),
    Column("outcome", Text, nullable=False, server_default=""),
    Index("ix_jobs_due_at", "due_at"),
)
"""Background work, done once by whichever HQ process takes it (`sync.hq.jobs`): periodic jobs (`every_seconds`
set: the purge, housekeeping) and one-off jobs (a list upload's check, removed when done)."""

hq_processes = Table(
    "hq_processes",
    metadata,
    Column("name", String(120), primary_key=True),
    Column("started_at", String(40), nullable=False),
    Column("polled_at", String(40), nullable=False),
    Column("doing", String(120)),
)
"""The HQ processes serving this database (host:pid; PostgreSQL only), each with the last time it looked for
background work and the one-off job it is doing, if any."""

upload_files = Table(
    "upload_files",
    metadata,
    Column("upload_id", String(32), primary_key=True),
    Column("part", Integer, primary_key=True, autoincrement=False),
    Column("data", LargeBinary, nullable=False),
)
"""A list CSV uploaded through the dashboard, as it was sent, in parts of a megabyte, until its check ends: any
HQ process can check it, and start over when the one checking it stops."""

rate_limit_hits = Table(
    "rate_limit_hits",
    metadata,
    Column("key", String(300), nullable=False),
    Column("at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Index("ix_rate_limit_hits_key_at", "key", "at"),
    Index("ix_rate_limit_hits_expires_at", "expires_at"),
)
"""Rate-limited requests counted in the database, shared by every HQ process (`sync.hq.rate_store`). UNLOGGED on
PostgreSQL: counts are worth no disk flush, and a crash forgets them at worst."""


def dialect_insert(conn: Connection, table: Table) -> Any:
    """INSERT with the connection's dialect's ON CONFLICT support (both spell it the same)."""
    return postgresql.insert(table) if conn.dialect.name == "postgresql" else sqlite.insert(table)
