"""GET /status, /model, /gpu, /node and /openapi.json."""

from __future__ import annotations

from flask.testing import FlaskClient

from server.catalog.store import Catalog
from server.schemas.catalog import GPU, GPUResponse, Model, ModelResponse, Node, NodeResponse


def test_status(client: FlaskClient) -> None:
    assert client.get("/status").get_json() == {"ready": True}


def test_models_come_in_pages_of_at_most_100(client: FlaskClient, catalog: Catalog) -> None:
    seen: list[str] = []
    url = "/model"
    while url:
        response = client.get(url)
        assert response.status_code == 200
        page = ModelResponse.model_validate(response.get_json())
        assert len(page.models) <= 100
        seen += [m.id for m in page.models]
        assert response.headers["X-Total-Count"] == str(len(catalog.models))
        link = response.headers.get("Link")
        url = link.split(">")[0].lstrip("<").replace("http://localhost", "") if link else ""
    assert sorted(seen) == sorted(catalog.models)


def test_model_family_filter_and_lookup(client: FlaskClient) -> None:
    llama = client.get("/model?family=llama").get_json()["models"]
    assert llama and {m["family"] for m in llama} == {"llama"}
    model = Model.model_validate(client.get("/model/llama_v31_8b").get_json())
    assert model.id == "llama_31_8b" and model.customer_id == 0
    missing = client.get("/model/gpt-4oo")
    assert missing.status_code == 404 and "gpt-4o" in missing.get_json()["message"]


def test_gpus(client: FlaskClient, catalog: Catalog) -> None:
    page = GPUResponse.model_validate(client.get("/gpu").get_json())
    assert len(page.gpus) == len(catalog.gpus)
    h100 = GPU.model_validate(client.get("/gpu/h100").get_json())
    assert h100.max_power_w == 700
    assert client.get("/gpu/h1000").status_code == 404


def test_nodes_and_filters(client: FlaskClient) -> None:
    every = NodeResponse.model_validate(client.get("/node?limit=100").get_json())
    assert 0 < len(every.nodes) <= 100
    aws = client.get("/node?cloud=aws").get_json()["nodes"]
    assert aws and {n["cloud_id"] for n in aws} == {"aws"}
    h100 = client.get("/node?gpu=h100").get_json()["nodes"]
    assert h100 and {n["gpu_id"] for n in h100} == {"h100"}
    p4d = client.get("/node?instance=p4d.24xlarge").get_json()["nodes"]
    assert [n["id"] for n in p4d] == ["aws-p4d-24xlarge"]
    bedrock = client.get("/node?service=aws-bedrock").get_json()["nodes"]
    assert [n["managed_service_id"] for n in bedrock] == ["aws-bedrock"]
    assert client.get("/node?custom=true").get_json()["nodes"] == []
    node = Node.model_validate(client.get("/node/aws:p4d.24xlarge").get_json())
    assert node.id == "aws-p4d-24xlarge" and node.gpu_count == 8
    assert client.get("/node?page=0").status_code == 400


def test_openapi_document_is_generated_from_the_wire_models(client: FlaskClient) -> None:
    document = client.get("/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    assert {"/v1/impact", "/model", "/model/{modelId}", "/gpu", "/node", "/status", "/"} <= set(document["paths"])
    schemas = document["components"]["schemas"]
    assert schemas["ImpactRow"]["additionalProperties"] is False
    assert {
        "ImpactRequest",
        "ImpactResponse",
        "ModeledRow",
        "ImpactMetrics",
        "Error",
        "Model",
        "GPU",
        "Node",
    } <= set(schemas)
    impact_ref = document["paths"]["/v1/impact"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert impact_ref == {"$ref": "#/components/schemas/ImpactRequest"}


def test_saved_figures_are_bounded_so_estimates_stay_finite(client: FlaskClient) -> None:
    """Found by schemathesis: a model saved with 1e308 parameters made every estimate with it a 500."""
    for path, body, field in (
        ("/model", {"id": "huge-llm", "total_params_billions": 1e308}, "total_params_billions"),
        (
            "/model",
            {"id": "huge-llm", "total_params_billions": 7, "estimated_requests_per_day": 1e-300},
            "estimated_requests_per_day",
        ),
        ("/gpu/h100", {"memory_gb": 1e-300}, "memory_gb"),
        ("/gpu/h100", {"ols_intercept": -1e300}, "ols_intercept"),
    ):
        answer = client.put(path, json=body) if path != "/model" else client.post(path, json=body)
        assert answer.status_code == 400, (body, answer.get_json())
        assert answer.get_json()["details"]["field"] == field


def test_booleans_are_not_figures(client: FlaskClient) -> None:
    """Found by schemathesis: `false` was saved as 0 W of idle power (pydantic's lax bool-to-number)."""
    for path, body, field in (
        ("/gpu/h100", {"idle_power_w": False}, "idle_power_w"),
        ("/node/aws-p4d-24xlarge", {"gpu_count": True}, "gpu_count"),
        ("/model/llama_31_8b", {"training_embodied_water_l": False}, "training_embodied_water_l"),
    ):
        answer = client.put(path, json=body)
        assert answer.status_code == 400 and answer.get_json()["details"]["field"] == field, answer.get_json()
