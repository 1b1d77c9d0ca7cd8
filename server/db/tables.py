"""The database's tables (SQLAlchemy 2 declarative). Migrations in `server/db/migrations` create them.

- `accounts`: one per customer; `id` is the spec's `customer_id`. Admins curate the global catalog.
- `api_keys`: only a SHA-256 digest of each key is kept, never the key.
- `catalog_entries`: models, GPUs and nodes saved through the API. `customer_id` 0 marks a global entry
  (admin-created, or an admin's change to a shipped entry, which it shadows); otherwise the owner's account.
  `data` holds the entry's fields as the spec names them; `data` NULL is an admin's deletion of a shipped entry.
- `model_names`: every id and alias of a saved model, normalised, unique: the database refuses a duplicate even
  when two workers save at once.
- `catalog_state`: one row whose `version` grows with every catalog write, so every worker sees a change on its
  next request, and whose `shipped_generation` grows with every reload of the shipped catalog files.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, UniqueConstraint
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


class CatalogEntry(Base):
    __tablename__ = "catalog_entries"
    __table_args__ = (UniqueConstraint("kind", "entry_key", name="uq_catalog_entries_kind_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # model | gpu | node
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
