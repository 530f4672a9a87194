"""One passage per attempt: an entry that amends an earlier one (a temperature typed after a verdict, logged by
the gate as a new entry with `details.amends`) replaces it in every count, chart, trace and export. The amended
entry is kept (the history holds both) and marked with the id of the entry that replaced it
(`entries.superseded_by`). The hourly statistics gain the people let in and the people who left (passes in each
direction) beside the attempts, and are computed again after the upgrade without superseded entries
(`stats.rebuild`, as migration 0003 asks). Officials see whom they act on: the red/yellow list keeps a masked
name where its file gave one, and staged upload rows keep their line in the file, for the preview.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _amended(details: str) -> str | None:
    try:
        found = json.loads(details)
    except ValueError:
        return None
    amends = found.get("amends") if isinstance(found, dict) else None
    return amends if isinstance(amends, str) and len(amends) == 26 else None


def upgrade() -> None:
    with op.batch_alter_table("entries") as batch:
        batch.add_column(sa.Column("superseded_by", sa.String(26)))
    with op.batch_alter_table("entry_stats") as batch:
        batch.add_column(sa.Column("let_in", sa.BigInteger, nullable=False, server_default="0"))
        batch.add_column(sa.Column("left", sa.BigInteger, nullable=False, server_default="0"))
    for table in ("colour_list", "staged_colour_rows"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("name", sa.Text, nullable=False, server_default=""))
    for table in ("staged_colour_rows", "staged_roster_rows"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("line", sa.BigInteger))
    bind = op.get_bind()
    amending = bind.execute(sa.text("SELECT id, gate, details FROM entries WHERE details LIKE '%\"amends\"%'"))
    pairs = [(row.id, row.gate, amended) for row in amending if (amended := _amended(row.details))]
    for entry_id, gate, amended in pairs:
        bind.execute(
            sa.text("UPDATE entries SET superseded_by = :by WHERE id = :id AND gate = :gate AND superseded_by IS NULL"),
            {"by": entry_id, "id": amended, "gate": gate},
        )
    held = bind.execute(sa.text("SELECT 1 FROM entries LIMIT 1")).first()
    marked = bind.execute(sa.text("SELECT 1 FROM settings WHERE key = 'stats_rebuild'")).first()
    if held is not None and marked is None:
        settings = sa.table("settings", sa.column("key"), sa.column("value"))
        op.bulk_insert(settings, [{"key": "stats_rebuild", "value": "needed"}])


def downgrade() -> None:
    for table in ("staged_colour_rows", "staged_roster_rows"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("line")
    for table in ("colour_list", "staged_colour_rows"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("name")
    with op.batch_alter_table("entry_stats") as batch:
        batch.drop_column("left")
        batch.drop_column("let_in")
    with op.batch_alter_table("entries") as batch:
        batch.drop_column("superseded_by")
