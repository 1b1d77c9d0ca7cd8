"""Every estimate's low and high: where they come from, and each entry point that returns them.

The catalog's ends: the request with every ranged figure at the end that lowers the estimate (the model's smallest
published parameter count, the service's most streams per GPU, most prompt tokens from cache, busiest fleet, the
cleanest year of the grid), and at the other end (server/pipeline/resolve.py). The low and high answered widen
those ends by the scatter of the fit the estimate comes from, in quadrature (server.engine.widen).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import orjson
import pytest
from flask.testing import FlaskClient
from pydantic import ValidationError

from server.batch.results import wire_result
from server.catalog.rows import ManagedServiceRow
from server.catalog.store import Catalog
from server.engine import TaskKind, estimate, fit_scatter, prepare, widen
from server.engine.constants import (
    DEFAULT_STREAMS_PER_GPU_RANGE,
    DEFAULT_UTILIZATION_RANGE,
    PREFILL_MFU_MOE,
    PREFILL_MFU_MOE_SATURATED,
)
from server.pipeline.metrics import METRICS, Bound, stored
from server.pipeline.resolve import resolve, resolve_hosting, resolve_model, resolve_site, served_model
from server.pipeline.run import Pipeline, workload
from server.schemas.impact import ImpactRow
from tests.test_bigquery import bq, call

ROWS: list[dict[str, Any]] = [
    {"model_id": "gpt-4o", "input_tokens": 500, "output_tokens": 300},
    {"model_id": "deepseek-v3", "managed_service_id": "deepseek", "input_tokens": 2000, "output_tokens": 400},
    {"model_id": "llama_31_8b", "node_id": "aws-p5-48xlarge", "input_tokens": 100, "output_tokens": 800},
    {"model_id": "gemini-2.5-flash", "country": "FR", "input_tokens": 100, "output_tokens": 100},
    {"model_id": "llama_31_70b", "utc_datetime": "2022-06-01T00:00:00Z", "input_tokens": 10, "output_tokens": 10},
]
SUMS = ("energy_wh", "gco2e", "water_ml")


def resolved(catalog: Catalog, **fields: Any) -> Any:
    return resolve(catalog, ImpactRow.model_validate(fields))


def three(total: dict[str, float]) -> list[float]:
    """energy_wh, gco2e, water_ml of one wire `total_impact`, summed as the metrics are."""
    return [
        total["usage_energy_wh"],
        total["usage_emissions_gco2e"] + total["embodied_emissions_gco2e"],
        total["usage_water_ml"] + total["embodied_water_ml"],
    ]


def ranged_impact(client: FlaskClient, rows: list[dict[str, Any]]) -> dict[str, Any]:
    response = client.post("/v1/impact?ranges=true", json={"rows": rows})
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def test_a_service_row_is_bounded_by_the_services_ranges(catalog: Catalog) -> None:
    """deepseek: 84-92.5 streams per GPU, 0.82-1.0 utilisation, 0.563 of the prompt from cache either way, and its
    published throughput at the 10th-90th percentile of the accelerators' measured draw."""
    fields = {"model_id": "deepseek-v3", "managed_service_id": "deepseek", "input_tokens": 10, "output_tokens": 10}
    row = ImpactRow.model_validate(fields)
    model = resolve_model(catalog, row)
    hosting = resolve_hosting(catalog, row, model)
    resolved_site = resolve_site(catalog, row, hosting)
    site = resolved_site.spec
    # CN's grid over the catalog's years (the row names none): the cleanest at the low end, the dirtiest at the high.
    grids = catalog.grid_intensity_range(resolved_site.country, resolved_site.region, None, site.gco2e_per_kwh)
    result = resolve(catalog, row)
    gpus = result.prepared.gpu_count
    assert (result.prepared_low.batch_size, result.prepared.batch_size, result.prepared_high.batch_size) == (
        92.5 * gpus,
        90.0 * gpus,
        84.0 * gpus,
    )
    # The low is the engine's own answer at those figures, not a scaled copy of the central one.
    cal = catalog.calibration
    ends = (
        (result.prepared_low, 92.5, 1.0, 32.0, cal.gpu_serving_power_fraction_low, grids[0], PREFILL_MFU_MOE_SATURATED),
        (result.prepared_high, 84.0, 0.82, 1.0, cal.gpu_serving_power_fraction_high, grids[1], PREFILL_MFU_MOE),
    )
    for end, streams, utilization, diffusion_batch, power, grid, mfu in ends:
        node = replace(
            hosting.node,
            streams_per_gpu=streams,
            average_utilization_rate=utilization,
            serving_power_fraction=power,
            prefill_mfu_moe=mfu,
        )
        expected = prepare(
            model=served_model(model, hosting.service),
            node=node,
            site=replace(site, gco2e_per_kwh=grid),
            training=model.training,
            calibration=replace(catalog.calibration, diffusion_batch_size=diffusion_batch),
        )
        assert end == expected


