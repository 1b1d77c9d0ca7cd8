"""API keys: a scope (`full`, or `estimate`: estimates and catalog reads only), and usage (last use, requests).

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


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as table:
        table.drop_column("request_count")
        table.drop_column("last_used_at")
        table.drop_column("scope")
