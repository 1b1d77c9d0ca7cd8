"""Each key's request count and last use: counted in the worker's memory, added to the database by a flush, never a
database write per request (SQLite and PostgreSQL); `list-keys` shows them; a revoked key fails on its next request.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from flask import Flask
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError

from server.__main__ import main
from server.accounts.keys import create_key, key_hash, revoke_key
from server.app import create_app
from server.db.database import Database
from server.db.tables import ApiKey
from tests.conftest import GunicornServer, authorized, settings_for_tests

ROW = {"rows": [{"model_id": "gpt-4o", "input_tokens": 100, "output_tokens": 20}]}


@pytest.fixture()
def app(database_url: str) -> Iterator[Flask]:
    app = create_app(settings_for_tests(database_url, KEY_USAGE_FLUSH_SECONDS=3600))
    yield app
    app.extensions["services"].db.dispose()


def new_key(db: Database, account: str, scope: str = "full") -> str:
    with db.write() as session:
        return create_key(session, account, scope=scope)


def stored(db: Database, key: str) -> tuple[int, datetime | None]:
    with db.read() as session:
        row = session.execute(
            select(ApiKey.request_count, ApiKey.last_used_at).where(ApiKey.key_hash == key_hash(key))
        ).one()
    return row.request_count, row.last_used_at


def writes_during(db: Database) -> list[str]:
    """Every INSERT, UPDATE or DELETE the engine sends from now on."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if re.match(r"\s*(INSERT|UPDATE|DELETE)\b", statement, re.IGNORECASE):
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    return seen


def test_requests_write_nothing_until_the_flush_which_adds_them(app: Flask) -> None:
    services = app.extensions["services"]
    db, usage = services.db, services.usage
    key = new_key(db, "counted", scope="estimate")
    client = authorized(app.test_client(), key)
    writes = writes_during(db)
    for _ in range(50):
        assert client.post("/v1/impact", json=ROW).status_code == 200
    assert client.post("/model", json={"id": "x"}).status_code == 403  # refused requests count too: a leak shows
    assert writes == [], "a request wrote to the database"
    assert usage.pending() == {key_hash(key): 51}
    assert stored(db, key) == (0, None)

    before = datetime.now(UTC)
    usage.flush()
    count, last_used = stored(db, key)
    assert count == 51
    assert last_used is not None and abs((last_used.replace(tzinfo=UTC) - before).total_seconds()) < 60
    assert len(writes) == 1 and writes[0].lstrip().upper().startswith("UPDATE"), writes
    assert usage.pending() == {}

    # Another worker's counts add up; an older last use never moves it back.
    client.get("/model?limit=1")
    usage.flush()
    with db.write() as session:
        session.execute(ApiKey.__table__.update().values(last_used_at=datetime(2099, 1, 1, tzinfo=UTC)))
    client.get("/model?limit=1")
    usage.flush()
    count, last_used = stored(db, key)
    assert count == 53
    assert last_used is not None and last_used.year == 2099


def test_a_failed_flush_keeps_the_counts_for_the_next(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    services = app.extensions["services"]
    key = new_key(services.db, "unlucky")
    client = authorized(app.test_client(), key)
    for _ in range(3):
        client.get("/gpu")

    def away() -> Any:
        raise OperationalError("UPDATE api_keys", {}, Exception("server closed the connection"))

    with monkeypatch.context() as patch:
        patch.setattr(services.usage.db, "write", away)
        services.usage.flush()
    assert services.usage.pending() == {key_hash(key): 3}
    client.get("/gpu")
    services.usage.flush()
    assert stored(services.db, key)[0] == 4


def test_revoking_works_on_the_next_request(app: Flask) -> None:
    db = app.extensions["services"].db
    key = new_key(db, "leaky")
    client = authorized(app.test_client(), key)
    assert client.post("/v1/impact", json=ROW).status_code == 200
    with db.write() as session:
        assert revoke_key(session, key[:12]) == 1
    response = client.post("/v1/impact", json=ROW)
    assert response.status_code == 401 and response.get_json()["details"]["reason"] == "invalid_api_key"


def test_gunicorn_workers_flush_on_their_timer_and_as_they_stop(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'served.sqlite3'}"
    db = Database(url)
    db.migrate()
    key = new_key(db, "sheet", scope="estimate")
    server = GunicornServer(workers=2, database_url=url, env={"KEY_USAGE_FLUSH_SECONDS": "1"})
    try:
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"}) as http:
            for _ in range(20):
                assert http.post("/v1/impact", json=ROW).status_code == 200
            deadline = time.monotonic() + 10
            while stored(db, key)[0] < 20 and time.monotonic() < deadline:
                time.sleep(0.2)
            assert stored(db, key)[0] == 20, "the workers' timers did not flush"
            for _ in range(7):
                assert http.get("/model?limit=1").status_code == 200
    finally:
        server.stop()
    assert stored(db, key)[0] == 27, "a stopping worker keeps its counts"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", url)
        assert main(["list-keys"]) == 0
    line = next(row for row in capsys.readouterr().out.splitlines() if row.startswith(key[:12]))
    assert re.search(r"\bestimate\s+\S+ \S+\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+27\s+-$", line), line
    db.dispose()
