"""Catalog coverage against a reference list: `python -m server catalog-coverage` and EcoLogits' repository."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.__main__ import main
from server.catalog import coverage
from server.catalog.store import Catalog
from server.pipeline.run import Pipeline
from server.schemas.impact import ImpactRow


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


@pytest.fixture(scope="module")
def ecologits_names() -> list[coverage.Reference]:
    path = coverage.ecologits_models_json()
    assert path is not None, "ecologits is a dev dependency: pip install -e '.[dev]'"
    assert coverage.ecologits_version() == "0.11.3"
    return coverage.read_ecologits(path)


def estimates(pipeline: Pipeline, model_id: str) -> bool:
    row = ImpactRow.model_validate({"model_id": model_id, "input_tokens": 500, "output_tokens": 200})
    result = pipeline.run_row(row)
    return result.error is None and result.total.usage_energy_wh > 0


def test_ecologits_names_estimate_as_provider_name_and_as_the_bare_name(
    catalog: Catalog, ecologits_names: list[coverage.Reference]
) -> None:
    """Acceptance of issue #17: >= 98 % of EcoLogits 0.11.3's (provider, name) pairs estimate without an error."""
    assert len(ecologits_names) == 351
    pipeline = Pipeline(catalog)
    qualified = [ref for ref in ecologits_names if not estimates(pipeline, ref.qualified)]
    bare = [ref for ref in ecologits_names if not estimates(pipeline, ref.name)]
    share_qualified = 1 - len(qualified) / len(ecologits_names)
    share_bare = 1 - len(bare) / len(ecologits_names)
    assert share_qualified >= 0.98, [ref.qualified for ref in qualified]
    assert share_bare >= 0.98, [ref.name for ref in bare]


@pytest.mark.parametrize(
    ("spelling", "model_id"),
    [
        ("gpt-5.5", "gpt-5.5"),
        ("gpt-5.4-mini-2026-03-17", "gpt-5.4-mini"),
        ("claude-sonnet-5", "claude-sonnet-5"),
        ("claude-opus-4-7", "claude-opus-4-7"),
        ("gemini-3.5-flash", "gemini-3.5-flash"),
        ("mistral-large-4", "mistral-large-4"),
        ("voxtral-small-latest", "voxtral-small-2507"),
        ("gemini-pro-latest", "gemini-2.5-pro"),  # a known pointer is an alias, not the rule's guess
        ("mistral-medium-2604", "mistral-medium-3.5"),  # a known snapshot is an alias, not the rule's guess
        ("chat-latest", "gpt-5.5"),
    ],
)
def test_names_from_this_months_usage_exports_resolve(catalog: Catalog, spelling: str, model_id: str) -> None:
    model, note = catalog.find_model_explained(spelling)
    assert model is not None and model.row.id == model_id
    assert note is None or "dated snapshot" in note


def test_every_ecologits_row_cites_ecologits_and_closed_ones_carry_a_range(catalog: Catalog) -> None:
    rows = [
        m.row
        for m in catalog.models.values()
        if m.row.as_of == "2026-10" and "ecologits/data/models.json" in m.row.source
    ]
    assert len(rows) >= 80
    for row in rows:
        assert "EcoLogits 0.11.3 model repository (ecologits/data/models.json)" in row.source, row.id
        assert row.source.startswith("https://"), row.id  # EcoLogits' own cited sources come first
        if row.params_estimated:
            assert row.params_low_billions is not None and row.params_high_billions is not None, row.id
            assert row.params_low_billions <= (row.active_params_billions or 0) <= row.params_high_billions, row.id
