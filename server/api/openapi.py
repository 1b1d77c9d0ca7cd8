"""GET /openapi.json: our OpenAPI 3.1 document, built from the routes and their `@documented` pydantic models.

Every rule of the URL map, each method but HEAD and OPTIONS, is one operation: its path and parameters come from
the rule, its query, body and replies from the models `@documented` names (server/api/spec.py), its errors from
what the app's checks can answer (401 and 429 where a key is needed, 406 everywhere, 400 where something is read,
413 and 415 where a body is). A route without `@documented` is an error here, not a gap in the document.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from flask import Blueprint, Flask, Response
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from werkzeug.routing import Rule

from server.accounts.auth import KEY_OPTIONAL_ENDPOINTS, PUBLIC_ENDPOINTS
from server.api.spec import ERROR_TEXT, Operation, Reply, documented, operation_of
from server.errors import json_response
from server.schemas.common import Error

bp = Blueprint("openapi", __name__)

REF = "#/components/schemas/{model}"
IGNORED_METHODS = frozenset({"HEAD", "OPTIONS"})
VARIABLE = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
TITLE = "AI impact estimates (Scope3 AI API compatible)"
VERSION = "0.1.0"


class DocumentError(Exception):
    """The routes cannot be documented as they stand (a route without `@documented`, clashing paths)."""


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def path_template(rule: str) -> str:
    """`/model/<path:model_id>/alias` → `/model/{modelId}/alias` (the spec's spelling of path parameters)."""
    return VARIABLE.sub(lambda found: "{" + _camel(found.group(1)) + "}", rule)


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _json(model: type[BaseModel], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(model)}}}


def _query_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A field's schema as a query parameter's: no title or description (the parameter has it), never null
    (an absent parameter is the field's None)."""
    options = schema.get("anyOf")
    if options is not None:
        kept = [option for option in options if option.get("type") != "null"]
        if len(kept) == 1:
            schema = {**{k: v for k, v in schema.items() if k != "anyOf"}, **kept[0]}
    return {k: v for k, v in schema.items() if k not in ("title", "description")}


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema()
    required = set(schema.get("required", []))
    return [
        {
            "in": "query",
            "name": name,
            "required": name in required,
            "schema": _query_schema(field),
            "description": field.get("description", ""),
        }
        for name, field in schema["properties"].items()
    ]


def _path_parameters(rule: Rule, operation: Operation) -> list[dict[str, Any]]:
    names = [found.group(1) for found in VARIABLE.finditer(rule.rule)]
    parameters = []
    for name in names:
        parameter = {
            "in": "path",
            "name": _camel(name),
            "required": True,
            "schema": {"type": "string", "minLength": 1},
            "description": operation.path.get(name, ""),
        }
        if name in operation.examples:
            parameter["example"] = operation.examples[name]
        parameters.append(parameter)
    return parameters


def _reply(reply: Reply) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": reply.description}
    if reply.model is not None:
        answer["content"] = {"application/json": {"schema": _ref(reply.model)}}
    elif reply.media is not None:
        answer["content"] = {media: dict(schema) for media, schema in reply.media.items()}
    if reply.headers:
        answer["headers"] = {
            name: {"description": text, "schema": {"type": "string"}} for name, text in reply.headers.items()
        }
    return answer


def _error_statuses(rule: Rule, operation: Operation, *, keyed: bool) -> set[int]:
    has_body = operation.body is not None or operation.body_media is not None
    statuses = {406, *operation.errors}
    if keyed:
        statuses |= {401, 429}
    if has_body or operation.query is not None or rule.arguments:
        statuses.add(400)
    if has_body:
        statuses |= {413, 415}
    return statuses


def _operation(rule: Rule, operation: Operation) -> dict[str, Any]:
    keyed = rule.endpoint not in PUBLIC_ENDPOINTS
    parameters = _path_parameters(rule, operation)
    if operation.query is not None:
        parameters += _query_parameters(operation.query)
    responses = {str(status): _reply(reply) for status, reply in sorted(operation.replies.items())}
    for status in sorted(_error_statuses(rule, operation, keyed=keyed)):
        responses.setdefault(str(status), _json(Error, ERROR_TEXT[status]))
    built: dict[str, Any] = {
        "operationId": rule.endpoint.replace(".", "_"),
        "summary": operation.summary,
        "parameters": parameters,
        "responses": responses,
    }
    if operation.description:
        built["description"] = operation.description
    if operation.body is not None:
        built["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(operation.body)}}}
    elif operation.body_media is not None:
        content = {media: dict(schema) for media, schema in operation.body_media.items()}
        built["requestBody"] = {"required": True, "content": content}
    if not keyed:
        built["security"] = []
    elif rule.endpoint in KEY_OPTIONAL_ENDPOINTS:
        built["security"] = [{"bearerAuth": []}, {}]
    return built


def _models(operation: Operation) -> list[type[BaseModel]]:
    found = [operation.body] if operation.body is not None else []
    return found + [reply.model for reply in operation.replies.values() if reply.model is not None]


def document_for(app: Flask) -> dict[str, Any]:
    """The OpenAPI document of every route of `app`."""
    paths: dict[str, dict[str, Any]] = {}
    spellings: dict[str, str] = {}
    models: dict[str, type[BaseModel]] = {Error.__name__: Error}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        operation = operation_of(app.view_functions[rule.endpoint])
        if operation is None:
            raise DocumentError(f"route {rule.rule} ({rule.endpoint}) has no @documented")
        template = path_template(rule.rule)
        shape = VARIABLE.sub("{}", rule.rule)
        if spellings.setdefault(shape, template) != template:
            raise DocumentError(f"{template} and {spellings[shape]} are one path: name their variables alike")
        for method in sorted((rule.methods or set()) - IGNORED_METHODS):
            paths.setdefault(template, {})[method.lower()] = _operation(rule, operation)
        for model in _models(operation):
            if models.setdefault(model.__name__, model) is not model:
                raise DocumentError(f"two wire models are named {model.__name__}")
    _, schemas = models_json_schema([(model, "validation") for model in models.values()], ref_template=REF)
    return {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": VERSION},
        "paths": paths,
        "components": {
            "schemas": schemas["$defs"],
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearerAuth": []}],
    }


def blueprints() -> tuple[Blueprint, ...]:
    """Every blueprint of the app, in the order `create_app` registers them."""
    from server.api import admin, batch, bigquery, catalog, health, impact, sheets, status, sync

    return (status.bp, health.bp, impact.bp, sheets.bp, batch.bp, catalog.bp, bigquery.bp, bp, admin.bp, sync.bp)


@lru_cache(maxsize=1)
def openapi_document() -> dict[str, Any]:
    """The document of the app's routes, built without an app's settings, database or catalog."""
    routes = Flask("server", static_folder=None)
    for blueprint in blueprints():
        routes.register_blueprint(blueprint)
    return document_for(routes)


OPENAPI_MEDIA = {"application/json": {"schema": {"type": "object"}}}


@bp.get("/openapi.json")
@documented("This document", replies={200: Reply("The OpenAPI 3.1 document", media=OPENAPI_MEDIA)})
def openapi() -> Response:
    return json_response(openapi_document())
