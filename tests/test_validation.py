"""The production validation bench (bench/validation.py): its references and its arithmetic.

The issue's accuracy targets are not asserted here: the engine does not meet them yet, and a test that fails on
every run would only be skipped. What is held: every reference names its source, boundary and conversion; every
one runs through the pipeline to a positive figure; the factors and summary are computed as documented.
"""

from __future__ import annotations

import math
from types import ModuleType

import pytest

from tests.conftest import load_bench


def _load_bench() -> ModuleType:
    return load_bench("validation.py")


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return _load_bench()


def test_every_reference_is_sourced_and_bounded(bench: ModuleType) -> None:
    references = bench.load_references()
    assert len({ref.id for ref in references}) == len(references)
    for ref in references:
        assert ref.source and ref.boundary and ref.conversion, ref.id
        assert ref.published > 0 and ref.conversion_factor > 0, ref.id
        if ref.published_low is not None:
            assert ref.published_low <= ref.published <= (ref.published_high or math.inf), ref.id


def test_every_reference_runs_through_the_pipeline(bench: ModuleType, catalog: object) -> None:
    comparisons = bench.compare_all(bench.load_references(), catalog)
    assert all(item.estimate > 0 for item in comparisons)
    summary = bench.summarise(comparisons)
    assert summary.count == len(comparisons)


def test_factor_is_symmetric_and_the_conversion_applies(bench: ModuleType) -> None:
    ref = bench.Reference(
        id="x", kind="text chat", metric="gpu_energy_wh", published=4.0, published_low=None, published_high=None,
        conversion_factor=0.5, boundary="GPU x2", row={}, conversion="halved", source="s",
    )  # fmt: skip
    high, low = bench.Comparison(ref, 6.0), bench.Comparison(ref, 0.5)
    assert ref.comparable == 2.0
    assert (high.ratio, high.factor) == (3.0, 3.0)
    assert (low.ratio, low.factor) == (0.25, 4.0)
    summary = bench.summarise([high, low, bench.Comparison(ref, 2.0)])
    assert summary.median_factor == 3.0
    assert summary.within_2 == pytest.approx(1 / 3)
    assert summary.max_factor == 4.0
    assert summary.geometric_mean_ratio == pytest.approx((3.0 * 0.25 * 1.0) ** (1 / 3))
    assert not summary.meets_targets


def test_a_range_holds_the_published_figure_as_compared(bench: ModuleType) -> None:
    ref = bench.Reference(
        id="x", kind="text chat", metric="gpu_energy_wh", published=4.0, published_low=None, published_high=None,
        conversion_factor=0.5, boundary="GPU x2", row={}, conversion="halved", source="s",
    )  # fmt: skip
    # The compared figure is 2.0: held by 1-3, not by 2.5-10 nor by a row with no range.
    inside, outside, none = (
        bench.Comparison(ref, 2.2, 1.0, 3.0),
        bench.Comparison(ref, 5.0, 2.5, 10.0),
        bench.Comparison(ref, 2.0),
    )
    assert (inside.contains, outside.contains, none.contains) == (True, False, False)
    assert (inside.spread, outside.spread) == (3.0, 4.0)
    summary = bench.summarise([inside, outside, bench.Comparison(ref, 2.0, 1.0, 5.0)])
    assert summary.contained == pytest.approx(2 / 3)
    assert summary.median_spread == 4.0
    assert summary.ranges_meet_targets is False  # 67 % < 80 %


def test_a_published_range_is_met_by_an_overlapping_estimate_range(bench: ModuleType) -> None:
    ref = bench.Reference(
        id="x", kind="text chat", metric="gpu_energy_wh", published=4.0, published_low=3.0, published_high=6.0,
        conversion_factor=0.5, boundary="GPU x2", row={}, conversion="halved", source="s",
    )  # fmt: skip
    # Compared: 2.0 in 1.5-3.0. An estimate range of 2.8-4 meets it without holding 2.0; 3.1-4 does not.
    assert bench.Comparison(ref, 3.5, 2.8, 4.0).contains
    assert not bench.Comparison(ref, 3.5, 3.1, 4.0).contains
    assert not bench.Comparison(ref, 1.2, 1.0, 1.4).contains


def test_the_median_spread_leaves_out_rows_at_a_measured_operating_point(bench: ModuleType) -> None:
    plain = bench.Reference("a", "t", "gpu_energy_wh", 1.0, None, None, 1.0, "b", {}, "c", "s")
    measured = bench.Reference(
        "b", "t", "gpu_energy_wh", 1.0, None, None, 1.0, "b", {}, "c", "s", {"streams_per_gpu": 8}
    )
    summary = bench.summarise([bench.Comparison(plain, 1.0, 0.5, 1.5), bench.Comparison(measured, 1.0, 1.0, 1.0)] * 2)
    assert summary.median_spread == 3.0  # the fixed point's zero-width range (x1) is not counted


def test_every_reference_has_a_low_and_high_around_its_estimate(bench: ModuleType, catalog: object) -> None:
    for item in bench.compare_all(bench.load_references(), catalog):
        assert item.low <= item.estimate <= item.high, item.reference.id