def test_a_published_throughput_ranges_with_the_measured_draw_alone(catalog: Catalog) -> None:
    """DeepSeek's decode energy per token is the H800's draw / 1,850 tokens/s: it moves with the draw (0.493-0.911 of
    700 W, ML.ENERGY's 10th-90th percentile), not with the streams per GPU, which only the fit reads."""
    result = resolved(catalog, model_id="deepseek-v3", managed_service_id="deepseek", input_tokens=1)
    cal = catalog.calibration
    for end, fraction in (
        (result.prepared_low, cal.gpu_serving_power_fraction_low),
        (result.prepared, cal.gpu_serving_power_fraction),
        (result.prepared_high, cal.gpu_serving_power_fraction_high),
    ):
        assert end.decode_j_per_token == pytest.approx(700.0 * fraction / 1850.0)
    assert (cal.gpu_serving_power_fraction_low, cal.gpu_serving_power_fraction_high) == (0.493418, 0.911102)
    # Fit-estimated rows keep the median draw at both ends: the fit's J per token already holds the measured power.
    fitted = resolved(catalog, model_id="llama_31_8b", node_id="aws-p5-48xlarge", input_tokens=1)
    assert fitted.prepared_low.host_j_per_gpu_j == pytest.approx(fitted.prepared_high.host_j_per_gpu_j)


def test_hardware_no_service_describes_takes_the_default_ranges(catalog: Catalog) -> None:
    result = resolved(catalog, model_id="llama_31_8b", node_id="aws-p5-48xlarge", input_tokens=1)
    low_streams, high_streams = DEFAULT_STREAMS_PER_GPU_RANGE
    assert result.prepared_low.batch_size == high_streams * result.prepared.gpu_count
    assert result.prepared_high.batch_size == low_streams * result.prepared.gpu_count
    low_u, high_u = DEFAULT_UTILIZATION_RANGE
    # Embodied carbon per GPU joule is proportional to 1 / utilisation (service life x utilisation).
    ratio = result.prepared_high.embodied_gco2e_per_gpu_j / result.prepared_low.embodied_gco2e_per_gpu_j
    assert ratio == pytest.approx(high_u / low_u)


def test_a_utilisation_the_row_gives_has_no_range(catalog: Catalog) -> None:
    hosting = {"gpu": "h100", "gpu_count": 1, "average_utilization_rate": 0.8}
    result = resolved(catalog, model_id="llama_31_8b", hosting=hosting, input_tokens=1)
    assert result.prepared_low.embodied_gco2e_per_gpu_j == pytest.approx(result.prepared_high.embodied_gco2e_per_gpu_j)


