"""Property-based: any request our OpenAPI document allows, and any JSON near it, never gets a 500.

Requests come from schemathesis over the server's own `/openapi.json` (generated from the pydantic wire models).
"""

from __future__ import annotations

from typing import Any

import schemathesis
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.api.openapi import openapi_document
from server.schemas.impact import ImpactRequest, ImpactResponse

ROW_SCHEMA = ImpactRequest.model_json_schema()
KNOWN = {
    "model_id": st.sampled_from(
        [
            "gpt-4o",
            "llama_31_8b",
            "stable_diffusion_xl_base_1_0",
            "whisper-1",
            "tts-1",
            "wan2_1_t2v_14b",
            "text-embedding-3-small",
            "nope",
        ]
    ),
    "managed_service_id": st.sampled_from(["aws-bedrock", "openai", "azure-openai", "nope-service"]),
    "node_id": st.sampled_from(["aws:p4d.24xlarge", "gcp-a3-highgpu-8g", "nope"]),
    "country": st.sampled_from(["US", "FR", "PL", "IN", "ZZ", "QQ"]),
    "cloud_region": st.sampled_from(["us-east-1", "europe-west4", "westeurope", "mars-1"]),
}
SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


IMPACT_CASES = schemathesis.openapi.from_dict(openapi_document())["/v1/impact"]["POST"].as_strategy()


def realistic_rows() -> st.SearchStrategy[list[dict[str, Any]]]:
    """Rows of requests the document allows, whose names mostly exist, so the engine runs, not just the lookups."""
    names = st.lists(st.fixed_dictionaries({}, optional=KNOWN), min_size=5, max_size=5)
    return st.tuples(IMPACT_CASES, names).map(
        lambda pair: [{**row, **known} for row, known in zip(pair[0].body["rows"][:5], pair[1], strict=False)]
    )


@SETTINGS
@given(rows=realistic_rows())
def test_schema_valid_requests_are_answered(client: FlaskClient, rows: list[dict[str, Any]]) -> None:
    response = client.post("/v1/impact?debug=true", json={"rows": rows})
    assert response.status_code in (200, 400), response.data[:500]
    if response.status_code == 200:
        ImpactResponse.model_validate(response.get_json())


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)


@SETTINGS
@given(row=st.dictionaries(st.sampled_from(sorted(ROW_SCHEMA["$defs"]["ImpactRow"]["properties"])), JSON, max_size=6))
def test_wrong_types_are_4xx_never_500(client: FlaskClient, row: dict[str, Any]) -> None:
    response = client.post("/v1/impact", json={"rows": [row]})
    assert response.status_code in (200, 400), response.data[:500]
    if response.status_code == 400:
        assert response.get_json()["details"]["field"].startswith("rows")


@SETTINGS
@given(call=st.lists(JSON, min_size=17, max_size=21))
def test_bigquery_calls_never_500(client: FlaskClient, call: list[Any]) -> None:
    response = client.post("/", json={"requestId": "r", "caller": "c", "sessionUser": "u", "calls": [call]})
    assert response.status_code in (200, 400)
