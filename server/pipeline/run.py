"""The one pipeline every entry point uses: validated rows in, wire rows out."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from server.catalog.store import Catalog
from server.catalog.tasks import DEFAULT_TASK, task_kind
from server.engine import Calibration, Impacts, Prepared, TaskKind, Workload, estimate, fit_scatter, widen_impacts
from server.engine.constants import LLM_FIT_MAX_GPUS, VIDEO_ASPECT_RATIO
from server.engine.estimate import decode_groups
from server.engine.specs import ZERO_IMPACTS
from server.pipeline.errors import RowError
from server.pipeline.metrics import ZERO_WIRE, Totals, wire
from server.pipeline.resolve import Resolved, resolve, resolve_key
from server.schemas.impact import ImpactRow, image_dimensions

_INPUT_TOKENS = Workload._fields.index("input_tokens")
_OUTPUT_TOKENS = Workload._fields.index("output_tokens")


def _pixels(size: str) -> float:
    width, height = image_dimensions(size)
    return float(width * height)


def workload(row: ImpactRow, resolved: Resolved) -> Workload:
    model = resolved.model
    task = row.task or model.row.task or DEFAULT_TASK
    kind = task_kind(task, is_diffusion_model=model.row.default_steps is not None)
    video_frames = 0.0
    frame_pixels = 0.0
    if kind is TaskKind.VIDEO:
        if not row.output_video_frames:
            raise RowError("MISSING_FIELD", f"output_video_frames is required for {task}", "output_video_frames")
        video_frames = float(row.output_video_frames)
        if row.output_video_resolution:
            lines = float(row.output_video_resolution)
            frame_pixels = round(lines * VIDEO_ASPECT_RATIO) * lines
        else:
            frame_pixels = float(model.spec.default_width_px * model.spec.default_height_px)
    return Workload(
        kind=kind,
        input_tokens=float(row.input_tokens or 0),
        output_tokens=float(row.output_tokens or 0),
        input_image_pixels=sum(_pixels(size) for size in row.input_images) if row.input_images else 0.0,
        output_image_pixels=tuple(_pixels(size) for size in row.output_images) if row.output_images else (),
        steps=row.input_steps,
        input_audio_s=float(row.input_audio_seconds or 0.0),
        output_audio_s=float(row.output_audio_seconds or 0.0),
        output_audio_tokens=float(row.output_audio_tokens) if row.output_audio_tokens is not None else None,
        video_frames=video_frames,
        video_frame_pixels=frame_pixels,
    )


@dataclass(slots=True)
class RowResult:
    """What one row became: impacts, or the error that stopped it."""

    inference: Impacts = ZERO_IMPACTS
    training: Impacts = ZERO_IMPACTS
    gpu_energy_j: float = 0.0
    resolved: Resolved | None = None
    error: RowError | None = None
    # Inference impacts at the low and the high end of the ranged figures, when ranges were asked for.
    inference_low: Impacts | None = None
    inference_high: Impacts | None = None

    @property
    def total(self) -> Impacts:
        return self.inference + self.training

    @property
    def total_low(self) -> Impacts:
        return (self.inference_low or self.inference) + self.training

    @property
    def total_high(self) -> Impacts:
        return (self.inference_high or self.inference) + self.training


def _with_ranges(result: RowResult, resolved: Resolved, work: Workload, calibration: Calibration) -> RowResult:
    """The row's low and high: every ranged catalog figure at its end, widened by the fit's own scatter."""
    assert resolved.prepared_low is not None and resolved.prepared_high is not None
    result.inference_low, result.inference_high = widen_impacts(
        result.inference,
        estimate(resolved.prepared_low, work)[0],
        estimate(resolved.prepared_high, work)[0],
        fit_scatter(resolved.prepared, work.kind, calibration),
    )
    return result


class Pipeline:
    """Resolves and estimates rows against one catalog, memoising resolutions (the catalog is immutable)."""

    def __init__(self, catalog: Catalog, cache_size: int = 65536) -> None:
        self.catalog = catalog
        self._cache: dict[tuple[Any, ...], Resolved | RowError] = {}
        self._cache_size = cache_size

    def _resolve(self, row: ImpactRow) -> Resolved:
        key = resolve_key(row)
        found = self._cache.get(key)
        if found is None:
            try:
                found = resolve(self.catalog, row)
            except RowError as exc:
                found = exc
            if len(self._cache) >= self._cache_size:
                self._cache.clear()
            self._cache[key] = found
        if isinstance(found, RowError):
            raise found
        return found

    def run_row(self, row: ImpactRow, *, ranges: bool = False) -> RowResult:
        """The row's impacts; with `ranges`, also at the low and the high end of its ranged figures."""
        try:
            resolved = self._resolve(row)
            work = workload(row, resolved)
            inference, training, gpu_j = estimate(resolved.prepared, work)
        except RowError as exc:
            return RowResult(error=exc)
        result = RowResult(inference, training, gpu_j, resolved)
        return _with_ranges(result, resolved, work, self.catalog.calibration) if ranges else result

    def run_token_counts(
        self, row: ImpactRow, counts: Sequence[tuple[int | None, int | None]], *, ranges: bool = False
    ) -> list[RowResult]:
        """`run_row` for copies of `row` that differ only in (input_tokens, output_tokens): resolved once.

        Each result equals `run_row` of the row with those counts (the same workload, the same arithmetic); a
        sheet's long range of one model and place pays for the lookups once.
        """
        try:
            resolved = self._resolve(row)
            base = workload(row, resolved)
        except RowError as exc:
            return [RowResult(error=exc) for _ in counts]
        prepared = resolved.prepared
        # `base` with its two counts replaced, as `workload()` would make them; the counts' places found by name.
        values = list(base)
        make = Workload._make
        out: list[RowResult] = []
        append = out.append
        for input_tokens, output_tokens in counts:
            values[_INPUT_TOKENS] = float(input_tokens or 0)
            values[_OUTPUT_TOKENS] = float(output_tokens or 0)
            work = make(values)
            inference, training, gpu_j = estimate(prepared, work)
            result = RowResult(inference, training, gpu_j, resolved)
            append(_with_ranges(result, resolved, work, self.catalog.calibration) if ranges else result)
        return out


