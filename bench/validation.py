"""The engine against published production-scale figures that no fit has seen.

    python bench/validation.py            # a table: each reference's factor, then a summary

Reads `bench/data/production_references.csv`: one published figure per row, with its source, its boundary and the
conversion that makes it comparable (`conversion_factor` multiplies the published value; `conversion` says why and
which assumptions fill what the source leaves out, such as token counts). Each row's `row` is an impact row as
`/v1/impact` takes it; the bench runs it through the same pipeline as every entry point and reads the quantity the
reference's boundary names:

- `energy_wh`: inference energy at the facility (training excluded), as `/v1/impact` answers it;
- `active_energy_wh`: that energy without the idle reserve: node power at load x PUE, the boundary of studies that
  divide a node's power by its measured throughput;
- `it_energy_wh`: that energy without the site's PUE;
- `gpu_energy_wh`: the accelerators' energy alone;
- `onsite_water_ml`: IT energy x the site's WUE (cooling water, not the water of the electricity);
- `gco2e`, `water_ml`: inference usage + embodied, as `/v1/impact` answers them.

A row may name the operating point the source measured (`operating_point`, a JSON object of the node's serving
figures: `streams_per_gpu`, `cached_input_share`, `average_utilization_rate`, and the weights' `bytes_per_param` as
the benchmark served them): a benchmark's batch and precision are facts of the measurement, not catalog
assumptions, so the engine runs at them, and its low and high keep every other range (the model's parameters) but
not those. Such a row compares a hardware boundary (`gpu_energy_wh`, `it_energy_wh`).

Factor = max(estimate / published, published / estimate); `direction` says which way. The issue's targets are
printed beside the figures: median <= 1.5, >= 80 % within x2, none beyond x4.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from server.catalog.files import DEFAULT_CATALOG_DIR  # noqa: E402
from server.catalog.store import Catalog, CatalogModel, load_catalog  # noqa: E402
from server.engine import (  # noqa: E402
    ModelSpec,
    Prepared,
    SiteSpec,
    TaskKind,
    Workload,
    estimate,
    fit_scatter,
    prepare,
    usage_parts,
    widen,
)
from server.engine import constants as c  # noqa: E402
from server.pipeline.resolve import (  # noqa: E402
    Hosting,
    model_bounds,
    resolve_hosting,
    resolve_model,
    resolve_site,
    served_model,
)
from server.pipeline.run import Pipeline, RowResult, workload  # noqa: E402
from server.schemas.impact import ImpactRow  # noqa: E402

REFERENCES_CSV = REPO / "bench" / "data" / "production_references.csv"
# Google's split of serving energy (Elsworth et al., arXiv 2508.15734, Aug 2025): shares of the full-stack energy.
GOOGLE_SPLIT = {"accelerators": 0.58, "host": 0.25, "idle reserve": 0.10, "overhead": 0.08}
SPLIT_ROW = {
    "model_id": "gemini-2.5-flash",
    "managed_service_id": "google-ai-studio",
    "input_tokens": 500,
    "output_tokens": 300,
}
TARGET_MEDIAN = 1.5
TARGET_WITHIN_2 = 0.80
TARGET_MAX = 4.0
TARGET_CONTAINED = 0.80  # low-high holds the published figure for >= 80 % of the rows
TARGET_SPREAD = 4.0  # median high / low <= x4


class ValidationError(Exception):
    """A reference row that cannot be compared: bad metric, bad impact row, or an estimate that failed."""


@dataclass(frozen=True, slots=True)
class Reference:
    id: str
    kind: str
    metric: str
    published: float
    published_low: float | None
    published_high: float | None
    conversion_factor: float
    boundary: str
    row: dict[str, object]
    conversion: str
    source: str
    operating_point: dict[str, float] = dataclasses.field(default_factory=dict)

    @property
    def comparable(self) -> float:
        return self.published * self.conversion_factor


@dataclass(frozen=True, slots=True)
class Comparison:
    reference: Reference
    estimate: float
    low: float | None = None  # the estimate's range (`?ranges=true`), when measured
    high: float | None = None

    @property
    def contains(self) -> bool:
        """Whether the estimate's low-high holds the published figure (as compared), or meets the published range
        where the reference has one (an interquartile range, or the range of an assumption in its derivation)."""
        if self.low is None or self.high is None:
            return False
        ref = self.reference
        if ref.published_low is not None and ref.published_high is not None:
            factor = ref.conversion_factor
            return self.low <= ref.published_high * factor and ref.published_low * factor <= self.high
        return self.low <= ref.comparable <= self.high

    @property
    def spread(self) -> float:
        """high / low of the estimate's range."""
        if self.low is None or self.high is None or self.low <= 0:
            return math.inf
        return self.high / self.low

    @property
    def ratio(self) -> float:
        return self.estimate / self.reference.comparable

    @property
    def factor(self) -> float:
        return max(self.ratio, 1.0 / self.ratio)


