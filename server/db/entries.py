"""Saved catalog entries: the SQL behind /model, /gpu and /node writes and the per-account catalog views."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.orm import Session

from server.catalog.custom import SavedEntry
from server.catalog.names import norm
from server.db.tables import CatalogEntry, CatalogState, ModelName


def now() -> datetime:
    return datetime.now(UTC)


def catalog_state(connection: Connection | Session) -> tuple[int, int]:
    """(catalog version, shipped-catalog generation)."""
    row = connection.execute(_STATE_QUERY).first()
    return (row.version, row.shipped_generation) if row else (0, 0)


_STATE_QUERY = select(CatalogState.version, CatalogState.shipped_generation)


def bump_version(session: Session, *, reload_shipped: bool = False) -> None:
    """Tell every worker the catalog changed (in the same transaction as the change)."""
    values: dict[str, Any] = {"version": CatalogState.version + 1}
    if reload_shipped:
        values["shipped_generation"] = CatalogState.shipped_generation + 1
    session.execute(update(CatalogState).where(CatalogState.id == 1).values(**values))


def _saved(entry: CatalogEntry) -> SavedEntry:
    return SavedEntry(
        kind=entry.kind,
        entry_id=entry.entry_id,
        customer_id=entry.customer_id,
        created_by=entry.created_by,
        created_at=aware(entry.created_at),
        updated_at=aware(entry.updated_at),
        data=entry.data,
    )


def aware(moment: datetime) -> datetime:
    """SQLite hands datetimes back without their zone; every stored time is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def stamp(moment: datetime) -> str:
    """A stored time as the wire writes it: `2026-11-22T01:35:13.478935Z`."""
    return aware(moment).isoformat().replace("+00:00", "Z")


def saved_entries(session: Session, customer_ids: Iterable[int] | None) -> list[SavedEntry]:
    """Entries of these customers (0: global), or of everyone when `customer_ids` is None, oldest first."""
    query = select(CatalogEntry).order_by(CatalogEntry.id)
    if customer_ids is not None:
        query = query.where(CatalogEntry.customer_id.in_(list(customer_ids)))
    return [_saved(entry) for entry in session.scalars(query)]


def find_entry(session: Session, kind: str, entry_id: str) -> CatalogEntry | None:
    """The saved row of that entry, locked for the rest of the write transaction."""
    query = select(CatalogEntry).where(CatalogEntry.kind == kind, CatalogEntry.entry_key == norm(entry_id))
    return session.scalars(query.with_for_update()).first()


def insert_entry(
    session: Session, kind: str, entry_id: str, *, customer_id: int, created_by: str, data: dict[str, Any] | None
) -> CatalogEntry:
    moment = now()
    entry = CatalogEntry(
        kind=kind,
        entry_id=entry_id,
        entry_key=norm(entry_id),
        customer_id=customer_id,
        created_by=created_by,
        created_at=moment,
        updated_at=moment,
        data=data,
    )
    session.add(entry)
    session.flush()  # a duplicate id fails here, as IntegrityError
    return entry


def save_data(session: Session, entry: CatalogEntry, data: dict[str, Any] | None) -> None:
    entry.data = data
    entry.updated_at = now()
    session.flush()


def add_model_names(session: Session, entry: CatalogEntry, names: Iterable[str]) -> None:
    """Claim these ids/aliases for the model; a name another model holds fails with IntegrityError."""
    for name_key in dict.fromkeys(norm(name) for name in names):  # spellings of one name count once
        session.add(ModelName(name_key=name_key, entry_pk=entry.id))
    session.flush()


def drop_model_names(session: Session, entry: CatalogEntry, names: Iterable[str] | None = None) -> None:
    query = delete(ModelName).where(ModelName.entry_pk == entry.id)
    if names is not None:
        query = query.where(ModelName.name_key.in_([norm(n) for n in names]))
    session.execute(query)


def delete_entry(session: Session, entry: CatalogEntry) -> None:
    drop_model_names(session, entry)
    session.delete(entry)
    session.flush()


def nodes_using_gpu(session: Session, gpu_id: str) -> list[str]:
    """Ids of saved nodes whose gpu_id is this GPU (any owner)."""
    key = norm(gpu_id)
    nodes = session.scalars(select(CatalogEntry).where(CatalogEntry.kind == "node", CatalogEntry.data.is_not(None)))
    return [n.entry_id for n in nodes if n.data and norm(str(n.data.get("gpu_id", ""))) == key]


def models_based_on(session: Session, names: Iterable[str]) -> list[str]:
    keys = {norm(n) for n in names}
    models = session.scalars(select(CatalogEntry).where(CatalogEntry.kind == "model", CatalogEntry.data.is_not(None)))
    found = []
    for m in models:
        data = m.data or {}
        if any(norm(str(data.get(f) or "")) in keys for f in ("fine_tuned_from_model_id", "benchmark_model_id")):
            found.append(m.entry_id)
    return found