def test_an_estimated_model_spans_its_published_parameter_range(catalog: Catalog) -> None:
    """gpt-4o: 88 B active (44-132 B, an estimate), 440 B in total; Gemini 2.5 Flash-Lite is dense, 8-28 B."""
    moe = resolved(catalog, model_id="gpt-4o", input_tokens=1000)
    dense = resolved(catalog, model_id="gemini-2.5-flash-lite", input_tokens=1000)
    # A mixture of experts' low end also prefills as on a saturated node (0.293 MFU against the fleet's 0.1505).
    saturated = PREFILL_MFU_MOE / PREFILL_MFU_MOE_SATURATED
    for result, low, high, mfu in ((moe, 44.0, 132.0, saturated), (dense, 8.0, 28.0, 1.0)):
        central = result.model.spec.active_params_b
        # Prefill is linear in active parameters: per token, low / central = 44 / 88 when the GPUs run as fast.
        assert result.prepared_low.prefill_j_per_token == pytest.approx(
            result.prepared.prefill_j_per_token * low / central * mfu
        )
        assert result.prepared_high.prefill_j_per_token == pytest.approx(
            result.prepared.prefill_j_per_token * high / central
        )
    assert dense.prepared_low.gpu_count <= dense.prepared.gpu_count <= dense.prepared_high.gpu_count


def test_the_grid_spans_the_catalogs_years_unless_the_row_names_one(catalog: Catalog) -> None:
    years = [value for _, value in catalog.grid[("FR", None)]]
    assert catalog.grid_intensity_range("FR", None, None, years[-1]) == (min(years), max(years))
    assert catalog.grid_intensity_range("FR", None, 2022, 55.0) == (55.0, 55.0)


def test_a_range_that_does_not_hold_its_value_is_refused(catalog: Catalog) -> None:
    good = catalog.services["deepseek"].model_dump()
    with pytest.raises(ValidationError, match=r"streams_per_gpu: the range 95\.0-99\.0 does not hold the value 90\.0"):
        ManagedServiceRow.model_validate(good | {"streams_per_gpu_low": 95.0, "streams_per_gpu_high": 99.0})


def test_ranges_through_http_hold_the_estimate_and_add_up(client: FlaskClient) -> None:
    body = ranged_impact(client, ROWS)
    for row, asked in zip(body["rows"], ROWS, strict=True):
        low, central, high = (three(row[key]) for key in ("total_impact_low", "total_impact", "total_impact_high"))
        for name, values in zip(SUMS, zip(low, central, high, strict=True), strict=True):
            assert values[0] <= values[1] <= values[2], (asked, name, values)
        assert low[0] < high[0], asked  # every one of these rows has a ranged figure
    for suffix in ("low", "high"):
        rows = [three(row[f"total_impact_{suffix}"]) for row in body["rows"]]
        assert body[f"total_energy_wh_{suffix}"] == pytest.approx(sum(r[0] for r in rows))
        assert body[f"total_gco2e_{suffix}"] == pytest.approx(sum(r[1] for r in rows))
        assert body[f"total_mlh2o_{suffix}"] == pytest.approx(sum(r[2] for r in rows))
    plain = client.post("/v1/impact", json={"rows": ROWS}).get_json()
    assert [row["total_impact"] for row in plain["rows"]] == [row["total_impact"] for row in body["rows"]]


def test_without_ranges_the_scope3ai_client_validates_the_answer(client: FlaskClient) -> None:
    from scope3ai.api.typesgen import ImpactResponse

    plain = client.post("/v1/impact", json={"rows": ROWS}).get_json()
    assert not any(key.endswith(("_low", "_high")) for key in plain)
    assert not any(key.endswith(("_low", "_high")) for row in plain["rows"] for key in row)
    ImpactResponse.model_validate(plain)
    # The client's models forbid fields they do not know: the ranges are opt-in for that reason.
    assert ImpactResponse.model_config.get("extra") == "forbid"
    with pytest.raises(ValidationError):
        ImpactResponse.model_validate(ranged_impact(client, ROWS))
    assert client.post("/v1/impact?ranges=maybe", json={"rows": ROWS}).status_code == 400