def _optional(value: str) -> float | None:
    return float(value) if value.strip() else None


# What a measured operating point may set, and the boundaries it may be compared at (a benchmark's: its hardware).
OPERATING_FIELDS = ("streams_per_gpu", "cached_input_share", "average_utilization_rate", "bytes_per_param")
MODEL_OPERATING_FIELDS = ("bytes_per_param",)  # of the model as the benchmark served it, not of the node
OPERATING_METRICS = ("gpu_energy_wh", "it_energy_wh")


def _operating_point(reference_id: str, metric: str, value: str) -> dict[str, float]:
    if not value.strip():
        return {}
    point = json.loads(value)
    unknown = sorted(set(point) - set(OPERATING_FIELDS)) if isinstance(point, dict) else [repr(point)]
    if unknown:
        raise ValidationError(f"{reference_id}: operating_point may set only {', '.join(OPERATING_FIELDS)}: {unknown}")
    if metric not in OPERATING_METRICS:
        raise ValidationError(f"{reference_id}: a measured operating point compares {' or '.join(OPERATING_METRICS)}")
    return {name: float(figure) for name, figure in point.items()}


def load_references(path: Path = REFERENCES_CSV) -> list[Reference]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    references = []
    for raw in rows:
        for field in ("id", "metric", "published", "boundary", "row", "conversion", "source"):
            if not raw.get(field, "").strip():
                raise ValidationError(f"{path.name}: reference {raw.get('id')!r} has no {field}")
        references.append(
            Reference(
                id=raw["id"],
                kind=raw["kind"],
                metric=raw["metric"],
                published=float(raw["published"]),
                published_low=_optional(raw["published_low"]),
                published_high=_optional(raw["published_high"]),
                conversion_factor=float(raw["conversion_factor"] or 1.0),
                boundary=raw["boundary"],
                row=json.loads(raw["row"]),
                conversion=raw["conversion"],
                source=raw["source"],
                operating_point=_operating_point(raw["id"], raw["metric"], raw.get("operating_point") or ""),
            )
        )
    return references


def _resolve(catalog: Catalog, row: ImpactRow) -> tuple[CatalogModel, ModelSpec, Hosting, SiteSpec]:
    """The row's model (as served), hardware and site, resolved by the pipeline's own steps (pipeline/resolve.py)."""
    model = resolve_model(catalog, row)
    hosting = resolve_hosting(catalog, row, model)
    return model, served_model(model, hosting.service), hosting, resolve_site(catalog, row, hosting).spec


ENDS = ("central", "low", "high")


def measure(catalog: Catalog, pipeline: Pipeline, reference: Reference, end: str = "central") -> float:
    """The engine's figure for the quantity the reference's boundary names: its estimate, or (`end` low / high) the
    estimate with every ranged figure at the end that lowers / raises it, as `?ranges=true` answers them."""
    row = ImpactRow.model_validate(reference.row)
    result: RowResult = pipeline.run_row(row)
    if result.error is not None or result.resolved is None:
        message = result.error.message if result.error else "not resolved"
        raise ValidationError(f"{reference.id}: the estimate failed: {message}")
    resolved = result.resolved
    if reference.operating_point:
        prepared = prepared_at(catalog, row, reference.operating_point, end)
    else:
        prepared = {"central": resolved.prepared, "low": resolved.prepared_low, "high": resolved.prepared_high}[end]
    assert prepared is not None
    inference, _, gpu_j = estimate(prepared, workload(row, resolved))
    metric = reference.metric
    if metric == "energy_wh":
        return inference.usage_energy_wh
    if metric == "gpu_energy_wh":
        return gpu_j / c.J_PER_WH
    if metric == "active_energy_wh":  # node power at load x PUE: the idle reserve left out
        parts = usage_parts(prepared, gpu_j)
        return (parts.accelerators_wh + parts.host_wh) * prepared.pue
    if metric == "it_energy_wh":  # the facility energy without the site's overhead (PUE - 1)
        parts = usage_parts(prepared, gpu_j)
        return parts.accelerators_wh + parts.host_wh + parts.idle_reserve_wh
    if metric == "onsite_water_ml":  # the IT energy x the site's WUE, without the water of the electricity
        return usage_parts(prepared, gpu_j).onsite_water_ml
    if metric == "gco2e":
        return inference.usage_emissions_gco2e + inference.embodied_emissions_gco2e
    if metric == "water_ml":
        return inference.usage_water_ml + inference.embodied_water_ml
    raise ValidationError(f"{reference.id}: unknown metric {metric!r}")


