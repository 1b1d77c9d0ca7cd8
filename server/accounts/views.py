"""What catalog each caller sees, and the pipeline that estimates against it.

Global view: the shipped catalog with the admins' saved entries laid over it. An account's view: the global
view plus that account's own entries (an admin's: plus every account's). Views are built from the database
and kept per worker until the catalog version in the database moves; every request reads that version (in
the same query as its key), so a change saved on one worker is seen by the next request on any worker.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from server.accounts.keys import Principal, authenticate, key_hash, principal_for_account
from server.catalog.custom import apply_entries
from server.catalog.store import Catalog
from server.db import entries
from server.db.database import Database, is_unavailable
from server.db.tables import GLOBAL_CUSTOMER_ID
from server.pipeline.run import Pipeline

MAX_CACHED_ACCOUNTS = 256
# While the database is briefly away, a key verified this recently is served from memory (its account and catalog
# view as they were), so estimates keep flowing through a restart or a failover. The trade-off: a key revoked
# during an outage keeps working on this worker for at most this long; with the database up, revoking is
# immediate (every request reads its key).
KEY_GRACE_SECONDS = 60.0
MAX_REMEMBERED_KEYS = 10_000
OUTAGE_LOG_EVERY_S = 10.0

log = logging.getLogger("server.accounts.views")


@dataclass(frozen=True, slots=True)
class View:
    catalog: Catalog
    pipeline: Pipeline
    # What a cached answer depends on: the methodology (engine and shipped catalog) and the database's catalog
    # version (every saved entry moves it). Sent as `Scope3-Catalog-Version`.
    catalog_version: str


@dataclass(frozen=True, slots=True)
class Caller:
    principal: Principal
    view: View


def catalog_version(catalog: Catalog, database_version: int) -> str:
    return f"{catalog.methodology_version}.{database_version}"


class CatalogViews:
    def __init__(self, db: Database, *, shipped: Catalog, reload: Callable[[], Catalog]) -> None:
        self.db = db
        self._reload = reload
        self.shipped = shipped
        self._shipped_generation = 0
        self._lock = threading.Lock()
        self._global: tuple[int, View] | None = None
        self._accounts: OrderedDict[tuple[int, bool], tuple[int, View]] = OrderedDict()
        self._recent_lock = threading.Lock()
        self._recent: OrderedDict[str, tuple[float, Caller]] = OrderedDict()  # key digest -> (verified at, caller)
        self._last_outage_log = -OUTAGE_LOG_EVERY_S

    def caller(self, *, key: str | None = None, account: int | str | None = None) -> Caller | None:
        """Who is behind an API key, or an account (id or name) acting without one, with the view it sees at the
        database's current catalog version; None for an unknown or revoked key, or no such account. One read.

        With the database briefly away, a key verified in the last KEY_GRACE_SECONDS is answered from memory."""
        if key is None and account is None:
            raise ValueError("caller: give a key or an account")
        try:
            return self._caller(key, account)
        except SQLAlchemyError as exc:
            if key is None or not is_unavailable(exc):
                raise
            remembered = self._remembered(key_hash(key))
            if remembered is None:
                raise
            return remembered

    def _caller(self, key: str | None, account: int | str | None) -> Caller | None:
        for attempt in (1, 2):
            try:
                with self.db.engine.connect() as connection:  # Core, not a Session: this runs on every request
                    if key is not None:
                        principal = authenticate(connection, key)
                    else:
                        assert account is not None
                        principal = principal_for_account(connection, account)
                    version, shipped_generation = entries.catalog_state(connection)
                break
            except DBAPIError as exc:
                # A pooled connection the database dropped (a restart): SQLAlchemy has invalidated the pool, so
                # one more try gets a fresh connection. Anything else, or a second failure, goes to the caller.
                if attempt == 2 or not exc.connection_invalidated:
                    raise
        if principal is None:
            if key is not None:
                with self._recent_lock:
                    self._recent.pop(key_hash(key), None)  # revoked: not served from memory in an outage either
            return None
        found = Caller(principal, self.view(principal, version, shipped_generation))
        if key is not None:
            self._remember(principal.key_hash, found)
        return found

    def _remember(self, digest: str, caller: Caller) -> None:
        with self._recent_lock:
            self._recent[digest] = (time.monotonic(), caller)
            self._recent.move_to_end(digest)
            while len(self._recent) > MAX_REMEMBERED_KEYS:
                self._recent.popitem(last=False)

    def _remembered(self, digest: str) -> Caller | None:
        with self._recent_lock:
            found = self._recent.get(digest)
        now = time.monotonic()
        if found is None or now - found[0] > KEY_GRACE_SECONDS:
            return None
        if now - self._last_outage_log > OUTAGE_LOG_EVERY_S:  # a line per outage, not one per request
            self._last_outage_log = now
            log.warning("database unavailable: recently verified keys are served from memory")
        return found[1]

    def view(self, principal: Principal | None, version: int, shipped_generation: int) -> View:
        """The view of `principal` (None: the global view) at this catalog version."""
        with self._lock:
            if shipped_generation != self._shipped_generation:
                self.shipped = self._reload()
                self._shipped_generation = shipped_generation
                self._global = None
                self._accounts.clear()
            global_view = self._global_view(version)
            if principal is None:
                return global_view
            key = (principal.account_id, principal.is_admin)
            cached = self._accounts.get(key)
            if cached is not None and cached[0] == version:
                self._accounts.move_to_end(key)
                return cached[1]
            view = self._account_view(principal, global_view)
            self._accounts[key] = (version, view)
            while len(self._accounts) > MAX_CACHED_ACCOUNTS:
                self._accounts.popitem(last=False)
            return view

    def _global_view(self, version: int) -> View:
        if self._global is not None and self._global[0] == version:
            return self._global[1]
        with self.db.read() as session:
            saved = entries.saved_entries(session, [GLOBAL_CUSTOMER_ID])
        catalog = apply_entries(self.shipped, saved) if saved else self.shipped
        view = View(catalog, Pipeline(catalog), catalog_version(catalog, version))
        self._global = (version, view)
        return view

    def _account_view(self, principal: Principal, global_view: View) -> View:
        with self.db.read() as session:
            if principal.is_admin:
                saved = [e for e in entries.saved_entries(session, None) if e.customer_id != GLOBAL_CUSTOMER_ID]
            else:
                saved = entries.saved_entries(session, [principal.account_id])
        if not saved:
            return global_view
        catalog = apply_entries(global_view.catalog, saved)
        return View(catalog, Pipeline(catalog), global_view.catalog_version)
