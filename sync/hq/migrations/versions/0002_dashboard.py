"""The staff dashboard: staff accounts and sessions, the audit log, hourly entry statistics, staged list
uploads, and entry indexes chosen for contact tracing.

Tracing reads a person's (subject) or a gate's passages in a time window a page at a time, keyed by (ts, id):
the (subject, ts) and (gate, ts) indexes become (subject, ts, id) and (gate, ts, id, subject), so every page
comes in order from the index without sorting the window, and the people who passed a gate (counted, or
everyone but the person traced) are read from the gate index alone. A partial index on ts over red/yellow-code entries serves the
overview's latest attempts.

Statistics for entries already held are computed after the upgrade (`stats.rebuild`, run by
`HqDatabase.upgrade` when the marker set here says so), with the code of the schema then current.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ALARM = "colour IN ('red', 'yellow')"
AUTO_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.drop_index("ix_entries_subject_ts", table_name="entries")
    op.drop_index("ix_entries_gate_ts", table_name="entries")
    op.create_index("ix_entries_subject_ts_id", "entries", ["subject", "ts", "id"])
    op.create_index("ix_entries_gate_ts_id_subject", "entries", ["gate", "ts", "id", "subject"])
    op.create_index(
        "ix_entries_alarm_ts", "entries", ["ts"], sqlite_where=sa.text(ALARM), postgresql_where=sa.text(ALARM)
    )
    op.create_table(
        "staff_users",
        sa.Column("username", sa.String(64), primary_key=True),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("password_changed_at", sa.String(40), nullable=False),
        sa.Column("disabled_at", sa.String(40)),
    )
    op.create_table(
        "staff_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("last_seen_at", sa.String(40), nullable=False),
        sa.Column("expires_at", sa.String(40), nullable=False),
    )
    op.create_index("ix_staff_sessions_username", "staff_sessions", ["username"])
    op.create_table(
        "audit_log",
        sa.Column("id", AUTO_ID, primary_key=True, autoincrement=True),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("results", sa.BigInteger),
        sa.Column("client", sa.String(64), nullable=False),
    )
    op.create_index("ix_audit_log_username", "audit_log", ["username", "id"])
    op.create_table(
        "entry_stats",
        sa.Column("gate", sa.String(64), primary_key=True),
        sa.Column("hour", sa.String(13), primary_key=True),
        sa.Column("entries_in", sa.BigInteger, nullable=False),
        sa.Column("entries_out", sa.BigInteger, nullable=False),
        sa.Column("refused", sa.BigInteger, nullable=False),
        sa.Column("held", sa.BigInteger, nullable=False),
        sa.Column("red", sa.BigInteger, nullable=False),
        sa.Column("yellow", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_entry_stats_hour", "entry_stats", ["hour"])
    op.create_table(
        "reason_stats",
        sa.Column("gate", sa.String(64), primary_key=True),
        sa.Column("hour", sa.String(13), primary_key=True),
        sa.Column("verdict", sa.String(8), primary_key=True),
        sa.Column("reason", sa.String(120), primary_key=True),
        sa.Column("n", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_reason_stats_hour", "reason_stats", ["hour"])
    op.create_table(
        "staged_uploads",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("gate", sa.String(64)),
        sa.Column("filename", sa.Text, nullable=False),
        sa.Column("uploaded_by", sa.String(64), nullable=False),
        sa.Column("uploaded_at", sa.String(40), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("rows_read", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("message", sa.Text, nullable=False, server_default=""),
        sa.Column("base_version", sa.BigInteger, nullable=False),
        sa.Column("added", sa.BigInteger),
        sa.Column("changed", sa.BigInteger),
        sa.Column("removed", sa.BigInteger),
        sa.Column("unchanged", sa.BigInteger),
        sa.Column("finished_at", sa.String(40)),
    )
    op.create_index("ix_staged_uploads_uploaded_at", "staged_uploads", ["uploaded_at"])
    op.create_table(
        "staged_colour_rows",
        sa.Column("upload_id", sa.String(32), primary_key=True),
        sa.Column("subject", sa.String(32), primary_key=True),
        sa.Column("colour", sa.String(8), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
    )
    op.create_table(
        "staged_roster_rows",
        sa.Column("upload_id", sa.String(32), primary_key=True),
        sa.Column("subject", sa.String(32), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("unit", sa.Text, nullable=False),
    )
    held = op.get_bind().execute(sa.text("SELECT 1 FROM entries LIMIT 1")).first()
    if held is not None:
        settings = sa.table("settings", sa.column("key"), sa.column("value"))
        op.bulk_insert(settings, [{"key": "stats_rebuild", "value": "needed"}])


def downgrade() -> None:
    for table in ("staged_roster_rows", "staged_colour_rows", "staged_uploads", "reason_stats", "entry_stats",
                  "audit_log", "staff_sessions", "staff_users"):
        op.drop_table(table)
    op.execute(sa.text("DELETE FROM settings WHERE key = 'stats_rebuild'"))
    op.drop_index("ix_entries_alarm_ts", table_name="entries")
    op.drop_index("ix_entries_gate_ts_id_subject", table_name="entries")
    op.drop_index("ix_entries_subject_ts_id", table_name="entries")
    op.create_index("ix_entries_subject_ts", "entries", ["subject", "ts"])
    op.create_index("ix_entries_gate_ts", "entries", ["gate", "ts"])
