"""Engine accuracy on ML.ENERGY v3 measurements of models the calibration never saw.

    python bench/accuracy.py

Reads only the repository: `server/catalog/data/calibration.csv`, `server/catalog/data/gpus.csv` (h100, b200),
the diffusion models' rows of `server/catalog/data/models/*.csv` (their denoiser architecture, matched on
`hugging_face_path` by `bench/catalog_models.py`, as the fit does) and `bench/data/mlenergy-v3-holdout.csv` (written by
`bench/derive_calibration.py`). For each held-out configuration it runs the engine (`prepare` +
`gpu_energy_j`) on that configuration's model, GPU, GPU count and batch size and compares the engine's
GPU-only energy with ML.ENERGY's GPU-only measurement: energy per request for LLMs (output tokens x J/token;
the calibration absorbs the benchmark prompts' prefill, so input_tokens = 0), energy per image / video for
diffusion (at the measured batch size, steps, resolution and frames).

Factor = max(estimate / measurement, measurement / estimate). Acceptance criterion (tests/test_accuracy.py):
median <= 1.5 and 90th percentile <= 2.5 for all LLM rows and for all diffusion rows.
"""

from __future__ import annotations

import csv
import dataclasses
import math
import sys
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for _path in (REPO, REPO / "bench"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from catalog_models import UnknownModel, specs_for  # noqa: E402

from server.catalog.files import load_calibration, read_rows  # noqa: E402
from server.catalog.rows import GpuRow  # noqa: E402
from server.engine.estimate import gpu_energy_j, prepare  # noqa: E402
from server.engine.specs import (  # noqa: E402
    Calibration,
    GpuSpec,
    ModelSpec,
    NodeSpec,
    SiteSpec,
    TaskKind,
    TrainingSpec,
    Workload,
)

CALIBRATION_CSV = REPO / "server" / "catalog" / "data" / "calibration.csv"
GPUS_CSV = REPO / "server" / "catalog" / "data" / "gpus.csv"
HOLDOUT_CSV = REPO / "bench" / "data" / "mlenergy-v3-holdout.csv"

GPU_IDS = {"H100": "h100", "B200": "b200"}  # ML.ENERGY gpu_model -> server/catalog/data/gpus.csv id
# Bytes per weight of ML.ENERGY's precisions; mxfp4 (gpt-oss) is 4-bit weights.
BYTES_PER_PARAM = {"bfloat16": 2.0, "fp8": 1.0, "mxfp4": 0.5}

# Only GPU energy is compared: site, host and embodied inputs do not enter gpu_energy_j.
SITE = SiteSpec(pue=1.0, wue_l_per_kwh=0.0, gco2e_per_kwh=0.0, grid_water_l_per_kwh=0.0)
TRAINING = TrainingSpec()

LLM = "llm"
DIFFUSION = "diffusion"


class AccuracyError(Exception):
    """An input of the accuracy bench is missing or inconsistent."""


def load_gpus() -> dict[str, GpuSpec]:
    if not GPUS_CSV.is_file():
        raise AccuracyError(
            f"{GPUS_CSV.relative_to(REPO)} is missing: the accuracy bench needs the h100 and b200 "
            "rows of the GPU catalog (TDP, memory) to build the engine's GpuSpecs"
        )
    rows = {row.id: row for row in read_rows(GPUS_CSV, GpuRow)}
    missing = sorted(set(GPU_IDS.values()) - set(rows))
    if missing:
        raise AccuracyError(f"{GPUS_CSV.relative_to(REPO)} lacks GPU ids {missing}, needed by the accuracy bench")
    return {
        gid: GpuSpec(
            id=row.id,
            max_power_w=row.max_power_w,
            idle_power_w=row.idle_power_w,
            memory_gb=row.memory_gb,
            peak_tflops_bf16=row.peak_tflops_bf16,
            performance_ratio_to_h200=row.performance_ratio_to_h200,
            embodied_emissions_kgco2e=row.embodied_emissions_kgco2e,
            embodied_water_ml=row.embodied_water_mlh2o,
            host_power_intercept_w=row.ols_intercept,
            host_power_per_gpu_w=row.ols_coefficient_gpu_count,
        )
        for gid, row in rows.items()
        if gid in GPU_IDS.values()
    }


def load_holdout() -> list[dict[str, str]]:
    if not HOLDOUT_CSV.is_file():
        raise AccuracyError(f"{HOLDOUT_CSV.relative_to(REPO)} is missing: run bench/derive_calibration.py")
    with HOLDOUT_CSV.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def load_diffusion_specs(rows: list[dict[str, str]]) -> dict[str, ModelSpec]:
    """The catalog's spec (denoiser architecture included) of each held-out diffusion model."""
    try:
        return specs_for({row["model_id"] for row in rows if row["family"] == DIFFUSION})
    except UnknownModel as exc:
        raise AccuracyError(str(exc)) from exc


def estimate_row(
    row: dict[str, str],
    calibration: Calibration,
    gpus: dict[str, GpuSpec],
    diffusion_specs: dict[str, ModelSpec] | None = None,
) -> tuple[float, int]:
    """(engine GPU-only J, GPU count the engine used) for one measured configuration."""
    gpu = gpus[GPU_IDS[row["gpu_model"]]]
    num_gpus = int(row["num_gpus"])
    batch = float(row["batch_size"])
    total = float(row["total_params_b"])
    model = ModelSpec(
        total_params_b=total,
        active_params_b=float(row["active_params_b"] or total),
        bytes_per_param=BYTES_PER_PARAM[row["weight_precision"]],
    )
    if row["family"] == DIFFUSION:
        specs = diffusion_specs if diffusion_specs is not None else load_diffusion_specs([row])
        # The catalog's denoiser architecture, at the precision ML.ENERGY served.
        model = dataclasses.replace(specs[row["model_id"]], bytes_per_param=model.bytes_per_param)
    node = NodeSpec(
        gpu=gpu,
        gpu_count=num_gpus,
        server_gpu_count=num_gpus,
        host_power_w_ex_gpu=None,
        average_utilization_rate=1.0,
        embodied_emissions_kgco2e_ex_gpu=0.0,
        embodied_water_l_ex_gpu=0.0,
        use_life_years=5.0,
        streams_per_gpu=batch / num_gpus,  # the measured batch, spread over the configuration's GPUs
    )
    if row["family"] == LLM:
        workload = Workload(kind=TaskKind.TEXT, input_tokens=0.0, output_tokens=float(row["output_tokens"]))
        cal = calibration
    else:
        # Energy per output at the batch ML.ENERGY measured, not at the server's serving assumption.
        cal = dataclasses.replace(calibration, diffusion_batch_size=batch)
        pixels = float(row["width"]) * float(row["height"])
        steps = int(row["steps"])
        if row["task"] == "text-to-video":
            workload = Workload(
                kind=TaskKind.VIDEO, video_frames=float(row["frames"]), video_frame_pixels=pixels, steps=steps
            )
        else:
            workload = Workload(kind=TaskKind.IMAGE, output_image_pixels=(pixels,), steps=steps)
    prepared = prepare(model=model, node=node, site=SITE, training=TRAINING, calibration=cal)
    return gpu_energy_j(prepared, workload), prepared.gpu_count


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolation percentile (numpy's default), without numpy."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summarise(ratios: Sequence[float]) -> dict[str, float]:
    """ratios are estimate / measurement."""
    factors = [max(r, 1.0 / r) for r in ratios]
    return {
        "rows": float(len(ratios)),
        "median": percentile(factors, 50),
        "p90": percentile(factors, 90),
        "worst": max(factors),
        "median_est_over_meas": percentile(ratios, 50),  # sign of the bias: > 1 overestimates
    }


def family_key(row: dict[str, str]) -> str:
    return f"{row['family']}:{row['task']}"


def accuracy_report() -> dict[str, dict[str, float]]:
    """Accuracy per task family (`llm:<task>`, `diffusion:<task>`) and overall (`llm`, `diffusion`).

    Each value: rows, median, p90, worst (factors, >= 1) and median_est_over_meas.
    """
    calibration = load_calibration(CALIBRATION_CSV)
    gpus = load_gpus()
    groups: dict[str, list[float]] = {}
    resized = 0
    holdout = load_holdout()
    diffusion_specs = load_diffusion_specs(holdout)
    for row in holdout:
        estimate_j, gpu_count = estimate_row(row, calibration, gpus, diffusion_specs)
        resized += gpu_count != int(row["num_gpus"])
        ratio = estimate_j / float(row["measured_energy_j"])
        groups.setdefault(family_key(row), []).append(ratio)
        groups.setdefault(row["family"], []).append(ratio)
    if resized:
        # The engine sized more GPUs than measured (weights x 1.2 > memory): a server/catalog/data/engine mismatch.
        print(f"warning: the engine resized the GPU count of {resized} held-out rows", file=sys.stderr)
    order = sorted(groups, key=lambda k: (k.split(":")[0] != LLM, ":" not in k, k))
    return {key: summarise(groups[key]) for key in order}


def _factor(value: float) -> str:
    return f"x{value:.2f}"


def format_report(report: dict[str, dict[str, float]]) -> str:
    header = f"{'family':<28} {'rows':>5} {'median':>8} {'p90':>8} {'worst':>8} {'est/meas':>9}"
    lines = [header, "-" * len(header)]
    for key, s in report.items():
        name = key if ":" in key else f"{key} (all)"
        lines.append(
            f"{name:<28} {int(s['rows']):>5} {_factor(s['median']):>8} {_factor(s['p90']):>8} "
            f"{_factor(s['worst']):>8} {s['median_est_over_meas']:>9.2f}"
        )
    return "\n".join(lines)


def main() -> int:
    try:
        report = accuracy_report()
    except AccuracyError as exc:
        print(f"accuracy: {exc}", file=sys.stderr)
        return 2
    print("Engine GPU-only energy vs ML.ENERGY v3 GPU-only measurements, held-out models only")
    print("factor = max(est/meas, meas/est); est/meas = median signed ratio\n")
    print(format_report(report))
    print("\ncriterion: median <= x1.5 and p90 <= x2.5 for llm (all) and diffusion (all)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
