"""The metrics, defined once (`server.pipeline.metrics`): every entry point reads them from there, and batch results
stored before a component existed (or as the old positional arrays) still read."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from server.batch import results
from server.batch.run import estimate_block
from server.catalog.store import Catalog
from server.engine import Impacts
from server.pipeline import metrics
from server.pipeline.run import Pipeline, run_impact
from server.schemas.impact import ImpactRow

INFERENCE = Impacts(1.5, 20.0, 300.0, 4.0, 50.0)
TRAINING = Impacts(0.25, 2.0, 30.0, 0.5, 5.0)


def test_each_metric_sums_its_components_as_documented() -> None:
    read = metrics.row_reader(tuple(metrics.BY_NAME))
    low, high = Impacts(1.0, 10.0, 200.0, 2.0, 40.0), Impacts(3.0, 40.0, 600.0, 8.0, 100.0)
    values = dict(zip(metrics.BY_NAME, read(INFERENCE, TRAINING, low, high), strict=True))
    # A low or high reads the inference at that end, plus the same training.
    assert (values["energy_wh_low"], values["energy_wh_high"]) == (1.25, 3.25)
    assert (values["gco2e_low"], values["gco2e_high"]) == ((10.0 + 2.0) + (2.0 + 0.5), (40.0 + 2.0) + (8.0 + 0.5))
    assert (values["water_ml_low"], values["water_ml_high"]) == (275.0, 735.0)
    assert metrics.needs_ranges(("energy_wh", "gco2e_low")) and not metrics.needs_ranges(metrics.DEFAULT_METRICS)
    assert values["energy_wh"] == 1.75
    assert values["gco2e"] == (20.0 + 2.0) + (4.0 + 0.5) == 26.5
    assert values["water_ml"] == 385.0
    assert values["usage_gco2e"] == 22.0 and values["embodied_gco2e"] == 4.5
    assert values["inference_gco2e"] == 24.0 and values["training_water_ml"] == 35.0
    assert values["training_energy_wh"] == 0.25
    assert metrics.DEFAULT_METRICS == ("energy_wh", "gco2e", "water_ml")
    assert metrics.wire(INFERENCE) == {
        "usage_energy_wh": 1.5,
        "usage_emissions_gco2e": 20.0,
        "usage_water_ml": 300.0,
        "embodied_emissions_gco2e": 4.0,
        "embodied_water_ml": 50.0,
    }


def test_impact_totals_are_the_default_metrics_summed(catalog: Catalog) -> None:
    rows = [ImpactRow(model_id="gpt-4o", input_tokens=n, output_tokens=n // 2) for n in (100, 2000, 30000)]
    pipeline = Pipeline(catalog)
    body = run_impact(pipeline, rows)
    read = metrics.row_reader(metrics.DEFAULT_METRICS)
    sums = [0.0, 0.0, 0.0]
    for row in rows:
        result = pipeline.run_row(row)
        sums = [a + b for a, b in zip(sums, read(result.inference, result.training), strict=True)]
    assert [body["total_energy_wh"], body["total_gco2e"], body["total_mlh2o"]] == sums


def _one_block(monkeypatch: pytest.MonkeyPatch, lines: list[bytes]) -> None:
    def blocks(db: Any, task_id: str) -> Iterator[list[bytes]]:
        yield lines

    monkeypatch.setattr(results, "_blocks", blocks)


def test_a_task_stored_before_a_metric_was_added_still_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    legacy = orjson.dumps([1, "old", list(INFERENCE), list(TRAINING)])  # positional, as stored before by-name
    by_name = orjson.loads(orjson.dumps([2, "named", metrics.stored(INFERENCE), metrics.stored(TRAINING)]))
    # Written before `embodied_water_ml` existed: the component is absent, and reads as 0.0.
    del by_name[2]["embodied_water_ml"], by_name[3]["embodied_water_ml"]
    # Written by a later version with a component this one does not know: ignored.
    newer = [3, "newer", {**metrics.stored(INFERENCE), "embodied_energy_wh": 9.0}, metrics.stored(TRAINING)]
    _one_block(monkeypatch, [legacy, orjson.dumps(by_name), orjson.dumps(newer)])

    read = list(results.jsonl_lines(None, "t", ("gco2e", "water_ml")))  # type: ignore[arg-type]
    old, named, later = (orjson.loads(line) for line in b"".join(read).splitlines())
    assert old["inference_impact"] == metrics.wire(INFERENCE)
    assert old["metrics"] == {"gco2e": 26.5, "water_ml": 385.0}
    assert named["total_impact"]["embodied_water_ml"] == 0.0 and named["metrics"]["water_ml"] == 330.0
    assert later["metrics"] == old["metrics"] and later["total_impact"] == old["total_impact"]

    table = list(csv.reader(io.StringIO(b"".join(results.csv_lines(None, "t")).decode())))  # type: ignore[arg-type]
    assert table[0] == ["object_id", "line", "key", "status", *metrics.WIRE_COMPONENTS, *results.ERROR_COLUMNS]
    assert [float(value) for value in table[1][4:9]] == [1.75, 22.0, 330.0, 4.5, 55.0]


def test_batch_stores_components_by_name(catalog: Catalog) -> None:
    record = orjson.dumps({"model_id": "gpt-4o", "input_tokens": 100, "output_tokens": 10})
    (stored,), completed, failed = estimate_block(
        Pipeline(catalog), [record], fmt="impact-rows", csv_fields=None, first_line=1
    )
    line, key, inference, training = orjson.loads(stored)  # a task without ranges stores no low and high
    (ranged,), _, _ = estimate_block(
        Pipeline(catalog), [record], fmt="impact-rows", csv_fields=None, first_line=1, ranges=True
    )
    *same, error, low, high = orjson.loads(ranged)
    assert same == [line, key, inference, training] and error is None
    assert set(low) == set(high) == set(metrics.COMPONENTS) and low["usage_energy_wh"] < high["usage_energy_wh"]
    assert (line, key, completed, failed) == (1, None, 1, 0)
    assert set(inference) == set(training) == set(metrics.COMPONENTS)