def test_sheets_metrics_give_the_same_low_and_high(client: FlaskClient) -> None:
    body = ranged_impact(client, ROWS)
    lines = [[row["model_id"], row["input_tokens"], row["output_tokens"]] for row in ROWS[:1]]
    answer = client.post(
        "/v1/sheets/impact",
        json={
            "function": "SCOPE3_IMPACT_TABLE",
            "table": [["model", "input_tokens", "output_tokens"], *lines],
            "metric": "energy_wh_low, energy_wh, energy_wh_high, gco2e_low, gco2e_high, water_ml_low, water_ml_high",
        },
    ).get_json()
    row = body["rows"][0]
    low, central, high = (three(row[key]) for key in ("total_impact_low", "total_impact", "total_impact_high"))
    assert answer["values"][0] == [low[0], central[0], high[0], low[1], high[1], low[2], high[2]]
    everything = client.post(
        "/v1/sheets/impact",
        json={"args": {"model": "gpt-4o", "input_tokens": 500, "output_tokens": 300}, "metric": "all"},
    ).get_json()
    bounded = [metric.name for metric in METRICS if metric.bound is not Bound.CENTRAL]
    assert set(bounded) <= set(everything["columns"]) and len(everything["columns"]) == len(METRICS) == 19


def test_bigquery_replies_carry_the_range_when_the_function_asks(client: FlaskClient) -> None:
    body = ranged_impact(client, ROWS[:1])
    calls = [call(model_id="gpt-4o", input_tokens=500, output_tokens=300)]
    plain = orjson.loads(bq(client, calls).get_json()["replies"][0])
    assert "total_impact_low" not in plain
    reply = orjson.loads(bq(client, calls, userDefinedContext={"ranges": "true"}).get_json()["replies"][0])
    assert reply["total_impact_low"] == body["rows"][0]["total_impact_low"]
    assert reply["total_impact_high"] == body["rows"][0]["total_impact_high"]
    bad = bq(client, calls, userDefinedContext={"ranges": "sometimes"})
    assert bad.status_code == 400 and "userDefinedContext.ranges" in bad.get_json()["errorMessage"]


def test_batch_results_read_the_stored_range_and_null_for_a_task_stored_before(catalog: Catalog) -> None:
    result = Pipeline(catalog).run_row(ImpactRow.model_validate(ROWS[0]), ranges=True)
    assert result.inference_low is not None and result.inference_high is not None
    inference, training = stored(result.inference), stored(result.training)
    now = [1, "k", inference, training, None, stored(result.inference_low), stored(result.inference_high)]
    metrics = ("energy_wh_low", "energy_wh", "energy_wh_high")
    got = wire_result("t", now, metrics)["metrics"]
    assert got == {
        "energy_wh_low": result.total_low.usage_energy_wh,
        "energy_wh": result.total.usage_energy_wh,
        "energy_wh_high": result.total_high.usage_energy_wh,
    }
    before = wire_result("t", [1, "k", inference, training], metrics)["metrics"]
    assert before == {"energy_wh_low": None, "energy_wh": result.total.usage_energy_wh, "energy_wh_high": None}


def test_a_diffusion_row_spans_the_batch_sizes_ml_energy_measured(catalog: Catalog) -> None:
    """1 to 32 outputs per batch; energy per output goes as batch^diffusion_exp_batch (calibration.csv)."""
    from server.engine.constants import DIFFUSION_BATCH_RANGE

    result = resolved(catalog, model_id="flux_2_dev", output_images=["1024x1024"])
    cal = catalog.calibration
    central = result.prepared.diffusion_j_per_step
    fewest, most = DIFFUSION_BATCH_RANGE
    assert (fewest, most) == (1.0, 32.0)
    exp = cal.diffusion_exp_batch
    assert result.prepared_low.diffusion_j_per_step == pytest.approx(central * (most / cal.diffusion_batch_size) ** exp)
    assert result.prepared_high.diffusion_j_per_step == pytest.approx(
        central * (fewest / cal.diffusion_batch_size) ** exp
    )
    assert result.prepared_low.diffusion_j_per_step < central < result.prepared_high.diffusion_j_per_step