def prepared_at(catalog: Catalog, row: ImpactRow, point: dict[str, float], end: str) -> Prepared:
    """The row prepared on its resolved node at a measured operating point: at `end` low / high, the model at the
    end of its parameter range that lowers / raises the estimate, and at low a mixture of experts prefilling as
    on a saturated node; the operating point itself has no range."""
    model, served, hosting, site = _resolve(catalog, row)
    node_point = {name: value for name, value in point.items() if name not in MODEL_OPERATING_FIELDS}
    model_point = {name: value for name, value in point.items() if name in MODEL_OPERATING_FIELDS}
    node = dataclasses.replace(hosting.node, **node_point)
    if end == "low":  # how loaded a benchmark's prefill ran is not published: its range, as node_bounds gives it
        node = dataclasses.replace(node, prefill_mfu_moe=c.PREFILL_MFU_MOE_SATURATED)
    served = dataclasses.replace(served, **model_point)
    spec = served if end == "central" else model_bounds(model, served)[0 if end == "low" else 1]
    return prepare(model=spec, node=node, site=site, training=model.training, calibration=catalog.calibration)


def energy_split(pipeline: Pipeline, row_fields: dict[str, object]) -> dict[str, float]:
    """Shares of the full-stack energy of a row, in Google's four parts, as the engine counts them
    (`server.engine.usage_parts`: per joule of accelerator energy the host's power for the same time, the idle
    power of the capacity held in reserve, 1/u - 1 of that time, and on the IT total the site's PUE - 1)."""
    result = pipeline.run_row(ImpactRow.model_validate(row_fields))
    assert result.resolved is not None, result.error
    parts = usage_parts(result.resolved.prepared, result.gpu_energy_j)
    shares = {
        "accelerators": parts.accelerators_wh,
        "host": parts.host_wh,
        "idle reserve": parts.idle_reserve_wh,
        "overhead": parts.overhead_wh,
    }
    total = sum(shares.values())
    return {name: value / total for name, value in shares.items()}


# The operating points tried on one row by `operating_points`: (label, bytes per weight, streams per GPU,
# utilisation); None keeps the catalog's value.
OPERATING_POINTS: tuple[tuple[str, float | None, float | None, float | None], ...] = (
    ("catalog", None, None, None),
    ("16-bit weights", 2.0, None, None),
    ("8 streams per GPU", None, 8.0, None),
    ("64 streams per GPU", None, 64.0, None),
    ("64 streams per GPU, 85 % utilisation", None, 64.0, 0.85),
)
OPERATING_ROW = {
    "model_id": "llama_31_405b_fp8",
    "node_id": "aws-p5-48xlarge",
    "input_tokens": 500,
    "output_tokens": 300,
}


def operating_points(catalog: Catalog, row_fields: dict[str, object]) -> list[tuple[str, int, float]]:
    """(label, GPUs, inference Wh) of a text row with the serving precision, batch and utilisation changed."""
    row = ImpactRow.model_validate(row_fields)
    model, served, hosting, site = _resolve(catalog, row)
    work = Workload(
        kind=TaskKind.TEXT, input_tokens=float(row.input_tokens or 0), output_tokens=float(row.output_tokens or 0)
    )
    points = []
    for label, bytes_per_param, streams, utilization in OPERATING_POINTS:
        spec = served if bytes_per_param is None else dataclasses.replace(served, bytes_per_param=bytes_per_param)
        node = dataclasses.replace(
            hosting.node,
            streams_per_gpu=streams or hosting.node.streams_per_gpu,
            average_utilization_rate=utilization or hosting.node.average_utilization_rate,
        )
        prepared = prepare(model=spec, node=node, site=site, training=model.training, calibration=catalog.calibration)
        inference = estimate(prepared, work)[0]
        points.append((label, prepared.gpu_count, inference.usage_energy_wh))
    return points


def measure_range(catalog: Catalog, pipeline: Pipeline, reference: Reference) -> tuple[float, float, float]:
    """(estimate, low, high) as `?ranges=true` answers them: the catalog's ranges' ends (`measure`), widened by
    the scatter of the fit the estimate comes from (server.engine.widen); a measured operating point keeps that."""
    central, low, high = (measure(catalog, pipeline, reference, end) for end in ENDS)
    row = ImpactRow.model_validate(reference.row)
    result = pipeline.run_row(row)
    assert result.resolved is not None  # measure() raised otherwise
    scatter = fit_scatter(result.resolved.prepared, workload(row, result.resolved).kind, catalog.calibration)
    return (central, *widen(central, low, high, scatter))


def compare_all(references: list[Reference], catalog: Catalog | None = None) -> list[Comparison]:
    catalog = catalog or load_catalog(DEFAULT_CATALOG_DIR)
    pipeline = Pipeline(catalog)
    return [Comparison(reference, *measure_range(catalog, pipeline, reference)) for reference in references]


