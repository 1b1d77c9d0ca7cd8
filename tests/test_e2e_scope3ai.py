"""End to end: gunicorn serves the app, the real `scope3ai` client from PyPI calls it and validates every
response with its strict pydantic models."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from scope3ai.api.client import Client
from scope3ai.api.typesgen import ImpactBigQueryResponse, ImpactResponse, Model

from tests.conftest import ADMIN_KEY, GunicornServer
from tests.seed_examples import QUICKSTART_V0_ROWS, QUICKSTART_V1_ROWS, REFERENCE_DATACENTER, REFERENCE_IMPACT_ROW

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def scope3(server: GunicornServer) -> Client:
    # The reference row's datacenter (tests/seed_examples.py): 201, or 409 when another module saved it.
    saved = httpx.post(
        f"{server.url}/datacenter", json=REFERENCE_DATACENTER, headers={"Authorization": f"Bearer {ADMIN_KEY}"}
    )
    assert saved.status_code in (201, 409), saved.text
    return Client(api_key=ADMIN_KEY, api_url=server.url)


def test_status(scope3: Client) -> None:
    assert scope3.status().ready is True


def test_list_models_is_one_page_of_at_most_100(scope3: Client) -> None:
    page = scope3.list_models()
    assert len(page.models) == 100
    assert len({m.id for m in page.models}) == 100
    llama = scope3.list_models(family="llama")
    assert llama.models and all(m.family == "llama" for m in llama.models)
    assert "llama_31_8b" in {m.id for m in llama.models}


def test_get_model(scope3: Client) -> None:
    # scope3ai 0.3.0's get_model() sends the literal path "/model/{modelId}" without formatting the id
    # (commandsgen.py), so we call its own request method with the formatted path and its strict Model type.
    model = scope3.execute_request("/model/llama_31_8b", response_model=Model)
    assert model.id == "llama_31_8b" and "llama_v31_8b" in model.aliases
    assert model.total_params_billions == pytest.approx(8.0, rel=0.01)


def impact(scope3: Client, rows: list[dict[str, Any]], debug: bool | None = None) -> ImpactResponse:
    # A dict body: the client's own ImpactRow model lacks the legacy and nested spellings the docs use.
    response = scope3.get_impact({"rows": rows}, debug=debug)  # type: ignore[arg-type]
    assert isinstance(response, ImpactResponse)
    return response


@pytest.mark.parametrize("debug", [None, True])
def test_every_seed_example_row(scope3: Client, debug: bool | None) -> None:
    rows = [*QUICKSTART_V1_ROWS, REFERENCE_IMPACT_ROW, *QUICKSTART_V0_ROWS]
    response = impact(scope3, rows, debug=debug)
    assert response.has_errors is False
    assert len(response.rows) == len(rows)
    for row in response.rows:
        assert row.error is None
        assert row.inference_impact is not None
        assert row.inference_impact.usage_energy_wh > 0
        assert row.inference_impact.embodied_emissions_gco2e > 0
        assert (row.debug is not None) is bool(debug)


def test_row_errors_pass_the_clients_validation(scope3: Client) -> None:
    response = impact(scope3, [{"model_id": "gpt-9", "input_tokens": 1}, {"model_id": "gpt-4o", "input_tokens": 1}])
    assert response.has_errors is True
    assert response.rows[0].error is not None and "gpt-9" in response.rows[0].error.message
    assert response.rows[1].error is None


def test_bigquery_through_the_client(scope3: Client) -> None:
    calls = [
        [
            "gpt-4o",
            None,
            None,
            None,
            "2024-03-15T10:30:00Z",
            None,
            None,
            "us-central1",
            None,
            None,
            None,
            None,
            "text-generation",
            100,
            50,
            None,
            None,
        ],
        ["gpt-9", None, None, None, None, None, None, None, None, None, None, None, None, 1, 1, None, None],
    ]
    # A dict body: the client's ImpactBigQueryRequest rejects the nulls BigQuery sends for NULL arguments
    # (its `Call` items are `str | int`, the spec says nullable); its response model still validates our reply.
    request = {
        "requestId": "r1",
        "caller": "//bigquery.googleapis.com/projects/p/jobs/j",
        "sessionUser": "user@example.com",
        "calls": calls,
    }
    response = scope3.calculate_impact_big_query(request)  # type: ignore[arg-type]
    assert isinstance(response, ImpactBigQueryResponse)
    assert len(response.replies) == 2
    assert '"usage_energy_wh"' in response.replies[0]
    assert "gpt-9" in response.replies[1]
