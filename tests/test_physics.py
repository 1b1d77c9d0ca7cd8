"""Physics over the shipped catalog: more work never costs less, cleaner grids emit less, parts add up."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.catalog.store import Catalog
from server.engine import Impacts
from server.pipeline.run import Pipeline, RowResult
from server.schemas.impact import ImpactRow


@pytest.fixture(scope="module")
def pipeline(catalog: Catalog) -> Pipeline:
    return Pipeline(catalog)


def run(pipeline: Pipeline, **row: Any) -> RowResult:
    result = pipeline.run_row(ImpactRow.model_validate(row))
    assert result.error is None, result.error and result.error.message
    return result


def as_tuple(impacts: Impacts) -> tuple[float, ...]:
    return (
        impacts.usage_energy_wh,
        impacts.usage_emissions_gco2e,
        impacts.usage_water_ml,
        impacts.embodied_emissions_gco2e,
        impacts.embodied_water_ml,
    )


def no_less(more: RowResult, less: RowResult, part: str = "total") -> bool:
    pairs = zip(as_tuple(getattr(more, part)), as_tuple(getattr(less, part)), strict=True)
    return all(a >= b for a, b in pairs)


counts = st.integers(min_value=0, max_value=200_000)


@settings(max_examples=60, deadline=None)
@given(a=counts, b=counts, extra_in=counts, extra_out=counts)
def test_more_tokens_never_cost_less(pipeline: Pipeline, a: int, b: int, extra_in: int, extra_out: int) -> None:
    base = run(pipeline, model_id="gpt-4o", input_tokens=a, output_tokens=b)
    more = run(pipeline, model_id="gpt-4o", input_tokens=a + extra_in, output_tokens=b + extra_out)
    assert no_less(more, base)


@pytest.mark.parametrize("hosting", [{}, {"node_id": "aws:p5.48xlarge"}, {"managed_service_id": "together"}])
def test_more_parameters_never_cost_less(pipeline: Pipeline, hosting: dict[str, str]) -> None:
    sizes = ["llama_32_1b", "llama_32_3b", "llama_31_8b", "llama_31_70b", "llama_31_405b"]
    results = [run(pipeline, model_id=m, input_tokens=500, output_tokens=500, **hosting) for m in sizes]
    for smaller, larger in itertools.pairwise(results):
        assert larger.gpu_energy_j > smaller.gpu_energy_j
        # Inference only: training per request depends on each model's own training totals and traffic.
        assert no_less(larger, smaller, "inference")


@settings(max_examples=40, deadline=None)
@given(
    steps=st.integers(1, 200),
    more_steps=st.integers(0, 200),
    side=st.integers(64, 2048),
    wider=st.integers(0, 1024),
    count=st.integers(1, 4),
)
def test_more_steps_pixels_and_images_never_cost_less(
    pipeline: Pipeline, steps: int, more_steps: int, side: int, wider: int, count: int
) -> None:
    def image(n_steps: int, width: int, n: int) -> RowResult:
        return run(
            pipeline,
            model_id="flux_1_dev",
            task="text-to-image",
            input_steps=n_steps,
            output_images=[f"{min(width, 9999)}x{side}"] * n,
        )

    base = image(steps, side, count)
    assert no_less(image(min(steps + more_steps, 10_000), side, count), base)
    assert no_less(image(steps, side + wider, count), base)
    assert no_less(image(steps, side, count + 1), base)


@settings(max_examples=40, deadline=None)
@given(
    frames=st.integers(1, 500),
    more=st.integers(0, 500),
    lines=st.integers(144, 2160),
    up=st.integers(0, 1000),
)
def test_more_frames_and_lines_never_cost_less(pipeline: Pipeline, frames: int, more: int, lines: int, up: int) -> None:
    def video(n_frames: int, n_lines: int) -> RowResult:
        return run(
            pipeline,
            model_id="wan2_1_t2v_14b",
            task="text-to-video",
            output_video_frames=n_frames,
            output_video_resolution=n_lines,
            input_steps=50,
        )

    base = video(frames, lines)
    assert no_less(video(frames + more, lines), base)
    assert no_less(video(frames, min(lines + up, 10_000)), base)


@settings(max_examples=40, deadline=None)
@given(seconds=st.floats(0, 10_000), more=st.floats(0, 10_000))
def test_more_audio_seconds_never_cost_less(pipeline: Pipeline, seconds: float, more: float) -> None:
    stt = [
        run(pipeline, model_id="whisper_large_v3", task="speech-to-text", input_audio_seconds=s)
        for s in (seconds, seconds + more)
    ]
    tts = [
        run(pipeline, model_id="tts-1", task="text-to-speech", output_audio_seconds=s)
        for s in (seconds, seconds + more)
    ]
    assert no_less(stt[1], stt[0]) and no_less(tts[1], tts[0])


def test_a_cleaner_grid_emits_less(pipeline: Pipeline, catalog: Catalog) -> None:
    row = {"model_id": "llama_31_70b", "input_tokens": 1000, "output_tokens": 1000}
    france, poland = run(pipeline, **row, country="FR"), run(pipeline, **row, country="PL")
    assert catalog.grid_intensity("FR", None, None)[1] < catalog.grid_intensity("PL", None, None)[1]
    assert france.inference.usage_energy_wh == pytest.approx(poland.inference.usage_energy_wh)
    assert france.inference.usage_emissions_gco2e < poland.inference.usage_emissions_gco2e
    ratio = france.inference.usage_emissions_gco2e / poland.inference.usage_emissions_gco2e
    assert ratio == pytest.approx(
        catalog.grid_intensity("FR", None, None)[1] / catalog.grid_intensity("PL", None, None)[1]
    )


def test_total_is_the_sum_of_its_parts_and_answers_repeat(pipeline: Pipeline) -> None:
    rows = [
        {"model_id": "llama_31_405b", "input_tokens": 2000, "output_tokens": 300},
        {"model_id": "dall-e-3", "task": "text-to-image", "output_images": ["1024x1024"]},
        {"model_id": "whisper-1", "task": "speech-to-text", "input_audio_seconds": 30},
    ]
    for row in rows:
        first, again = run(pipeline, **row), run(Pipeline(pipeline.catalog), **row)
        assert as_tuple(first.total) == pytest.approx(
            tuple(a + b for a, b in zip(as_tuple(first.inference), as_tuple(first.training), strict=True))
        )
        assert as_tuple(first.total) == as_tuple(again.total)


def test_utc_datetime_picks_that_years_grid(tmp_path: Path, catalog: Catalog) -> None:
    """A catalog with three years for one place: each row gets its year, else the nearest earlier one."""
    shutil.copytree(catalog.dir, tmp_path / "catalog")
    grid_file = tmp_path / "catalog" / "grid_intensity.csv"
    with grid_file.open("a", newline="") as handle:
        for year, value in ((2015, 900.0), (2018, 600.0), (2030, 100.0)):
            handle.write(f"FR,,{year},{value},test rows,2026\n")
    multi_year = Catalog(tmp_path / "catalog")
    years = multi_year.grid[("FR", None)]
    assert [y for y, _ in years][:2] == [2015, 2018] and years[-1] == (2030, 100.0)
    assert multi_year.grid_intensity("FR", None, 2016) == (None, 900.0)
    assert multi_year.grid_intensity("FR", None, 2018) == (None, 600.0)
    assert multi_year.grid_intensity("FR", None, 2010) == (None, 900.0)  # before the data: the first year
    assert multi_year.grid_intensity("FR", None, None) == (None, 100.0)  # no date: the latest
    pipe = Pipeline(multi_year)
    rows = [
        run(pipe, model_id="gpt-4o", output_tokens=100, country="FR", utc_datetime=f"{y}-06-01T00:00:00Z")
        for y in (2016, 2031)
    ]
    ratio = rows[0].inference.usage_emissions_gco2e / rows[1].inference.usage_emissions_gco2e
    assert ratio == pytest.approx(900.0 / 100.0)
