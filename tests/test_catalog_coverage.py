"""Catalog coverage against a reference list: `python -m server catalog-coverage` and EcoLogits' repository."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.__main__ import main
from server.catalog import coverage


def test_coverage_command_lists_what_a_csv_has_that_the_catalog_does_not(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    names = tmp_path / "usage.csv"
    names.write_text("provider,name\nopenai,gpt-4o\nopenai,gpt-4o-2031-01-01\nacme,acme-zeta-9\n", encoding="utf-8")
    assert main(["catalog-coverage", "--csv", str(names)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"reference: {names}: 3 names"
    assert out[1:-1] == ["acme\tacme-zeta-9\tmissing"]  # the snapshot resolves by its name rule
    assert out[-1].startswith("covered: 66.7% as provider:name, 66.7% as the bare name; 1 names to add")
    assert main(["catalog-coverage", "--csv", str(names), "--fail-under", "90"]) == 1


def test_coverage_command_takes_a_bare_name_column_and_refuses_a_csv_without_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bare = tmp_path / "bare.csv"
    bare.write_text("name\ngpt-4o\n", encoding="utf-8")
    assert main(["catalog-coverage", "--csv", str(bare)]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("covered: 100.0% as provider:name, 100.0%")
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("model\ngpt-4o\n", encoding="utf-8")
    assert main(["catalog-coverage", "--csv", str(wrong)]) == 1
    assert "needs a header row with a 'name' column" in capsys.readouterr().err


def test_coverage_command_reads_the_installed_ecologits_repository(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog-coverage"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"reference: {coverage.ECOLOGITS_REPOSITORY}, ecologits 0.11.3: ")
    assert out[-1].startswith("covered: ")
