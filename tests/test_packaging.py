"""Deployment files agree with the package."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from server.__main__ import main
from server.app import create_app
from server.catalog import store
from server.catalog.store import Catalog
from server.settings import SettingsError
from tests.conftest import ADMIN_KEY, GunicornServer, settings_for_tests

ROOT = Path(__file__).resolve().parents[1]


def test_app_yaml_runs_the_factory_with_gunicorn_on_port() -> None:
    text = (ROOT / "app.yaml").read_text()
    assert re.search(r"^runtime: python312$", text, re.M)
    assert "gunicorn -b :$PORT" in text and "server.app:create_app()" in text
    assert "secure: always" in text


def test_the_factory_loads_the_whole_catalog_from_a_cold_cache(tmp_path: Path) -> None:
    # Start-up time is measured by bench/throughput.py, not asserted here.
    store.load_catalog.cache_clear()
    app = create_app(settings_for_tests(f"sqlite:///{tmp_path / 'db.sqlite3'}"))
    views = app.extensions["services"].views
    assert len(views.shipped.models) >= 150
    view = views.view(None, 0, 0)
    assert view.pipeline.catalog is view.catalog is views.shipped  # no saved entries: the shipped catalog itself


def test_bad_settings_stop_start_up_naming_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RATE_LIMIT_PER_MINUTE", "lots")
    with pytest.raises(SettingsError, match="RATE_LIMIT_PER_MINUTE"):
        create_app()
    monkeypatch.delenv("RATE_LIMIT_PER_MINUTE")
    with pytest.raises(SettingsError, match="LOG_LEVEL"):
        create_app({"LOG_LEVEL": "LOUD"})


def test_check_catalog_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-catalog"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("models ") and "managed services 16" in printed


@pytest.mark.e2e
def test_a_wheel_installed_outside_the_checkout_serves_the_whole_catalog(tmp_path: Path, catalog: Catalog) -> None:
    """`pip wheel .` into a fresh virtual environment elsewhere: the catalog data and migrations come along."""
    uv = Path(sys.executable).parent / "uv"
    wheels, source = tmp_path / "wheels", tmp_path / "source"
    # A copy of the working tree, so no build/ folder left in the checkout from an earlier build can hide a gap.
    shutil.copytree(
        ROOT, source, ignore=shutil.ignore_patterns(".*", "build", "instance", "node_modules", "*.egg-info")
    )
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(wheels), str(source)],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = wheels.glob("server-*.whl")
    venv = tmp_path / "venv"
    for command in (
        [str(uv), "venv", "--quiet", "--python", sys.executable, str(venv)],
        # the locked runtime set (App Engine's requirements.txt), then the wheel alone
        [str(uv), "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), "-r", "requirements.txt"],
        [str(uv), "pip", "install", "--quiet", "--no-deps", "--python", str(venv / "bin" / "python"), str(wheel)],
    ):
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-2000:]
    python = str(venv / "bin" / "python")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    where = subprocess.run(
        [python, "-c", "import server; print(server.__file__)"], cwd=outside, capture_output=True, text=True
    )
    assert where.stdout.startswith(str(venv)), where.stdout + where.stderr  # the installed copy, not the checkout

    server = GunicornServer(python=python, cwd=outside, database_url=f"sqlite:///{outside / 'db.sqlite3'}")
    try:
        headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
        tabs = {
            tab: httpx.get(f"{server.url}/v1/sheets/catalog/{tab}", headers=headers, timeout=30)
            for tab in ("models", "gpus")
        }
        assert {tab: answer.status_code for tab, answer in tabs.items()} == {"models": 200, "gpus": 200}
        assert len(tabs["models"].json()["values"]) - 1 == len(catalog.models)
        assert len(tabs["gpus"].json()["values"]) - 1 == len(catalog.gpus)
        impact = httpx.post(
            f"{server.url}/v1/impact",
            headers=headers,
            json={"rows": [{"model_id": "gpt-4o", "input_tokens": 1000, "output_tokens": 300, "country": "FR"}]},
            timeout=30,
        )
        assert impact.status_code == 200, impact.text
    finally:
        server.stop()
