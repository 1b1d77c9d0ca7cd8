"""Batch tasks: whether each line's low and high are computed and stored (`POST /v1/batch?ranges=true`).
Catalog entries: kinds up to 16 characters (`datacenter`).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("batch_tasks") as table:
        table.add_column(sa.Column("ranges", sa.Boolean, nullable=False, server_default=sa.false()))
    with op.batch_alter_table("catalog_entries") as table:
        table.alter_column("kind", existing_type=sa.String(8), type_=sa.String(16), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("catalog_entries") as table:
        table.alter_column("kind", existing_type=sa.String(16), type_=sa.String(8), existing_nullable=False)
    with op.batch_alter_table("batch_tasks") as table:
        table.drop_column("ranges")