@dataclass(frozen=True, slots=True)
class Summary:
    count: int
    median_factor: float
    within_2: float
    max_factor: float
    geometric_mean_ratio: float  # > 1: the engine runs high on average
    contained: float = 0.0  # share of rows whose low-high holds the published figure
    # Median high / low of the rows the engine ranges itself: a measured operating point fixes the batch a range
    # would vary, so those rows' low-high holds only the model's parameter range (often none) and is not counted.
    median_spread: float = math.inf

    @property
    def ranges_meet_targets(self) -> bool:
        return self.contained >= TARGET_CONTAINED and self.median_spread <= TARGET_SPREAD

    @property
    def meets_targets(self) -> bool:
        return (
            self.median_factor <= TARGET_MEDIAN and self.within_2 >= TARGET_WITHIN_2 and self.max_factor <= TARGET_MAX
        )


def summarise(comparisons: list[Comparison]) -> Summary:
    factors = [item.factor for item in comparisons]
    spreads = [item.spread for item in comparisons if not item.reference.operating_point]
    return Summary(
        count=len(factors),
        median_factor=statistics.median(factors),
        within_2=sum(factor <= 2.0 for factor in factors) / len(factors),
        max_factor=max(factors),
        geometric_mean_ratio=math.exp(statistics.fmean(math.log(item.ratio) for item in comparisons)),
        contained=sum(item.contains for item in comparisons) / len(comparisons),
        median_spread=statistics.median(spreads) if spreads else math.inf,
    )


def by_kind(comparisons: list[Comparison]) -> dict[str, Summary]:
    """The summary of each kind of reference (text chat, reasoning, image, video), in the order they first appear."""
    groups: dict[str, list[Comparison]] = {}
    for item in comparisons:
        groups.setdefault(item.reference.kind, []).append(item)
    return {kind: summarise(items) for kind, items in groups.items()}


def main() -> int:
    catalog = load_catalog(DEFAULT_CATALOG_DIR)
    comparisons = compare_all(load_references(), catalog)
    print(
        f"{'reference':36} {'metric':16} {'published':>10} {'compared':>10} {'estimate':>10} {'factor':>11}"
        f" {'low':>10} {'high':>10}  in range"
    )
    for item in comparisons:
        ref = item.reference
        way = "high" if item.ratio > 1 else "low"
        print(
            f"{ref.id:36} {ref.metric:16} {ref.published:10.4g} {ref.comparable:10.4g} "
            f"{item.estimate:10.4g} {item.factor:6.2f}x {way:4} {item.low:10.4g} {item.high:10.4g}  "
            f"{'yes' if item.contains else 'no'}"
        )
    summary = summarise(comparisons)
    print(
        f"\n{summary.count} references: median factor {summary.median_factor:.2f} (target <= {TARGET_MEDIAN}), "
        f"{summary.within_2:.0%} within x2 (target >= {TARGET_WITHIN_2:.0%}), "
        f"largest x{summary.max_factor:.2f} (target <= {TARGET_MAX}); "
        f"geometric mean of estimate / published {summary.geometric_mean_ratio:.2f}"
    )
    print("targets met" if summary.meets_targets else "targets NOT met")
    for kind, part in by_kind(comparisons).items():
        print(
            f"  {kind:12} {part.count:3d} rows: median x{part.median_factor:.2f}, {part.within_2:.0%} within x2, "
            f"largest x{part.max_factor:.2f}, estimate / published x{part.geometric_mean_ratio:.2f} (geometric mean)"
        )
    print(
        f"ranges: low-high holds the published figure (or meets its range) for {summary.contained:.0%} of rows "
        f"(target >= {TARGET_CONTAINED:.0%}), median high / low x{summary.median_spread:.2f} over the rows without "
        f"a measured operating point (target <= {TARGET_SPREAD}): "
        + ("targets met" if summary.ranges_meet_targets else "targets NOT met")
    )
    split = energy_split(Pipeline(catalog), SPLIT_ROW)
    print(f"\nsplit of full-stack energy, {SPLIT_ROW['model_id']} on {SPLIT_ROW['managed_service_id']} vs Google's:")
    for name, share in split.items():
        print(f"  {name:14} {share:6.1%}   Google {GOOGLE_SPLIT[name]:5.0%}")
    print(f"\n{OPERATING_ROW['model_id']} on {OPERATING_ROW['node_id']}, 500 + 300 tokens, at other operating points:")
    for label, gpus, wh in operating_points(catalog, OPERATING_ROW):
        print(f"  {label:34} {gpus:3d} GPUs  {wh:6.3f} Wh")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
