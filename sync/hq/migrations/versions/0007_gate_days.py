"""Daily reconciliation: each gate's own counts of the days it finished and uploaded whole, the latest report of
each gate and day, which the dashboard sets beside HQ's counts of the same window (`sync.hq.reconcile`).

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
        "gate_days",
        sa.Column("gate", sa.String(64), primary_key=True),
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("start", sa.String(40), nullable=False),
        sa.Column("end", sa.String(40), nullable=False),
        sa.Column("attempts", sa.BigInteger(), nullable=False),
        sa.Column("let_in", sa.BigInteger(), nullable=False),
        sa.Column("left", sa.BigInteger(), nullable=False),
        sa.Column("refused", sa.BigInteger(), nullable=False),
        sa.Column("held", sa.BigInteger(), nullable=False),
        sa.Column("reported_at", sa.String(40), nullable=False),
    )
    op.create_index("ix_gate_days_day", "gate_days", ["day"])


def downgrade() -> None:
    op.drop_index("ix_gate_days_day", table_name="gate_days")
    op.drop_table("gate_days")
