"""State that several HQ processes share through the database: background jobs (taken by one process at a time),
the processes themselves, uploaded list files waiting for their check, and rate-limit counts.

A list upload that an earlier version was checking when it stopped had its file in that process's temporary
folder, which is gone: it ends FAILED, as that version would have ended it at its next start.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("name", sa.String(120), primary_key=True),
        sa.Column("every_seconds", sa.Float),
        sa.Column("params", sa.Text, nullable=False, server_default=""),
        sa.Column("due_at", sa.String(40), nullable=False),
        sa.Column("runs", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("started_at", sa.String(40)),
        sa.Column("finished_at", sa.String(40)),
        sa.Column("process", sa.String(120)),
        sa.Column("outcome", sa.Text, nullable=False, server_default=""),
    )
    op.create_index("ix_jobs_due_at", "jobs", ["due_at"])
    op.create_table(
        "hq_processes",
        sa.Column("name", sa.String(120), primary_key=True),
        sa.Column("started_at", sa.String(40), nullable=False),
        sa.Column("polled_at", sa.String(40), nullable=False),
        sa.Column("doing", sa.String(120)),
    )
    op.create_table(
        "upload_files",
        sa.Column("upload_id", sa.String(32), primary_key=True),
        sa.Column("part", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    unlogged = ["UNLOGGED"] if op.get_bind().dialect.name == "postgresql" else []
    op.create_table(
        "rate_limit_hits",
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        prefixes=unlogged,
    )
    op.create_index("ix_rate_limit_hits_key_at", "rate_limit_hits", ["key", "at"])
    op.create_index("ix_rate_limit_hits_expires_at", "rate_limit_hits", ["expires_at"])
    for staged in ("staged_colour_rows", "staged_roster_rows"):
        op.execute(sa.text(
            f"DELETE FROM {staged} WHERE upload_id IN (SELECT id FROM staged_uploads WHERE state = 'checking')"
        ))
    uploads = sa.table("staged_uploads", sa.column("state"), sa.column("message"))
    op.execute(
        uploads.update()
        .where(uploads.c.state == "checking")
        .values(state="failed", message="HQ stopped while checking this file; upload it again")
    )


def downgrade() -> None:
    for table in ("rate_limit_hits", "upload_files", "hq_processes", "jobs"):
        op.drop_table(table)
