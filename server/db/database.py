"""The database connection: SQLite by default, PostgreSQL through `DATABASE_URL=postgresql://...`.

Writes run in short transactions that take the write lock at once (`BEGIN IMMEDIATE` on SQLite, row locks on
PostgreSQL), so two workers saving at the same moment queue instead of failing or losing a change.
"""

from __future__ import annotations

import contextlib
import contextvars
import fcntl
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import sqlalchemy.exc
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

import server

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
DEFAULT_SQLITE_FILE = Path(server.__file__).resolve().parents[1] / "instance" / "scope3ai.sqlite3"
SQLITE_BUSY_TIMEOUT_S = 30.0
# Any fixed 64-bit number: the PostgreSQL advisory lock that lets one process at a time run migrations.
MIGRATION_LOCK_ID = 0x5C0BE3A1

_immediate: contextvars.ContextVar[bool] = contextvars.ContextVar("immediate", default=False)


class DatabaseError(Exception):
    """The database cannot be used; the message says why and which setting to check."""


# SQLite's words for a database another process holds longer than the busy timeout: a wait, not a bug.
SQLITE_BUSY_MESSAGES = ("database is locked", "database is busy")


def is_unavailable(error: BaseException) -> bool:
    """Is this the database being briefly away (a restart, a failover, a dropped connection, a full pool, SQLite
    busy), as opposed to a bug (a bad statement, a missing table)? The first is a 503 that heals; the second a 500."""
    if isinstance(error, sqlalchemy.exc.TimeoutError):  # no pooled connection came free in time
        return True
    if not isinstance(error, sqlalchemy.exc.DBAPIError):
        return False
    if error.connection_invalidated:  # SQLAlchemy's dialect recognised a disconnect
        return True
    orig = error.orig
    module = type(orig).__module__ or ""
    if module.startswith("psycopg"):
        # psycopg maps SQLSTATE classes 08 (connection), 57 (operator intervention: shutdown, admin restart) and
        # 53 (insufficient resources) to OperationalError; a bad statement is a ProgrammingError or DataError.
        import psycopg

        return isinstance(orig, psycopg.OperationalError)
    if isinstance(orig, sqlite3.OperationalError):
        return any(words in str(orig).lower() for words in SQLITE_BUSY_MESSAGES)
    return False


def database_url(setting: str) -> str:
    """The SQLAlchemy URL for a `DATABASE_URL` setting (empty: the default SQLite file)."""
    if not setting:
        return f"sqlite:///{DEFAULT_SQLITE_FILE}"
    for scheme in ("postgresql://", "postgres://"):
        if setting.startswith(scheme):
            return "postgresql+psycopg://" + setting[len(scheme) :]
    return setting


class Database:
    def __init__(self, setting: str) -> None:
        url = make_url(database_url(setting))
        self.url = url
        self.is_sqlite = url.get_backend_name() == "sqlite"
        if self.is_sqlite:
            if url.database and url.database != ":memory:":
                Path(url.database).parent.mkdir(parents=True, exist_ok=True)
            self.engine: Engine = create_engine(
                url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False}
            )
            _sqlite_transactions(self.engine)
        else:
            self.engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        with self._sessions() as session:
            yield session

    @contextlib.contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction that holds the write lock from its first statement and commits at the end."""
        token = _immediate.set(True)
        try:
            with self._sessions() as session, session.begin():
                yield session
        finally:
            _immediate.reset(token)

    def migrate(self, revision: str = "head", *, then: Callable[[], None] | None = None) -> None:
        """Bring the schema to `revision` (Alembic), then run `then`, one process at a time: workers starting
        together neither migrate twice nor both insert what `then` makes (the bootstrap admin key)."""
        with self._migration_lock():
            with self.engine.begin() as connection:
                config = Config()
                config.set_main_option("script_location", str(MIGRATIONS_DIR))
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
            if then is not None:
                then()

    def revision(self) -> str | None:
        with self.engine.connect() as connection:
            try:
                found = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
            except Exception:
                return None
        return str(found) if found else None

    @contextlib.contextmanager
    def _migration_lock(self) -> Iterator[None]:
        if self.is_sqlite:
            database = self.url.database
            if not database or database == ":memory:":
                yield
                return
            with open(database + ".migrate-lock", "w") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)
            return
        with self.engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": MIGRATION_LOCK_ID})
            connection.commit()
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": MIGRATION_LOCK_ID})
                connection.commit()

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite_transactions(engine: Engine) -> None:
    """SQLite: WAL (readers never wait for a writer), foreign keys on, and `BEGIN IMMEDIATE` for writes.

    pysqlite's own transaction handling is turned off so SQLAlchemy's BEGIN is the one that runs (the
    SQLAlchemy documentation's recipe for SQLite transactions).
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _immediate.get() else "BEGIN")
