"""Refusals are counted by the kinds the gates count them by (`sync.core.refusals.reason_kind`): the hourly
reason statistics are computed again after the upgrade (`stats.rebuild`, run by `HqDatabase.upgrade` when the
marker set here says so).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    held = bind.execute(sa.text("SELECT 1 FROM entries LIMIT 1")).first()
    marked = bind.execute(sa.text("SELECT 1 FROM settings WHERE key = 'stats_rebuild'")).first()
    if held is not None and marked is None:
        settings = sa.table("settings", sa.column("key"), sa.column("value"))
        op.bulk_insert(settings, [{"key": "stats_rebuild", "value": "needed"}])


def downgrade() -> None:
    """The statistics stay as they are: the previous version counts new entries its own way."""
