"""The shipped catalog: schema, unique ids and aliases, references, sources, enums, sizes, seed spellings."""

from __future__ import annotations

import csv
import math
from collections import Counter
from pathlib import Path

import pytest

from server.catalog.files import DEFAULT_CATALOG_DIR, iter_model_files, read_rows
from server.catalog.names import norm
from server.catalog.rows import ModelRow
from server.catalog.store import WORLD, Catalog
from server.engine.constants import DEFAULT_ATTENTION_WIDTH_COEF, DEFAULT_ATTENTION_WIDTH_EXP
from server.schemas.enums import DATA_TYPES, SPEC_TASKS

US_STATES_AND_DC = frozenset(
    "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK "  # noqa: SIM905
    "OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC".split()
)


def all_csv_files() -> list[Path]:
    return sorted(DEFAULT_CATALOG_DIR.glob("*.csv")) + list(iter_model_files(DEFAULT_CATALOG_DIR))


@pytest.mark.parametrize("path", all_csv_files(), ids=lambda p: p.name)
def test_every_row_is_sourced_and_dated(path: Path) -> None:
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf"), "no BOM"
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows
    for line, row in enumerate(rows, start=2):
        assert (row.get("source") or "").strip(), f"{path.name}:{line} has no source"
        assert (row.get("as_of") or "").strip(), f"{path.name}:{line} has no as_of"


def test_catalog_loads_with_its_schema_and_references(catalog: Catalog) -> None:
    # Loading validates every row with the pydantic row models and checks that references resolve.
    for node in catalog.nodes.values():
        assert node.row.gpu_id in catalog.gpus
    for service in catalog.services.values():
        assert service.node_id in catalog.nodes
        assert service.country in catalog.countries
    for model in catalog.models.values():
        assert model.row.default_service is None or model.row.default_service in catalog.services
    for region in catalog.regions.values():
        assert region.country in catalog.countries
        if region.region_code:
            assert (region.country, region.region_code) in catalog.grid


def test_ids_and_aliases_are_unique_even_ignoring_spelling(catalog: Catalog) -> None:
    spellings = Counter(key for m in catalog.models.values() for key in {norm(k) for k in (m.row.id, *m.row.aliases)})
    assert [k for k, n in spellings.items() if n > 1] == []
    other = Counter(
        norm(key)
        for m in catalog.models.values()
        for key in {norm(k) for k in (m.row.id, *m.row.aliases, *m.row.other_names)}
    )
    assert [k for k, n in other.items() if n > 1] == []


def test_task_and_datatype_within_the_spec_enums(catalog: Catalog) -> None:
    for model in catalog.models.values():
        assert model.row.task is None or model.row.task in SPEC_TASKS
        assert model.row.datatype is None or model.row.datatype in DATA_TYPES


def test_closed_model_estimates_are_marked_with_a_range(catalog: Catalog) -> None:
    estimated = [m.row for m in catalog.models.values() if m.row.params_estimated]
    assert len(estimated) >= 20
    for row in estimated:
        assert "estimate" in row.source.lower() or "ecologits" in row.source.lower(), row.id


def test_catalog_sizes(catalog: Catalog) -> None:
    assert len(catalog.models) >= 150
    assert len(catalog.gpus) >= 15
    cloud_instances = [
        n for n in catalog.nodes.values() if n.row.cloud_id in {"aws", "gcp", "azure"} and not n.row.managed_service_id
    ]
    assert len(cloud_instances) >= 40
    assert {n.row.cloud_id for n in cloud_instances} == {"aws", "gcp", "azure"}
    assert len(catalog.services) >= 8
    countries = {c for c, r in catalog.grid if r is None and c != WORLD}
    assert len(countries) >= 200
    assert {r for c, r in catalog.grid if c == "US" and r} >= US_STATES_AND_DC
    assert set(catalog.grid_water) >= countries
    regions = {(r.cloud_id, r.region) for r in catalog.regions.values()}
    assert len(regions) >= 80 and {c for c, _ in regions} >= {"aws", "gcp", "azure"}


@pytest.mark.parametrize(
    ("spelling", "model_id"),
    [
        ("llama_31_8b", "llama_31_8b"),
        ("llama_v31_8b", "llama_31_8b"),
        ("LLaMa v3.1 8B", "llama_31_8b"),
        ("meta-llama/Llama-3.1-8B", "llama_31_8b"),
        ("meta/llama31_8b", "llama_31_8b"),
        ("llama_31_70b", "llama_31_70b"),
        ("llama_31_405b", "llama_31_405b"),
        ("claude-3-5-sonnet", "claude-3-5-sonnet"),
        ("Claude 3.5 Sonnet", "claude-3-5-sonnet"),
        ("gpt-4", "gpt-4"),
        ("gpt-4-turbo", "gpt-4-turbo"),
        ("GPT-4 Turbo Preview", "gpt-4-turbo"),
        ("gpt-4o", "gpt-4o"),
        ("gpt-4o-mini", "gpt-4o-mini"),
        ("DALL-E 3", "dall-e-3"),
        ("whisper-1", "whisper-1"),
        ("openai/whisper-large-v3", "whisper_large_v3"),
        ("stable_diffusion_xl_base_1_0", "stable_diffusion_xl_base_1_0"),
        ("SD-XL 1.0-base", "stable_diffusion_xl_base_1_0"),
        ("Stable Diffusion XL", "stable_diffusion_xl_base_1_0"),
        ("Stable Video XL", "stable_video_diffusion_img2vid_xt"),
        ("claude-3-7-sonnet", "claude-3-7-sonnet"),
        ("mistral-large-2407", "mistral-large-2407"),
        ("gemini-2.5-flash", "gemini-2.5-flash"),
        ("microsoft/OmniParser", "omniparser_v1"),
        ("openai:gpt-4o", "gpt-4o"),
    ],
)
def test_seed_spellings_resolve(catalog: Catalog, spelling: str, model_id: str) -> None:
    found = catalog.find_model(spelling)
    assert found is not None and found.row.id == model_id


