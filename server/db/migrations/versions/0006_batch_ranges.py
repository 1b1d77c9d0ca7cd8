"""Batch tasks: whether each line's low and high are computed and stored (`POST /v1/batch?ranges=true`).

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


def downgrade() -> None:
    with op.batch_alter_table("batch_tasks") as table:
        table.drop_column("ranges")
