"""Proof of duty: each gate's changes of state (shift on/off, camera lost/back, lists stale/fresh), from which HQ
draws the 14-day duty timeline (`sync.hq.duty`).

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "duty_events",
        sa.Column("gate", sa.String(64), primary_key=True),
        sa.Column("seq", sa.BigInteger(), primary_key=True),
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("ts", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("received_at", sa.String(40), nullable=False),
    )
    op.create_index("ix_duty_events_gate_ts", "duty_events", ["gate", "ts"])


def downgrade() -> None:
    op.drop_index("ix_duty_events_gate_ts", "duty_events")
    op.drop_table("duty_events")
