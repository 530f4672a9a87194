"""People put on the red/yellow list from a tracing result, each with a reason, an expiry, the staff account and
the trace it came from (`sync.hq.traced_list`); red-code incidents gates report, open until an official closes
them (`sync.hq.incidents`).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "traced_colour",
        sa.Column("subject", sa.String(32), primary_key=True),
        sa.Column("colour", sa.String(8), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("until", sa.String(40), nullable=False),
        sa.Column("trace", sa.Text(), nullable=False),
        sa.Column("added_by", sa.Text(), nullable=False),
        sa.Column("added_at", sa.String(40), nullable=False),
        sa.Column("name", sa.Text(), nullable=False, server_default=""),
    )
    op.create_table(
        "incidents",
        sa.Column("id", sa.String(26), primary_key=True),
        sa.Column("gate", sa.String(64), nullable=False),
        sa.Column("entry_id", sa.String(26), nullable=False),
        sa.Column("ts", sa.String(40), nullable=False),
        sa.Column("subject", sa.String(32)),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("colour", sa.Text(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("keeper", sa.Text(), nullable=False),
        sa.Column("received_at", sa.String(40), nullable=False),
        sa.Column("closed_at", sa.String(40)),
        sa.Column("closed_by", sa.Text()),
    )
    op.create_index("incidents_open", "incidents", ["closed_at", "ts"])


def downgrade() -> None:
    op.drop_table("incidents")
    op.drop_table("traced_colour")