def test_a_published_throughput_applies_to_its_model_size_on_its_own_fleet(catalog: Catalog) -> None:
    """DeepSeek's published rates (V3/R1: 671 B total, 37 B active, on its H800 fleet) price its V3-sized models
    there: 0.705071 x 700 W / 1,850 tokens/s = 0.26678 J per output token, and / 9,212.5 = 0.053574 J per prompt
    token, KV-cache hits included. A model of another size on the same service, or the same model on other
    hardware, is estimated by the fit."""
    cal = catalog.calibration
    assert cal.gpu_serving_power_fraction == 0.705071
    for model_id in ("deepseek-v3", "deepseek-r1", "deepseek-v3.1"):
        p = resolved(catalog, model_id=model_id, managed_service_id="deepseek", input_tokens=1).prepared
        assert p.decode_j_per_token == pytest.approx(0.26678, rel=1e-4)
        assert p.prompt_j_per_token == pytest.approx(0.053574, rel=1e-4)
    fit_rows = (
        {"model_id": "deepseek-v4-pro", "managed_service_id": "deepseek"},  # 1.6 T total, 49 B active
        {"model_id": "deepseek-v3", "managed_service_id": "deepseek", "node_id": "aws-p5-48xlarge"},
        {"model_id": "deepseek-v3", "managed_service_id": "together"},
    )
    for fields in fit_rows:
        row = ImpactRow.model_validate(fields)
        node = resolve_hosting(catalog, row, resolve_model(catalog, row)).node
        assert node.decode_tokens_per_s_per_gpu is None and node.prefill_tokens_per_s_per_gpu is None, fields


def test_a_published_throughput_needs_the_model_size_it_was_measured_on(catalog: Catalog) -> None:
    good = catalog.services["deepseek"].model_dump()
    with pytest.raises(ValidationError, match="the model size it was measured on"):
        ManagedServiceRow.model_validate(good | {"throughput_active_params_b": None})


def test_the_answered_range_widens_the_catalog_ends_by_the_fits_scatter(catalog: Catalog) -> None:
    """llama_31_8b on a p5: the catalog's ends (8-64 streams, 40-60 % busy) widened by the LLM fit's 10th-90th
    percentile scatter (0.696-1.559, calibration.csv), the two combined in quadrature."""
    cal = catalog.calibration
    assert (cal.llm_fit_scatter_low, cal.llm_fit_scatter_high) == (0.695868, 1.5594)
    assert (cal.diffusion_fit_scatter_low, cal.diffusion_fit_scatter_high) == (0.653376, 1.59149)
    row = ImpactRow.model_validate({"model_id": "llama_31_8b", "node_id": "aws-p5-48xlarge", "output_tokens": 800})
    result = Pipeline(catalog).run_row(row, ranges=True)
    assert result.resolved is not None and result.inference_low is not None and result.inference_high is not None
    w = workload(row, result.resolved)
    central = result.inference.usage_energy_wh
    corner_low = estimate(result.resolved.prepared_low, w)[0].usage_energy_wh
    corner_high = estimate(result.resolved.prepared_high, w)[0].usage_energy_wh
    low, high = widen(central, corner_low, corner_high, (0.695868, 1.5594))
    assert result.inference_low.usage_energy_wh == pytest.approx(low)
    assert result.inference_high.usage_energy_wh == pytest.approx(high)
    assert low < corner_low < central < corner_high < high


def test_a_published_throughput_has_no_fit_scatter_and_media_take_the_diffusion_fits(catalog: Catalog) -> None:
    cal = catalog.calibration
    deepseek = resolved(catalog, model_id="deepseek-v3", managed_service_id="deepseek", input_tokens=1)
    assert fit_scatter(deepseek.prepared, TaskKind.TEXT, cal) == (1.0, 1.0)  # the draw's range is the unknown
    image = resolved(catalog, model_id="stable_diffusion_3_medium", output_images=["1024x1024"])
    assert fit_scatter(image.prepared, TaskKind.IMAGE, cal) == (0.653376, 1.59149)
    assert fit_scatter(image.prepared, TaskKind.VIDEO, cal) == (0.653376, 1.59149)
    text = resolved(catalog, model_id="gpt-4o", input_tokens=1)
    assert fit_scatter(text.prepared, TaskKind.TEXT, cal) == (0.695868, 1.5594)
