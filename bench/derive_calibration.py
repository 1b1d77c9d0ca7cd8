"""Fit the engine's calibration constants on ML.ENERGY Benchmark v3 measurements.

    python bench/derive_calibration.py [--reference ../shared/reference]

Reads `mlenergy-v3-llm.csv` and `mlenergy-v3-diffusion.csv` (GPU-only energy measured by the ML.ENERGY
project), holds whole models out, fits the engine's fixed functional forms by least squares on the rest,
and writes

- `server/catalog/data/calibration.csv`: one row per scalar field of `server.engine.specs.Calibration` plus the
  per-GPU factor rows (`llm_gpu_factor.<gpu>`, `diffusion_gpu_factor.<gpu>`);
- `bench/data/mlenergy-v3-holdout.csv`: the held-out rows, the only measurements `bench/accuracy.py`
  (and `tests/test_accuracy.py`) need, so the accuracy bench runs from a clone without `../shared`.

Hold-out: per file, the distinct `model_id`s are sorted and every 4th (index % 4 == 3) is held out, so the
accuracy bench scores models the fit has never seen (not just unseen batch sizes of known models).

Functional forms (server/engine/estimate.py):

- LLM decode, GPU J per output token =
  exp(a + b_act ln P_active + b_read ln GB_read + b_batch ln batch + b_gpu ln n_gpus) x GPU factor (h100 = 1),
  GB_read = the weights one decode step reads, min(total, batch x active) params x bytes per weight.
  ML.ENERGY's per-token energy already includes the prefill of its benchmark prompts.
- Diffusion, GPU J per image / video =
  exp(a + b_flops ln F + b_batch ln batch) x steps x GPU factor, where F is the denoiser's TFLOPs per
  denoising step: passes x (2 x params x T + 4 x layers x hidden x T^2) over T latent tokens
  (T = width/f x height/f x latent frames; no T^2 term for linear attention), from the architecture columns
  of the model's catalog row (`server/catalog/data/models/media.csv`, matched on `hugging_face_path`; see
  `bench/catalog_models.py`), through the engine's own `diffusion_flops_per_step`, so the fit and the
  engine use the same figures.

Physical sign constraints (a fitted coefficient outside its range is pinned at the bound and the rest
refitted; the script prints which): parameter, weights-read, GPU-count and FLOPs exponents >= 0; batch
exponents <= 0 (batching amortises weight reads). Diffusion energy is linear in steps (one denoiser evaluation
per step; every model was measured at a single step count, so a steps exponent is not identifiable).

The FLOPs exponent is fitted (lower bound 0), not fixed at 1: the choice is made on leave-one-model-out
cross-validation over the training models only (printed on every run, and recorded in calibration.csv), where
the free exponent does better than the exponent fixed at 1 (energy grows less than proportionally to the
denoiser's FLOPs, plausibly because text encoding, VAE decoding and GPU efficiency do not scale with them). The
held-out models play no part in that choice.
"""

from __future__ import annotations

