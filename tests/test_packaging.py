"""Deployment files agree with the package."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from server.__main__ import main
from server.app import create_app
from server.catalog import store
from server.settings import SettingsError
from tests.conftest import settings_for_tests

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