Counts = tuple[int | None, int | None]  # (input_tokens, output_tokens) of one row
# The rows of one group: their shared fields, their positions among the caller's rows, and their token counts.
Group = tuple[dict[str, Any], Sequence[int], Sequence[Counts]]


def estimate_groups(
    pipeline: Pipeline, groups: Iterable[Group], *, ranges: bool = False
) -> Iterator[tuple[dict[str, Any], Sequence[int], list[RowResult] | ValidationError]]:
    """Each group of rows that differ only in their token counts (a sheet's long range, an OpenAI batch file's few
    models), validated and resolved once: (its fields, its positions, one result per row or why it is invalid).

    The one grouped estimate of the Sheets and batch entry points; each row still gets exactly what
    `/v1/impact` gives it.
    """
    for fields, indices, counts in groups:
        try:
            template = ImpactRow.model_validate(fields)
        except ValidationError as exc:
            yield fields, indices, exc
            continue
        yield fields, indices, pipeline.run_token_counts(template, counts, ranges=ranges)


def wire_row(
    result: RowResult, *, debug: bool = False, elapsed_ms: float = 0.0, methodology: str = "", ranges: bool = False
) -> dict[str, Any]:
    if result.error is not None:
        return {"total_impact": dict(ZERO_WIRE), "error": result.error.to_wire()}
    out: dict[str, Any] = {
        "inference_impact": wire(result.inference),
        "training_impact": wire(result.training),
        "fine_tuning_impact": dict(ZERO_WIRE),
        "total_impact": wire(result.total),
    }
    if ranges:
        out["total_impact_low"] = wire(result.total_low)
        out["total_impact_high"] = wire(result.total_high)
    if debug and result.resolved is not None:
        out["debug"] = debug_info(result, elapsed_ms, methodology)
    return out


