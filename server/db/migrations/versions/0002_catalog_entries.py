"""Custom and admin catalog entries (models, GPUs, nodes), model names, and the catalog version.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalog_entries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("entry_id", sa.String(200), nullable=False),
        sa.Column("entry_key", sa.String(200), nullable=False),
        sa.Column("customer_id", sa.Integer, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", sa.JSON, nullable=True),
        sa.UniqueConstraint("kind", "entry_key", name="uq_catalog_entries_kind_key"),
    )
    op.create_index("ix_catalog_entries_customer_id", "catalog_entries", ["customer_id"])
    op.create_table(
        "model_names",
        sa.Column("name_key", sa.String(200), primary_key=True),
        sa.Column("entry_pk", sa.Integer, sa.ForeignKey("catalog_entries.id", ondelete="CASCADE"), nullable=False),
    )
    op.create_index("ix_model_names_entry_pk", "model_names", ["entry_pk"])
    state = op.create_table(
        "catalog_state",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.bulk_insert(state, [{"id": 1, "version": 0}])


def downgrade() -> None:
    op.drop_table("catalog_state")
    op.drop_index("ix_model_names_entry_pk", "model_names")
    op.drop_table("model_names")
    op.drop_index("ix_catalog_entries_customer_id", "catalog_entries")
    op.drop_table("catalog_entries")
