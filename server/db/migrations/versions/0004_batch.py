"""Batch jobs: uploaded usage files (stored in blocks of lines), tasks, and each block's results.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "batch_files",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("format", sa.String(32), nullable=False),
        sa.Column("csv_fields", sa.JSON, nullable=True),
        sa.Column("bytes", sa.BigInteger, nullable=False),
        sa.Column("lines", sa.Integer, nullable=False),
        sa.Column("blocks", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_batch_files_account_id", "batch_files", ["account_id"])
    op.create_table(
        "batch_file_blocks",
        sa.Column("file_id", sa.String(36), sa.ForeignKey("batch_files.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("block_no", sa.Integer, primary_key=True),
        sa.Column("first_line", sa.Integer, nullable=False),
        sa.Column("lines", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "batch_tasks",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("file_id", sa.String(36), sa.ForeignKey("batch_files.id", ondelete="CASCADE"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("total_items", sa.Integer, nullable=False),
        sa.Column("blocks", sa.Integer, nullable=False),
        sa.Column("blocks_done", sa.Integer, nullable=False),
        sa.Column("completed_items", sa.Integer, nullable=False),
        sa.Column("failed_items", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_batch_tasks_account_id", "batch_tasks", ["account_id"])
    op.create_table(
        "batch_results",
        sa.Column("task_id", sa.String(36), sa.ForeignKey("batch_tasks.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("block_no", sa.Integer, primary_key=True),
        sa.Column("completed", sa.Integer, nullable=False),
        sa.Column("failed", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("batch_results")
    op.drop_index("ix_batch_tasks_account_id", "batch_tasks")
    op.drop_table("batch_tasks")
    op.drop_table("batch_file_blocks")
    op.drop_index("ix_batch_files_account_id", "batch_files")
    op.drop_table("batch_files")
