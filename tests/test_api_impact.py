"""POST /v1/impact through the Flask app: the seeds' rows, per-row errors, request errors."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from server.schemas.impact import ImpactResponse
from tests.seed_examples import QUICKSTART_V0_ROWS, QUICKSTART_V1_ROWS, REFERENCE_DATACENTER, REFERENCE_IMPACT_ROW

METRICS = (
    "usage_energy_wh",
    "usage_emissions_gco2e",
    "usage_water_ml",
    "embodied_emissions_gco2e",
    "embodied_water_ml",
)


def post(client: FlaskClient, rows: list[dict[str, Any]], query: str = "") -> Any:
    response = client.post("/v1/impact" + query, json={"rows": rows})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    ImpactResponse.model_validate(body)  # our own wire model, additionalProperties: false
    return body


def assert_estimated(row: dict[str, Any]) -> None:
    assert "error" not in row, row.get("error")
    inference = row["inference_impact"]
    assert inference["usage_energy_wh"] > 0 and inference["embodied_emissions_gco2e"] > 0
    assert all(inference[m] >= 0 for m in METRICS)
    for metric in METRICS:
        assert row["total_impact"][metric] == pytest.approx(
            inference[metric] + row["training_impact"][metric] + row["fine_tuning_impact"][metric]
        )


@pytest.mark.parametrize("row", [*QUICKSTART_V1_ROWS, REFERENCE_IMPACT_ROW], ids=lambda r: str(r)[:60])
def test_flat_seed_rows(client: FlaskClient, row: dict[str, Any]) -> None:
    client.post("/datacenter", json=REFERENCE_DATACENTER)  # 201, or 409 when an earlier test saved it
    body = post(client, [row])
    assert body["has_errors"] is False
    assert_estimated(body["rows"][0])


@pytest.mark.parametrize("row", QUICKSTART_V0_ROWS, ids=lambda r: str(r)[:60])
def test_nested_seed_rows(client: FlaskClient, row: dict[str, Any]) -> None:
    body = post(client, [row])
    assert body["has_errors"] is False
    assert_estimated(body["rows"][0])


@pytest.mark.parametrize(
    "spelling",
    [
        {"model_id": "llama_31_8b"},
        {"model_id": "llama_v31_8b"},
        {"model_id": "LLAMA_V31_8B"},
        {"model_family": "llama", "model_name": "LLaMa v3.1 8B"},
        {"model_family": "llama", "model_name": "LLaMA v3.1 8B"},
        {"model_hugging_face_path": "meta-llama/Llama-3.1-8B"},
        {"model_hugging_face_path": "meta/llama31_8b"},
        {"model": {"id": "llama_31_8b"}},
    ],
)
def test_every_spelling_finds_the_same_model(client: FlaskClient, spelling: dict[str, Any]) -> None:
    body = post(client, [{**spelling, "input_tokens": 10, "output_tokens": 10}], "?debug=true")
    assert body["rows"][0]["debug"]["model"]["id"] == "llama_31_8b"


def test_seed_names_resolve_to_the_right_models(client: FlaskClient) -> None:
    cases = {
        ("claude (new)", "3.5 Sonnet"): "claude-3-5-sonnet",
        ("gpt", "GPT-4 Turbo Preview"): "gpt-4-turbo",
        ("gpt", "GPT-4"): "gpt-4",
        ("openai", "DALL-E 3"): "dall-e-3",
        ("openai", "whisper-1"): "whisper-1",
        ("stablediffusion", "SD-XL 1.0-base"): "stable_diffusion_xl_base_1_0",
        ("stable-diffusion", "Stable Diffusion XL"): "stable_diffusion_xl_base_1_0",
    }
    rows = [{"model_family": family, "model_name": name, "input_tokens": 5} for family, name in cases]
    body = post(client, rows, "?debug=true")
    assert [r["debug"]["model"]["id"] for r in body["rows"]] == list(cases.values())


def test_debug_fills_model_node_grid_and_steps(client: FlaskClient) -> None:
    body = post(
        client,
        [
            {
                "model_id": "llama_31_8b",
                "node_id": "aws:p4d.24xlarge",
                "country": "US",
                "region": "NY",
                "input_tokens": 100,
                "output_tokens": 500,
            }
        ],
        "?debug=true",
    )
    debug = body["rows"][0]["debug"]
    assert debug["hardware_node"]["id"] == "aws-p4d-24xlarge"
    assert debug["hardware_node"]["gpu_id"] == "a100_40gb"
    assert debug["grid_mix"]["country"] == "US" and debug["grid_mix"]["region"] == "NY"
    assert len(debug["steps"]) >= 2 and all(s["duration_ms"] >= 0 for s in debug["steps"])
    plain = post(client, [{"model_id": "llama_31_8b", "input_tokens": 1}])
    assert "debug" not in plain["rows"][0]
    assert "at batch 256, 32 streams per GPU" in debug["steps"][1]["description"]


def test_debug_says_when_the_gpu_time_comes_from_a_published_throughput(client: FlaskClient) -> None:
    row = {"model_id": "deepseek-v3", "managed_service_id": "deepseek", "input_tokens": 100, "output_tokens": 500}
    step = post(client, [row], "?debug=true")["rows"][0]["debug"]["steps"][1]["description"]
    assert "at the service's published 1,850 output tokens/s and 9,212.5 input tokens/s per GPU" in step, step
    assert "(138.7 J GPU energy)" in step  # 500 x 0.26678 J + 100 x 0.053574 J


def test_debug_names_the_prefill_utilisation_of_a_dense_model_and_of_a_mixture_of_experts(client: FlaskClient) -> None:
    dense = {"model_id": "llama_31_8b", "hosting": {"gpu": "h100"}, "input_tokens": 100, "output_tokens": 5}
    moe = {"model_id": "deepseek-v3", "hosting": {"gpu": "h100"}, "input_tokens": 100, "output_tokens": 5}
    rows = post(client, [dense, moe], "?debug=true")["rows"]
    steps = [row["debug"]["steps"][1]["description"] for row in rows]
    assert "; prefill at 40.0% MFU" in steps[0], steps[0]
    assert "; prefill at 15.0% MFU" in steps[1], steps[1]  # DeepSeek's fleet average, 15.05 % (PREFILL_MFU_MOE)
    # A published prefill rate replaces the utilisation, so the trace does not name one.
    published = {"model_id": "deepseek-v3", "managed_service_id": "deepseek", "input_tokens": 100}
    step = post(client, [published], "?debug=true")["rows"][0]["debug"]["steps"][1]["description"]
    assert "MFU" not in step, step


def test_debug_says_when_a_replica_spans_servers(client: FlaskClient) -> None:
    # DeepSeek-V3 in FP8 on H100: 671 GB x 1.2 / 80 GB -> 16 GPUs, two servers; the fit runs on groups of 8.
    row = {"model_id": "deepseek-v3", "hosting": {"gpu": "h100"}, "input_tokens": 100, "output_tokens": 500}
    step = post(client, [row], "?debug=true")["rows"][0]["debug"]["steps"][1]["description"]
    assert "on 16 x h100 at batch 512, 32 streams per GPU, decoded in groups of 8 GPUs" in step, step
    one_server = {"model_id": "llama_31_8b", "hosting": {"gpu": "h100"}, "input_tokens": 100, "output_tokens": 5}
    step = post(client, [one_server], "?debug=true")["rows"][0]["debug"]["steps"][1]["description"]
    assert "groups" not in step, step


def test_totals_add_up_rows(client: FlaskClient) -> None:
    body = post(client, QUICKSTART_V1_ROWS)
    totals = [r["total_impact"] for r in body["rows"]]
    assert body["total_energy_wh"] == pytest.approx(sum(t["usage_energy_wh"] for t in totals))
    assert body["total_gco2e"] == pytest.approx(
        sum(t["usage_emissions_gco2e"] + t["embodied_emissions_gco2e"] for t in totals)
    )
    assert body["total_mlh2o"] == pytest.approx(sum(t["usage_water_ml"] + t["embodied_water_ml"] for t in totals))


@pytest.mark.parametrize(
    ("bad", "field", "code", "named", "suggested"),
    [
        ({"model_id": "gpt-4oo"}, "model_id", "UNKNOWN_MODEL", "gpt-4oo", "gpt-4o"),
        (
            {"model_id": "llama_31_8b", "node_id": "aws:p4d.24xlarg"},
            "node_id",
            "UNKNOWN_NODE",
            "aws:p4d.24xlarg",
            "aws-p4d-24xlarge",
        ),
        (
            {"model_id": "llama_31_8b", "managed_service_id": "aws-bedrok"},
            "managed_service_id",
            "UNKNOWN_SERVICE",
            "aws-bedrok",
            "aws-bedrock",
        ),
        ({"model_id": "llama_31_8b", "country": "QQ"}, "country", "UNKNOWN_COUNTRY", "QQ", None),
        (
            {"model_id": "llama_31_8b", "cloud_region": "us-east-9"},
            "cloud_region",
            "UNKNOWN_REGION",
            "us-east-9",
            "us-east-2",
        ),
    ],
)
def test_unknown_names_are_row_errors_with_suggestions(
    client: FlaskClient,
    bad: dict[str, Any],
    field: str,
    code: str,
    named: str,
    suggested: str | None,
) -> None:
    good = {"model_id": "gpt-4o", "input_tokens": 10, "output_tokens": 10}
    body = post(client, [good, {**bad, "input_tokens": 10}, good])
    assert body["has_errors"] is True
    error = body["rows"][1]["error"]
    assert error["code"] == code and error["details"]["field"] == field
    assert named in error["message"]
    if suggested:
        assert "did you mean" in error["message"] and suggested in error["message"]
    assert body["rows"][1]["total_impact"]["usage_energy_wh"] == 0
    assert body["rows"][0] == body["rows"][2] and "error" not in body["rows"][0]
    assert body["total_energy_wh"] == pytest.approx(2 * body["rows"][0]["total_impact"]["usage_energy_wh"])


def test_video_without_frames_is_a_row_error(client: FlaskClient) -> None:
    body = post(client, [{"model_id": "wan2_1_t2v_14b", "task": "text-to-video"}])
    assert body["rows"][0]["error"]["details"]["field"] == "output_video_frames"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"rows": [{"model_id": "gpt-4o", "input_tokens": "many"}]}, "rows.0.input_tokens"),
        ({"rows": [{"model_id": "gpt-4o", "input_tokens": -1}]}, "rows.0.input_tokens"),
        ({"rows": [{"model_id": "gpt-4o", "output_images": ["big"]}]}, "rows.0.output_images.0"),
        ({"rows": [{"model_id": "gpt-4o", "input_steps": 0}]}, "rows.0.input_steps"),
        ({"rows": [{"model_id": "gpt-4o", "input_token": 5}]}, "rows.0.input_token"),
        ({"rows": [{"model_id": "gpt-4o", "task": "dancing"}]}, "rows.0.task"),
        ({"rows": [{"model_id": "gpt-4o", "country": "USA"}]}, "rows.0.country"),
        ({"rows": "all of them"}, "rows"),
        ({"row": []}, "row"),
        ({"rows": [{"model_id": "gpt-4o"}] * 1001}, "rows"),
    ],
)
def test_bad_requests_name_the_field(client: FlaskClient, payload: Any, field: str) -> None:
    response = client.post("/v1/impact", json=payload)
    assert response.status_code == 400
    error = response.get_json()
    assert error["details"]["field"] == field and field in error["message"]
    assert set(error) <= {"code", "message", "details"}


def test_malformed_json_is_400(client: FlaskClient) -> None:
    response = client.post("/v1/impact", data=b'{"rows": [', content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["code"] == "BAD_REQUEST" and "malformed JSON" in response.get_json()["message"]


def test_media_type_and_accept(client: FlaskClient) -> None:
    assert client.post("/v1/impact", data="rows=1", content_type="text/plain").status_code == 415
    response = client.post("/v1/impact", json={"rows": []}, headers={"Accept": "text/html"})
    assert response.status_code == 406 and response.get_json()["code"] == "NOT_ACCEPTABLE"


def test_unknown_endpoint_and_method_use_the_error_shape(client: FlaskClient) -> None:
    missing = client.get("/v2/nothing")
    assert missing.status_code == 404 and missing.get_json()["code"] == "NOT_FOUND"
    wrong = client.get("/v1/impact")
    assert wrong.status_code == 405 and wrong.get_json()["code"] == "METHOD_NOT_ALLOWED"


def test_empty_request_is_fine(client: FlaskClient) -> None:
    body = post(client, [])
    assert body == {
        "rows": [],
        "total_energy_wh": 0.0,
        "total_gco2e": 0.0,
        "total_mlh2o": 0.0,
        "has_errors": False,
    }


def test_the_reference_rows_placeholder_datacenter_is_its_error_until_it_exists(tmp_path: Any) -> None:
    from server.app import create_app
    from tests.conftest import ADMIN_KEY, authorized, settings_for_tests

    app = create_app(settings_for_tests(f"sqlite:///{tmp_path / 'seed.sqlite3'}"))
    client = authorized(app.test_client(), ADMIN_KEY)
    row = post(client, [REFERENCE_IMPACT_ROW])["rows"][0]
    assert row["error"]["code"] == "UNKNOWN_DATACENTER" and row["error"]["details"]["field"] == "datacenter_id"
    assert client.post("/datacenter", json=REFERENCE_DATACENTER).status_code == 201
    assert_estimated(post(client, [REFERENCE_IMPACT_ROW])["rows"][0])
    app.extensions["services"].db.dispose()
