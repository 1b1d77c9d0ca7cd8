"""A database that is briefly away is not a 500: a key verified in the last minute keeps estimating from memory,
writes and other keys get 503 with `Retry-After` on every entry point, `/readyz` names the database, and the app
heals when it is back; a bug in a statement stays a 500. PostgreSQL for real: the test's database refuses connections
(`ALLOW_CONNECTIONS false`, which binds superusers too) and its sessions are terminated, as a restart does."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import sqlalchemy.exc
from flask import Flask

from server.accounts import views
from server.accounts.keys import revoke_key
from server.app import create_app
from server.db.database import is_unavailable
from tests.conftest import POSTGRES_ADMIN_URL, keyed_client, settings_for_tests
from tests.test_bigquery import call

ROW = {"model_id": "gpt-4o", "input_tokens": 100, "output_tokens": 20}
ENTRY_POINTS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("POST", "/v1/impact", {"rows": [ROW]}),
    ("POST", "/v1/sheets/impact", {"function": "SCOPE3_IMPACT", "args": {"model": "gpt-4o", "input_tokens": 5}}),
    ("POST", "/", {"requestId": "r", "caller": "c", "sessionUser": "u", "calls": [call(model_id="gpt-4o")]}),
    ("GET", "/model?limit=1", None),
    ("POST", "/v1/batch", {"rows": [ROW]}),
    ("POST", "/model", {"id": "fault-test-llm", "total_params_billions": 1}),
]


def admin_sql(statement: str) -> None:
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(statement)


@pytest.fixture()
def app(postgres_url: str, redis_url: str) -> Iterator[Flask]:
    app = create_app(settings_for_tests(postgres_url, REDIS_URL=redis_url, BATCH_QUEUE_NAMESPACE="faults-test"))
    yield app
    app.extensions["services"].db.dispose()


def end_sessions(app: Flask) -> None:
    """Ends every session of the app's database, as a restart does."""
    name = app.extensions["services"].db.url.database
    admin_sql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")


@contextlib.contextmanager
def database_away(app: Flask) -> Iterator[None]:
    """The app's database refuses connections and its sessions end, as in a restart, until the block ends."""
    name = app.extensions["services"].db.url.database
    admin_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
    try:
        end_sessions(app)
        yield
    finally:
        admin_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')


ESTIMATES = ENTRY_POINTS[:4]  # estimates and catalog reads: served from memory for a recently verified key
WRITES = ENTRY_POINTS[4:]


def assert_unavailable(response: Any, where: str) -> None:
    assert response.status_code == 503, (where, response.status_code, response.get_data(as_text=True)[:300])
    assert response.headers["Retry-After"] == "3"
    error = response.get_json()
    assert error["code"] == "SERVICE_UNAVAILABLE" and error["details"]["reason"] == "database_unavailable", error
    assert "briefly unavailable" in error["message"]


def test_while_the_database_is_away_recent_keys_estimate_writes_and_unknown_keys_get_503_then_it_heals(
    app: Flask,
) -> None:
    client = keyed_client(app, "faults")
    unseen = keyed_client(app, "faults")  # made before the outage, never used on this worker
    for method, path, body in ESTIMATES:
        assert client.open(path, method=method, json=body).status_code == 200, path
    with database_away(app):
        for method, path, body in ESTIMATES:
            response = client.open(path, method=method, json=body)
            assert response.status_code == 200, (path, response.get_data(as_text=True)[:300])
        for method, path, body in WRITES:
            assert_unavailable(client.open(path, method=method, json=body), path)
        for method, path, body in ENTRY_POINTS:
            assert_unavailable(unseen.open(path, method=method, json=body), f"unseen key {path}")
        ready = app.test_client().get("/readyz")
        assert ready.status_code == 503 and ready.headers["Retry-After"] == "3"
        assert ready.get_json()["checks"]["database"].startswith("down: ")
        assert ready.get_json()["checks"]["redis"] == "ok"
        assert app.test_client().get("/livez").status_code == 200
    # Back: the pool's dead connections are replaced and every entry point answers again, for every key.
    for method, path, body in ESTIMATES:
        assert client.open(path, method=method, json=body).status_code == 200, path
        assert unseen.open(path, method=method, json=body).status_code == 200, path
    assert client.post("/model", json={"id": "after-the-outage-llm", "total_params_billions": 1}).status_code == 201
    assert app.test_client().get("/readyz").get_json() == {"ready": True, "checks": {"database": "ok", "redis": "ok"}}