def debug_info(result: RowResult, elapsed_ms: float, methodology: str = "") -> dict[str, Any]:
    resolved = result.resolved
    assert resolved is not None
    p = resolved.prepared
    grid: dict[str, Any] = {"country": resolved.country, "gco2e_per_kwh": resolved.gco2e_per_kwh}
    if resolved.region:
        grid["region"] = resolved.region
    node = dict(resolved.node_wire)
    node["gpu_count"] = p.gpu_count
    gpu_ms = result.gpu_energy_j * p.node_seconds_per_gpu_j * 1000.0
    notes = (resolved.model_note, resolved.site_note)
    rule_steps = [{"description": note, "duration_ms": 0.0, "inferences": 1} for note in notes if note]
    # The spec's debug object has no field for it and the scope3ai client refuses unknown fields: a step says it.
    version_steps = (
        [{"description": f"methodology version {methodology}", "duration_ms": 0.0, "inferences": 1}]
        if methodology
        else []
    )
    return {
        "model": resolved.model.wire,
        "hardware_node": node,
        "grid_mix": grid,
        "steps": [
            {
                "description": "resolve model, hardware and grid; estimate (server time)",
                "duration_ms": elapsed_ms,
                "inferences": 1,
            },
            {
                "description": f"modelled GPU time on {p.gpu_count} x {resolved.node_wire.get('gpu_id')} "
                f"at {_operating_point(p)} ({result.gpu_energy_j:.4g} J GPU energy)",
                "duration_ms": gpu_ms,
                "inferences": 1,
            },
            *rule_steps,
            *version_steps,
        ],
    }


def _operating_point(p: Prepared) -> str:
    """How the GPU time was modelled: the fleet's published throughput, else the fit at the replica's batch."""
    decode, prefill = p.published_tokens_per_s_per_gpu
    fitted = f"batch {p.batch_size:g}, {p.batch_size / p.gpu_count:g} streams per GPU"
    if decode_groups(p.gpu_count) > 1.0:  # the fit runs on one group of the replica
        fitted += f", decoded in groups of {LLM_FIT_MAX_GPUS} GPUs (expert or pipeline parallel)"
    prefill_at = f"prefill at {p.prefill_mfu:.1%} MFU"
    if decode is None and prefill is None:
        return f"{fitted}; {prefill_at}"
    published = [f"{rate:,.6g} {kind} tokens/s" for rate, kind in ((decode, "output"), (prefill, "input")) if rate]
    return (
        f"the service's published {' and '.join(published)} per GPU"
        + ("" if decode else f"; decode at {fitted}")
        + ("" if prefill else f"; {prefill_at}")
    )


def run_impact(
    pipeline: Pipeline, rows: list[ImpactRow], *, debug: bool = False, ranges: bool = False
) -> dict[str, Any]:
    """The body of an `ImpactResponse` for these rows; with `ranges`, each row's and the totals' low and high."""
    totals, totals_low, totals_high = Totals(), Totals(), Totals()
    out_rows = []
    methodology = pipeline.catalog.methodology_version if debug else ""
    for row in rows:
        started = time.perf_counter() if debug else 0.0
        result = pipeline.run_row(row, ranges=ranges)
        elapsed = (time.perf_counter() - started) * 1000.0 if debug else 0.0
        if result.error is not None:
            totals.has_errors = True
        else:
            totals.add(result.total)
            if ranges:
                totals_low.add(result.total_low)
                totals_high.add(result.total_high)
        out_rows.append(wire_row(result, debug=debug, elapsed_ms=elapsed, methodology=methodology, ranges=ranges))
    body: dict[str, Any] = {
        "rows": out_rows,
        "total_energy_wh": totals.energy_wh,
        "total_gco2e": totals.gco2e,
        "total_mlh2o": totals.mlh2o,
        "has_errors": totals.has_errors,
    }
    if ranges:
        for suffix, sums in (("low", totals_low), ("high", totals_high)):
            body[f"total_energy_wh_{suffix}"] = sums.energy_wh
            body[f"total_gco2e_{suffix}"] = sums.gco2e
            body[f"total_mlh2o_{suffix}"] = sums.mlh2o
    return body
