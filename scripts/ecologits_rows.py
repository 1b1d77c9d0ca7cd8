"""One-off generator (kept for review and re-runs): catalog rows for the EcoLogits 0.11.3 model-repository names
the catalog did not resolve (`python -m server catalog-coverage`), written to
server/catalog/data/models/ecologits.csv. Every figure is EcoLogits' own (its `architecture`), cited with the
URLs EcoLogits lists; closed models are marked as estimates with their range.
Run: .venv/bin/python scripts/ecologits_rows.py
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

from server.catalog.coverage import ecologits_models_json, ecologits_version
from server.catalog.names import derived_spellings

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "server/catalog/data/models/ecologits.csv"
HEADER = (ROOT / "server/catalog/data/models/text.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
AS_OF = "2026-10"  # the release of ecologits 0.11.3 on PyPI
REPO = "EcoLogits 0.11.3 model repository (ecologits/data/models.json)"

# canonical EcoLogits name -> other EcoLogits names of the same model (dated snapshots, -latest pointers, endpoint
# variants with the same architecture in EcoLogits). Each key becomes one row.
ALIASES: dict[tuple[str, str], list[str]] = {
    ("openai", "gpt-3.5-turbo-instruct"): [
        "gpt-3.5-turbo-instruct-0914",
        "gpt-35-turbo-instruct",
        "gpt-35-turbo-instruct-0914",
    ],
    ("openai", "gpt-4o-mini-search-preview"): ["gpt-4o-mini-search-preview-2025-03-11"],
    ("openai", "gpt-4o-search-preview"): ["gpt-4o-search-preview-2025-03-11"],
    ("openai", "gpt-5-pro"): ["gpt-5-pro-2025-10-06"],
    ("openai", "gpt-5-search-api"): ["gpt-5-search-api-2025-10-14"],
    ("openai", "gpt-5.2-pro"): ["gpt-5.2-pro-2025-12-11"],
    ("openai", "gpt-5.4"): ["gpt-5.4-2026-03-05"],
    ("openai", "gpt-5.4-mini"): ["gpt-5.4-mini-2026-03-17"],
    ("openai", "gpt-5.4-nano"): ["gpt-5.4-nano-2026-03-17"],
    ("openai", "gpt-5.4-pro"): ["gpt-5.4-pro-2026-03-05"],
    ("openai", "gpt-5.5"): ["gpt-5.5-2026-04-23", "chat-latest"],  # chat-latest: same figures and sources
    ("openai", "gpt-5.5-pro"): ["gpt-5.5-pro-2026-04-23"],
    ("openai", "o4-mini-deep-research"): ["o4-mini-deep-research-2025-06-26"],
    ("mistralai", "mistral-large-4"): ["mistral-large-4-0"],
    ("mistralai", "mistral-medium-3.5"): ["mistral-medium-3-5", "mistral-medium-2604"],
    ("mistralai", "mistral-small-2603"): ["mistral-small-latest"],
    ("mistralai", "voxtral-mini-2602"): ["voxtral-mini-latest"],
    ("mistralai", "voxtral-small-2507"): ["voxtral-small-latest"],
    ("mistralai", "zai-glm-5-2"): ["glm-5-2"],
    ("mistralai", "zai-glm-5-3"): ["zai-glm-latest"],  # the newest GLM on Mistral's list; same figures in EcoLogits
    ("google_genai", "gemini-3.1-flash-lite"): ["gemini-3.1-flash-lite-preview"],
    ("google_genai", "gemini-3.1-pro-preview"): ["gemini-3.1-pro-preview-customtools"],
    ("cohere", "command-a-plus-05-2026"): ["command-a-plus"],
}
# names EcoLogits lists that become aliases of rows already in the catalog (same figures), handled in text.csv
SKIP = {
    "mistral-medium",
    "mistral-medium-latest",
    "gemini-flash-latest",
    "gemini-flash-lite-latest",
    "mistral-code-fim-latest",
    "google/gemma-2-instruct-9b-keras",
    "gemini-pro-latest",
}
# an id for names whose EcoLogits spelling is a moving pointer
IDS = {"gpt-5.3-chat-latest": "gpt-5.3-chat"}
SERVICES = {
    "openai": "openai",
    "anthropic": "anthropic",
    "google_genai": "google-ai-studio",
    "mistralai": "mistral",
    "cohere": "cohere",
    "huggingface_hub": "huggingface",
}
PROVIDERS = {
    "openai": "openai",
    "anthropic": "anthropic",
    "google_genai": "google",
    "mistralai": "mistral",
    "cohere": "cohere",
}
HF_PROVIDERS = {
    "databricks": "databricks",
    "mistralai": "mistral",
    "mistral-community": "mistral",
    "meta-llama": "meta",
    "CohereForAI": "cohere",
    "google": "google",
    "microsoft": "microsoft",
}
FAMILIES = (
    ("gpt", "gpt"),
    ("o4", "o"),
    ("claude", "claude"),
    ("gemini", "gemini"),
    ("gemma", "gemma"),
    ("codegemma", "gemma"),
    ("voxtral", "voxtral"),
    ("zai-glm", "glm"),
    ("labs-leanstral", "mistral"),
    ("mistral", "mistral"),
    ("mathstral", "mistral"),
    ("mixtral", "mixtral"),
    ("command", "command"),
    ("c4ai-aya", "aya"),
    ("aya", "aya"),
    ("dolly", "dolly"),
    ("llama", "llama"),
    ("codellama", "llama"),
    ("meta-llama-guard", "llama"),
    ("prompt-guard", "llama"),
    ("phi", "phi"),
)


def family(name: str) -> str:
    short = name.rsplit("/", 1)[-1].lower()
    return next((fam for prefix, fam in FAMILIES if short.startswith(prefix)), short.split("-")[0])


def display(name: str) -> str:
    return name.rsplit("/", 1)[-1]


def row_for(model: dict[str, object], aliases: list[str]) -> dict[str, str]:
    provider, name = str(model["provider"]), str(model["name"])
    arch = model["architecture"]
    assert isinstance(arch, dict)
    params, moe = arch["parameters"], arch["type"] == "moe"
    warnings = model.get("warnings") or []
    assert isinstance(warnings, list)
    closed = "model-arch-not-released" in warnings
    sources = list(model["sources"])  # type: ignore[call-overload]
    out = dict.fromkeys(HEADER, "")
    hf = provider == "huggingface_hub"
    out["id"] = IDS.get(name, name.rsplit("/", 1)[-1].lower() if hf else name)
    out["name"] = display(name)
    out["family"] = family(name)
    out["provider"] = HF_PROVIDERS.get(name.split("/")[0], "huggingface") if hf else PROVIDERS[provider]
    ids = [a for a in aliases if a != out["id"]]
    if IDS.get(name):
        ids.insert(0, name)
    out["aliases"] = "|".join(ids)
    others = [f"{out['provider']}/{name}"] if not hf else []
    if hf:
        out["hugging_face_path"] = name
    out["other_names"] = "|".join(others)
    guard = "prompt-guard" in name.lower()
    out["task"] = "text-classification" if guard else "text-generation"
    notes: list[str] = []
    if moe:
        assert isinstance(params, dict)
        total, active = params["total"], params["active"]
        out["total_params_billions"] = f"{total:g}"
        if isinstance(active, dict):
            low, high = active["min"], active["max"]
            out["active_params_billions"] = f"{(low + high) / 2:g}"
            out["params_low_billions"], out["params_high_billions"] = f"{low:g}", f"{high:g}"
            notes.append(f"{REPO} estimate (MoE {total:g}B total, {low:g}-{high:g}B active)")
            notes.append(
                "params: estimate, not disclosed by the vendor; total = the estimate's total, active = "
                "midpoint of its active range, params_low/high = that active range"
            )
        else:
            out["active_params_billions"] = f"{active:g}"
            notes.append(
                f"{REPO}: MoE {total:g}B total, {active:g}B active, as EcoLogits gives it from the sources above"
            )
    elif isinstance(params, dict):
        low, high = params["min"], params["max"]
        mid = f"{(low + high) / 2:g}"
        out["total_params_billions"] = out["active_params_billions"] = mid
        out["params_low_billions"], out["params_high_billions"] = f"{low:g}", f"{high:g}"
        notes.append(f"{REPO} estimate (dense {low:g}-{high:g}B)")
        notes.append(
            "params: estimate, not disclosed by the vendor; dense; total = active = midpoint of the "
            "estimate's range, params_low/high = that range"
        )
    else:
        out["total_params_billions"] = out["active_params_billions"] = f"{params:g}"
        notes.append(f"{REPO}: dense {params:g}B, as EcoLogits gives it from the sources above")
    estimated = closed or out["params_low_billions"] != ""
    out["params_estimated"] = "true" if estimated else "false"
    if estimated and "estimate" not in " ".join(notes):
        notes.append("params: estimate")
    out["default_service"] = SERVICES[provider]
    notes.append(
        "datatype: not published in these sources; blank = the engine's default (bfloat16, 2 bytes per "
        "parameter, server/engine/constants.py)"
    )
    if "model-arch-multimodal" in warnings:
        notes.append("multimodal (EcoLogits warning model-arch-multimodal): estimated as a text model on its tokens")
    if ids:
        notes.append(f"aliases: the names EcoLogits lists with the same figures ({', '.join(ids)}), as of {AS_OF}")
    out["source"] = "|".join([*sources, *notes])
    out["as_of"] = AS_OF
    return out


def main() -> int:
    path = ecologits_models_json()
    if path is None or ecologits_version() != "0.11.3":
        print("needs ecologits 0.11.3 installed (the dev extra)", file=sys.stderr)
        return 2
    data = json.loads(path.read_text(encoding="utf-8"))
    models = {(m["provider"], m["name"]): m for m in data["models"]}
    # the names still unresolved: read from the coverage command's logic, minus this file's own rows
    from server.catalog.store import Catalog
    from server.settings import load_settings

    if OUT.exists():
        OUT.unlink()
    catalog = Catalog(load_settings().CATALOG_DIR)
    alias_of = {(p, a): key for key, names in ALIASES.items() for p in [key[0]] for a in names}
    rows = []
    for key, model in models.items():
        provider, name = key
        if name in SKIP or key in alias_of:
            continue
        if catalog.find_model(f"{provider}:{name}") is not None and catalog.find_model(name) is not None:
            continue
        rows.append(row_for(model, ALIASES.get(key, [])))
    # Hugging Face variants (quantized, framework, original weights) of a repository that gets a row here resolve
    # to it by the name rules (server/catalog/names.py) at their own precision: no row of their own.
    paths = {row["hugging_face_path"].lower() for row in rows if row["hugging_face_path"]}
    rows = [
        row
        for row in rows
        if not (
            row["hugging_face_path"]
            and any(d.spelling.lower() in paths for d in derived_spellings(row["hugging_face_path"]))
        )
    ]
    with OUT.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, HEADER, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"{len(rows)} rows -> {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
