"""The database's tables (SQLAlchemy 2 declarative). Migrations in `server/db/migrations` create them.

- `accounts`: one per customer; `id` is the spec's `customer_id`. Admins curate the global catalog.
- `api_keys`: only a SHA-256 digest of each key is kept, never the key; its scope, last use and request count.
- `catalog_entries`: models, GPUs and nodes saved through the API. `customer_id` 0 marks a global entry
  (admin-created, or an admin's change to a shipped entry, which it shadows); otherwise the owner's account.
  `data` holds the entry's fields as the spec names them; `data` NULL is an admin's deletion of a shipped entry.
- `model_names`: every id and alias of a saved model, normalised, unique: the database refuses a duplicate even
  when two workers save at once.
- `catalog_state`: one row whose `version` grows with every catalog write, so every worker sees a change on its
  next request, and whose `shipped_generation` grows with every reload of the shipped catalog files.
- `batch_files`: an account's uploaded usage file; its records live in `batch_file_blocks`, a fixed number of
  lines per block, zlib-compressed, so no reader ever holds a whole file.
- `batch_tasks`: a batch job over one file (rows posted to `/v1/batch` are stored as a file too), with its
  progress counters.
- `batch_results`: one row per finished block of a task, its results compressed in line order. A block's row and
  its counters are written in one transaction and the key refuses a second row: each line counts exactly once
  even when a job queue delivers a block twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

GLOBAL_CUSTOMER_ID = 0


class Base(DeclarativeBase):
    pass


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # the key's first characters, to tell keys apart in lists
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # `full`, or `estimate`: estimates and catalog reads only (server/accounts/scopes.py).
    scope: Mapped[str] = mapped_column(String(16), default="full", server_default="full")
    # Usage, counted in memory by each worker and added here every few seconds (server/accounts/usage.py).
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    request_count: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class CatalogEntry(Base):
    __tablename__ = "catalog_entries"
    __table_args__ = (UniqueConstraint("kind", "entry_key", name="uq_catalog_entries_kind_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # model | gpu | node | datacenter
    entry_id: Mapped[str] = mapped_column(String(200))
    entry_key: Mapped[str] = mapped_column(String(200))  # normalised id (names.norm)
    customer_id: Mapped[int] = mapped_column(Integer, index=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class ModelName(Base):
    __tablename__ = "model_names"

    name_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    entry_pk: Mapped[int] = mapped_column(ForeignKey("catalog_entries.id", ondelete="CASCADE"), index=True)


class CatalogState(Base):
    __tablename__ = "catalog_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    shipped_generation: Mapped[int] = mapped_column(Integer, default=0)  # grows with each `GET /reload`


class BatchFile(Base):
    __tablename__ = "batch_files"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    format: Mapped[str] = mapped_column(String(32))  # server.batch.formats.LineFormat
    csv_fields: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)  # a CSV file's header, as fields
    bytes: Mapped[int] = mapped_column(BigInteger)
    lines: Mapped[int] = mapped_column(Integer)  # records: non-blank JSONL lines, or CSV rows after the header
    blocks: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class BatchFileBlock(Base):
    __tablename__ = "batch_file_blocks"

    file_id: Mapped[str] = mapped_column(ForeignKey("batch_files.id", ondelete="CASCADE"), primary_key=True)
    block_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    first_line: Mapped[int] = mapped_column(Integer)  # 1-based number of the block's first record
    lines: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)  # zlib of the records, one per line


class BatchTask(Base):
    __tablename__ = "batch_tasks"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    file_id: Mapped[str] = mapped_column(ForeignKey("batch_files.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))  # queued | running | completed | failed
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    total_items: Mapped[int] = mapped_column(Integer)
    blocks: Mapped[int] = mapped_column(Integer)
    blocks_done: Mapped[int] = mapped_column(Integer)
    completed_items: Mapped[int] = mapped_column(Integer)
    failed_items: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Scope3-Methodology-Version of the server that accepted the task.
    methodology_version: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # Submitted with ?ranges=true: each line's low and high are stored beside its estimate.
    ranges: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class BatchResult(Base):
    __tablename__ = "batch_results"

    task_id: Mapped[str] = mapped_column(ForeignKey("batch_tasks.id", ondelete="CASCADE"), primary_key=True)
    block_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    completed: Mapped[int] = mapped_column(Integer)
    failed: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)  # zlib of one JSON result per line, in line order
    # The methodology version of the worker that computed the block (a deploy may change it mid-task).
    methodology_version: Mapped[str | None] = mapped_column(String(32), nullable=True)