@pytest.mark.parametrize(
    ("family", "name", "model_id"),
    [
        ("llama", "LLaMa v3.1 8B", "llama_31_8b"),
        ("claude (new)", "3.5 Sonnet", "claude-3-5-sonnet"),
        ("claude", "3.5 Sonnet", "claude-3-5-sonnet"),
        ("stablediffusion", "SD-XL 1.0-base", "stable_diffusion_xl_base_1_0"),
        ("stable-diffusion", "Stable Video XL", "stable_video_diffusion_img2vid_xt"),
        ("openai", "whisper-1", "whisper-1"),
    ],
)
def test_family_and_name_resolve(catalog: Catalog, family: str, name: str, model_id: str) -> None:
    found = catalog.find_model_by_family_name(family, name)
    assert found is not None and found.row.id == model_id


@pytest.mark.parametrize(
    "spelling",
    [
        "aws:p4d.24xlarge",
        "aws-p4d-24xlarge",
        "aws:p5.48xlarge",
        "gcp:a2-highgpu-1g",
        "gcp:a2-highgpu-8g",
        "gcp:a3-highgpu-8g",
        "gcp:a3-megagpu-8g",
        "azure:Standard_ND96asr_v4",
        "azure:Standard_ND96isr_H100_v5",
    ],
)
def test_seed_nodes_resolve(catalog: Catalog, spelling: str) -> None:
    assert catalog.find_node(spelling) is not None


# The diffusion models ML.ENERGY v3 measured (../shared/reference/mlenergy-v3-diffusion.csv): the calibration fit
# reads their denoiser architecture from these catalog rows (bench/catalog_models.py).
MLENERGY_DIFFUSION_MODELS = [
    "Efficient-Large-Model/SANA1.5_1.6B_1024px_diffusers",
    "Efficient-Large-Model/SANA1.5_4.8B_1024px_diffusers",
    "PixArt-alpha/PixArt-Sigma-XL-2-1024-MS",
    "Tencent-Hunyuan/HunyuanDiT-v1.2-Diffusers",
    "black-forest-labs/FLUX.1-dev",
    "stabilityai/stable-diffusion-3.5-large",
    "stabilityai/stable-diffusion-3.5-medium",
    "Wan-AI/Wan2.1-T2V-1.3B-Diffusers",
    "Wan-AI/Wan2.1-T2V-14B-Diffusers",
    "tencent/HunyuanVideo",
    "zai-org/CogVideoX-2b",
    "zai-org/CogVideoX1.5-5B",
]
ARCHITECTURE = ("denoiser_layers", "hidden_size", "px_per_latent_token", "guidance_passes", "quadratic_attention")


def diffusion_rows(catalog: Catalog) -> list[ModelRow]:
    return [
        m.row
        for m in catalog.models.values()
        if m.row.task == "text-to-image" or (m.row.task == "multimodal-generation" and m.row.default_steps)
    ]


@pytest.mark.parametrize("hugging_face_path", MLENERGY_DIFFUSION_MODELS)
def test_measured_diffusion_models_carry_their_published_architecture(catalog: Catalog, hugging_face_path: str) -> None:
    rows = [m.row for m in catalog.models.values() if m.row.hugging_face_path == hugging_face_path]
    assert len(rows) == 1, hugging_face_path
    row = rows[0]
    assert all(getattr(row, name) is not None for name in ARCHITECTURE), row.id
    assert "estimate" not in row.source.lower(), row.id  # published configs, not guesses
    assert "denoiser architecture:" in row.source, row.id
    if "video" in hugging_face_path.lower() or "wan" in hugging_face_path.lower():
        assert row.temporal_compression is not None, row.id


def test_every_diffusion_model_states_its_denoiser_or_says_it_is_estimated(catalog: Catalog) -> None:
    rows = diffusion_rows(catalog)
    assert len(rows) >= 30
    for row in rows:
        # Layers and hidden size go together (the attention term needs both).
        assert (row.denoiser_layers is None) == (row.hidden_size is None), row.id
        if row.px_per_latent_token is None or row.denoiser_layers is None:
            # Closed models (engine defaults) and U-Nets (effective token size) are estimates, and say so.
            assert "estimate" in row.source.lower() or "u-net" in row.source.lower(), row.id
        if row.denoiser_layers is None and row.px_per_latent_token is not None:
            assert row.quadratic_attention is False, f"{row.id}: a U-Net's attention is in its effective token size"


def test_default_attention_width_is_the_fit_over_the_catalog() -> None:
    """constants.DEFAULT_ATTENTION_WIDTH_*: ln(layers x hidden) vs ln(active params), distinct architectures."""
    architectures = {
        (row.active_params_billions or row.total_params_billions, row.denoiser_layers, row.hidden_size)
        for path in iter_model_files(DEFAULT_CATALOG_DIR)
        for row in read_rows(path, ModelRow)
        if row.denoiser_layers is not None and row.hidden_size is not None
    }
    points = [(math.log(params), math.log(layers * hidden)) for params, layers, hidden in architectures]
    assert len(points) >= 15
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / sum((x - mean_x) ** 2 for x, _ in points)
    coef = math.exp(mean_y - slope * mean_x)
    assert slope == pytest.approx(DEFAULT_ATTENTION_WIDTH_EXP, abs=0.005)
    assert coef == pytest.approx(DEFAULT_ATTENTION_WIDTH_COEF, rel=0.01)
