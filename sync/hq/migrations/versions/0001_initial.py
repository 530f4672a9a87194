"""HQ's first schema: gates, entries, alerts, upload batches, the lists HQ publishes, settings, revisions.

Revision ID: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gates",
        sa.Column("gate_id", sa.String(64), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("revoked_at", sa.String(40)),
        sa.Column("chain_seq", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("chain_hash", sa.String(64), nullable=False),
        sa.Column("last_seen_at", sa.String(40)),
        sa.Column("last_upload_at", sa.String(40)),
        sa.Column("bundle_version_fetched", sa.BigInteger),
    )
    op.create_table(
        "entries",
        sa.Column("id", sa.String(26), primary_key=True),
        sa.Column("gate", sa.String(64), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("ts", sa.String(40), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("subject", sa.String(32)),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("code_type", sa.String(40), nullable=False),
        sa.Column("colour", sa.String(8)),
        sa.Column("verdict", sa.String(8), nullable=False),
        sa.Column("reasons", sa.Text, nullable=False),
        sa.Column("temperature", sa.Float),
        sa.Column("operator", sa.Text, nullable=False),
        sa.Column("details", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("received_at", sa.String(40), nullable=False),
        sa.UniqueConstraint("gate", "seq", name="uq_entries_gate_seq"),
    )
    op.create_index("ix_entries_ts", "entries", ["ts"])
    op.create_index("ix_entries_subject_ts", "entries", ["subject", "ts"])
    op.create_index("ix_entries_gate_ts", "entries", ["gate", "ts"])
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("gate", sa.String(64), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
    )
    op.create_index("ix_alerts_gate", "alerts", ["gate", "seq"])
    op.create_table(
        "upload_batches",
        sa.Column("gate", sa.String(64), primary_key=True),
        sa.Column("batch_id", sa.String(100), primary_key=True),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("receipt", sa.Text, nullable=False),
        sa.Column("received_at", sa.String(40), nullable=False),
    )
    op.create_index("ix_upload_batches_received_at", "upload_batches", ["received_at"])
    op.create_table(
        "roster",
        sa.Column("gate", sa.String(64), primary_key=True),
        sa.Column("subject", sa.String(32), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("unit", sa.Text, nullable=False),
    )
    op.create_table(
        "passes",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("subject", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("gate", sa.String(64)),
        sa.Column("valid_from", sa.String(40), nullable=False),
        sa.Column("valid_until", sa.String(40), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("issued_at", sa.String(40), nullable=False),
    )
    op.create_index("ix_passes_gate", "passes", ["gate"])
    op.create_table(
        "colour_list",
        sa.Column("subject", sa.String(32), primary_key=True),
        sa.Column("colour", sa.String(8), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
    )
    op.create_table(
        "trust_documents",
        sa.Column("type", sa.String(64), primary_key=True),
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("encoding", sa.String(8), nullable=False),
        sa.Column("added_at", sa.String(40), nullable=False),
    )
    op.create_table(
        "settings",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    revisions = op.create_table(
        "revisions",
        sa.Column("scope", sa.String(100), primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(revisions, [{"scope": "counter", "value": 0}])


def downgrade() -> None:
    for table in ("revisions", "settings", "trust_documents", "colour_list", "passes", "roster", "upload_batches",
                  "alerts", "entries", "gates"):
        op.drop_table(table)