def test_a_key_remembered_through_an_outage_stops_after_the_grace_period(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "KEY_GRACE_SECONDS", 0.5)
    client = keyed_client(app, "faults")
    assert client.post("/v1/impact", json={"rows": [ROW]}).status_code == 200
    with database_away(app):
        assert client.post("/v1/impact", json={"rows": [ROW]}).status_code == 200
        time.sleep(0.6)
        # A key revoked while the database was away is refused once the grace period is over: here, any key is.
        assert_unavailable(client.post("/v1/impact", json={"rows": [ROW]}), "after the grace period")


def test_a_key_revoked_while_the_database_is_up_is_never_served_from_memory(app: Flask) -> None:
    client = keyed_client(app, "faults")
    assert client.post("/v1/impact", json={"rows": [ROW]}).status_code == 200
    with app.extensions["services"].db.write() as session:
        key = client.environ_base["HTTP_AUTHORIZATION"].split()[1]
        assert revoke_key(session, key) == 1
    assert client.post("/v1/impact", json={"rows": [ROW]}).status_code == 401
    with database_away(app):
        assert_unavailable(client.post("/v1/impact", json={"rows": [ROW]}), "revoked key during an outage")


def test_a_connection_dropped_by_a_restart_is_replaced_on_the_same_request(app: Flask) -> None:
    client = keyed_client(app, "faults")
    assert client.post("/v1/impact", json={"rows": [ROW]}).status_code == 200
    # The sessions end (as a restart ends them) but the database takes new ones at once: the pooled connection is
    # found dead, the key lookup is tried once more on a fresh one, and the request succeeds.
    end_sessions(app)
    assert client.post("/v1/impact", json={"rows": [ROW]}).status_code == 200


def dbapi_error(orig: BaseException, invalidated: bool = False) -> sqlalchemy.exc.DBAPIError:
    return sqlalchemy.exc.OperationalError("SELECT 1", {}, orig, connection_invalidated=invalidated)


def test_which_database_errors_are_an_outage() -> None:
    assert is_unavailable(dbapi_error(sqlite3.OperationalError("database is locked")))
    assert is_unavailable(dbapi_error(psycopg.OperationalError("connection refused")))
    assert is_unavailable(dbapi_error(RuntimeError("anything"), invalidated=True))
    assert is_unavailable(sqlalchemy.exc.TimeoutError("QueuePool limit reached"))
    # Bugs: a bad statement, a missing table.
    assert not is_unavailable(dbapi_error(sqlite3.OperationalError("no such table: api_keys")))
    assert not is_unavailable(
        sqlalchemy.exc.ProgrammingError("SELECT x", {}, psycopg.errors.UndefinedColumn("column x does not exist"))
    )
    assert not is_unavailable(ValueError("not a database error"))


def test_a_database_bug_stays_a_500(tmp_path: Any) -> None:
    app = create_app(settings_for_tests(f"sqlite:///{tmp_path / 'bug.sqlite3'}"))
    client = keyed_client(app, "faults")
    with app.extensions["services"].db.write() as session:
        session.execute(sqlalchemy.text("DROP TABLE catalog_state"))
    response = client.post("/v1/impact", json={"rows": [ROW]})
    assert response.status_code == 500 and response.get_json()["code"] == "INTERNAL_ERROR"
    app.extensions["services"].db.dispose()
