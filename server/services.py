"""The services every process shares, built once from settings: the app, the batch workers, the command line.

`build_services(settings)` opens (and migrates) the database, loads the shipped catalog into per-caller views, and
makes the batch job queue when `REDIS_URL` is set. Nothing here imports Flask: a batch worker builds its services
without building the app.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

from server.accounts.keys import BOOTSTRAP_ADMIN_ACCOUNT, ensure_key
from server.accounts.usage import KeyUsage
from server.accounts.views import CatalogViews
from server.catalog.store import Catalog, load_catalog
from server.db.database import Database, DatabaseError
from server.settings import Settings

if TYPE_CHECKING:
    from server.batch.queue import BatchQueue


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    db: Database
    views: CatalogViews
    usage: KeyUsage  # each key's requests and last use, counted in memory, flushed now and then
    queue: BatchQueue | None  # None without REDIS_URL: no batch jobs


def build_services(settings: Settings, *, with_queue: bool = True) -> Services:
    """The services of one process: the database migrated (and the bootstrap admin key saved), the catalog views,
    and the batch queue when `REDIS_URL` is set and `with_queue` (a command that runs no jobs skips it)."""
    db = Database(settings.DATABASE_URL)
    admin_key = settings.ADMIN_API_KEY

    def bootstrap() -> None:
        if admin_key:
            with db.write() as session:
                ensure_key(session, BOOTSTRAP_ADMIN_ACCOUNT, admin_key, admin=True)

    try:
        db.migrate(then=bootstrap)
    except SQLAlchemyError as exc:
        raise DatabaseError(f"DATABASE_URL: cannot use the database at {db.url!r}: {exc}") from exc
    catalog_dir = settings.CATALOG_DIR
    views = CatalogViews(db, shipped=load_catalog(catalog_dir), reload=lambda: Catalog(catalog_dir))
    queue = None
    if settings.REDIS_URL and with_queue:
        from server.batch.queue import BatchQueue  # Dramatiq and its Redis client only where batch jobs run

        queue = BatchQueue(settings, db=db, views=views)
    usage = KeyUsage(db, flush_seconds=settings.KEY_USAGE_FLUSH_SECONDS)
    return Services(settings=settings, db=db, views=views, usage=usage, queue=queue)
