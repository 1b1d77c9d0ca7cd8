"""Keys, auth, permissions, admin curation and rate limits, through the Flask test client (SQLite)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server.__main__ import main
from server.app import create_app
from tests.conftest import ADMIN_KEY, authorized, keyed_client, settings_for_tests


@pytest.fixture()
def fresh(tmp_path: Path) -> Iterator[Flask]:
    """An app on its own empty database (tests here change the catalog)."""
    app = create_app(settings_for_tests(f"sqlite:///{tmp_path / 'accounts.sqlite3'}"))
    yield app
    app.extensions["services"].db.dispose()


def user(app: Flask, name: str) -> FlaskClient:
    return keyed_client(app, name)


def admin(app: Flask) -> FlaskClient:
    return authorized(app.test_client(), ADMIN_KEY)


def test_no_key_a_wrong_key_and_a_revoked_key_get_401(fresh: Flask, capsys: pytest.CaptureFixture[str]) -> None:
    anonymous = fresh.test_client()
    for path in ("/model", "/gpu/h100", "/node", "/reload"):
        response = anonymous.get(path)
        assert response.status_code == 401 and response.json["details"]["reason"] == "missing_api_key", path
    assert anonymous.post("/v1/impact", json={"rows": []}).status_code == 401
    assert anonymous.post("/", json={"calls": []}).status_code == 401
    assert authorized(fresh.test_client(), "s3ai_not-a-key").get("/model").json["code"] == "UNAUTHORIZED"
    # Public: /status and /openapi.json.
    assert anonymous.get("/status").status_code == 200 and anonymous.get("/openapi.json").status_code == 200

    erin = user(fresh, "erin")
    assert erin.get("/gpu/h100").status_code == 200
    key = erin.environ_base["HTTP_AUTHORIZATION"].split()[1]
    database = str(fresh.extensions["services"].db.url).removeprefix("sqlite:///")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", f"sqlite:///{database}")
        assert main(["list-keys"]) == 0
        listing = capsys.readouterr().out
        assert "erin" in listing and key not in listing and key[:12] in listing
        assert main(["revoke-key", key[:12]]) == 0
    response = erin.get("/gpu/h100")
    assert response.status_code == 401 and response.json["details"]["reason"] == "invalid_api_key"


def test_create_key_prints_the_key_last_and_stores_only_its_digest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", url)
        assert main(["create-key", "frank", "--admin"]) == 0
        key = capsys.readouterr().out.strip().splitlines()[-1]
        assert key.startswith("s3ai_") and len(key) > 40
        # An existing user account cannot become an admin by asking for an admin key.
        assert main(["create-key", "gina"]) == 0
        assert main(["create-key", "gina", "--admin"]) == 1
        assert "not an admin" in capsys.readouterr().err
    stored = (tmp_path / "cli.sqlite3").read_bytes() + (tmp_path / "cli.sqlite3-wal").read_bytes()
    assert key.encode() not in stored
    app = create_app(settings_for_tests(url))
    assert authorized(app.test_client(), key).post("/model", json={"id": "by-frank", "total_params_billions": 2})
    assert (
        app.test_client().get("/model/by-frank", headers={"Authorization": f"Bearer {key}"}).json["customer_id"] == 0
    )  # an admin's entry is global
    app.extensions["services"].db.dispose()


def test_keys_never_reach_the_log(fresh: Flask, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("server").propagate = True
    try:
        client = user(fresh, "hana")
        key = client.environ_base["HTTP_AUTHORIZATION"].split()[1]
        client.post("/v1/impact", json={"rows": [{"model_id": "gpt-9", "input_tokens": 1}]})
        authorized(fresh.test_client(), key + "x").get("/model")
    finally:
        logging.getLogger("server").propagate = False
    assert key not in caplog.text


def test_write_requests_are_checked_field_by_field(fresh: Flask) -> None:
    ivan = user(fresh, "ivan")
    response = ivan.post("/model", data="id=x", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert ivan.get("/model", headers={"Accept": "text/html"}).status_code == 406
    response = ivan.post("/model", json={"id": "x1", "total_params_billions": -3})
    assert response.status_code == 400 and response.json["details"]["field"] == "total_params_billions"
    response = ivan.post("/model", json={"id": "x2", "colour": "red"})
    assert response.status_code == 400 and response.json["details"]["field"] == "colour"
    response = ivan.post("/model", json={"id": "x3"})  # nothing to estimate with
    assert response.status_code == 400 and response.json["details"]["field"] == "total_params_billions"
    response = ivan.post("/node", json={"id": "n-1", "gpu_id": "h1000", "gpu_count": 1, "cpu_count": 1})
    assert response.status_code == 400 and "did you mean" in response.json["message"]
    response = ivan.post("/gpu", json={"id": "g1", "name": "G"})
    assert response.status_code == 400 and response.json["details"]["field"] == "max_power_w"
    # A fine-tune inherits what it does not say from its base model.
    response = ivan.post("/model", json={"id": "my-llama", "fine_tuned_from_model_id": "llama_31_8b"})
    assert response.status_code == 201 and response.json["total_params_billions"] == 8.03
    assert ivan.get("/model/x1").status_code == 404  # nothing half-saved


def test_admins_curate_the_global_catalog(fresh: Flask) -> None:
    root, judy, ken = admin(fresh), user(fresh, "judy"), user(fresh, "ken")
    assert root.post("/model", json={"id": "house-llm", "total_params_billions": 20}).status_code == 201
    for client in (judy, ken):
        assert client.get("/model/house-llm").json["customer_id"] == 0
        assert client.put("/model/house-llm", json={"name": "mine"}).status_code == 403
    before = judy.post("/v1/impact", json={"rows": [{"model_id": "llama_31_8b", "output_tokens": 100}]}).json
    # An admin's change to a shipped model applies to everyone's estimates; its source records the change.
    changed = root.put("/model/llama_31_8b", json={"total_params_billions": 16})
    assert changed.status_code == 200 and changed.json["total_params_billions"] == 16
    after = judy.post("/v1/impact", json={"rows": [{"model_id": "llama_31_8b", "output_tokens": 100}]}).json
    assert after["total_energy_wh"] > before["total_energy_wh"]
    # Deleting a shipped GPU that shipped nodes use is refused; an unused saved one goes.
    assert root.delete("/gpu/h100").status_code == 409
    assert root.delete("/model/house-llm").status_code == 204
    assert ken.get("/model/house-llm").status_code == 404
    assert judy.get("/reload").status_code == 403
    assert root.get("/reload").json == {"ready": True}
    # Saved changes outlive a reload of the shipped files.
    assert judy.get("/model/llama_31_8b").json["total_params_billions"] == 16


def test_over_the_limit_429_with_retry_after(tmp_path: Path) -> None:
    app = create_app(settings_for_tests(f"sqlite:///{tmp_path / 'limit.sqlite3'}", RATE_LIMIT_PER_MINUTE=3))
    client = authorized(app.test_client(), ADMIN_KEY)
    statuses = [client.get("/gpu/h100").status_code for _ in range(3)]
    response = client.get("/gpu/h100")
    assert statuses == [200, 200, 200] and response.status_code == 429
    # The window is one minute and every request of this test went in the last few seconds.
    assert 55 <= int(response.headers["Retry-After"]) <= 60
    assert response.json["code"] == "TOO_MANY_REQUESTS" and "message" in response.json
    # Another key has its own budget; /status is never limited.
    other = user(app, "lena")
    assert other.get("/gpu/h100").status_code == 200
    assert all(app.test_client().get("/status").status_code == 200 for _ in range(5))
    app.extensions["services"].db.dispose()
