"""Name rules (server/catalog/names.py, documented in server/catalog/data/README.md "Name rules"): spellings that
are not in the catalog (dated snapshots, `-latest` pointers, Hugging Face variants) reach the model they name."""

from __future__ import annotations

import pytest

from server.catalog.names import derived_spellings
from server.catalog.store import Catalog
from server.engine.constants import BYTES_PER_PARAM
from server.pipeline.run import Pipeline, wire_row
from server.schemas.impact import ImpactRow


@pytest.mark.parametrize(
    ("spelling", "base"),
    [
        ("gpt-5.4-2026-03-05", "gpt-5.4"),  # OpenAI: -YYYY-MM-DD
        ("claude-opus-4-5-20251101", "claude-opus-4-5"),  # Anthropic: -YYYYMMDD
        ("mistral-small-2603", "mistral-small"),  # Mistral: -YYMM
        ("gpt-3.5-turbo-instruct-0914", "gpt-3.5-turbo-instruct"),  # OpenAI's old -MMDD
        ("command-a-plus-05-2026", "command-a-plus"),  # Cohere: -MM-YYYY
        ("magistral-medium-latest", "magistral-medium"),
    ],
)
def test_snapshot_and_latest_suffixes_are_stripped(spelling: str, base: str) -> None:
    assert derived_spellings(spelling)[0].spelling == base


@pytest.mark.parametrize(
    "spelling",
    ["gpt-4o-2024-13-01", "gpt-4o-2024-02-32", "model-1234", "llama-3.1-8b", "claude-opus-4-7", "phi-4", "gemma-2-9b"],
)
def test_what_is_not_a_date_or_variant_is_left_alone(spelling: str) -> None:
    assert derived_spellings(spelling) == []


def test_variants_carry_their_own_precision() -> None:
    [gptq] = derived_spellings("Qwen2.5-7B-Instruct-GPTQ")
    assert (gptq.spelling, gptq.datatype) == ("Qwen2.5-7B-Instruct", "int4")
    *_, quant = derived_spellings("google/gemma-7b-it-quant-pytorch")
    assert (quant.spelling, quant.datatype) == ("google/gemma-7b-it", "int8")
    *_, onnx = derived_spellings("microsoft/Phi-3-medium-4k-instruct-onnx-directml")
    assert (onnx.spelling, onnx.datatype) == ("microsoft/Phi-3-medium-4k-instruct", None)


@pytest.mark.parametrize(
    ("spelling", "model_id"),
    [
        ("gpt-4o-2031-07-15", "gpt-4o"),  # a made-up future snapshot of a known model
        ("openai:gpt-4o-2031-07-15", "gpt-4o"),
        ("claude-opus-4-5-20310101", "claude-opus-4-5"),
        ("mistral-large-3999", None),  # 39-99 is not a month: no rule applies
    ],
)
def test_future_snapshots_of_known_models_resolve_and_say_so(
    catalog: Catalog, spelling: str, model_id: str | None
) -> None:
    model, note = catalog.find_model_explained(spelling)
    if model_id is None:
        assert model is None and note is None
        return
    assert model is not None and model.row.id == model_id
    assert note is not None and "dated snapshot" in note and model_id in note


def test_a_snapshot_in_the_catalog_is_found_exactly_without_a_rule(catalog: Catalog) -> None:
    model, note = catalog.find_model_explained("gpt-4o-2024-08-06")
    assert model is not None and model.row.id == "gpt-4o"
    assert note is None
    assert "gpt-4o-2024-08-06" not in catalog._rule_cache  # the exact lookup never reaches the rules


def test_latest_pointer_names_the_as_of_of_the_entry_it_reaches(catalog: Catalog) -> None:
    model, note = catalog.find_model_explained("gpt-4o-latest")
    assert model is not None and model.row.id == "gpt-4o"
    assert note is not None and "-latest alias" in note and f"as of {model.row.as_of}" in note


def test_quantized_variant_resolves_to_its_base_at_its_own_precision(catalog: Catalog) -> None:
    base = catalog.find_model("meta-llama/Llama-3.1-8B-Instruct")
    model, note = catalog.find_model_explained("meta-llama/Llama-3.1-8B-Instruct-AWQ")
    assert base is not None and model is not None and model.row.id == base.row.id
    assert model.row.datatype == "int4" and model.wire["datatype"] == "int4"
    assert model.spec.bytes_per_param == BYTES_PER_PARAM["int4"] < base.spec.bytes_per_param
    assert model.spec.total_params_b == base.spec.total_params_b
    assert note is not None and "served at int4" in note
    assert catalog.find_model_explained("meta-llama/Llama-3.1-8B-Instruct-AWQ")[0] is model  # cached


def test_framework_variant_keeps_the_base_precision(catalog: Catalog) -> None:
    base = catalog.find_model("google/gemma-2-9b")
    model, note = catalog.find_model_explained("huggingface_hub:google/gemma-2-9b-pytorch")
    assert base is not None and model is base
    assert note is not None and "-pytorch" in note


def test_reupload_under_another_organisation_resolves_by_repository_name(catalog: Catalog) -> None:
    model, note = catalog.find_model_explained("mistral-community/Mistral-7B-Instruct-v0.3")
    assert model is not None and model is catalog.find_model("mistralai/Mistral-7B-Instruct-v0.3")
    assert note is not None and "repository name" in note


def test_unknown_models_still_get_the_unknown_model_error(catalog: Catalog) -> None:
    result = Pipeline(catalog).run_row(ImpactRow.model_validate({"model_id": "gpt-4q-2025-01-01", "output_tokens": 10}))
    assert result.error is not None and result.error.code == "UNKNOWN_MODEL"
    assert "did you mean" in result.error.message


def test_debug_says_which_rule_found_the_model(catalog: Catalog) -> None:
    pipeline = Pipeline(catalog)
    ruled = pipeline.run_row(ImpactRow.model_validate({"model_id": "gpt-4o-2031-07-15", "output_tokens": 100}))
    exact = pipeline.run_row(ImpactRow.model_validate({"model_id": "gpt-4o", "output_tokens": 100}))
    assert ruled.error is None and exact.error is None
    assert ruled.total == exact.total
    steps = [step["description"] for step in wire_row(ruled, debug=True)["debug"]["steps"]]
    assert any("resolved to 'gpt-4o' by name rule: dated snapshot" in step for step in steps)
    assert not any("name rule" in step["description"] for step in wire_row(exact, debug=True)["debug"]["steps"])
