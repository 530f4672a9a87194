"""The reader's language: each entry's reasons as rule codes with parameters (`entries.reason_codes`, NULL for
entries from gates older than codes, whose English sentences are read back when shown), and each staff account's
own language (`staff_users.language`, NULL: the district's). Refusals are counted by rule code from now on, so the
hourly reason statistics are computed again after the upgrade (`stats.rebuild`, as migration 0003 asks).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("entries") as batch:
        batch.add_column(sa.Column("reason_codes", sa.Text))
    with op.batch_alter_table("staff_users") as batch:
        batch.add_column(sa.Column("language", sa.String(16)))
    bind = op.get_bind()
    held = bind.execute(sa.text("SELECT 1 FROM entries LIMIT 1")).first()
    marked = bind.execute(sa.text("SELECT 1 FROM settings WHERE key = 'stats_rebuild'")).first()
    if held is not None and marked is None:
        settings = sa.table("settings", sa.column("key"), sa.column("value"))
        op.bulk_insert(settings, [{"key": "stats_rebuild", "value": "needed"}])


def downgrade() -> None:
    with op.batch_alter_table("staff_users") as batch:
        batch.drop_column("language")
    with op.batch_alter_table("entries") as batch:
        batch.drop_column("reason_codes")
