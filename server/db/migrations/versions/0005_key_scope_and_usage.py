"""API keys: a scope (`full`, or `estimate`: estimates and catalog reads only), and usage (last use, requests).
Batch tasks and their result blocks: the methodology version that accepted and that computed them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as table:
        table.add_column(sa.Column("scope", sa.String(16), nullable=False, server_default="full"))
        table.add_column(sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))
        table.add_column(sa.Column("request_count", sa.BigInteger, nullable=False, server_default="0"))
    for name in ("batch_tasks", "batch_results"):
        with op.batch_alter_table(name) as table:
            table.add_column(sa.Column("methodology_version", sa.String(32), nullable=True))


def downgrade() -> None:
    for name in ("batch_results", "batch_tasks"):
        with op.batch_alter_table(name) as table:
            table.drop_column("methodology_version")
    with op.batch_alter_table("api_keys") as table:
        table.drop_column("request_count")
        table.drop_column("last_used_at")
        table.drop_column("scope")
