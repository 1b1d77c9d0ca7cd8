"""Alembic environment: migrations run on the connection `Database.migrate` hands over."""

from __future__ import annotations

from alembic import context

from server.db.tables import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only `Database.migrate` runs migrations
    raise RuntimeError("run migrations with `python -m server migrate`")

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
