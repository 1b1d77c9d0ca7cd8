"""GET /openapi.json: our own OpenAPI 3.1 document, generated from the pydantic wire models."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from flask import Blueprint, Response
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from server.errors import json_response
from server.schemas.catalog import GPU, GPUResponse, Model, ModelResponse, Node, NodeResponse
from server.schemas.common import Error, StatusResponse
from server.schemas.impact import ImpactRequest, ImpactResponse
from server.schemas.sheets import SheetsImpactRequest, SheetsImpactResponse, SheetsTableResponse

bp = Blueprint("openapi", __name__)

REF = "#/components/schemas/{model}"
WIRE_MODELS: tuple[type[BaseModel], ...] = (
    StatusResponse,
    Error,
    ImpactRequest,
    ImpactResponse,
    Model,
    ModelResponse,
    GPU,
    GPUResponse,
    Node,
    NodeResponse,
    SheetsImpactRequest,
    SheetsImpactResponse,
    SheetsTableResponse,
)


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF.format(model=name)}


def _json(name: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(name)}}}


ERRORS = {
    str(code): _json("Error", text)
    for code, text in (
        (400, "Invalid request"),
        (401, "Unauthorized"),
        (406, "Not acceptable"),
        (415, "Unsupported media type"),
        (429, "Too many requests"),
    )
}


def _get(summary: str, response: str, *, params: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "get": {
            "summary": summary,
            "parameters": params or [],
            "responses": {"200": _json(response, summary), **ERRORS},
        }
    }


def _query(name: str, kind: str = "string", description: str = "") -> dict[str, Any]:
    return {
        "in": "query",
        "name": name,
        "required": False,
        "schema": {"type": kind},
        "description": description,
    }


def _path(name: str) -> dict[str, Any]:
    return {"in": "path", "name": name, "required": True, "schema": {"type": "string"}}


PAGE = [_query("page", "integer", "1-based page"), _query("limit", "integer", "items per page, at most 100")]


def _untyped(description: str, media: str = "application/json") -> dict[str, Any]:
    return {"description": description, "content": {media: {"schema": {"type": "object"}}}}


# Batch jobs (README "Batch jobs"): free-form JSON objects, documented in the README and server/batch/results.py.
BATCH_PATHS: dict[str, Any] = {
    "/v1/files/{name}": {
        "put": {
            "summary": "Upload a usage file (JSONL or CSV, streamed; 413 past MAX_UPLOAD_BYTES)",
            "parameters": [_path("name")],
            "requestBody": {"required": True, "content": {"application/octet-stream": {"schema": {}}}},
            "responses": {"201": _untyped("The stored file: file_id, lines, format"), **ERRORS},
        }
    },
    "/v1/batch": {
        "post": {
            "summary": "Submit a batch task over rows, a sheet's table or an uploaded file",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {}}}},
            "responses": {"202": _untyped("task_id, status, total_items, objects"), **ERRORS},
        }
    },
    "/v1/batch/task/{taskId}": {
        "get": {
            "summary": "A task's status, counts and progress",
            "parameters": [_path("taskId")],
            "responses": {"200": _untyped("The task"), **ERRORS},
        }
    },
    "/v1/batch/task/{taskId}/results": {
        "get": {
            "summary": "A completed task's results, one per line (?format=jsonl|csv or Output-Format)",
            "parameters": [_path("taskId"), _query("format", description="jsonl (default) or csv")],
            "responses": {"200": _untyped("Results", "application/jsonl"), **ERRORS},
        }
    },
    "/v1/batch/object/{objectId}": {
        "get": {
            "summary": "One line's status and impact, or its error",
            "parameters": [_path("objectId")],
            "responses": {"200": _untyped("The object"), **ERRORS},
        }
    },
}


@lru_cache(maxsize=1)
def openapi_document() -> dict[str, Any]:
    _, schemas = models_json_schema([(m, "validation") for m in WIRE_MODELS], ref_template=REF)
    not_found = {"404": _json("Error", "Not found")}
    bigquery_body = {
        "type": "object",
        "required": ["calls"],
        "properties": {
            "requestId": {"type": "string"},
            "caller": {"type": "string"},
            "sessionUser": {"type": "string"},
            "userDefinedContext": {"type": "object"},
            "calls": {
                "type": "array",
                "maxItems": 1000,
                "items": {"type": "array", "minItems": 17, "maxItems": 21},
            },
        },
    }
    paths: dict[str, Any] = {
        "/status": _get("Server status", "StatusResponse"),
        "/v1/impact": {
            "post": {
                "summary": "Impact metrics for up to 1000 inference rows",
                "parameters": [_query("debug", "boolean", "Return debug information")],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("ImpactRequest")}},
                },
                "responses": {"200": _json("ImpactResponse", "Impact metrics"), **ERRORS},
            }
        },
        "/v1/sheets/impact": {
            "post": {
                "summary": "Google Sheets: a custom function's arguments in, its 2-D array out (10,000 lines)",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("SheetsImpactRequest")}},
                },
                "responses": {"200": _json("SheetsImpactResponse", "One row per line"), **ERRORS},
            }
        },
        "/v1/sheets/catalog/{tab}": {
            "get": {
                **_get("Google Sheets: the cells of a catalog tab", "SheetsTableResponse", params=[_path("tab")])[
                    "get"
                ],
                "responses": {"200": _json("SheetsTableResponse", "Header row, then entries"), **not_found},
            }
        },
        **BATCH_PATHS,
        "/model": _get("List models", "ModelResponse", params=[_query("family"), *PAGE]),
        "/model/{modelId}": {
            "get": {
                **_get("Get a model", "Model", params=[_path("modelId")])["get"],
                "responses": {"200": _json("Model", "A model"), **not_found},
            }
        },
        "/gpu": _get("List GPUs", "GPUResponse", params=PAGE),
        "/gpu/{gpuId}": {
            "get": {
                **_get("Get a GPU", "GPU", params=[_path("gpuId")])["get"],
                "responses": {"200": _json("GPU", "A GPU"), **not_found},
            }
        },
        "/node": _get(
            "List nodes",
            "NodeResponse",
            params=[
                _query("service"),
                _query("cloud"),
                _query("custom", "boolean"),
                _query("gpu"),
                _query("instance"),
                *PAGE,
            ],
        ),
        "/node/{nodeId}": {
            "get": {
                **_get("Get a node", "Node", params=[_path("nodeId")])["get"],
                "responses": {"200": _json("Node", "A node"), **not_found},
            }
        },
        "/": {
            "post": {
                "summary": "BigQuery remote function: one impact row per call",
                "requestBody": {"required": True, "content": {"application/json": {"schema": bigquery_body}}},
                "responses": {
                    "200": {
                        "description": "One reply per call",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["replies"],
                                    "properties": {"replies": {"type": "array", "items": {"type": "string"}}},
                                }
                            }
                        },
                    },
                    "400": {
                        "description": "Unusable envelope",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["errorMessage"],
                                    "properties": {"errorMessage": {"type": "string"}},
                                }
                            }
                        },
                    },
                },
            }
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "AI impact estimates (Scope3 AI API compatible)", "version": "0.1.0"},
        "paths": paths,
        "components": {
            "schemas": schemas["$defs"],
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearerAuth": []}],
    }


@bp.get("/openapi.json")
def openapi() -> Response:
    return json_response(openapi_document())