import argparse
import csv
import math
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
for _path in (REPO, REPO / "bench"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from catalog_models import specs_for  # noqa: E402

from server.engine.constants import TFLOP  # noqa: E402
from server.engine.estimate import diffusion_flops_per_step  # noqa: E402
from server.engine.specs import Calibration, ModelSpec  # noqa: E402

DEFAULT_REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"
CALIBRATION_CSV = REPO / "server" / "catalog" / "data" / "calibration.csv"
HOLDOUT_CSV = REPO / "bench" / "data" / "mlenergy-v3-holdout.csv"

LLM_FILE = "mlenergy-v3-llm.csv"
DIFFUSION_FILE = "mlenergy-v3-diffusion.csv"

MEASUREMENTS = "ML.ENERGY Benchmark v3 (Chung et al., NeurIPS 2025 Datasets & Benchmarks), leaderboard data Feb 2026"
SOURCE = MEASUREMENTS + "; fit by bench/derive_calibration.py on models not held out"
# Rows that are statistics of the measurements, not fitted to predict them (the accuracy bench does not
# depend on them), use every configuration.
SOURCE_ALL_ROWS = MEASUREMENTS + "; derived by bench/derive_calibration.py from all configurations"
ALL_ROWS = {
    "gpu_serving_power_fraction",
    "gpu_serving_power_fraction_low",
    "gpu_serving_power_fraction_high",
    "diffusion_batch_size",
}
AS_OF = "2026-02"

# Thermal design power (W) used for the serving power fraction: NVIDIA H100 SXM datasheet (700 W),
# NVIDIA HGX B200 datasheet (1000 W per GPU).
TDP_W = {"H100": 700.0, "B200": 1000.0}
GPU_IDS = {"H100": "h100", "B200": "b200"}  # ML.ENERGY gpu_model -> server/catalog/data/gpus.csv id
BASELINE_GPU = "H100"

HOLDOUT_COLUMNS = [
    "family",
    "task",
    "model_id",
    "total_params_b",
    "active_params_b",
    "weight_precision",
    "gpu_model",
    "num_gpus",
    "batch_size",
    "output_tokens",
    "steps",
    "width",
    "height",
    "frames",
    "measured_energy_j",
]

Row = dict[str, str]


# --------------------------------------------------------------------------------------------- data


def read_csv(path: Path) -> list[Row]:
    if not path.is_file():
        sys.exit(f"derive_calibration: measurement file not found: {path} (pass --reference DIR)")
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def held_out_models(rows: Sequence[Row]) -> set[str]:
    """Every 4th model id (index % 4 == 3) in sorted order: whole models unseen by the fit."""
    ids = sorted({row["model_id"] for row in rows})
    return {model_id for i, model_id in enumerate(ids) if i % 4 == 3}


def split(rows: Sequence[Row]) -> tuple[list[Row], list[Row], set[str]]:
    held = held_out_models(rows)
    train = [row for row in rows if row["model_id"] not in held]
    holdout = [row for row in rows if row["model_id"] in held]
    return train, holdout, held


# ---------------------------------------------------------------------------------------- fitting


@dataclass(frozen=True)
class Feature:
    name: str
    column: Callable[[Row], float]
    lower: float = -math.inf
    upper: float = math.inf
    fixed: float | None = None  # a coefficient set by physics, not fitted


@dataclass
class Fit:
    coef: dict[str, float]
    pinned: list[tuple[str, float, float]]  # (coefficient, unconstrained value, bound it is pinned at)
    residual_sd: float
    rows: int
    residual_p10: float = 0.0  # ln(measured / fitted) at the 10th and 90th percentiles of the training rows
    residual_p90: float = 0.0


def constrained_ols(rows: Sequence[Row], features: Sequence[Feature], target: Callable[[Row], float]) -> Fit:
    """Least squares on log energy; a coefficient outside its physical range is pinned at the bound.

    Active-set loop: fit the free coefficients, pin the worst violation at its bound, refit, until none.
    """
    x = np.array([[f.column(r) for f in features] for r in rows], dtype=float)
    y = np.array([target(r) for r in rows], dtype=float)
    fixed = {i: f.fixed for i, f in enumerate(features) if f.fixed is not None}
    pinned: list[tuple[str, float, float]] = []
    while True:
        free = [i for i in range(len(features)) if i not in fixed]
        offset = sum((x[:, i] * v for i, v in fixed.items()), np.zeros(len(y)))
        solution, *_ = np.linalg.lstsq(x[:, free], y - offset, rcond=None)
        coef = np.zeros(len(features))
        coef[free] = solution
        for i, v in fixed.items():
            coef[i] = v
        worst, worst_gap = None, 0.0
        for i in free:
            f = features[i]
            gap = max(f.lower - coef[i], coef[i] - f.upper, 0.0)
            if gap > worst_gap:
                worst, worst_gap = i, gap
        if worst is None:
            break
        f = features[worst]
        bound = f.lower if coef[worst] < f.lower else f.upper
        pinned.append((f.name, float(coef[worst]), bound))
        fixed[worst] = bound
    residuals = y - x @ coef
    return Fit(
        coef={f.name: float(c) for f, c in zip(features, coef, strict=True)},
        pinned=pinned,
        residual_sd=float(np.std(residuals)),
        rows=len(rows),
        residual_p10=float(np.percentile(residuals, 10)),
        residual_p90=float(np.percentile(residuals, 90)),
    )


def leave_one_model_out(
    rows: Sequence[Row], features: Sequence[Feature], target: Callable[[Row], float]
) -> tuple[float, float]:
    """(median, 90th percentile) factor max(est/meas, meas/est) of leave-one-model-out CV on `rows`."""
    log_errors: list[float] = []
    for model_id in sorted({r["model_id"] for r in rows}):
        fit = constrained_ols([r for r in rows if r["model_id"] != model_id], features, target)
        for r in rows:
            if r["model_id"] == model_id:
                predicted = sum(fit.coef[f.name] * f.column(r) for f in features)
                log_errors.append(abs(predicted - target(r)))
    factors = np.exp(np.array(log_errors))
    return float(np.median(factors)), float(np.percentile(factors, 90))


def ln(column: str) -> Callable[[Row], float]:
    return lambda r: math.log(float(r[column]))


def indicator(column: str, value: str) -> Callable[[Row], float]:
    return lambda r: 1.0 if r[column] == value else 0.0


# Bytes per weight of the measured precisions (mxfp4: 4-bit weights with shared scales).
WEIGHT_BYTES = {"bfloat16": 2.0, "fp8": 1.0, "mxfp4": 0.5}


def ln_weights_read_gb(r: Row) -> float:
    """Weights one decode step reads: every expert the batch touches, at most all of them (bandwidth-bound)."""
    touched_b = min(float(r["total_params_b"]), float(r["avg_batch_size"]) * float(r["active_params_b"]))
    return math.log(touched_b * WEIGHT_BYTES[r["weight_precision"]])


LLM_FEATURES = [
    Feature("llm_log_intercept", lambda r: 1.0),
    Feature("llm_exp_active_params", ln("active_params_b"), lower=0.0),
    Feature("llm_exp_weights_read", ln_weights_read_gb, lower=0.0),
    Feature("llm_exp_batch", ln("avg_batch_size"), upper=0.0),
    Feature("llm_exp_gpu_count", ln("num_gpus"), lower=0.0),
    Feature("ln_llm_gpu_factor.b200", indicator("gpu_model", "B200")),
]


def tflops_feature(specs: dict[str, ModelSpec]) -> Callable[[Row], float]:
    """ln(denoiser TFLOPs per step) of a configuration, from its model's catalog architecture."""

    def column(r: Row) -> float:
        pixels = float(r["width"]) * float(r["height"])
        flops = diffusion_flops_per_step(specs[r["model_id"]], pixels, float(r["frames"]))
        return math.log(flops / TFLOP)

    return column


def diffusion_features(specs: dict[str, ModelSpec], exp_flops: float | None = None) -> list[Feature]:
    """The engine's diffusion form; `exp_flops` fixes the FLOPs exponent (None: fitted, >= 0)."""
    return [
        Feature("diffusion_log_intercept", lambda r: 1.0),
        Feature("diffusion_exp_flops", tflops_feature(specs), lower=0.0, fixed=exp_flops),
        Feature("diffusion_exp_batch", ln("batch_size"), upper=0.0),
        Feature("ln_diffusion_gpu_factor.b200", indicator("gpu_model", "B200")),
        Feature("diffusion_steps", ln("inference_steps"), fixed=1.0),  # linear in steps; not a calibration row
    ]


def llm_target(r: Row) -> float:
    return math.log(float(r["energy_per_output_token_j"]))


def diffusion_target(r: Row) -> float:
    return math.log(float(r["energy_per_output_j"]))


@dataclass
class DiffusionFit:
    fit: Fit  # the one written: FLOPs exponent fitted
    cv_free: tuple[float, float]  # leave-one-model-out (median, p90) on the training models, exponent fitted
    cv_fixed: tuple[float, float]  # the same with the FLOPs exponent fixed at 1


def fit_diffusion(train: Sequence[Row], specs: dict[str, ModelSpec]) -> DiffusionFit:
    """Fit the diffusion form; cross-validate the free FLOPs exponent against the exponent fixed at 1.

    Only training models enter both the fit and the cross-validation that justifies the free exponent.
    """
    free, fixed = diffusion_features(specs), diffusion_features(specs, exp_flops=1.0)
    return DiffusionFit(
        fit=constrained_ols(train, free, diffusion_target),
        cv_free=leave_one_model_out(train, free, diffusion_target),
        cv_fixed=leave_one_model_out(train, fixed, diffusion_target),
    )


def check_params_match(rows: Sequence[Row], specs: dict[str, ModelSpec]) -> None:
    """ML.ENERGY's denoiser parameter counts are the catalog's totals (the FLOPs use the catalog's weights per latent
    token, its `active_params_billions`, fewer than the total where a token passes through one stream of a
    dual-stream block)."""
    for r in rows:
        spec = specs[r["model_id"]]
        if not math.isclose(spec.total_params_b, float(r["total_params_b"]), rel_tol=0.02):
            sys.exit(
                f"derive_calibration: {r['model_id']} has {r['total_params_b']} B params in ML.ENERGY's data but "
                f"{spec.total_params_b} B in the catalog"
            )


def power_fractions(llm_rows: Sequence[Row]) -> list[float]:
    """Measured avg_power_w / (num_gpus x TDP) of each LLM configuration."""
    return [float(r["avg_power_w"]) / (int(r["num_gpus"]) * TDP_W[r["gpu_model"]]) for r in llm_rows]


def serving_power_fraction(llm_rows: Sequence[Row]) -> float:
    """Median measured avg_power_w / (num_gpus x TDP) over the LLM configurations."""
    return statistics.median(power_fractions(llm_rows))


def serving_power_fraction_range(llm_rows: Sequence[Row]) -> tuple[float, float]:
    """10th and 90th percentiles (linear interpolation) of the same measured fractions."""
    fractions = power_fractions(llm_rows)
    return float(np.percentile(fractions, 10)), float(np.percentile(fractions, 90))


def median_batch(rows: Sequence[Row]) -> float:
    return float(statistics.median_low(sorted(int(r["batch_size"]) for r in rows)))


# ----------------------------------------------------------------------------------------- writing


def calibration_rows(
    llm: Fit,
    diffusion: DiffusionFit,
    power_fraction: float,
    power_range: tuple[float, float],
    diffusion_batch: float,
    llm_held: set[str],
    diffusion_held: set[str],
) -> list[dict[str, str]]:
    llm_note = f"; held out: {len(llm_held)} models ({', '.join(sorted(llm_held))})"
    diffusion_note = f"; held out: {len(diffusion_held)} models ({', '.join(sorted(diffusion_held))})"
    c = llm.coef
    d = diffusion.fit.coef
    (free_med, free_p90), (one_med, one_p90) = diffusion.cv_free, diffusion.cv_fixed
    values: dict[str, tuple[float, str, str]] = {
        "llm_log_intercept": (
            c["llm_log_intercept"],
            "ln(J per output token)",
            "GPU J per output token at 1 B active params, 1 GB of weights read per step, batch 1, 1 GPU, H100"
            + llm_note,
        ),
        "llm_exp_active_params": (c["llm_exp_active_params"], "exponent", ""),
        "llm_exp_weights_read": (
            c["llm_exp_weights_read"],
            "exponent",
            "GB of weights one decode step reads: min(total, batch x active) params x bytes per weight",
        ),
        "llm_exp_batch": (c["llm_exp_batch"], "exponent", "batch = measured avg_batch_size"),
        "llm_exp_gpu_count": (c["llm_exp_gpu_count"], "exponent", ""),
        "diffusion_log_intercept": (
            d["diffusion_log_intercept"],
            "ln(J per denoising step)",
            "GPU J per denoising step of one output at 1 TFLOP per step (denoiser FLOPs from the catalog's "
            "architecture columns), batch 1, H100; energy is linear in steps" + diffusion_note,
        ),
        "diffusion_exp_flops": (
            d["diffusion_exp_flops"],
            "exponent",
            "on the denoiser's TFLOPs per step, fitted (lower bound 0): leave-one-model-out on the training models "
            f"gives median x{free_med:.2f}, p90 x{free_p90:.2f} fitted vs x{one_med:.2f}, x{one_p90:.2f} fixed at 1",
        ),
        "diffusion_batch_size": (
            diffusion_batch,
            "images or videos per batch",
            "serving assumption: median batch size of the ML.ENERGY v3 diffusion configurations (1-32 measured)",
        ),
        "diffusion_exp_batch": (d["diffusion_exp_batch"], "exponent", "per-output energy vs batch size"),
        "gpu_serving_power_fraction": (
            power_fraction,
            "fraction of TDP",
            "median of measured avg_power_w / (num_gpus x TDP) over all LLM configurations; "
            "TDP 700 W H100 SXM (NVIDIA H100 datasheet), 1000 W B200 (NVIDIA HGX B200 datasheet)",
        ),
        "gpu_serving_power_fraction_low": (
            power_range[0],
            "fraction of TDP",
            "10th percentile of the same measured fractions: the low end of a published throughput's energy",
        ),
        "gpu_serving_power_fraction_high": (
            power_range[1],
            "fraction of TDP",
            "90th percentile of the same measured fractions: the high end of a published throughput's energy",
        ),
        "llm_fit_scatter_low": (
            math.exp(llm.residual_p10),
            "measured / fitted",
            "10th percentile over the LLM fit's training rows: the low end of the fit's own scatter in a range",
        ),
        "llm_fit_scatter_high": (math.exp(llm.residual_p90), "measured / fitted", "90th percentile, the high end"),
        "diffusion_fit_scatter_low": (
            math.exp(diffusion.fit.residual_p10),
            "measured / fitted",
            "10th percentile over the diffusion fit's training rows: the low end of its scatter in a range",
        ),
        "diffusion_fit_scatter_high": (
            math.exp(diffusion.fit.residual_p90),
            "measured / fitted",
            "90th percentile, the high end",
        ),
    }
    from_fit = {
        "llm_gpu_factor.h100": (1.0, "ratio to h100", "baseline by definition"),
        "llm_gpu_factor.b200": (math.exp(c["ln_llm_gpu_factor.b200"]), "ratio to h100", "at equal batch"),
        "diffusion_gpu_factor.h100": (1.0, "ratio to h100", "baseline by definition"),
        "diffusion_gpu_factor.b200": (math.exp(d["ln_diffusion_gpu_factor.b200"]), "ratio to h100", ""),
    }
    pinned = {name: (value, bound) for name, value, bound in llm.pinned + diffusion.fit.pinned}

    out = []
    for name, (value, unit, note) in (values | from_fit).items():
        notes = [note] if note else []
        if name in pinned:
            value_free, bound = pinned[name]
            notes.append(f"physical bound: unconstrained fit {value_free:.3f}, pinned at {bound:g}")
        if "ln_" + name in pinned:
            value_free, bound = pinned["ln_" + name]
            notes.append(f"physical bound: unconstrained fit {math.exp(value_free):.3f}, pinned at {math.exp(bound):g}")
        base = SOURCE_ALL_ROWS if name in ALL_ROWS else SOURCE
        source = base + ("; " + "; ".join(notes) if notes else "")
        out.append({"name": name, "value": f"{value:.6g}", "unit": unit, "source": source, "as_of": AS_OF})
    return out


def check_covers_calibration(rows: Sequence[dict[str, str]]) -> None:
    """Every scalar field of the engine's Calibration has a row, and no row is left over."""
    names = {r["name"] for r in rows}
    scalars = {f.name for f in fields(Calibration) if f.name not in ("llm_gpu_factors", "diffusion_gpu_factors")}
    missing = scalars - names
    extra = {n for n in names - scalars if "." not in n}
    if missing or extra:
        sys.exit(f"derive_calibration: calibration rows do not match Calibration: missing {missing}, extra {extra}")


def write_csv(path: Path, header: Sequence[str], rows: Sequence[dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(header), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def holdout_rows(llm: Sequence[Row], diffusion: Sequence[Row]) -> list[dict[str, str]]:
    out = []
    for r in llm:
        out.append(
            {
                "family": "llm",
                "task": r["task"],
                "model_id": r["model_id"],
                "total_params_b": r["total_params_b"],
                "active_params_b": r["active_params_b"],
                "weight_precision": r["weight_precision"],
                "gpu_model": r["gpu_model"],
                "num_gpus": r["num_gpus"],
                "batch_size": r["avg_batch_size"],
                "output_tokens": r["avg_output_tokens"],
                "steps": "",
                "width": "",
                "height": "",
                "frames": "",
                "measured_energy_j": r["energy_per_request_j"],
            }
        )
    for r in diffusion:
        out.append(
            {
                "family": "diffusion",
                "task": r["task"],
                "model_id": r["model_id"],
                "total_params_b": r["total_params_b"],
                "active_params_b": r["active_params_b"],
                "weight_precision": r["weight_precision"],
                "gpu_model": r["gpu_model"],
                "num_gpus": r["num_gpus"],
                "batch_size": r["batch_size"],
                "output_tokens": "",
                "steps": r["inference_steps"],
                "width": r["width"],
                "height": r["height"],
                "frames": r["frames"],
                "measured_energy_j": r["energy_per_output_j"],
            }
        )
    return out


# -------------------------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--reference",
        type=Path,
        default=DEFAULT_REFERENCE,
        help=f"folder with {LLM_FILE} and {DIFFUSION_FILE} (default: {DEFAULT_REFERENCE})",
    )
    parser.add_argument(
        "--cv",
        action="store_true",
        help="also print the LLM leave-one-model-out CV on the training models (diffusion: always)",
    )
    args = parser.parse_args(argv)

    llm_rows = read_csv(args.reference / LLM_FILE)
    diffusion_rows = read_csv(args.reference / DIFFUSION_FILE)
    llm_train, llm_holdout, llm_held = split(llm_rows)
    diffusion_train, diffusion_holdout, diffusion_held = split(diffusion_rows)

    specs = specs_for({r["model_id"] for r in diffusion_rows})
    check_params_match(diffusion_rows, specs)

    llm = constrained_ols(llm_train, LLM_FEATURES, llm_target)
    diffusion = fit_diffusion(diffusion_train, specs)
    power_fraction = serving_power_fraction(llm_rows)
    power_range = serving_power_fraction_range(llm_rows)
    diffusion_batch = median_batch(diffusion_rows)

    rows = calibration_rows(llm, diffusion, power_fraction, power_range, diffusion_batch, llm_held, diffusion_held)
    check_covers_calibration(rows)
    write_csv(CALIBRATION_CSV, ["name", "value", "unit", "source", "as_of"], rows)
    write_csv(HOLDOUT_CSV, HOLDOUT_COLUMNS, holdout_rows(llm_holdout, diffusion_holdout))

    print(
        f"LLM: {llm.rows} training rows of {len(llm_rows)}, {len(llm_holdout)} held out "
        f"({len(llm_held)} models: {', '.join(sorted(llm_held))})"
    )
    print(f"     residual sd {llm.residual_sd:.3f} (ln J/token)")
    print(
        f"diffusion: {diffusion.fit.rows} training rows of {len(diffusion_rows)}, "
        f"{len(diffusion_holdout)} held out "
        f"({len(diffusion_held)} models: {', '.join(sorted(diffusion_held))})"
    )
    print(f"     residual sd {diffusion.fit.residual_sd:.3f} (ln J/output)")
    print(
        "diffusion leave-one-model-out CV on training models: FLOPs exponent fitted median "
        f"x{diffusion.cv_free[0]:.2f}, p90 x{diffusion.cv_free[1]:.2f}; fixed at 1 median "
        f"x{diffusion.cv_fixed[0]:.2f}, p90 x{diffusion.cv_fixed[1]:.2f}"
    )
    for name, value_free, bound in llm.pinned + diffusion.fit.pinned:
        print(f"constrained: {name} unconstrained {value_free:+.3f}, pinned at {bound:g}")
    if args.cv:
        med, p90 = leave_one_model_out(llm_train, LLM_FEATURES, llm_target)
        print(f"LLM leave-one-model-out CV on training models: median x{med:.2f}, p90 x{p90:.2f}")
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        print(f"  {r['name']:<{width}}  {r['value']:>10}  {r['unit']}")
    print(f"wrote {CALIBRATION_CSV.relative_to(REPO)} and {HOLDOUT_CSV.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
