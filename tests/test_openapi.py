"""`/openapi.json` is built from the routes: every route is in it, and schemathesis over it finds no 500 and no
answer the document does not describe."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import schemathesis
from flask import Blueprint, Flask, Response
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from server.api.openapi import DocumentError, document_for, openapi_document, path_template
from server.api.spec import documented
from server.app import create_app
from tests.conftest import ADMIN_KEY, settings_for_tests

IGNORED = {"HEAD", "OPTIONS"}


def routes(app: Flask) -> set[tuple[str, str]]:
    return {
        (path_template(rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        for method in (rule.methods or set()) - IGNORED
    }


def test_every_route_and_method_is_in_the_document(app: Flask, anonymous: FlaskClient) -> None:
    document = anonymous.get("/openapi.json").get_json()
    documented_operations = {(path, method) for path, ops in document["paths"].items() for method in ops}
    assert routes(app) == documented_operations
    # the writes the hand-written document lacked, and the batch endpoints' models
    for path, method in (("/model/{modelId}/alias/{alias}", "delete"), ("/gpu", "post"), ("/v1/sync/catalog", "get")):
        assert (path, method) in documented_operations
    batch = document["paths"]["/v1/batch"]["post"]
    assert batch["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/BatchRequest")
    assert batch["responses"]["202"]["content"]["application/json"]["schema"]["$ref"].endswith("/BatchSubmitted")


def test_the_scope3_routes_keep_their_parameters_and_schemas(anonymous: FlaskClient) -> None:
    paths = anonymous.get("/openapi.json").get_json()["paths"]
    names = [(p["in"], p["name"], p["schema"]["type"]) for p in paths["/node"]["get"]["parameters"]]
    assert names == [
        ("query", "service", "string"),
        ("query", "cloud", "string"),
        ("query", "custom", "boolean"),
        ("query", "gpu", "string"),
        ("query", "instance", "string"),
        ("query", "page", "integer"),
        ("query", "limit", "integer"),
    ]
    assert [p["name"] for p in paths["/model/{modelId}"]["get"]["parameters"]] == ["modelId"]
    assert paths["/v1/impact"]["post"]["parameters"][0]["name"] == "debug"
    for path, model in (("/model", "ModelResponse"), ("/gpu/{gpuId}", "GPU"), ("/status", "StatusResponse")):
        schema = paths[path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert schema == {"$ref": f"#/components/schemas/{model}"}
    assert paths["/status"]["get"]["security"] == []


def test_a_route_without_documented_is_an_error() -> None:
    extra = Blueprint("extra", __name__)

    @extra.get("/known")
    @documented("Known", replies={204: "nothing"})
    def known() -> Response:
        return Response(status=204)

    @extra.get("/forgotten")
    def forgotten() -> Response:
        return Response(status=204)

    app = Flask("extra", static_folder=None)
    app.register_blueprint(extra)
    with pytest.raises(DocumentError, match="/forgotten"):
        document_for(app)


# --- schemathesis over every operation of the document ------------------------------------------------------


@pytest.fixture(scope="module")
def fuzzed_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """An app of its own (the fuzzer saves and deletes entries), with a job queue but no worker."""
    from tests.conftest import REDIS_URL, service_missing

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        service_missing("Redis", exc)  # a failure under SCOPE3AI_REQUIRE_SERVICES=1, as .ci/run sets
    queue: dict[str, object] = {"REDIS_URL": REDIS_URL, "BATCH_QUEUE_NAMESPACE": f"test-{uuid.uuid4().hex[:10]}"}
    database = Path(tmp_path_factory.mktemp("fuzz")) / "fuzz.sqlite3"
    app = create_app(settings_for_tests(f"sqlite:///{database}", **queue))
    yield app
    connection = redis.Redis.from_url(REDIS_URL)
    for key in connection.scan_iter(f"{queue['BATCH_QUEUE_NAMESPACE']}*"):
        connection.delete(key)
    app.extensions["services"].db.dispose()


# Built at import, as tests/test_property.py does: the document needs no app (schemathesis' lazy fixture loader
# does not run under this pytest).
SCHEMA = schemathesis.openapi.from_dict(openapi_document())
# Not negative_data_rejection: unknown query parameters are ignored (as the Scope3 API does), BigQuery's envelope
# metadata is read leniently on purpose (a 400 there fails a whole SQL query), and `/v1/impact` rows are parsed the
# way Sheets and CSV cells need (14b's half); the catalog writes pass it (their numbers are strict).
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@SCHEMA.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_operation_answers_as_documented(fuzzed_app: Flask, case: schemathesis.Case) -> None:
    """Through the Flask app (WSGI, in process) with the admin key."""
    case.call_and_validate(app=fuzzed_app, headers={"Authorization": f"Bearer {ADMIN_KEY}"}, checks=CHECKS)
