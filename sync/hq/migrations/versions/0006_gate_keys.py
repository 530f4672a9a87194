"""The district key stays at HQ: each gate's key generation, list rows' ID numbers kept encrypted (to hash them
for each gate's key), entries filed under a subject HQ unsealed, and issuer keys withdrawn after a rotation.

Rows loaded before this have no kept ID number: gates get them without an `id_hash`, so a number typed at a
gate does not find them until the list is loaded again (`pocket-hq serve` warns with their count).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

LIST_TABLES = ("roster", "colour_list", "passes", "staged_roster_rows", "staged_colour_rows")


def upgrade() -> None:
    with op.batch_alter_table("gates") as batch:
        batch.add_column(sa.Column("key_generation", sa.Integer(), nullable=False, server_default="1"))
    op.create_table(
        "unsealed_entries",
        sa.Column("id", sa.String(26), primary_key=True),
        sa.Column("ts", sa.String(40), nullable=False),
    )
    op.create_index("ix_unsealed_entries_ts", "unsealed_entries", ["ts"])
    for table in LIST_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("kept_id", sa.Text()))
    with op.batch_alter_table("trust_documents") as batch:
        batch.add_column(sa.Column("withdraw_at", sa.String(40)))


def downgrade() -> None:
    with op.batch_alter_table("trust_documents") as batch:
        batch.drop_column("withdraw_at")
    for table in LIST_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("kept_id")
    op.drop_table("unsealed_entries")
    with op.batch_alter_table("gates") as batch:
        batch.drop_column("key_generation")
