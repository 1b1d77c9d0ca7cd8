"""Fixtures: the app, its test client, and a real gunicorn server for end-to-end tests."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import httpx
import pytest
from flask import Flask
from flask.testing import FlaskClient

from server.app import create_app
from server.catalog.files import DEFAULT_CATALOG_DIR
from server.catalog.store import Catalog, load_catalog

ROOT = Path(__file__).resolve().parents[1]


# The admin key every test app and server starts with (ADMIN_API_KEY); tests make other keys as they need.
ADMIN_KEY = "s3ai_test-admin-key-0123456789abcdef"
# Generous, so the suite's many requests with one key never meet the limit; tests of limits set their own.
TEST_RATE_LIMIT = 1_000_000


def settings_for_tests(database_url: str, **overrides: object) -> dict[str, object]:
    return {
        "LOG_LEVEL": "WARNING",
        "DATABASE_URL": database_url,
        "ADMIN_API_KEY": ADMIN_KEY,
        "RATE_LIMIT_PER_MINUTE": TEST_RATE_LIMIT,
        **overrides,
    }


def load_bench(filename: str) -> ModuleType:
    """A script of bench/ as a module, so a test can call its functions (the benches are not a package)."""
    path = ROOT / "bench" / filename
    spec = importlib.util.spec_from_file_location(f"bench_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def authorized(client: FlaskClient, key: str) -> FlaskClient:
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    return client


def keyed_client(app: Flask, account: str, *, scope: str = "full") -> FlaskClient:
    """A test client sending a new key of `account` (made if new) with this scope."""
    from server.accounts.keys import create_key

    with app.extensions["services"].db.write() as session:
        key = create_key(session, account, scope=scope)
    return authorized(app.test_client(), key)


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    database = tmp_path_factory.mktemp("db") / "app.sqlite3"
    return create_app(settings_for_tests(f"sqlite:///{database}"))


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    """A test client that sends the admin key."""
    return authorized(app.test_client(), ADMIN_KEY)


@pytest.fixture()
def anonymous(app: Flask) -> FlaskClient:
    """A test client that sends no key."""
    return app.test_client()


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog(DEFAULT_CATALOG_DIR)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class GunicornServer:
    """gunicorn serving `server.app:create_app()` on a free loopback port, as in production."""

    def __init__(
        self,
        workers: int = 1,
        env: dict[str, str] | None = None,
        database_url: str | None = None,
        threads: int = 1,
        access_log: bool = False,
        python: str = sys.executable,
        cwd: Path = ROOT,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = ROOT / "instance" / f"gunicorn-{self.port}.log"
        self.log_path.parent.mkdir(exist_ok=True)
        self._own_database = database_url is None
        self.database_url = database_url or f"sqlite:///{ROOT / 'instance' / f'gunicorn-{self.port}.sqlite3'}"
        settings = {
            "DATABASE_URL": self.database_url,
            "ADMIN_API_KEY": ADMIN_KEY,
            "RATE_LIMIT_PER_MINUTE": str(TEST_RATE_LIMIT),
        }
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [
                python,
                "-m",
                "gunicorn",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--threads",
                str(threads),
                "--log-level",
                "warning",
                *(["--access-logfile", "-"] if access_log else []),
                "server.app:create_app()",
            ],
            cwd=cwd,
            env={**os.environ, **settings, **(env or {})},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._wait_ready()

    def _wait_ready(self, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/status", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("gunicorn did not become ready in time")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log.close()
        if self._own_database:
            for suffix in ("", "-wal", "-shm", ".migrate-lock"):
                Path(self.database_url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)


@pytest.fixture(scope="session")
def server() -> Iterator[GunicornServer]:
    running = GunicornServer()
    yield running
    running.stop()


# --- PostgreSQL and Redis (running on every machine here, CI included) ---------------------------------------

POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
# .ci/run sets this: a missing service is then a failure, not a skip.
REQUIRE_SERVICES = os.environ.get("SCOPE3AI_REQUIRE_SERVICES") == "1"


def service_missing(what: str, why: object) -> None:
    message = f"{what} is not reachable here ({why}); these tests need it"
    if REQUIRE_SERVICES:
        pytest.fail(message + " and SCOPE3AI_REQUIRE_SERVICES=1 is set")
    pytest.skip(message)


@pytest.fixture()
def postgres_url() -> Iterator[str]:
    """A new, empty PostgreSQL database for one test, dropped afterwards."""
    import uuid

    import psycopg

    name = f"scope3ai_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        service_missing("PostgreSQL", exc)
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture()
def redis_url() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        service_missing("Redis", exc)
    return REDIS_URL


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test that takes this runs twice: on a SQLite file and on a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.sqlite3'}"
    url: str = request.getfixturevalue("postgres_url")
    return url
