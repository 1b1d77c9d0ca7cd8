"""Estimate-only keys (`create-key NAME --scope estimate`), the kind to put in a shared spreadsheet: estimates and
catalog reads answer them, every write, batch, file, sync and admin endpoint answers 403. Checked over every route
of the app, against a table that must name every route: a route added later fails here until it is placed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from server.__main__ import main
from server.accounts.keys import KeyCommandError, create_key
from server.app import create_app
from tests.conftest import authorized, keyed_client, settings_for_tests
from tests.test_bigquery import call

ROW = {"model_id": "gpt-4o", "input_tokens": 100, "output_tokens": 20}

# Every (endpoint, method) of the app: for an estimate key, the request to make and the status it gets. `None`
# as a body: none sent.
ALLOWED: dict[tuple[str, str], tuple[str, dict[str, Any] | None]] = {
    ("impact.impact", "POST"): ("/v1/impact", {"rows": [ROW]}),
    ("sheets.sheets_impact", "POST"): ("/v1/sheets/impact", {"function": "SCOPE3_IMPACT", "args": {"model": "gpt-4o"}}),
    ("sheets.sheets_explain", "POST"): ("/v1/sheets/explain", {"args": {"model": "gpt-4o", "output_tokens": 10}}),
    ("bigquery.bigquery", "POST"): (
        "/",
        {"requestId": "r", "caller": "c", "sessionUser": "u", "calls": [call(model_id="gpt-4o", input_tokens=5)]},
    ),
    ("sheets.sheets_catalog", "GET"): ("/v1/sheets/catalog/models", None),
    ("catalog.list_models", "GET"): ("/model", None),
    ("catalog.get_model", "GET"): ("/model/gpt-4o", None),
    ("catalog.list_gpus", "GET"): ("/gpu", None),
    ("catalog.get_gpu", "GET"): ("/gpu/h100", None),
    ("catalog.list_nodes", "GET"): ("/node", None),
    ("catalog.get_node", "GET"): ("/node/aws:p4d.24xlarge", None),
    ("catalog.list_datacenters", "GET"): ("/datacenter", None),
    ("catalog.get_datacenter", "GET"): ("/datacenter/aws-us-east-1", None),
}
REFUSED = {
    ("catalog.create_model", "POST"),
    ("catalog.update_model", "PUT"),
    ("catalog.delete_model", "DELETE"),
    ("catalog.add_model_alias", "PUT"),
    ("catalog.remove_model_alias", "DELETE"),
    ("catalog.create_gpu", "POST"),
    ("catalog.update_gpu", "PUT"),
    ("catalog.delete_gpu", "DELETE"),
    ("catalog.create_node", "POST"),
    ("catalog.update_node", "PUT"),
    ("catalog.delete_node", "DELETE"),
    ("catalog.create_datacenter", "POST"),
    ("catalog.update_datacenter", "PUT"),
    ("catalog.delete_datacenter", "DELETE"),
    ("batch.submit", "POST"),
    ("batch.get_task", "GET"),
    ("batch.task_results", "GET"),
    ("batch.get_object", "GET"),
    ("batch.put_file", "PUT"),
    ("batch.get_file", "GET"),
    ("sync.sync_catalog_cron", "GET"),
    ("admin.reload", "GET"),
}
PUBLIC = {("status.status", "GET"), ("health.livez", "GET"), ("health.readyz", "GET"), ("openapi.openapi", "GET")}


@pytest.fixture()
def app(tmp_path: Path) -> Iterator[Flask]:
    app = create_app(settings_for_tests(f"sqlite:///{tmp_path / 'scopes.sqlite3'}"))
    yield app
    app.extensions["services"].db.dispose()


def routes(app: Flask) -> set[tuple[str, str]]:
    return {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS") and rule.endpoint != "static"
    }


def concrete(rule: str) -> str:
    """A URL for a rule, its variables filled with plausible values (a refused request never reaches the view)."""
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: {"tab": "models"}.get(m.group(1), "gpt-4o"), rule)


def test_the_table_names_every_route_once(app: Flask) -> None:
    tables = [set(ALLOWED), REFUSED, PUBLIC]
    assert sum(len(t) for t in tables) == len(set().union(*tables)), "a route in two tables"
    assert set().union(*tables) == routes(app)


def test_an_estimate_key_estimates_and_reads_the_catalog(app: Flask) -> None:
    estimator = keyed_client(app, "shared-sheet", scope="estimate")
    for (endpoint, method), (path, body) in ALLOWED.items():
        response = estimator.open(path, method=method, json=body)
        assert response.status_code == 200, (endpoint, method, response.get_json())
        # The same bytes as a full key of the same account gets.
    full = keyed_client(app, "shared-sheet")
    path, body = ALLOWED[("impact.impact", "POST")]
    assert estimator.post(path, json=body).get_json()["rows"] == full.post(path, json=body).get_json()["rows"]


def test_an_estimate_key_gets_403_on_every_write_batch_file_sync_and_admin_endpoint(app: Flask) -> None:
    estimator = keyed_client(app, "shared-sheet", scope="estimate")
    full = keyed_client(app, "shared-sheet")
    by_endpoint = {rule.endpoint: rule.rule for rule in app.url_map.iter_rules()}
    for endpoint, method in sorted(REFUSED):
        path = concrete(by_endpoint[endpoint])
        response = estimator.open(path, method=method, json={} if method in ("POST", "PUT") else None)
        assert response.status_code == 403, (endpoint, method, path, response.status_code)
        error = response.get_json()
        assert error["code"] == "FORBIDDEN" and error["details"]["reason"] == "key_scope", error
        assert f"{method} {path}" in error["message"] and "'estimate' key" in error["message"], error["message"]
    # The account's full key may write: the 403 is the key's scope, not the account's rights.
    created = full.post("/model", json={"id": "shared-sheet-llm", "total_params_billions": 3})
    assert created.status_code == 201, created.get_json()
    assert estimator.get("/model/shared-sheet-llm").status_code == 200, "an estimate key sees its account's entries"
    assert estimator.delete("/model/shared-sheet-llm").status_code == 403
    assert full.get("/model/shared-sheet-llm").status_code == 200


def test_an_admin_key_cannot_be_estimate_only(app: Flask, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with app.extensions["services"].db.write() as session, pytest.raises(KeyCommandError, match="admin"):
        create_key(session, "root", admin=True, scope="estimate")
    with app.extensions["services"].db.write() as session, pytest.raises(KeyCommandError, match="unknown scope"):
        create_key(session, "someone", scope="read")
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", url)
        assert main(["create-key", "ops", "--admin", "--scope", "estimate"]) == 1
        assert "cannot have the 'estimate' scope" in capsys.readouterr().err
        assert main(["create-key", "ops", "--admin"]) == 0
        # An admin account's keys see every account's entries: no estimate key for it either.
        assert main(["create-key", "ops", "--scope", "estimate"]) == 1
        assert "admin account" in capsys.readouterr().err
        assert main(["create-key", "sheet-users", "--scope", "estimate"]) == 0
        out, err = capsys.readouterr()
        assert "estimate-only key" in err
        key = out.strip().splitlines()[-1]
        assert main(["list-keys"]) == 0
        listing = capsys.readouterr().out
    line = next(row for row in listing.splitlines() if row.startswith(key[:12]))
    assert re.search(r"sheet-users\s+no\s+estimate\s+\S+ \S+\s+never\s+0\s+-$", line), line
    # The scope holds over HTTP too, through the same database.
    served = create_app(settings_for_tests(url))
    client = authorized(served.test_client(), key)
    assert client.post("/v1/impact", json={"rows": [ROW]}).status_code == 200
    assert client.post("/model", json={"id": "x", "total_params_billions": 1}).status_code == 403
    served.extensions["services"].db.dispose()