def test_onsite_water_is_it_energy_times_wue(bench: ModuleType, catalog: object) -> None:
    """0.26 mL-type references compare cooling water only: the facility energy / PUE x the site's WUE."""
    from server.pipeline.run import Pipeline

    row = {"model_id": "gpt-4o", "managed_service_id": "openai", "input_tokens": 500, "output_tokens": 300}
    make = bench.Reference
    water = make("w", "t", "onsite_water_ml", 1.0, None, None, 1.0, "b", row, "c", "s")
    energy = make("e", "t", "energy_wh", 1.0, None, None, 1.0, "b", row, "c", "s")
    pipeline = Pipeline(catalog)
    service = catalog.services["openai"]  # type: ignore[attr-defined]
    expected = bench.measure(catalog, pipeline, energy) / service.pue * service.wue_l_per_kwh  # Wh/kWh x mL/L cancel
    assert bench.measure(catalog, pipeline, water) == pytest.approx(expected)


def test_energy_split_adds_up_and_overhead_is_the_pue(bench: ModuleType, catalog: object) -> None:
    from server.pipeline.run import Pipeline

    split = bench.energy_split(Pipeline(catalog), bench.SPLIT_ROW)  # type: ignore[arg-type]
    assert set(split) == set(bench.GOOGLE_SPLIT)
    assert sum(split.values()) == pytest.approx(1.0)
    pue = catalog.services["google-ai-studio"].pue  # type: ignore[attr-defined]
    assert split["overhead"] == pytest.approx((pue - 1.0) / pue)


def test_operating_points_start_from_the_pipelines_answer(bench: ModuleType, catalog: object) -> None:
    """The 'catalog' point is the estimate every entry point gives; 16-bit weights need twice the FP8 GPUs."""
    from server.pipeline.run import Pipeline
    from server.schemas.impact import ImpactRow

    points = bench.operating_points(catalog, bench.OPERATING_ROW)
    labels = [label for label, *_ in points]
    assert labels == [label for label, *_ in bench.OPERATING_POINTS]
    answer = Pipeline(catalog).run_row(ImpactRow.model_validate(bench.OPERATING_ROW))
    assert points[0][1:] == (answer.resolved.prepared.gpu_count, pytest.approx(answer.inference.usage_energy_wh))
    energy = dict((label, wh) for label, _, wh in points)
    assert points[1][1] == 2 * points[0][1]
    assert energy["16-bit weights"] > energy["catalog"]
    # Fewer streams per GPU cost more per request, more cost less, and less idle capacity less again.
    assert energy["8 streams per GPU"] > energy["catalog"] > energy["64 streams per GPU"]
    assert energy["64 streams per GPU"] > energy["64 streams per GPU, 85 % utilisation"]


def test_a_measured_operating_point_sets_the_batch(bench: ModuleType, catalog: object) -> None:
    """A benchmark row runs at the batch it was measured at: for a dense model on one GPU the decode energy per
    token goes as batch^llm_exp_batch (the weights read per step are all the weights at any batch), so batch 64
    against batch 16 is 4^-0.555 (calibration.csv), and the point has no range of its own."""
    from server.pipeline.run import Pipeline

    row = {
        "model_id": "llama_31_8b",
        "hosting": {"gpu": "h100", "gpu_count": 1},
        "input_tokens": 0,
        "output_tokens": 1000,
    }

    def at(point: dict[str, float]) -> object:
        return bench.Reference("p", "t", "gpu_energy_wh", 1.0, None, None, 1.0, "b", row, "c", "s", point)

    pipeline = Pipeline(catalog)
    wide, narrow = at({"streams_per_gpu": 64.0}), at({"streams_per_gpu": 16.0})
    exponent = catalog.calibration.llm_exp_batch  # type: ignore[attr-defined]
    ratio = bench.measure(catalog, pipeline, wide) / bench.measure(catalog, pipeline, narrow)
    assert ratio == pytest.approx(4.0**exponent)
    assert exponent == pytest.approx(-0.555098)
    ends = [bench.measure(catalog, pipeline, wide, end) for end in bench.ENDS]
    assert ends[0] == pytest.approx(ends[1]) == pytest.approx(ends[2])  # llama_31_8b's size is disclosed: no range
    assert bench.measure(catalog, pipeline, at({})) != pytest.approx(ends[0])  # without it: the node's default
    # As answered, the point's low and high are the LLM fit's scatter around it (calibration.csv, 0.696-1.559).
    central, low, high = bench.measure_range(catalog, pipeline, wide)
    assert (low / central, high / central) == pytest.approx((0.695868, 1.5594))


@pytest.mark.parametrize(
    ("metric", "value"),
    [
        ("gpu_energy_wh", '{"batch_size": 64}'),  # not a node figure
        ("gpu_energy_wh", "[64]"),
        ("energy_wh", '{"streams_per_gpu": 64}'),  # a facility boundary: a benchmark measures hardware
    ],
)
def test_an_operating_point_is_refused_beyond_its_fields_and_boundaries(
    bench: ModuleType, metric: str, value: str
) -> None:
    with pytest.raises(bench.ValidationError):
        bench._operating_point("x", metric, value)
    assert bench._operating_point("x", metric, "") == {}


def test_the_summary_by_kind_covers_every_row_once(bench: ModuleType, catalog: object) -> None:
    comparisons = bench.compare_all(bench.load_references(), catalog)
    parts = bench.by_kind(comparisons)
    assert sum(part.count for part in parts.values()) == len(comparisons)
    assert set(parts) == {item.reference.kind for item in comparisons}
    images = [item for item in comparisons if item.reference.kind == "image"]
    assert parts["image"] == bench.summarise(images)
