"""A database made by an older schema revision upgrades in place, keeping what was saved (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from server.accounts.keys import authenticate, key_hash
from server.app import create_app
from server.db.database import Database
from tests.conftest import authorized, settings_for_tests


def test_a_first_revision_database_upgrades_in_place(database_url: str) -> None:
    db = Database(database_url)
    db.migrate("0001")
    assert db.revision() == "0001"
    key = "s3ai_made-under-revision-0001-abcdef"
    moment = datetime(2026, 1, 2, tzinfo=UTC)
    with db.engine.begin() as connection:  # written as revision 0001's tables stood, in plain SQL
        connection.execute(
            text("INSERT INTO accounts (id, name, is_admin, created_at) VALUES (7, 'early', false, :t)"), {"t": moment}
        )
        connection.execute(
            text("INSERT INTO api_keys (account_id, key_hash, prefix, created_at) VALUES (7, :h, 's3ai_made-un', :t)"),
            {"h": key_hash(key), "t": moment},
        )

    db.migrate()
    assert db.revision() == "0006"
    with db.read() as session:
        principal = authenticate(session, key)
        state = session.execute(text("SELECT version, shipped_generation FROM catalog_state")).one()
    assert principal is not None and principal.account_id == 7 and principal.account_name == "early"
    assert principal.scope == "full", "a key made before scopes keeps every right it had"
    assert tuple(state) == (0, 0)
    db.dispose()

    # The upgraded database serves: the old key works, and the new tables take a saved model.
    app = create_app(settings_for_tests(database_url))
    client = authorized(app.test_client(), key)
    created = client.post("/model", json={"id": "early-model", "total_params_billions": 3})
    assert created.status_code == 201, created.json
    assert created.json["customer_id"] == 7
    assert client.get("/model/early-model").status_code == 200
    app.extensions["services"].db.dispose()


def test_migrating_twice_changes_nothing(tmp_path: object) -> None:
    db = Database(f"sqlite:///{tmp_path}/twice.sqlite3")
    db.migrate()
    db.migrate()
    assert db.revision() == "0006"
    db.dispose()
