"""Every answer says which methodology made it (`Scope3-Methodology-Version`), and every answer to a caller with a
key which catalog it saw (`Scope3-Catalog-Version`): what the Sheets add-on keys its cache by."""

from __future__ import annotations

import shutil
from pathlib import Path

from flask.testing import FlaskClient

from server.app import create_app
from server.catalog.files import DEFAULT_CATALOG_DIR
from server.catalog.version import methodology_version
from tests.conftest import ADMIN_KEY, authorized, settings_for_tests

ROW = {"rows": [{"model_id": "gpt-4o", "input_tokens": 100, "output_tokens": 50}]}


def test_answers_carry_the_methodology_and_the_catalog_version(client: FlaskClient, anonymous: FlaskClient) -> None:
    impact = client.post("/v1/impact", json=ROW)
    assert impact.status_code == 200
    methodology = impact.headers["Scope3-Methodology-Version"]
    assert impact.headers["Scope3-Catalog-Version"].startswith(methodology + ".")
    sheets = client.post("/v1/sheets/impact", json={"function": "SCOPE3_IMPACT", "args": {"model": "gpt-4o"}})
    assert sheets.headers["Scope3-Catalog-Version"] == impact.headers["Scope3-Catalog-Version"]
    # /status has no caller, so no catalog of its own, but it says the methodology; so does a 401.
    assert anonymous.get("/status").headers["Scope3-Methodology-Version"] == methodology
    refused = anonymous.post("/v1/impact", json=ROW)
    assert refused.status_code == 401
    assert refused.headers["Scope3-Methodology-Version"] == methodology
    assert "Scope3-Catalog-Version" not in refused.headers


def test_debug_names_the_methodology_version(client: FlaskClient) -> None:
    response = client.post("/v1/impact?debug=true", json=ROW)
    steps = [step["description"] for step in response.get_json()["rows"][0]["debug"]["steps"]]
    assert f"methodology version {response.headers['Scope3-Methodology-Version']}" in steps


def test_a_saved_entry_moves_the_catalog_version_not_the_methodology(tmp_path: Path) -> None:
    app = create_app(settings_for_tests(f"sqlite:///{tmp_path / 'v.sqlite3'}"))
    client = authorized(app.test_client(), ADMIN_KEY)
    before = client.get("/model?limit=1").headers
    saved = client.post("/model", json={"id": "version-test-llm", "total_params_billions": 7})
    assert saved.status_code in (200, 201), saved.get_json()
    after = client.get("/model?limit=1").headers
    assert after["Scope3-Methodology-Version"] == before["Scope3-Methodology-Version"]
    assert after["Scope3-Catalog-Version"] != before["Scope3-Catalog-Version"]


def test_changing_one_catalog_figure_changes_the_methodology_version(tmp_path: Path) -> None:
    copy = tmp_path / "catalog"
    shutil.copytree(DEFAULT_CATALOG_DIR, copy)
    shipped = methodology_version(copy)
    assert shipped == methodology_version(DEFAULT_CATALOG_DIR)  # content, not the folder's path
    gpus = copy / "gpus.csv"
    original = gpus.read_text()
    # A100 40GB's maximum power, 400 W -> 401 W: one figure of one row.
    assert "a100_40gb,NVIDIA A100 40GB,NVIDIA,40,400," in original
    gpus.write_text(
        original.replace("a100_40gb,NVIDIA A100 40GB,NVIDIA,40,400,", "a100_40gb,NVIDIA A100 40GB,NVIDIA,40,401,")
    )
    assert methodology_version(copy) != shipped
    # Back to the shipped figure, with the catalog's README edited: prose makes no other methodology.
    gpus.write_text(original)
    (copy / "README.md").write_text("edited")
    assert methodology_version(copy) == shipped
